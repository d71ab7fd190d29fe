"""Benchmark of practice: generating a problem in process (target ≤ 1 ms), and /quiz and a
grading press through the local Discord emulator (target: p99 ≤ the floor bot's p99 + 5 ms).

Run from the repository root:

    python bench/bench_practice.py [--seeds N] [--derivations]
    python bench/bench_practice.py --discord [--rounds 300] [--users 100]

For each problem family it generates N problems (seeds 0 … N−1, after one warm-up pass
so imports and the engine's caches are not timed) and times each ``generate`` call on
its own with ``time.perf_counter_ns``; it reports the median and the 99th percentile per
family and over all families, and, for scale, grading in process: ``grade_choice`` (a
button press) and ``check`` (a typed answer: reading, the engine, every mistake). It
prints the machine, versions and date, then a Markdown table for bench/RESULTS.md. Not
collected by pytest.

``--discord``: the real bot process (`membrane-tutor run`, a temporary TUTOR_DB, so every
press stores its attempt and card as in production) and the floor bot (bench/floor_bot.py,
whose one command /floor stands for every command) through the emulator, with
bench/bench_discord.py's harness. Each round, one after another: a /quiz (numeric and concept,
with and without a topic, the user rotating among ``--users``), then a press of the right
letter and one of a wrong letter on the question it produced (the letters found by rebuilding
the question from its buttons' custom_id). Each is timed from the moment its
INTERACTION_CREATE frame is written to the moment the bot's response arrives; the floor's
/floor is timed the same way, as many times as there are presses, in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from machine import cpu_count, cpu_model

from bot.tutoring.grading import check, grade_choice
from bot.tutoring.problems import FAMILIES, GENERATOR_VERSION, generate

TARGET_MS = 1.0


def timings_ms(calls: Iterable[Callable[[], object]]) -> list[float]:
    """Each call timed on its own, in milliseconds."""
    out: list[float] = []
    for call in calls:
        start = time.perf_counter_ns()
        call()
        out.append((time.perf_counter_ns() - start) / 1e6)
    return out


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def row(name: str, values: list[float], target: float | None) -> str:
    median, tail = statistics.median(values), p99(values)
    verdict = "" if target is None else ("pass" if tail <= target else "FAIL")
    goal = "" if target is None else f"≤ {target:g} ms"
    return f"| {name} | {len(values)} | {median:.3f} | {tail:.3f} | {max(values):.3f} | {goal} | {verdict} |"


def header(title: str) -> None:
    print(f"membrane-tutor practice benchmark ({title})")
    print(f"date        {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"platform    {platform.platform()}")
    print(f"cpu         {cpu_model()} ({cpu_count()} usable cores)")
    print(f"python      {platform.python_version()} ({platform.python_implementation()})")


def first_presses(seeds: range) -> list[float]:
    """``practice.choice_answer`` on questions not graded before: the reply a press gets, with
    the mistake and the derivation's steps for the problem's own inputs (new on every question),
    after the symbolic warm-up the bot does at start-up."""
    from bot.answers import Services, practice
    from bot.physiology import warm_up

    warm_up()
    knowledge = Services.load().knowledge
    views = [practice.question_view(family, 100_000 + seed, knowledge) for family in FAMILIES for seed in seeds]
    return timings_ms(lambda v=v: practice.choice_answer(v, v.choices[1].letter, knowledge) for v in views)


DERIVATION_TARGET_MS = 1.0


def fresh_derivations(count: int) -> dict[str, list[float]]:
    """``nernst_derivation``/``ghk_derivation`` on inputs never seen before (so their LRU cache never
    answers), as the first press on a practice question meets them, after ``warm_up()``; and the
    reference builders (sympy substitution, printing and evaluation per call, the code before
    issue 11's fix) on the same inputs, for the before/after."""
    import random

    from bot.physiology import warm_up
    from bot.physiology.derivation import (
        ghk_derivation,
        nernst_derivation,
        reference_ghk_derivation,
        reference_nernst_derivation,
    )
    from bot.physiology.equations import ghk_voltage, nernst_potential
    from bot.physiology.ions import IONS

    warm_up()
    rng = random.Random(2026)
    nernst_inputs = []
    for n in range(count):
        ion = IONS[("K", "Na", "Cl", "Ca")[n % 4]]
        inside, outside = round(rng.uniform(1, 200), 1), round(rng.uniform(1, 200), 1)
        celsius = 37.0 if n % 2 else round(rng.uniform(0, 50), 1)
        nernst_inputs.append(
            (ion, inside, outside, celsius, float(nernst_potential(ion.valence, inside, outside, celsius)))
        )
    ghk_inputs: dict[int, list[tuple]] = {2: [], 3: []}
    for size, inputs in ghk_inputs.items():
        for _ in range(count):
            values = tuple(
                (
                    key,
                    1.0 if key == "K" else round(rng.uniform(0.001, 1), 3),
                    round(rng.uniform(1, 200), 1),
                    round(rng.uniform(1, 200), 1),
                )
                for key in ("K", "Na", "Cl")[:size]
            )
            celsius = 37.0 if len(inputs) % 2 else round(rng.uniform(0, 50), 1)
            vm = float(ghk_voltage(celsius, {k: (p, i, o) for k, p, i, o in values}))
            inputs.append((celsius, values, vm))
    return {
        "`nernst_derivation`, new inputs (K, Na, Cl, Ca)": timings_ms(
            lambda a=a: nernst_derivation(*a) for a in nernst_inputs
        ),
        "`ghk_derivation`, new inputs, K + Na": timings_ms(lambda a=a: ghk_derivation(*a) for a in ghk_inputs[2]),
        "`ghk_derivation`, new inputs, K + Na + Cl": timings_ms(lambda a=a: ghk_derivation(*a) for a in ghk_inputs[3]),
        "before: `reference_nernst_derivation`, the same inputs": timings_ms(
            lambda a=a: reference_nernst_derivation(*a) for a in nernst_inputs
        ),
        "before: `reference_ghk_derivation`, K + Na": timings_ms(
            lambda a=a: reference_ghk_derivation(*a) for a in ghk_inputs[2]
        ),
        "before: `reference_ghk_derivation`, K + Na + Cl": timings_ms(
            lambda a=a: reference_ghk_derivation(*a) for a in ghk_inputs[3]
        ),
    }


def print_derivations(count: int) -> bool:
    derivations = fresh_derivations(count)
    print()
    print("| derivation for new numbers | calls | median ms | p99 ms | max ms | target | result |")
    print("|---|---:|---:|---:|---:|---|---|")
    met = True
    for name, values in derivations.items():
        target = None if name.startswith("before") else DERIVATION_TARGET_MS
        print(row(name, values, target))
        met = met and (target is None or p99(values) <= target)
    return met


def in_process(seeds: range) -> int:
    for family in FAMILIES:  # warm-up: imports, scenarios() cache, first-call costs
        for seed in range(50):
            generate(family, seed)
    per_family = {family: timings_ms(lambda f=family, s=s: generate(f, s) for s in seeds) for family in FAMILIES}
    everything = [value for values in per_family.values() for value in values]
    problems = [generate(family, seed) for family in FAMILIES for seed in seeds[:200]]
    presses = timings_ms(lambda p=p: grade_choice(p, p.choices[1].letter) for p in problems)
    typed = timings_ms(lambda p=p: check(p.command, p.options, p.choices[2].text.split(" (")[0]) for p in problems)
    answered = first_presses(seeds[:200])

    header("in process")
    print(f"generator   version {GENERATOR_VERSION}, {len(FAMILIES)} families, seeds 0–{len(seeds) - 1}")
    print()
    print("| measurement | calls | median ms | p99 ms | max ms | target | result |")
    print("|---|---:|---:|---:|---:|---|---|")
    print(row("generate a problem, all families", everything, TARGET_MS))
    for family, values in per_family.items():
        print(row(f"generate `{family}`", values, TARGET_MS))
    print(row("grade a pressed letter (grade_choice)", presses, None))
    print(row("grade a typed answer (check)", typed, None))
    print(row("first press on a question, as the bot answers it (choice_answer)", answered, None))
    derivations_met = print_derivations(len(seeds))
    return 0 if p99(everything) <= TARGET_MS and derivations_met else 1


# --- through the emulator ---------------------------------------------------------------------

QUIZZES: list[dict[str, Any]] = [
    {"topic": "nernst-equation", "kind": "numeric"},
    {"topic": "leak-channels", "kind": "concept"},
    {"topic": "ghk-equation", "kind": "numeric"},
    {"topic": "resting-membrane-potential", "kind": "concept"},
    {"topic": "hyperkalemia", "kind": "numeric"},
    {"kind": "concept"},  # no topic: the student's history (the database) chooses the card
    {"kind": "numeric"},
    {},  # kind any
]
"""The /quiz options the rounds cycle through."""
MARGIN_MS = 5.0


@dataclass
class Samples:
    """Milliseconds per kind of interaction: ``quiz numeric``, ``quiz concept``, ``press right``, ``press wrong``."""

    by_kind: dict[str, list[float]]
    presses: int = 0
    by_question: dict[str, list[float]] = field(default_factory=dict)
    """Presses by the question's family: ``derivation`` (nernst/ghk: the steps for new numbers) or ``other``."""

    def add(self, kind: str, record: Any, card: str = "") -> None:
        if record.response_type != 4 or not record.deadline_met:  # 4: the answer itself, not a deferral
            raise SystemExit(f"{kind}: response type {record.response_type}, on time {record.deadline_met}")
        self.by_kind.setdefault(kind, []).append(1000 * record.latency)
        if kind.startswith("press"):
            family = "derivation" if card.startswith(("nernst:", "ghk:")) else "other"
            self.by_question.setdefault(family, []).append(1000 * record.latency)

    def joined(self, prefix: str) -> list[float]:
        return [ms for kind, values in self.by_kind.items() if kind.startswith(prefix) for ms in values]


def said(message: Any) -> str:
    return message.content + "\n" + json.dumps(message.embeds, ensure_ascii=False)


async def rounds(thread: Any, users: list[Any], knowledge: Any, total: int, first: int, samples: Samples) -> None:
    """``total`` rounds of /quiz, right press, wrong press, one interaction at a time."""
    from bot.answers import practice

    emu = thread.emulator
    for number in range(first, first + total):
        user = users[number % len(users)]
        asked = await emu.invoke("quiz", QUIZZES[number % len(QUIZZES)], user=user)
        await asked.response(timeout=10)
        question = asked.original
        ids = [cid for cid in (question.custom_ids() if question else []) if cid.split("|")[-1] in "ABCDE"]
        if not ids:
            raise SystemExit(f"/quiz {QUIZZES[number % len(QUIZZES)]} asked no question: {question}")
        _, _, card, seed, _, _ = ids[0].split("|")
        samples.add("quiz concept" if card.startswith("concept:") else "quiz numeric", asked)
        view = practice.question_view(card, int(seed), knowledge)
        right = next(c.letter for c in view.choices if c.correct)
        wrong = [c.letter for c in view.choices if not c.correct]
        pressed = [("press right", right, "Right"), ("press wrong", wrong[number % len(wrong)], "Not quite")]
        order = pressed if number // len(QUIZZES) % 2 else pressed[::-1]  # each kind of /quiz gets both orders
        for kind, letter, verdict in order:
            press = await emu.click(question, next(cid for cid in ids if cid.endswith("|" + letter)), user=user)
            await press.response(timeout=10)
            if press.original is None or verdict not in said(press.original):
                raise SystemExit(f"{kind} on {card} seed {seed}: expected {verdict!r}, got {press.original}")
            samples.add(kind, press, card)
            samples.presses += 1


def tutor_run(args: argparse.Namespace) -> tuple[Samples, int]:
    """The rounds against the real bot; also the attempts its database holds at the end."""
    from bench_discord import add_students, start_tutor, stop
    from emulator import EmulatorThread

    from bot.answers import Services

    knowledge = Services.load().knowledge
    with EmulatorThread() as thread, tempfile.TemporaryDirectory() as workdir:
        database = Path(workdir) / "tutor.db"
        users = thread.call(add_students, thread.emulator, args.users)
        process = start_tutor(thread, Path(workdir), env={"TUTOR_DB": str(database)})
        try:
            warm = Samples({})
            thread.run(rounds(thread, users, knowledge, args.warmup, 0, warm), timeout=600)
            time.sleep(args.settle)  # start-up work in the background (matplotlib's import) finishes
            samples = Samples({})
            thread.run(rounds(thread, users, knowledge, args.rounds, args.warmup, samples), timeout=1800)
            if thread.emulator.problems():
                raise SystemExit(f"tutor: the emulator refused payloads: {thread.emulator.problems()[:3]}")
        finally:
            stop(process)  # SIGTERM: the log's writer commits what is queued
        with sqlite3.connect(database) as db:
            stored = int(db.execute("SELECT count(*) FROM attempts").fetchone()[0])
        if stored != warm.presses + samples.presses:
            raise SystemExit(f"{stored} attempts stored for {warm.presses + samples.presses} presses")
    return samples, stored


def through_discord(args: argparse.Namespace) -> int:
    from bench_discord import EMULATOR_CPU, floor_sequential, pin

    header("through the Discord emulator")  # before pinning: the cores are the machine's
    pin(0, EMULATOR_CPU)  # before any emulator thread starts, so each inherits the mask
    floor = floor_sequential(2 * args.rounds, users=args.users, warmup=2 * args.warmup, settle=args.settle)
    samples, stored = tutor_run(args)
    limit = p99(floor.latencies_ms) + MARGIN_MS
    print(f"bot         membrane-tutor run (TUTOR_DB temporary) vs bench/floor_bot.py, {args.users} users")
    print(f"rounds      {args.rounds} (after {args.warmup} warm-up), {stored} attempts stored")
    print()
    print("| measurement | calls | median ms | p99 ms | max ms | target | result |")
    print("|---|---:|---:|---:|---:|---|---|")
    print(row("floor bot `/floor`", floor.latencies_ms, None))
    verdicts = []
    for name, values in (
        ("`/quiz`, all", samples.joined("quiz")),
        ("`/quiz`, numeric", samples.by_kind.get("quiz numeric", [])),
        ("`/quiz`, concept", samples.by_kind.get("quiz concept", [])),
        ("grading press, all", samples.joined("press")),
        ("grading press, right letter", samples.by_kind.get("press right", [])),
        ("grading press, wrong letter", samples.by_kind.get("press wrong", [])),
        ("grading press on a Nernst/GHK question (steps for its numbers)", samples.by_question.get("derivation", [])),
        ("grading press on a concept or what-if question", samples.by_question.get("other", [])),
    ):
        print(row(name, values, limit).replace(f"≤ {limit:g} ms", f"≤ {limit:.2f} ms (floor p99 + 5)"))
        verdicts.append(p99(values) <= limit)
    return 0 if verdicts[0] and verdicts[3] else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2000, help="problems per family (default 2000)")
    parser.add_argument("--discord", action="store_true", help="/quiz and presses through the emulator instead")
    parser.add_argument("--rounds", type=int, default=300, help="with --discord: /quiz + 2 presses each")
    parser.add_argument("--warmup", type=int, default=30, help="with --discord: untimed rounds first")
    parser.add_argument("--users", type=int, default=100, help="with --discord: students the rounds rotate")
    parser.add_argument("--derivations", action="store_true", help="only the derivations for new numbers")
    parser.add_argument("--settle", type=float, default=3.0, help="with --discord: seconds after the warm-up")
    args = parser.parse_args()
    if args.derivations:
        header("in process, derivations")
        return 0 if print_derivations(args.seeds) else 1
    return through_discord(args) if args.discord else in_process(range(args.seeds))


if __name__ == "__main__":
    raise SystemExit(main())
