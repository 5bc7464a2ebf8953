"""Fuzz `cnncalc shapes` with 10,000+ broken zoo specs and random YAML documents; report counts.

    python benchmarks/fuzz.py [--cases 10000] [--seed 0] [--timeout 30]
    python benchmarks/fuzz.py --target expr [--cases 100000] [--seed 0]

`--target expr` fuzzes the evaluator alone (tests/fuzz/expr_fuzz.py): random expressions over
its whole grammar, each a value in its domain or one ExprError; it also prints the slowest case
and the largest peak of Python allocations of one evaluation. Both print the process's peak
resident memory. Run it under a memory cap and a wall-clock limit, e.g.
`(ulimit -v 4000000; timeout 3600 python benchmarks/fuzz.py)`.

Every case must end in a result (exit 0) or error lines with exit 2. Prints how many ended in a
result, an error, a traceback (an exception escaped) or a hang (still running after --timeout
seconds), and the first failures with the seed that reproduces each (`case SEED:N`). Exits 1 when
there is any traceback or hang. The cases are the ones tests/fuzz/test_fuzz.py draws from.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.fuzz.expr_fuzz import fuzz_expr  # noqa: E402
from tests.fuzz.harness import fuzz  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds before a case is a hang")
    ap.add_argument("--target", choices=["cli", "expr"], default="cli")
    args = ap.parse_args()
    t = time.perf_counter()
    if args.target == "expr":
        counts, failures, slowest, peak = fuzz_expr(args.cases, args.seed)
    else:
        counts, failures = fuzz(args.cases, args.seed, args.timeout)
    took = time.perf_counter() - t
    print(f"{args.cases:,} {args.target} cases (seed {args.seed}) in {took:.0f} s")
    for kind in counts:
        print(f"  {kind:<10} {counts[kind]:>7,}")
    if args.target == "expr":
        print(f"  slowest    {slowest * 1000:.2f} ms; largest allocation peak {peak:,} bytes")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"  peak resident memory {rss / 1024:.0f} MB")
    for line in failures:
        print(line)
    sys.exit(1 if counts["traceback"] or counts["hang"] else 0)


if __name__ == "__main__":
    main()
