"""How well /ask computes questions asked in words: the held-out numeric set, scored once.

    python bench/ask_numeric_quality.py [--misses]

tests/data/ask-numeric-heldout.yaml (commit 0ab33c7) was written before the reader
(bot/reading/numeric.py) and is not to be tuned on: every question goes through the real
/ask (``bot.answers.answer``), and the answer's first line, the headline, is what a student
reads as the result. Scored, as issue 12 defines it:

- computed questions answered with the intended value: a number in the headline within
  ±0.05 mV of ``expected_mv`` (the engine's value for the intended reading);
- computed or ambiguous questions answered with another number: the headline holds a number
  but not the intended one (the answer always shows the command it ran, ``= /restpot …``;
  the count is given whole, and also those with no assumption line at all);
- ambiguous questions with the intended value and an assumption stated in one line (an
  "Assumed:" line that is not only the default temperature);
- not-computable questions declined with the reason ("Not computed: …" first), or else
  answered from the notes without a number, or computed (wrong).

``--misses`` lists the misses; reading them is for the closing note, not for tuning.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml

from bot.answers import Answer, Services, answer
from bot.commands import Request

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "tests" / "data" / "ask-numeric-heldout.yaml"
TOLERANCE_MV = 0.05
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_STATED = re.compile(r"assumed|taken as|read as|read in the order|is not in the ghk|computed e for", re.IGNORECASE)


def numbers(text: str) -> list[float]:
    return [float(n) for n in _NUMBER.findall(text.replace("−", "-"))]


def has_value(result: Answer, expected: float, tolerance: float) -> bool:
    return any(abs(value - expected) <= tolerance for value in numbers(result.headline))


def declined(result: Answer) -> bool:
    return result.headline.startswith("Not computed:") or any(line.startswith("Not computed:") for line in result.lines)


def computed_number(result: Answer) -> bool:
    return result.result is not None


def stated(result: Answer) -> bool:
    return any(line.startswith("Assumed:") and _STATED.search(line) for line in result.lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the misses")
    args = parser.parse_args()
    data = yaml.safe_load(SET.read_text(encoding="utf-8"))
    services = Services.load()

    def ask(question: str) -> Answer:
        return answer(Request("ask", {"question": question}), services)

    right = other = other_silent = declined_computable = 0
    by_quantity: dict[str, list[int]] = {}
    for entry in data["computed"]:
        result = ask(entry["question"])
        tolerance = float(entry.get("tolerance_mv", TOLERANCE_MV))
        ok = computed_number(result) and has_value(result, float(entry["expected_mv"]), tolerance)
        right += ok
        tally = by_quantity.setdefault(entry["quantity"], [0, 0])
        tally[0] += ok
        tally[1] += 1
        if not ok and computed_number(result):
            other += 1
            other_silent += not any(line.startswith("Assumed:") for line in result.lines)
        declined_computable += not computed_number(result)
        if args.misses and not ok:
            print(
                f"  miss [{entry['quantity']}] {entry['expected_mv']:+.1f} <- {result.headline} | {entry['question']}"
            )
    amb_right = amb_stated = amb_other = 0
    for entry in data["ambiguous"]:
        result = ask(entry["question"])
        ok = computed_number(result) and has_value(result, float(entry["expected_mv"]), TOLERANCE_MV)
        amb_right += ok
        amb_stated += ok and stated(result)
        amb_other += computed_number(result) and not ok
        if args.misses and not (ok and stated(result)):
            print(f"  ambiguous miss {entry['expected_mv']:+.1f} <- {result.headline} | {entry['question']}")
    nc_declined = nc_notes = nc_computed = 0
    for entry in data["not_computable"]:
        result = ask(entry["question"])
        if computed_number(result):
            nc_computed += 1
        elif declined(result):
            nc_declined += 1
        else:
            nc_notes += 1
        if args.misses and not declined(result):
            print(f"  not declined <- {result.headline[:80]} | {entry['question']}")
    total, amb_total, nc_total = len(data["computed"]), len(data["ambiguous"]), len(data["not_computable"])
    print(f"{SET.name}")
    print(f"computed: answered with the intended value {right}/{total} = {right / total:.1%}")
    for quantity, (good, count) in sorted(by_quantity.items()):
        print(f"  {quantity}: {good}/{count}")
    print(
        f"computed: answered with another number {other} (of them with no assumption line: {other_silent}); "
        f"not computed (declined or notes) {declined_computable}"
    )
    print(
        f"ambiguous: intended value {amb_right}/{amb_total}, with the assumption stated {amb_stated}/{amb_total}; "
        f"another number {amb_other}"
    )
    print(
        f"not computable: declined with the reason {nc_declined}/{nc_total}; answered from the notes without a "
        f"number {nc_notes}; computed {nc_computed}"
    )


if __name__ == "__main__":
    main()
