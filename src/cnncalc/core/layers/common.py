"""Small helpers shared by the kind modules: shape checks, per-axis pairs and padding."""

from __future__ import annotations

import math
from typing import Any

from cnncalc.core.layers.registry import Args, Shape


def numel(shape: Shape) -> int:
    return math.prod(shape)


def spatial(shape: Shape, what: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ValueError(f"{what} needs a C×H×W input, got {fmt_shape(shape)}")
    return shape[0], shape[1], shape[2]


def fmt_shape(shape: Shape) -> str:
    return "×".join(str(d) for d in shape)


def pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def pads(args: Args, axis: int) -> tuple[int, int]:
    """Leading and trailing padding on one axis; 'same' pads d·(k−1) in total, the extra on the end
    (as torch does for even kernels)."""
    p = args.get("padding", 0)
    if p == "valid":
        return (0, 0)
    if p == "same":
        k, d = pair(args["kernel_size"])[axis], pair(args.get("dilation", 1))[axis]
        total = d * (k - 1)
        return (total // 2, total - total // 2)
    lo = pair(p)[axis]
    return (lo, lo)


def window_out(n: int, k: int, s: int, lo: int, hi: int, d: int, ceil: bool, what: str) -> int:
    """H_out = ⌊(H + p_lo + p_hi − d·(k−1) − 1)/s⌋ + 1, or ⌈…⌉ with ceil_mode (torch's rule,
    `pooling_output_shape_pad_lr`: floor division also for a negative span, then the last window
    must start inside the input or the leading padding; an output below one unit is refused).
    So a ceil_mode pool whose window is larger than the padded input still gives one unit."""
    span = n + lo + hi - d * (k - 1) - 1
    out = (span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= n + lo:
        out -= 1
    if out < 1:
        raise ValueError(f"{what} kernel {d * (k - 1) + 1} (k={k}, d={d}) is larger than the "
                         f"padded input {n + lo + hi} ({n} + {lo} + {hi})")
    return out
