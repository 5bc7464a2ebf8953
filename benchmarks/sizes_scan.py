"""Time the `cnncalc sizes` scan: a thousand input sizes through the engine (goal: about 1 s).

    PYTHONPATH=src python benchmarks/sizes_scan.py [SPEC ...] [--range 32..1024]

Per spec: the scan's wall time (replayed programs), how many sizes were lowered in full, and
for comparison the time to lower the spec afresh at 50 sizes, scaled to the range.
"""

from __future__ import annotations

import argparse
import time

from cnncalc.core.sizes import scan
from cnncalc.frontends.load import build, load_spec
from cnncalc.frontends.sizes import lowering, parse_range


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("specs", nargs="*", default=["resnet50", "unet", "mobilenet_v2",
                                                 "inception_v3", "densenet121"])
    ap.add_argument("--range", default="32..1024")
    a = ap.parse_args()
    sizes = parse_range(a.range)
    print(f"{'spec':<16}{'sizes':>7}{'scan s':>9}{'lowered':>9}{'full lowering s (est.)':>24}")
    for name in a.specs:
        s = load_spec(name)
        t = time.perf_counter()
        r = scan(lowering(s), s.name, s.input_shape[0], sizes)
        took = time.perf_counter() - t
        t = time.perf_counter()
        for h, w in sizes[:: max(1, len(sizes) // 50)][:50]:
            try:
                build(s, (s.input_shape[0], h, w))
            except Exception:  # noqa: BLE001 - a size that fails costs its time too
                pass
        full = (time.perf_counter() - t) / min(50, len(sizes)) * len(sizes)
        print(f"{name:<16}{len(sizes):>7}{took:>9.2f}{r.lowered:>9}{full:>24.2f}")


if __name__ == "__main__":
    main()
