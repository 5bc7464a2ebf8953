"""Pooling and resampling: max/avg pools, adaptive pools, global average pooling, upsampling."""

from __future__ import annotations

from dataclasses import replace

from cnncalc.core.layers.common import numel, pads, pair, spatial, window_out
from cnncalc.core.layers.registry import Arg, Args, Kind, Shape, Torch, TorchArg, register
from cnncalc.core.layers.saved import INPUT, Saved, keeps_input, nothing
from cnncalc.core.rf import Field

KERNEL = Arg("kernel_size", "pair", aliases=("k", "kernel"), doc="window size")
STRIDE = Arg("stride", "pair", None, aliases=("s",), doc="stride (default: the kernel size)")
PADDING = Arg("padding", "pair0", 0, aliases=("p", "pad"), doc="padding, at most half the kernel")
CEIL = Arg("ceil_mode", "bool", False, aliases=("ceil",), doc="round the output size up")


def _default_stride(args: Args) -> Args:
    return args if args.get("stride") is not None else {**args, "stride": args["kernel_size"]}


def pool_shape(args: Args, ins: list[Shape]) -> Shape:
    c, h, w = spatial(ins[0], "pooling")
    k, s, d = pair(args["kernel_size"]), pair(args["stride"]), pair(args.get("dilation", 1))
    size = []
    for a, n in enumerate((h, w)):
        lo, hi = pads(args, a)
        if lo > k[a] // 2:
            raise ValueError(f"pool padding {lo} must be at most half the kernel {k[a]}")
        size.append(window_out(n, k[a], s[a], lo, hi, d[a], args["ceil_mode"], "pool"))
    return (c, size[0], size[1])


def pool_ops(args: Args, ins: list[Shape], out: Shape) -> int:
    kh, kw = pair(args["kernel_size"])
    return numel(out) * kh * kw


def pool_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    k, s, d = pair(args["kernel_size"]), pair(args["stride"]), pair(args.get("dilation", 1))
    h, w = (ax.window(k[a], s[a], pads(args, a)[0], d[a]) for a, ax in enumerate(f.axes()))
    return f.with_axes(h, w, (out[1], out[2]))


def _window_torch(a: Args) -> list[TorchArg]:
    k = pair(a["kernel_size"])
    return [TorchArg("kernel_size", k), TorchArg("stride", pair(a["stride"]), k),
            TorchArg("padding", pair(a["padding"]), 0)]


def max_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    return (INPUT, Saved("tensor", "indices", numel=numel(out), dtype="int64"))


def maxpool_torch(a: Args, shape: Shape) -> list[TorchArg]:
    return [*_window_torch(a), TorchArg("dilation", pair(a["dilation"]), 1),
            TorchArg("ceil_mode", a["ceil_mode"], False)]


def avgpool_torch(a: Args, shape: Shape) -> list[TorchArg]:
    # a max pool linearised into an average pool (theory's RF setting) has no count_include_pad
    include_pad = a.get("count_include_pad", True)
    return [*_window_torch(a), TorchArg("count_include_pad", include_pad, True),
            TorchArg("ceil_mode", a["ceil_mode"], False)]


register(Kind(
    "maxpool", "max pooling (nn.MaxPool2d)", pool_shape,
    args=(KERNEL, STRIDE, PADDING, Arg("dilation", "pair", 1, aliases=("d",)), CEIL),
    other_ops=pool_ops, rf=pool_field, saved=max_saved, aliases=("max_pool", "maxpool2d"),
    window=True,
    primary="kernel_size", category="pool", normalize=_default_stride, linearised="avgpool",
    torch=Torch("MaxPool{d}d", maxpool_torch),
))
register(Kind(
    "avgpool", "average pooling (nn.AvgPool2d)", pool_shape,
    args=(KERNEL, STRIDE, PADDING, CEIL,
          Arg("count_include_pad", "bool", True, doc="padding zeros count in the average")),
    other_ops=pool_ops, rf=pool_field, saved=keeps_input, aliases=("avg_pool", "avgpool2d"),
    window=True,
    primary="kernel_size", category="pool", normalize=_default_stride,
    torch=Torch("AvgPool{d}d", avgpool_torch),
))


def adaptive_shape(args: Args, ins: list[Shape]) -> Shape:
    c, _, _ = spatial(ins[0], "adaptive pooling")
    oh, ow = pair(args["size"])
    return (c, oh, ow)


def adaptive_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    if out[1:] == (1, 1):
        return f.globalize()
    h, w = (ax.adaptive(ins[0][1 + a], out[1 + a]) for a, ax in enumerate(f.axes()))
    # pooled to one unit along an axis ([1, W]): global along it, as gap is on both
    glob = (f.glob[0] or out[1] == 1, f.glob[1] or out[2] == 1)
    return replace(f.with_axes(h, w, (out[1], out[2])), glob=glob)


def adaptive_avg_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    # to 1×1, torch takes a mean, whose backward reads no tensor
    return () if out[1:] == (1, 1) else (INPUT,)


def adaptive_ops(args: Args, ins: list[Shape], out: Shape) -> int:
    return numel(ins[0])


for _name, _doc, _aliases, _module, _linear, _saved in (
    ("adaptive_avgpool", "adaptive average pooling (nn.AdaptiveAvgPool2d)", ("adaptive_avg_pool",),
     "AdaptiveAvgPool{d}d", None, adaptive_avg_saved),
    ("adaptive_maxpool", "adaptive max pooling (nn.AdaptiveMaxPool2d)", ("adaptive_max_pool",),
     "AdaptiveMaxPool{d}d", "adaptive_avgpool", max_saved),
):
    register(Kind(
        _name, _doc, adaptive_shape, args=(Arg("size", "size", aliases=("output_size",)),),
        other_ops=adaptive_ops, rf=adaptive_field, saved=_saved, aliases=_aliases, primary="size",
        category="pool", resamples=True, linearised=_linear,
        torch=Torch(_module, lambda a, shape: [TorchArg(None, pair(a["size"]))]),
    ))


def gap_shape(args: Args, ins: list[Shape]) -> Shape:
    c, _, _ = spatial(ins[0], "global average pooling")
    return (c, 1, 1)


register(Kind(
    "gap", "global average pooling to C×1×1 (nn.AdaptiveAvgPool2d(1))", gap_shape,
    other_ops=adaptive_ops, rf=lambda a, i, o, f: f.globalize(), saved=nothing,  # a mean
    aliases=("global_avgpool", "global_avg_pool"), category="pool",
    torch=Torch("AdaptiveAvgPool{d}d", lambda a, shape: [TorchArg(None, 1)]),
))


def upsample_shape(args: Args, ins: list[Shape]) -> Shape:
    c, h, w = spatial(ins[0], "upsample")
    if args.get("align_corners") and args["mode"] != "bilinear":
        raise ValueError("align_corners applies to bilinear upsampling only (torch refuses it "
                         f"with mode {args['mode']!r})")
    sh, sw = pair(args["scale_factor"])
    return (c, h * sh, w * sw)


def upsample_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    # nearest: output o copies input ⌊o/s⌋; bilinear: one or two neighbours (see Axis.upsample).
    s, bilinear = pair(args["scale_factor"]), args["mode"] == "bilinear"
    corners = bool(args.get("align_corners"))
    h, w = (ax.upsample(s[a], bilinear, corners, ins[0][1 + a]) for a, ax in enumerate(f.axes()))
    return f.with_axes(h, w, (out[1], out[2]))


def upsample_torch(a: Args, shape: Shape) -> list[TorchArg]:
    bilinear = ([TorchArg("align_corners", bool(a.get("align_corners")))]
                if a["mode"] == "bilinear" else [])
    return [TorchArg("scale_factor", pair(a["scale_factor"])), TorchArg("mode", a["mode"]),
            *bilinear]


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
