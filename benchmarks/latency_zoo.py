"""Measure zoo specs with `cnncalc latency` and print one Markdown table (for docs/benchmarks.md).

    python benchmarks/latency_zoo.py [SPEC ...] [--batch 1,8] [--dtype float32,float16]
                                     [--device cpu] [--min-time 2] [--threads N] [--json FILE]

Default specs: the whole zoo. A batch that runs out of memory is noted and the spec's larger
batches are skipped. --json writes every figure (the `cnncalc latency -f json` documents).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


def row(r: Any, b: Any) -> str:
    """A Markdown row from a LatencyResult and one of its BatchResults."""
    s = b.stats
    frac = b.fraction_of_peak(r.peak)
    return (f"| {r.spec} | {r.setup.dtype} | {b.batch} | {b.macs / 1e9:.2f} | "
            f"{s.median * 1e3:.2f} | {s.p10 * 1e3:.2f}–{s.p90 * 1e3:.2f} | "
            f"{b.throughput:,.1f} | {b.gmacs_per_s:,.1f} | "
            f"{'–' if frac is None else f'{100 * frac:.1f}%'} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("specs", nargs="*")
    ap.add_argument("--batch", default="1,8")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--min-time", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", default=None, help="write every figure to this file")
    args = ap.parse_args()

    from cnncalc.frontends.load import analyze, zoo_names
    from cnncalc.measure.latency import Setup, measure_latency, parse_batches
    from cnncalc.report.latency import result_json

    specs = args.specs or zoo_names()
    docs, peaks = [], set()
    print(f"load average {os.getloadavg()[0]:.2f} at start", file=sys.stderr, flush=True)
    print("| spec | dtype | batch | GMACs | median ms | p10–p90 ms | images/s | GMAC/s | "
          "% of peak |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    for dtype in args.dtype.split(","):
        for spec in specs:
            setup = Setup(args.device, dtype, threads=args.threads, min_time=args.min_time)
            r = measure_latency(analyze(spec), parse_batches(args.batch), setup)
            for b in r.batches:
                print(row(r, b), flush=True)
            if r.error:
                print(f"| {spec} | {dtype} | {r.error} | | | | | | |", flush=True)
            peaks.add(f"{r.peak.gflops:.1f} GFLOP/s ({r.peak.source})" if r.peak.gflops
                      else r.peak.source)
            docs.append(result_json(r))
    env = docs[0]["environment"] if docs else {}
    print(f"\nPeak: {'; '.join(sorted(peaks))}. Environment: torch {env.get('torch')}, "
          f"{env.get('device_name')}, {env.get('threads')} threads, load average "
          f"{os.getloadavg()[0]:.2f} at the end.")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(docs, f, indent=2)


if __name__ == "__main__":
    main()
