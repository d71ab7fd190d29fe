"""How well /ask understands: each question set scored the way the issue defines it.

    python bench/ask_quality.py [--misses SET ...]

For every set (the calibration set, which alone sets the threshold, and the held-out
sets, which only measure): the share of on-topic questions answered with their topic,
the share with it first and in the top three whatever the confidence, and the share of
off-topic questions declined. ``--misses calibration`` lists the misses of a set; read
the held-out sets' misses sparingly, since every tuning step taken from them makes them
less of a measure of questions nobody has seen.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from bot.answers import Services, answer
from bot.answers.knowledge import ask_answer
from bot.commands import Request

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "calibration": ROOT / "knowledge" / "ask-calibration.yaml",
    **{path.stem: path for path in sorted((ROOT / "tests" / "data").glob("ask-heldout*.yaml"))},
}


def score(services: Services, path: Path, show_misses: bool) -> str:
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    on = [(e["question"], e["topic"]) for e in entries if e["topic"]]
    off = [e["question"] for e in entries if not e["topic"]]
    right = first = top3 = declined = through_ask = off_through_ask = 0
    for question, topic in on:
        whole = ask_answer(Request("ask", {"question": question}), services)  # the reader runs first
        through_ask += bool(whole.answered) and whole.topic == topic
        ranking = services.ask.rank(question)
        slugs = [match.topic.slug for match in ranking.matches]
        first += slugs[:1] == [topic]
        top3 += topic in slugs[:3]
        right += ranking.answered and slugs[:1] == [topic]
        if show_misses and not (ranking.answered and slugs[:1] == [topic]):
            print(f"  miss {ranking.confidence:.3f} {topic} <- {slugs[:3]} | {question}")
    for question in off:
        off_through_ask += not answer(Request("ask", {"question": question}), services).answered
        ranking = services.ask.rank(question)
        declined += not ranking.answered
        if show_misses and ranking.answered:
            print(f"  answered {ranking.confidence:.3f} {ranking.matches[0].topic.slug} | {question}")
    return (
        f"{path.name}: on-topic answered right {right}/{len(on)} = {right / len(on):.1%} "
        f"(first {first / len(on):.1%}, top 3 {top3 / len(on):.1%}); "
        f"off-topic declined {declined}/{len(off)} = {declined / len(off):.1%}; "
        f"through /ask (calculations read first): on-topic {through_ask / len(on):.1%}, "
        f"off-topic declined {off_through_ask / len(off):.1%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", nargs="*", default=[], choices=sorted(SETS), help="list these sets' misses")
    args = parser.parse_args()
    services = Services.load()
    print(f"threshold {services.ask.threshold:.3f} (from {SETS['calibration'].name})")
    for name, path in SETS.items():
        print(score(services, path, name in args.misses))


if __name__ == "__main__":
    main()
