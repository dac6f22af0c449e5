"""evaluate() over 100 generated cases, ROUNDS times: a fixed workload for instruction counts.

    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/eval_loop.py 0     # generation and loading only
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/eval_loop.py 4     # plus 400 evaluations

The difference of the two "I refs" totals divided by 400 is the machine instructions of one
evaluate(), a measure that a busy machine does not disturb.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate import generate  # noqa: E402
from screening.criteria import evaluate, load_case  # noqa: E402


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    cases = [load_case(c) for c in generate(100)]
    for _ in range(rounds):
        for case in cases:
            evaluate(case)


if __name__ == "__main__":
    main()
