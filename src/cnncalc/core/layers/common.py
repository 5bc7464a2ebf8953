"""Small helpers shared by the kind modules: shape checks, per-axis pairs and padding."""

from __future__ import annotations

import math
from typing import Any

from cnncalc.core.layers.registry import Args, Shape
from cnncalc.core.layers.saved import INPUT, Saved


def numel(shape: Shape) -> int:
    return math.prod(shape)


AXES = {1: "L", 2: "H×W", 3: "T×H×W"}  # the spatial axes of a map, by rank


def spatial(shape: Shape, what: str) -> tuple[int, tuple[int, ...]]:
    """A map's channels and its spatial sizes: C×L, C×H×W or C×T×H×W."""
    if not 2 <= len(shape) <= 4:
        raise ValueError(f"{what} needs a C×H×W input, got {fmt_shape(shape)} (or a C×L or "
                         "C×T×H×W map)")
    return shape[0], shape[1:]


def fmt_shape(shape: Shape) -> str:
    return "×".join(str(d) for d in shape)


def pair(value: Any) -> tuple[int, int]:
    """A 2-D per-axis value (int or [h, w]) as (h, w); code over any rank uses `per_axis`."""
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def per_axis(value: Any, rank: int, name: str = "") -> tuple[int, ...]:
    """A per-axis argument (an int for every axis, or one value per spatial axis) as a tuple of
    `rank` values; a list of another length is refused, naming the argument."""
    if isinstance(value, int):
        return (value,) * rank
    if len(value) != rank:
        raise ValueError(f"{name or 'a per-axis argument'} {list(value)} has {len(value)} "
                         f"value{'s' * (len(value) != 1)}, the input has {rank} spatial "
                         f"ax{'e' if rank != 1 else 'i'}s ({AXES[rank]}): give one int or "
                         f"{rank}")
    return tuple(value)


def kernel(args: Args, rank: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(kernel_size, stride, dilation) per axis of a windowed kind."""
    return (per_axis(args["kernel_size"], rank, "kernel_size"),
            per_axis(args["stride"], rank, "stride"),
            per_axis(args.get("dilation", 1), rank, "dilation"))


def is_pairs(p: Any) -> bool:
    """Padding written as (leading, trailing) per axis: [[1, 1], [2, 0]]."""
    return isinstance(p, tuple) and bool(p) and isinstance(p[0], tuple)


def pads(args: Args, axis: int, rank: int = 2) -> tuple[int, int]:
    """Leading and trailing padding on one axis; 'same' pads d·(k−1) in total, the extra on the end
    (as torch does for even kernels); 'causal' pads d·(k−1) before, none after (WaveNet, TCNs);
    [[lo, hi], ...] gives both per axis."""
    p = args.get("padding", 0)
    if p == "valid":
        return (0, 0)
    if p in ("same", "causal"):
        k = per_axis(args["kernel_size"], rank, "kernel_size")[axis]
        d = per_axis(args.get("dilation", 1), rank, "dilation")[axis]
        total = d * (k - 1)
        return (total, 0) if p == "causal" else (total // 2, total - total // 2)
    if is_pairs(p):
        lo, hi = per_pair(p, rank)[axis]
        return (lo, hi)
    lo = per_axis(p, rank, "padding")[axis]
    return (lo, lo)


def per_pair(p: tuple[tuple[int, int], ...], rank: int) -> tuple[tuple[int, int], ...]:
    if len(p) != rank:
        raise ValueError(f"padding {[list(x) for x in p]} has {len(p)} (leading, trailing) "
                         f"pair{'s' * (len(p) != 1)}, the input has {rank} spatial "
                         f"ax{'e' if rank != 1 else 'i'}s ({AXES[rank]})")
    return p


def all_pads(args: Args, rank: int) -> tuple[tuple[int, int], ...]:
    """(leading, trailing) padding on every axis."""
    p = args.get("padding", 0)
    if type(p) is int:  # the common case, without a call per axis
        return ((p, p),) * rank
    return tuple(pads(args, a, rank) for a in range(rank))


def explicit_pads(args: Args, rank: int) -> tuple[tuple[int, int], ...] | None:
    """(leading, trailing) per axis when the padding is pairs or 'causal', which torch's own
    `padding=` cannot say: the torch side pads explicitly before the layer (nn.ConstantPad{d}d)
    and the layer itself pads nothing. None for torch's own padding."""
    return None if symmetric(args, rank) else all_pads(args, rank)


def padded_input(args: Args, ins: list[Shape]) -> Saved:
    """What a windowed layer keeps of its input for backward: the input itself, or, when the
    padding is explicit (pairs, 'causal': a pad module runs first), the padded copy."""
    pads = explicit_pads(args, len(ins[0]) - 1)
    if pads is None:
        return INPUT
    sizes = (n + lo + hi for n, (lo, hi) in zip(ins[0][1:], pads))
    return Saved("tensor", "padded input", numel=ins[0][0] * math.prod(sizes))


def torch_pad(pads: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """Per-axis (leading, trailing) pairs in F.pad's order: the last axis first."""
    return tuple(x for lo, hi in reversed(pads) for x in (lo, hi))


def symmetric(args: Args, rank: int) -> bool:
    """The padding is an int or one int per axis (torch's own `padding=`), not pairs or causal."""
    p = args.get("padding", 0)
    return not is_pairs(p) and p != "causal"


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
