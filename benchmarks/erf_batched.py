"""The ERF measurement batched (a chunk of samples per backward pass) against an image-at-a-time
loop, at equal samples, on the CPU.

    PYTHONPATH=src python benchmarks/erf_batched.py [SPEC] [--input 3x224x224] [--samples 32]
        [--runs 3] [--threads N]

Both ways draw the same inputs (one seeded sample at a time), so their maps must agree; the script
checks that, then prints the median time of each and the speed-up.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from cnncalc.frontends.load import analyze
from cnncalc.measure.build import build_module
from cnncalc.measure.erf import default_layer, gradient_map


def timed(fn, runs: int) -> tuple[list[float], torch.Tensor]:  # type: ignore[no-untyped-def]
    out, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        out.append(time.perf_counter() - t)
    return sorted(out), result  # type: ignore[return-value]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("spec", nargs="?", default="resnet18")
    ap.add_argument("--input", default="3x224x224")
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    g = analyze(args.spec, args.input)
    layer = default_layer(g)
    torch.manual_seed(0)
    net = build_module(g)
    cpu = torch.device("cpu")

    def run(chunk: int) -> torch.Tensor:
        return gradient_map(net, layer, g.input_shape, args.samples, chunk, cpu)

    run(1)  # warm up allocator and kernels
    loop_t, loop_map = timed(lambda: run(1), args.runs)
    batch_t, batch_map = timed(lambda: run(args.samples), args.runs)
    assert torch.allclose(loop_map, batch_map, rtol=1e-4, atol=1e-12), "the maps differ"
    print(f"{g.name} {args.input}, ERF of {layer}, {args.samples} samples, "
          f"{torch.get_num_threads()} torch threads, median of {args.runs} runs")
    for label, t in (("image at a time (chunk 1)", loop_t),
                     (f"batched (chunk {args.samples})", batch_t)):
        print(f"  {label:<28} median {statistics.median(t):7.3f} s  "
              f"(min {t[0]:.3f}, max {t[-1]:.3f})")
    print(f"  speed-up {statistics.median(loop_t) / statistics.median(batch_t):.2f}×")


if __name__ == "__main__":
    main()
