"""Run `cnncalc verify` on every zoo spec and print one Markdown row per spec (for docs/verify.md).

    PYTHONPATH=src python benchmarks/verify_zoo.py [names...] [--rf stages|all]
"""

from __future__ import annotations

import sys
import time

import torch

from cnncalc.core.checks import compare
from cnncalc.frontends.load import analyze, zoo_names
from cnncalc.measure.counts import measure_counts
from cnncalc.measure.support import measure_fields, select


def main(argv: list[str]) -> None:
    rf = argv[argv.index("--rf") + 1] if "--rf" in argv else "stages"
    names = [a for a in argv if not a.startswith("--") and a != rf] or zoo_names()
    print("| spec | layers | result | rf measured (agree) | rf not measured | seconds |")
    print("|---|---:|---|---:|---|---:|")
    for name in names:
        t = time.perf_counter()
        g = analyze(name)
        dev = torch.device("cpu")
        rows = compare(g, measure_counts(g, dev), measure_fields(g, select(g, rf), dev)).rows
        seconds = time.perf_counter() - t
        bad = [r.layer.name for r in rows if not r.agrees]
        measured = [r for r in rows
                    if r.rf.measured is not None and r.rf.measured.status in ("ok", "global")]
        why: dict[str, int] = {}
        for r in rows:
            f = r.rf.measured
            if f is not None and f.status not in ("ok", "global"):
                why[f.status] = why.get(f.status, 0) + 1
        result = "all agree" if not bad else f"{len(bad)} disagree: {', '.join(bad[:3])}"
        agree = sum(r.rf.ok is True for r in measured)
        print(f"| {name} | {len(rows)} | {result} | {len(measured)} ({agree}) | "
              f"{', '.join(f'{k} {v}' for k, v in why.items()) or '–'} | {seconds:.1f} |",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
