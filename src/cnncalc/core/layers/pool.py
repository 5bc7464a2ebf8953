"""Pooling and resampling: max/avg pools, adaptive pools, global average pooling, upsampling."""

from __future__ import annotations

import math
from dataclasses import replace

from cnncalc.core.layers.common import (
    all_pads,
    kernel,
    numel,
    padded_input,
    per_axis,
    spatial,
    symmetric,
    torch_pad,
    window_out,
)
from cnncalc.core.layers.registry import Arg, Args, Kind, Shape, Torch, TorchArg, register
from cnncalc.core.layers.saved import INPUT, Saved, nothing
from cnncalc.core.rf import Field

KERNEL = Arg("kernel_size", "pair", aliases=("k", "kernel"), doc="window size")
STRIDE = Arg("stride", "pair", None, aliases=("s",), doc="stride (default: the kernel size)")
PADDING = Arg("padding", "pads", 0, aliases=("p", "pad"),
              doc="padding, at most half the kernel: int, one per axis, (leading, trailing) per "
                  "axis or 'causal'")
CEIL = Arg("ceil_mode", "bool", False, aliases=("ceil",), doc="round the output size up")


def _default_stride(args: Args) -> Args:
    return args if args.get("stride") is not None else {**args, "stride": args["kernel_size"]}


def pool_shape(args: Args, ins: list[Shape]) -> Shape:
    c, sizes = spatial(ins[0], "pooling")
    rank = len(sizes)
    k, s, d = kernel(args, rank)
    p = all_pads(args, rank)
    size, explicit = [], not symmetric(args, rank)
    if rank == 3 and "count_include_pad" in args and any(n < x for n, x in zip(sizes, k)):
        # avg_pool3d (unlike 1-D and 2-D) refuses an input axis shorter than its kernel
        raise ValueError(f"a 3-D average pool needs every input axis at least its kernel "
                         f"({'×'.join(map(str, k))}), as torch's avg_pool3d does")
    for a, n in enumerate(sizes):
        lo, hi = p[a]
        if not explicit and lo > k[a] // 2:
            raise ValueError(f"pool padding {lo} must be at most half the kernel {k[a]}")
        if explicit:  # padded before the pool (torch: a pad module, then the pool pads nothing)
            n, lo, hi = n + lo + hi, 0, 0
        size.append(window_out(n, k[a], s[a], lo, hi, d[a], args["ceil_mode"], "pool"))
    return (c, *size)


def pool_ops(args: Args, ins: list[Shape], out: Shape) -> int:
    return numel(out) * math.prod(per_axis(args["kernel_size"], len(out) - 1))


def pool_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    rank = len(out) - 1
    k, s, d = kernel(args, rank)
    p = all_pads(args, rank)
    return f.windowed(k, s, tuple(lo for lo, _ in p), d, out[1:])


def _window_torch(a: Args, shape: Shape) -> list[TorchArg]:
    """A pool's padding given as pairs or 'causal' is an explicit pad before it (`pad_before`)."""
    r = max(1, len(shape) - 1)
    k = per_axis(a["kernel_size"], r)
    padding = per_axis(a["padding"], r) if symmetric(a, r) else 0
    return [TorchArg("kernel_size", k), TorchArg("stride", per_axis(a["stride"], r), k),
            TorchArg("padding", padding, 0)]


def max_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    kept = padded_input(args, ins) if "padding" in args else INPUT  # not on adaptive pools
    return (kept, Saved("tensor", "indices", numel=numel(out), dtype="int64"))


def maxpool_torch(a: Args, shape: Shape) -> list[TorchArg]:
    return [*_window_torch(a, shape),
            TorchArg("dilation", per_axis(a["dilation"], max(1, len(shape) - 1)), 1),
            TorchArg("ceil_mode", a["ceil_mode"], False)]


def avgpool_torch(a: Args, shape: Shape) -> list[TorchArg]:
    # a max pool linearised into an average pool (theory's RF setting) has no count_include_pad
    include_pad = a.get("count_include_pad", True)
    return [*_window_torch(a, shape), TorchArg("count_include_pad", include_pad, True),
            TorchArg("ceil_mode", a["ceil_mode"], False)]


register(Kind(
    "maxpool", "max pooling (nn.MaxPool1d/2d/3d)", pool_shape,
    args=(KERNEL, STRIDE, PADDING, Arg("dilation", "pair", 1, aliases=("d",)), CEIL),
    other_ops=pool_ops, rf=pool_field, saved=max_saved,
    aliases=("max_pool", "maxpool2d", "maxpool1d", "maxpool3d"),
    window=True,
    primary="kernel_size", category="pool", normalize=_default_stride, linearised="avgpool",
    torch=Torch("MaxPool{d}d", maxpool_torch),
))
register(Kind(
    "avgpool", "average pooling (nn.AvgPool1d/2d/3d)", pool_shape,
    args=(KERNEL, STRIDE, PADDING, CEIL,
          Arg("count_include_pad", "bool", True, doc="padding zeros count in the average")),
    other_ops=pool_ops, rf=pool_field, saved=lambda a, i, o: (padded_input(a, i),),
    aliases=("avg_pool", "avgpool2d", "avgpool1d", "avgpool3d"),
    window=True,
    primary="kernel_size", category="pool", normalize=_default_stride,
    torch=Torch("AvgPool{d}d", avgpool_torch),
))


def adaptive_shape(args: Args, ins: list[Shape]) -> Shape:
    c, sizes = spatial(ins[0], "adaptive pooling")
    return (c, *per_axis(args["size"], len(sizes), "size"))


def adaptive_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    if all(n == 1 for n in out[1:]):
        return f.globalize()
    axes = (ax.adaptive(ins[0][1 + a], out[1 + a]) for a, ax in enumerate(f.axes()))
    # pooled to one unit along an axis ([1, W]): global along it, as gap is on all
    glob = tuple(g or n == 1 for g, n in zip(f.glob, out[1:]))
    return replace(f.with_axes(axes, out[1:]), glob=glob)


def adaptive_avg_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    # to 1×1, torch takes a mean, whose backward reads no tensor
    return () if all(n == 1 for n in out[1:]) else (INPUT,)


def adaptive_ops(args: Args, ins: list[Shape], out: Shape) -> int:
    return numel(ins[0])


for _name, _doc, _aliases, _module, _linear, _saved in (
    ("adaptive_avgpool", "adaptive average pooling (nn.AdaptiveAvgPool1d/2d/3d)",
     ("adaptive_avg_pool",),
     "AdaptiveAvgPool{d}d", None, adaptive_avg_saved),
    ("adaptive_maxpool", "adaptive max pooling (nn.AdaptiveMaxPool1d/2d/3d)",
     ("adaptive_max_pool",),
     "AdaptiveMaxPool{d}d", "adaptive_avgpool", max_saved),
):
    register(Kind(
        _name, _doc, adaptive_shape, args=(Arg("size", "size", aliases=("output_size",)),),
        other_ops=adaptive_ops, rf=adaptive_field, saved=_saved, aliases=_aliases, primary="size",
        category="pool", resamples=True, linearised=_linear,
        torch=Torch(_module, lambda a, shape: [
            TorchArg(None, per_axis(a["size"], max(1, len(shape) - 1)))]),
    ))


def gap_shape(args: Args, ins: list[Shape]) -> Shape:
    c, sizes = spatial(ins[0], "global average pooling")
    return (c, *(1 for _ in sizes))


register(Kind(
    "gap", "global average pooling to C×1×1 (C×1, C×1×1×1; nn.AdaptiveAvgPool2d(1))", gap_shape,
    other_ops=adaptive_ops, rf=lambda a, i, o, f: f.globalize(), saved=nothing,  # a mean
    aliases=("global_avgpool", "global_avg_pool"), category="pool",
    torch=Torch("AdaptiveAvgPool{d}d", lambda a, shape: [TorchArg(None, 1)]),
))


def pad_shape(args: Args, ins: list[Shape]) -> Shape:
    c, sizes = spatial(ins[0], "pad")
    p = all_pads(args, len(sizes))
    return (c, *(n + lo + hi for n, (lo, hi) in zip(sizes, p)))


def pad_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    # output o is input o − lo: a window of 1 shifted by the leading padding
    p = all_pads(args, len(out) - 1)
    return f.with_axes((ax.window(1, 1, p[a][0]) for a, ax in enumerate(f.axes())), out[1:])


def pad_torch(a: Args, shape: Shape) -> list[TorchArg]:
    return [TorchArg(None, torch_pad(all_pads(a, max(1, len(shape) - 1)))),
            TorchArg(None, a["value"])]


register(Kind(
    "pad", "constant padding, (leading, trailing) per axis (nn.ConstantPad1d/2d/3d, F.pad)",
    pad_shape, args=(Arg("padding", "pads", aliases=("p", "pad"),
                         doc="int, one per axis, (leading, trailing) per axis or 'causal' "
                             "(with kernel_size and dilation: d·(k−1) before)"),
                     Arg("value", "float", 0.0, doc="the padded value (-.inf before a max "
                                                    "pool)"),
                     Arg("kernel_size", "pair", 1, aliases=("k",), doc="for 'causal'"),
                     Arg("dilation", "pair", 1, aliases=("d",), doc="for 'causal'")),
    other_ops=lambda a, i, o: 0, rf=pad_field, saved=nothing, primary="padding",
    category="resample", torch=Torch("ConstantPad{d}d", pad_torch),
))


def upsample_shape(args: Args, ins: list[Shape]) -> Shape:
    c, sizes = spatial(ins[0], "upsample")
    if args.get("align_corners") and args["mode"] != "bilinear":
        raise ValueError("align_corners applies to bilinear upsampling only (torch refuses it "
                         f"with mode {args['mode']!r})")
    scale = per_axis(args["scale_factor"], len(sizes), "scale_factor")
    return (c, *(n * f for n, f in zip(sizes, scale)))


def upsample_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    # nearest: output o copies input ⌊o/s⌋; bilinear: one or two neighbours (see Axis.upsample),
    # per axis (linear on 1 axis, bilinear on 2, trilinear on 3).
    s, bilinear = per_axis(args["scale_factor"], len(out) - 1), args["mode"] == "bilinear"
    corners = bool(args.get("align_corners"))
    return f.with_axes((ax.upsample(s[a], bilinear, corners, ins[0][1 + a])
                        for a, ax in enumerate(f.axes())), out[1:])


LINEAR_MODE = {1: "linear", 2: "bilinear", 3: "trilinear"}  # torch's name for `bilinear`, by rank


def upsample_torch(a: Args, shape: Shape) -> list[TorchArg]:
    r = max(1, len(shape) - 1)
    bilinear = a["mode"] == "bilinear"
    corners = [TorchArg("align_corners", bool(a.get("align_corners")))] if bilinear else []
    return [TorchArg("scale_factor", per_axis(a["scale_factor"], r)),
            TorchArg("mode", LINEAR_MODE[r] if bilinear else a["mode"]), *corners]


def upsample_ops(args: Args, ins: list[Shape], out: Shape) -> int:
    return 0 if args["mode"] == "nearest" else 4 * numel(out)


register(Kind(
    "upsample", "upsampling by an integer factor (nn.Upsample)", upsample_shape,
    args=(Arg("scale_factor", "pair", 2, aliases=("scale",)),
          Arg("mode", "choice", "nearest", choices=("nearest", "bilinear")),
          Arg("align_corners", "bool", False, doc="bilinear: corner pixels map onto corners")),
    other_ops=upsample_ops, rf=upsample_field, saved=nothing,  # its backward needs sizes only
    primary="scale_factor", category="resample",
    resamples=True, torch=Torch("Upsample", upsample_torch),
))
