"""Convolutions and linear layers: the kinds whose multiply-accumulates make up the MAC count.

NB (the counting convention, stated once; docs/conventions.md says the same):
- params = learnable parameters, exactly sum(p.numel() for p in module.parameters()).
- MACs = multiply-accumulates of conv, transposed conv and linear, bias excluded. This is the
  convention of torchvision's published table and equals torch FlopCounterMode's count / 2.
- FLOPs = 2 × MACs.
- other_ops (only with --all-ops): everything else, one op per elementwise operation; a bias
  add is one op per output element.
"""

from __future__ import annotations

import math
from typing import Any

from cnncalc.core.layers.common import (
    all_pads,
    fmt_shape,
    kernel,
    numel,
    padded_input,
    per_axis,
    spatial,
    symmetric,
    window_out,
)
from cnncalc.core.layers.registry import Arg, Args, Kind, Shape, Torch, TorchArg, register
from cnncalc.core.layers.saved import INPUT, Saved, keeps_input
from cnncalc.core.rf import Field

OUT = Arg("out", "int", aliases=("out_channels", "channels"), doc="output channels")
KERNEL = Arg("kernel_size", "pair", aliases=("k", "kernel"),
             doc="kernel size, int or one per spatial axis ([h, w])")
STRIDE = Arg("stride", "pair", 1, aliases=("s",), doc="stride")
PADDING = Arg("padding", "padding", 0, aliases=("p", "pad"),
              doc="padding: int, one per axis ([h, w]), (leading, trailing) per axis "
                  "([[1, 1], [2, 0]]), 'same' (stride 1), 'valid' or 'causal' (d·(k−1) before)")
DILATION = Arg("dilation", "pair", 1, aliases=("d",), doc="dilation")
GROUPS = Arg("groups", "int", 1, aliases=("g",), doc="groups (channels are split into groups)")
BIAS = Arg("bias", "bool", True, doc="learnable bias")


def _conv_in(args: Args, ins: list[Shape]) -> tuple[int, tuple[int, ...]]:
    c, sizes = spatial(ins[0], "conv")
    g, out = args["groups"], args["out"]
    if c % g:
        raise ValueError(f"in channels {c} are not divisible by groups {g}")
    if out % g:
        raise ValueError(f"out channels {out} are not divisible by groups {g}")
    if args["padding"] == "same" and set(per_axis(args["stride"], len(sizes), "stride")) != {1}:
        raise ValueError("padding 'same' needs stride 1 (as in torch)")
    return c, sizes


def conv_shape(args: Args, ins: list[Shape]) -> Shape:
    c, sizes = _conv_in(args, ins)
    rank = len(sizes)
    k, s, d = kernel(args, rank)
    p = all_pads(args, rank)
    return (args["out"], *(window_out(n, k[a], s[a], *p[a], d[a], False, "conv")
                           for a, n in enumerate(sizes)))


def conv_params(args: Args, ins: list[Shape], out: Shape) -> int:
    k = per_axis(args["kernel_size"], len(ins[0]) - 1)
    out_c: int = args["out"]
    groups: int = args["groups"]
    weight = out_c * (ins[0][0] // groups) * math.prod(k)
    return weight + (out_c if args["bias"] else 0)


def conv_macs(args: Args, ins: list[Shape], out: Shape) -> int:
    k = per_axis(args["kernel_size"], len(ins[0]) - 1)
    out_c: int = args["out"]
    groups: int = args["groups"]
    return out_c * (ins[0][0] // groups) * math.prod(k) * numel(out[1:])


def bias_ops(args: Args, ins: list[Shape], out: Shape) -> int:
    return numel(out) if args["bias"] else 0


def conv_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    rank = len(out) - 1
    k, s, d = kernel(args, rank)
    p = all_pads(args, rank)
    return f.windowed(k, s, tuple(lo for lo, _ in p), d, out[1:])


def _padding(p: Any, rank: int) -> Any:
    if isinstance(p, str):
        return p
    return per_axis(p, rank, "padding")


def conv_torch(a: Args, shape: Shape) -> list[TorchArg]:
    """nn.Conv{d}d; padding given as pairs or 'causal' is an explicit pad before it
    (`pad_before`), the conv itself then pads nothing."""
    r = max(1, len(shape) - 1)
    padding = _padding(a["padding"], r) if symmetric(a, r) else 0
    return [TorchArg(None, shape[0]), TorchArg(None, a["out"]),
            TorchArg("kernel_size", per_axis(a["kernel_size"], r)),
            TorchArg("stride", per_axis(a["stride"], r), 1),
            TorchArg("padding", padding, 0),
            TorchArg("dilation", per_axis(a["dilation"], r), 1),
            TorchArg("groups", a["groups"], 1),
            TorchArg("bias", a["bias"], True)]


register(Kind(
    "conv", "convolution over 1, 2 or 3 spatial axes (nn.Conv1d/2d/3d)", conv_shape,
    args=(OUT, KERNEL, STRIDE, PADDING, DILATION, GROUPS, BIAS),
    params=conv_params, macs=conv_macs, other_ops=bias_ops, rf=conv_field,
    saved=lambda a, i, o: (padded_input(a, i),),  # the weight's gradient reads it
    aliases=("conv2d", "conv1d", "conv3d"), category="conv", window=True,
    torch=Torch("Conv{d}d", conv_torch),
))


def convt_shape(args: Args, ins: list[Shape]) -> Shape:
    c, sizes = _conv_in({**args, "padding": 0}, ins)
    if args["padding"] in ("same", "valid", "causal") or not symmetric(args, len(sizes)):
        raise ValueError("a transposed conv takes a numeric padding, one int or one per axis "
                         "(no 'same', 'valid', 'causal' or (leading, trailing) pairs)")
    rank = len(sizes)
    k, s, d = kernel(args, rank)
    p = per_axis(args["padding"], rank, "padding")
    op = per_axis(args["output_padding"], rank, "output_padding")
    size = []
    for a, n in enumerate(sizes):
        if op[a] >= max(s[a], d[a]):
            raise ValueError(f"output_padding {op[a]} must be smaller than stride or dilation")
        m = (n - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + op[a] + 1
        if m < 1:
            raise ValueError(f"transposed conv output size {m} is not positive")
        size.append(m)
    return (args["out"], *size)


def convt_params(args: Args, ins: list[Shape], out: Shape) -> int:
    k = per_axis(args["kernel_size"], len(ins[0]) - 1)
    out_c: int = args["out"]
    groups: int = args["groups"]
    weight = ins[0][0] * (out_c // groups) * math.prod(k)
    return weight + (out_c if args["bias"] else 0)


def convt_macs(args: Args, ins: list[Shape], out: Shape) -> int:
    # Every input pixel is scattered through a kernel into out/groups channels.
    k = per_axis(args["kernel_size"], len(ins[0]) - 1)
    out_c: int = args["out"]
    groups: int = args["groups"]
    return ins[0][0] * (out_c // groups) * math.prod(k) * numel(ins[0][1:])


def convt_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    rank = len(out) - 1
    k, s, d = kernel(args, rank)
    p = per_axis(args["padding"], rank)
    return f.with_axes((ax.transposed(k[a], s[a], p[a], d[a]) for a, ax in enumerate(f.axes())),
                       out[1:])


def convt_torch(a: Args, shape: Shape) -> list[TorchArg]:
    r = max(1, len(shape) - 1)
    return [TorchArg(None, shape[0]), TorchArg(None, a["out"]),
            TorchArg("kernel_size", per_axis(a["kernel_size"], r)),
            TorchArg("stride", per_axis(a["stride"], r), 1),
            TorchArg("padding", per_axis(a["padding"], r), 0),
            TorchArg("output_padding", per_axis(a["output_padding"], r), 0),
            TorchArg("groups", a["groups"], 1), TorchArg("bias", a["bias"], True),
            TorchArg("dilation", per_axis(a["dilation"], r), 1)]


register(Kind(
    "convT", "transposed convolution over 1, 2 or 3 spatial axes (nn.ConvTranspose1d/2d/3d)",
    convt_shape,
    args=(OUT, KERNEL, STRIDE, Arg("padding", "pair0", 0, aliases=("p", "pad")),
          Arg("output_padding", "pair0", 0, aliases=("op",)), DILATION, GROUPS, BIAS),
    params=convt_params, macs=convt_macs, other_ops=bias_ops, rf=convt_field, saved=keeps_input,
    aliases=("conv_transpose", "convtranspose", "deconv", "conv_transpose2d", "convT1d",
             "convT2d", "convT3d", "conv_transpose1d", "conv_transpose3d"), category="conv",
    resamples=True, torch=Torch("ConvTranspose{d}d", convt_torch),
))


def linear_shape(args: Args, ins: list[Shape]) -> Shape:
    return (args["out"], *ins[0][1:])


def linear_params(args: Args, ins: list[Shape], out: Shape) -> int:
    out_c: int = args["out"]
    return ins[0][0] * out_c + (out_c if args["bias"] else 0)


def linear_macs(args: Args, ins: list[Shape], out: Shape) -> int:
    # On a C×H×W map the linear acts on the channel axis at each of the H·W positions.
    return ins[0][0] * numel(out)


def linear_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    # On a map, the matmul reads the input as N·H·W × C rows: a copy unless already N×H×W×C.
    # On tokens (C×N) the same: the N·T × C rows.
    return (Saved("input", "input", nhwc=True),) if len(ins[0]) >= 2 else (INPUT,)


def linear_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    return f.globalize() if len(ins[0]) == 1 else f


register(Kind(
    "linear", "fully connected layer (nn.Linear); on a C×H×W map it acts on the channel axis",
    linear_shape, args=(Arg("out", "int", aliases=("out_features", "features")), BIAS),
    params=linear_params, macs=linear_macs, other_ops=bias_ops, rf=linear_field,
    saved=linear_saved,
    aliases=("fc", "dense"), primary="out", category="linear",
    torch=Torch("Linear", lambda a, shape: [TorchArg(None, shape[0]), TorchArg(None, a["out"]),
                                            TorchArg("bias", a["bias"], True)],
                channels_last=True),
))


# Shorthands that the spec expands into plain convs before the engine sees them.
def expand_dwconv(args: Args, in_shape: Shape) -> list[tuple[str, str, Args]]:
    c = in_shape[0] if in_shape else 0
    conv = {k: v for k, v in args.items() if k != "multiplier"}
    return [("", "conv", {**conv, "out": c * args["multiplier"], "groups": c})]


def expand_sepconv(args: Args, in_shape: Shape) -> list[tuple[str, str, Args]]:
    c = in_shape[0] if in_shape else 0
    dw = {k: v for k, v in args.items() if k != "out"}
    pw = {"out": args["out"], "kernel_size": 1, "bias": args["bias"]}
    return [("dw", "conv", {**dw, "out": c, "groups": c}), ("pw", "conv", pw)]


def _macro_shape(args: Args, ins: list[Shape]) -> Shape:  # pragma: no cover - never called
    raise AssertionError(f"macro kinds are expanded before shapes ({fmt_shape(ins[0])})")


register(Kind(
    "dwconv", "depthwise conv: groups = in channels, out = in × multiplier", _macro_shape,
    args=(KERNEL, STRIDE, PADDING, DILATION, BIAS, Arg("multiplier", "int", 1)),
    aliases=("depthwise",), category="macro", expand=expand_dwconv,
))
register(Kind(
    "sepconv", "depthwise-separable conv: a depthwise conv (.dw) then a 1×1 conv (.pw)",
    _macro_shape, args=(OUT, KERNEL, STRIDE, PADDING, DILATION, BIAS),
    aliases=("separable",), category="macro", expand=expand_sepconv,
))
