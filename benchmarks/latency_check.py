"""Check `cnncalc latency` against a direct torch.utils.benchmark measurement of the same module.

    python benchmarks/latency_check.py [SPEC ...] [--batch 1] [--min-time 1] [--rounds 5]
                                        [--threads N]

For each spec, builds the module once and, in alternating rounds, times it with cnncalc's
harness (`backends.latency.measure_batch`) and with `torch.utils.benchmark.Timer.blocked_autorange`
(same threads, same input, both under `torch.inference_mode()`). Prints both medians per round, the
difference of the medians over rounds, and the paired difference (the median over rounds of each
round's (cnncalc − torch) ÷ torch: robust to load that drifts between rounds, as both halves of a
round see about the same machine); exits 1 when the paired difference is over 5%.
Run on a quiet machine (`uptime`): other processes on the same cores perturb both clocks.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

TOLERANCE = 0.05


def direct(torch, net, x, min_time: float) -> float:
    from torch.utils import benchmark

    timer = benchmark.Timer(stmt="net(x)", globals={"net": net, "x": x},
                            num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_time).median


def check(spec: str, batch: int, min_time: float, rounds: int) -> bool:
    import torch

    from cnncalc.frontends.load import analyze
    from cnncalc.measure import latency as lat
    from cnncalc.measure.build import build_module
    from cnncalc.measure.peak import Peak

    g = analyze(spec)
    net = build_module(g)
    x = torch.randn(batch, *g.input_shape)
    setup = lat.Setup(min_time=min_time)
    ours, theirs = [], []
    with torch.inference_mode():
        for i in range(rounds):
            r = lat.measure_batch(g, net, net, batch, torch.device("cpu"), setup,
                                  Peak(None, "not used"), None)
            ours.append(r.stats.median)
            theirs.append(direct(torch, net, x, min_time))
            print(f"  {spec} batch {batch} round {i + 1}: cnncalc {ours[-1] * 1e3:8.2f} ms   "
                  f"torch.utils.benchmark {theirs[-1] * 1e3:8.2f} ms", flush=True)
    a, b = statistics.median(ours), statistics.median(theirs)
    overall = (a - b) / b
    paired = statistics.median((x - y) / y for x, y in zip(ours, theirs))
    ok = abs(paired) <= TOLERANCE
    print(f"{spec:<16} batch {batch}: cnncalc {a * 1e3:8.2f} ms  torch.utils.benchmark "
          f"{b * 1e3:8.2f} ms  (medians over rounds: {100 * overall:+.1f}%)  "
          f"paired difference {100 * paired:+.1f}%  {'ok' if ok else 'OVER 5%'}", flush=True)
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("specs", nargs="*", default=["resnet18", "mobilenet_v2", "squeezenet1_1"])
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {load:.2f} at start", flush=True)
    results = [check(s, args.batch, args.min_time, args.rounds) for s in args.specs]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
