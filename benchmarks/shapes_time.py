"""Time `cnncalc shapes` as a whole process: a zoo spec, and a generated spec of N layers (goals:
resnet50 about 0.3 s; 10,000 layers 0.5 s as JSON, 1 s as a table).

    python benchmarks/shapes_time.py [SPEC] [--runs N] [--layers 10000]

Prints the median and the spread of N runs of each, the `python -c pass` baseline, and, when
torchinfo is installed, a torchinfo summary of the same SPEC with the ratio against cnncalc.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENERATED = """\
name: deep{n}
input: {{channels: 16, size: [32, 32]}}
blocks:
  basic:
    args: {{out: 16}}
    body:
      - residual:
          - {{conv: {{out: $out, k: 3, p: 1, bias: false}}}}
          - bn
          - relu
          - {{conv: {{out: $out, k: 3, p: 1, bias: false}}}}
          - bn
      - relu
layers:
  - {{basic: {{out: 16}}, repeat: {blocks}, name: stage}}
  - {{gap: {{}}, name: avgpool}}
  - flatten
  - {{linear: 10, name: fc}}
"""


def generated(layers: int, folder: Path) -> Path:
    """A spec of about `layers` layers: residual basic blocks of 7 layers each."""
    path = folder / f"deep{layers}.yaml"
    path.write_text(GENERATED.format(n=layers, blocks=max(1, (layers - 3) // 7)))
    return path


def wall(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - t)
    return out


def report(label: str, cmd: list[str], runs: int) -> float:
    t = sorted(wall(cmd, runs))
    median = statistics.median(t)
    print(f"{label:<50} median {median:.3f} s  (min {t[0]:.3f}, max {t[-1]:.3f}, {runs} runs)")
    return median


TORCHINFO = """\
import sys
from cnncalc.frontends.load import analyze
from cnncalc.measure.build import build_module
import torchinfo
g = analyze(sys.argv[1])
torchinfo.summary(build_module(g), input_size=(1, *g.input_shape), verbose=0)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("spec", nargs="?", default="specs/resnet50.yaml")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--layers", type=int, default=10_000)
    args = ap.parse_args()
    cnncalc = [sys.executable, "-m", "cnncalc", "shapes"]
    wall([*cnncalc, args.spec], 2)  # warm the file cache
    report("python -c pass", [sys.executable, "-c", "pass"], args.runs)
    ours = report(f"cnncalc shapes {args.spec}", [*cnncalc, args.spec], args.runs)
    report(f"cnncalc shapes {args.spec} -f json", [*cnncalc, args.spec, "-f", "json"], args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        deep = str(generated(args.layers, Path(tmp)))
        runs = max(3, args.runs // 3)
        report(f"cnncalc shapes <{args.layers:,} layers> -f json", [*cnncalc, deep, "-f", "json"],
               runs)
        report(f"cnncalc shapes <{args.layers:,} layers> (table)", [*cnncalc, deep], runs)
    try:
        import torchinfo  # noqa: F401
    except ImportError:
        print("torchinfo is not installed: no comparison (pip install torchinfo)")
        return
    theirs = report(f"torchinfo.summary of {args.spec}",
                    [sys.executable, "-c", TORCHINFO, args.spec], max(3, args.runs // 3))
    print(f"torchinfo / cnncalc: {theirs / ours:.1f}×")


if __name__ == "__main__":
    main()
