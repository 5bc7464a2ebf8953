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

from typing import Any

from cnncalc.core.layers.common import fmt_shape, numel, pads, pair, spatial, window_out
from cnncalc.core.layers.registry import Arg, Args, Kind, Shape, Torch, TorchArg, register
from cnncalc.core.layers.saved import INPUT, Saved, keeps_input
from cnncalc.core.rf import Field

OUT = Arg("out", "int", aliases=("out_channels", "channels"), doc="output channels")
KERNEL = Arg("kernel_size", "pair", aliases=("k", "kernel"), doc="kernel size, int or [h, w]")
STRIDE = Arg("stride", "pair", 1, aliases=("s",), doc="stride")
PADDING = Arg("padding", "padding", 0, aliases=("p", "pad"),
              doc="padding: int, [h, w], 'same' (stride 1) or 'valid'")
DILATION = Arg("dilation", "pair", 1, aliases=("d",), doc="dilation")
GROUPS = Arg("groups", "int", 1, aliases=("g",), doc="groups (channels are split into groups)")
BIAS = Arg("bias", "bool", True, doc="learnable bias")


def _conv_in(args: Args, ins: list[Shape]) -> tuple[int, int, int]:
    c, h, w = spatial(ins[0], "conv")
    g, out = args["groups"], args["out"]
    if c % g:
        raise ValueError(f"in channels {c} are not divisible by groups {g}")
    if out % g:
        raise ValueError(f"out channels {out} are not divisible by groups {g}")
    if args["padding"] == "same" and pair(args["stride"]) != (1, 1):
        raise ValueError("padding 'same' needs stride 1 (as in torch)")
    return c, h, w


def conv_shape(args: Args, ins: list[Shape]) -> Shape:
    c, h, w = _conv_in(args, ins)
    k, s, d = pair(args["kernel_size"]), pair(args["stride"]), pair(args["dilation"])
    size = [window_out(n, k[a], s[a], *pads(args, a), d[a], False, "conv")
            for a, n in enumerate((h, w))]
    return (args["out"], size[0], size[1])


def conv_params(args: Args, ins: list[Shape], out: Shape) -> int:
    kh, kw = pair(args["kernel_size"])
    out_c: int = args["out"]
    groups: int = args["groups"]
    weight = out_c * (ins[0][0] // groups) * kh * kw
    return weight + (out_c if args["bias"] else 0)


def conv_macs(args: Args, ins: list[Shape], out: Shape) -> int:
    kh, kw = pair(args["kernel_size"])
    out_c: int = args["out"]
    groups: int = args["groups"]
    return out_c * (ins[0][0] // groups) * kh * kw * out[1] * out[2]


def bias_ops(args: Args, ins: list[Shape], out: Shape) -> int:
    return numel(out) if args["bias"] else 0


def conv_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    k, s, d = pair(args["kernel_size"]), pair(args["stride"]), pair(args["dilation"])
    h, w = (ax.window(k[a], s[a], pads(args, a)[0], d[a]) for a, ax in enumerate(f.axes()))
    return f.with_axes(h, w, (out[1], out[2]))


def _padding(p: Any) -> Any:
    return p if isinstance(p, str) else pair(p)


def conv_torch(a: Args, shape: Shape) -> list[TorchArg]:
    return [TorchArg(None, shape[0]), TorchArg(None, a["out"]),
            TorchArg("kernel_size", pair(a["kernel_size"])),
            TorchArg("stride", pair(a["stride"]), 1),
            TorchArg("padding", _padding(a["padding"]), 0),
            TorchArg("dilation", pair(a["dilation"]), 1), TorchArg("groups", a["groups"], 1),
            TorchArg("bias", a["bias"], True)]


register(Kind(
    "conv", "2-D convolution (nn.Conv2d)", conv_shape,
    args=(OUT, KERNEL, STRIDE, PADDING, DILATION, GROUPS, BIAS),
    params=conv_params, macs=conv_macs, other_ops=bias_ops, rf=conv_field,
    saved=keeps_input,  # for the weight's gradient (the weight itself is a parameter)
    aliases=("conv2d",), category="conv", window=True,
    torch=Torch("Conv{d}d", conv_torch),
))


def convt_shape(args: Args, ins: list[Shape]) -> Shape:
    c, h, w = _conv_in({**args, "padding": 0}, ins)
    if args["padding"] in ("same", "valid"):
        raise ValueError("a transposed conv takes a numeric padding")
    k, s, d = pair(args["kernel_size"]), pair(args["stride"]), pair(args["dilation"])
    p, op = pair(args["padding"]), pair(args["output_padding"])
    size = []
    for a, n in enumerate((h, w)):
        if op[a] >= max(s[a], d[a]):
            raise ValueError(f"output_padding {op[a]} must be smaller than stride or dilation")
        m = (n - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + op[a] + 1
        if m < 1:
            raise ValueError(f"transposed conv output size {m} is not positive")
        size.append(m)
    return (args["out"], size[0], size[1])


def convt_params(args: Args, ins: list[Shape], out: Shape) -> int:
    kh, kw = pair(args["kernel_size"])
    out_c: int = args["out"]
    groups: int = args["groups"]
    weight = ins[0][0] * (out_c // groups) * kh * kw
    return weight + (out_c if args["bias"] else 0)


def convt_macs(args: Args, ins: list[Shape], out: Shape) -> int:
    # Every input pixel is scattered through a kernel into out/groups channels.
    kh, kw = pair(args["kernel_size"])
    c, h, w = ins[0]
    out_c: int = args["out"]
    groups: int = args["groups"]
    return c * (out_c // groups) * kh * kw * h * w


def convt_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    k, s, d = pair(args["kernel_size"]), pair(args["stride"]), pair(args["dilation"])
    p = pair(args["padding"])
    h, w = (ax.transposed(k[a], s[a], p[a], d[a]) for a, ax in enumerate(f.axes()))
    return f.with_axes(h, w, (out[1], out[2]))


def convt_torch(a: Args, shape: Shape) -> list[TorchArg]:
    return [TorchArg(None, shape[0]), TorchArg(None, a["out"]),
            TorchArg("kernel_size", pair(a["kernel_size"])),
            TorchArg("stride", pair(a["stride"]), 1),
            TorchArg("padding", pair(a["padding"]), 0),
            TorchArg("output_padding", pair(a["output_padding"]), 0),
            TorchArg("groups", a["groups"], 1), TorchArg("bias", a["bias"], True),
            TorchArg("dilation", pair(a["dilation"]), 1)]


register(Kind(
    "convT", "2-D transposed convolution (nn.ConvTranspose2d)", convt_shape,
    args=(OUT, KERNEL, STRIDE, Arg("padding", "pair0", 0, aliases=("p", "pad")),
          Arg("output_padding", "pair0", 0, aliases=("op",)), DILATION, GROUPS, BIAS),
    params=convt_params, macs=convt_macs, other_ops=bias_ops, rf=convt_field, saved=keeps_input,
    aliases=("conv_transpose", "convtranspose", "deconv", "conv_transpose2d"), category="conv",
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
