"""Time `cnncalc shapes SPEC` as a whole process (the goal here: about 0.3 s).

    python benchmarks/shapes_time.py [SPEC] [--runs N]

Prints the median and the spread of N runs, and the `python -c pass` baseline for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def wall(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("spec", nargs="?", default="specs/resnet50.yaml")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    wall([sys.executable, "-m", "cnncalc", "shapes", args.spec], 2)  # warm the file cache
    for label, cmd in (
        ("python -c pass", [sys.executable, "-c", "pass"]),
        (f"cnncalc shapes {args.spec}", [sys.executable, "-m", "cnncalc", "shapes", args.spec]),
        (f"cnncalc shapes {args.spec} -f json",
         [sys.executable, "-m", "cnncalc", "shapes", args.spec, "-f", "json"]),
    ):
        t = sorted(wall(cmd, args.runs))
        print(f"{label:<45} median {statistics.median(t):.3f} s  "
              f"(min {t[0]:.3f}, max {t[-1]:.3f}, {args.runs} runs)")


if __name__ == "__main__":
    main()
