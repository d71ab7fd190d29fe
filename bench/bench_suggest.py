"""/explain and /quiz topic autocomplete: KnowledgeBase.suggest() time for long queries.

    python bench/bench_suggest.py [--runs N]

Every keystroke in the topic box runs ``suggest`` on the event loop, so its worst case is
a stall for every interaction the bot holds. Timed in process with ``time.perf_counter``
for a typed query (topic words) and a random-letter one, each 10, 100 and 6,000
characters (100 is Discord's limit on an autocomplete value; 6,000 is what a forged
payload can carry). Target (issue 13, build item 3): p99 ≤ 1 ms for every length.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answers import Services  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def queries(length: int) -> dict[str, str]:
    rng = random.Random(length)
    typed = ("nernst potential potassium gradient " * (length // 36 + 1))[:length]
    letters = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(length))
    return {"typed": typed, "random": letters}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="calls per query (fewer for slow ones)")
    args = parser.parse_args()
    knowledge = Services.load().knowledge
    print(f"{len(knowledge)} topics; {args.runs} calls per query (at most 5 s of calls each)")
    print(f"{'length':>6} {'query':<7} {'median ms':>10} {'p99 ms':>8} {'max ms':>8}")
    for length in (10, 100, 6000):
        for name, text in queries(length).items():
            times: list[float] = []
            budget = time.perf_counter() + 5
            while len(times) < args.runs and (not times or time.perf_counter() < budget):
                started = time.perf_counter()
                knowledge.suggest(text)
                times.append(1000 * (time.perf_counter() - started))
            print(
                f"{length:>6} {name:<7} {statistics.median(times):>10.3f} "
                f"{percentile(times, 99):>8.3f} {max(times):>8.3f}  (n={len(times)})"
            )


if __name__ == "__main__":
    main()
