"""Kinds that keep the spatial layout: normalisation, scale, activations, dropout, reshaping,
channel split and shuffle, and the joins (add, concat, multiply)."""

from __future__ import annotations

from collections.abc import Callable

from cnncalc.core.layers.common import fmt_shape, numel
from cnncalc.core.layers.registry import Arg, Args, Kind, Shape, Torch, TorchArg, register
from cnncalc.core.layers.saved import (
    INPUT,
    Saved,
    always_a_view,
    keeps_input,
    keeps_inputs,
    keeps_output,
    nothing,
    stats,
)


def same(args: Args, ins: list[Shape]) -> Shape:
    return ins[0]


def per_element(n: int) -> Callable[[Args, list[Shape], Shape], int]:
    def ops(args: Args, ins: list[Shape], out: Shape) -> int:
        return n * numel(out)
    return ops


def affine(args: Args, ins: list[Shape], out: Shape) -> int:
    return 2 * ins[0][0] if args["affine"] else 0


def bn_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    # training mode: the input, and the batch's mean and inverse std per channel
    c = ins[0][0]
    return (INPUT, stats("mean", c, per_sample=False), stats("invstd", c, per_sample=False))


def layernorm_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    # the input as given (the kernel's own contiguous copy is not kept), a mean and an rstd per
    # position
    positions = numel(ins[0][1:])
    return (INPUT, stats("mean", positions), stats("rstd", positions))


def groupnorm_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    return (INPUT, stats("mean", args["groups"]), stats("rstd", args["groups"]))


register(Kind(
    "bn", "batch normalisation (nn.BatchNorm2d; 1d on a vector or C×L, 3d on C×T×H×W)", same,
    args=(Arg("eps", "float", 1e-5), Arg("momentum", "float", 0.1), Arg("affine", "bool", True)),
    params=affine, buffers=lambda a, i, o: 2 * i[0][0] + 1,  # running mean, var, batch count
    other_ops=per_element(2), saved=bn_saved,
    aliases=("batchnorm", "batchnorm2d", "batchnorm1d", "batchnorm3d", "bn1d", "bn2d", "bn3d"),
    category="norm",
    torch=Torch("BatchNorm{d}d", lambda a, shape: [
        TorchArg(None, shape[0]), TorchArg("eps", a["eps"], 1e-5),
        TorchArg("momentum", a["momentum"], 0.1), TorchArg("affine", a["affine"], True)]),
))
register(Kind(
    "layernorm", "layer normalisation over the channels at each position (ConvNeXt's LayerNorm2d)",
    same, args=(Arg("eps", "float", 1e-6), Arg("affine", "bool", True)),
    params=affine, other_ops=per_element(5), saved=layernorm_saved, aliases=("ln",),
    category="norm",
    linearised="identity",
    torch=Torch("LayerNorm", lambda a, shape: [
        TorchArg(None, shape[0]), TorchArg("eps", a["eps"]),
        TorchArg("elementwise_affine", a["affine"], True)], channels_last=True),
))


def grouped_shape(args: Args, ins: list[Shape]) -> Shape:
    """The input's shape, once its channels divide into `groups` (group norm, shuffle)."""
    if ins[0][0] % args["groups"]:
        raise ValueError(f"channels {ins[0][0]} are not divisible by groups {args['groups']}")
    return ins[0]


register(Kind(
    "groupnorm", "group normalisation (nn.GroupNorm)", grouped_shape,
    args=(Arg("groups", "int", aliases=("g", "num_groups")), Arg("eps", "float", 1e-5),
          Arg("affine", "bool", True)),
    params=affine, other_ops=per_element(5), saved=groupnorm_saved, aliases=("gn",),
    primary="groups", category="norm",
    linearised="identity",
    torch=Torch("GroupNorm", lambda a, shape: [
        TorchArg(None, a["groups"]), TorchArg(None, shape[0]), TorchArg("eps", a["eps"], 1e-5),
        TorchArg("affine", a["affine"], True)]),
))
register(Kind(
    "scale", "learnable per-channel scale (ConvNeXt's layer scale, gamma·x)", same,
    args=(Arg("init", "float", 1e-6, doc="initial value of every gamma"),),
    params=lambda a, i, o: i[0][0], other_ops=per_element(1), aliases=("layer_scale",),
    saved=keeps_input,  # x · gamma: gamma's gradient reads x
    category="norm", torch=Torch(op="scale"),
))

# name: (doc, torch.nn class, aliases); relu, sigmoid and tanh keep their output (their
# derivative is a function of it), the others their input (relu6 is hardtanh, which reads x)
KEEP_OUTPUT = ("relu", "sigmoid", "tanh")
ACTIVATIONS = {
    "relu": ("ReLU", "ReLU", ()), "relu6": ("ReLU6", "ReLU6", ()), "gelu": ("GELU", "GELU", ()),
    "silu": ("SiLU (swish)", "SiLU", ("swish",)), "sigmoid": ("sigmoid", "Sigmoid", ()),
    "hardswish": ("hard swish", "Hardswish", ("hswish",)),
    "hardsigmoid": ("hard sigmoid", "Hardsigmoid", ("hsigmoid",)),
    "tanh": ("tanh", "Tanh", ()), "mish": ("Mish", "Mish", ()),
}
for _name, (_doc, _cls, _aliases) in ACTIVATIONS.items():
    register(Kind(_name, f"{_doc} activation", same, other_ops=per_element(1),
                  saved=keeps_output if _name in KEEP_OUTPUT else keeps_input, aliases=_aliases,
                  category="activation", linearised="identity",
                  torch=Torch(_cls)))
register(Kind(
    "leaky_relu", "leaky ReLU activation", same,
    args=(Arg("negative_slope", "float", 0.01, aliases=("slope",)),),
    other_ops=per_element(1), saved=keeps_input, aliases=("leakyrelu",),
    primary="negative_slope",
    category="activation", linearised="identity",
    torch=Torch("LeakyReLU", lambda a, shape: [TorchArg(None, a["negative_slope"])]),
))

def dropout_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    # on CPU, x · noise with a noise tensor of x's dtype (on CUDA a bool mask, 1 byte a value)
    return () if args["p"] == 0 else (Saved("tensor", "noise", numel=numel(ins[0])),)


def droppath_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    # x · keep, keep one bool per sample
    return () if args["p"] == 0 else (Saved("tensor", "keep", numel=1, dtype="bool"),)


def p_zero(args: Args) -> bool:
    return bool(args["p"] == 0)  # p = 0 returns the input itself


register(Kind(
    "dropout", "dropout (identity at inference)", same, args=(Arg("p", "float", 0.5),),
    primary="p", category="regularise", saved=dropout_saved, view=p_zero,
    torch=Torch("Dropout", lambda a, shape: [TorchArg(None, a["p"])]),
))
register(Kind(
    "droppath", "stochastic depth on a residual branch (identity at inference)", same,
    args=(Arg("p", "float", 0.0),), aliases=("stochastic_depth", "drop_path"), primary="p",
    category="regularise", saved=droppath_saved, view=p_zero, torch=Torch(op="drop_path"),
))
register(Kind("identity", "identity", same, category="other", saved=nothing, view=always_a_view,
              torch=Torch("Identity")))
register(Kind(
    "flatten", "flatten C×H×W to a vector of C·H·W features", lambda a, i: (numel(i[0]),),
    category="reshape", saved=nothing, view=always_a_view, torch=Torch("Flatten"),
))


def split_sizes(args: Args, c: int) -> list[int]:
    """The channel counts of the parts: `sizes`, or `parts` equal parts of the c channels."""
    if args["sizes"] is not None:
        return list(args["sizes"])
    return [c // args["parts"]] * args["parts"]


def split_shape(args: Args, ins: list[Shape]) -> Shape:
    c = ins[0][0]
    if args["sizes"] is None and c % args["parts"]:
        raise ValueError(f"channels {c} do not split into {args['parts']} equal parts")
    sizes = split_sizes(args, c)
    if sum(sizes) != c:
        raise ValueError(f"split sizes {sizes} add up to {sum(sizes)}, not the {c} channels")
    if not 0 <= args["index"] < len(sizes):
        raise ValueError(f"split index {args['index']} is outside 0..{len(sizes) - 1}")
    return (sizes[args["index"]], *ins[0][1:])


register(Kind(
    "split", "take one part of a channel split (torch.chunk / torch.split on channels)",
    split_shape, args=(Arg("parts", "int", 2, aliases=("chunks",)),
                       Arg("sizes", "ints", None), Arg("index", "nonneg", 0, aliases=("take",))),
    aliases=("chunk",), category="reshape", saved=nothing, view=always_a_view,
    torch=Torch(op="split"),
))


register(Kind(
    "shuffle", "channel shuffle (ShuffleNet)", grouped_shape,
    args=(Arg("groups", "int", 2, aliases=("g",)),), aliases=("channel_shuffle",),
    primary="groups", category="reshape", saved=nothing,  # a copy: its backward reads no tensor
    torch=Torch(op="shuffle"),
))


# Joins: two or more inputs.
def add_shape(args: Args, ins: list[Shape]) -> Shape:
    for s in ins[1:]:
        if s != ins[0]:
            raise ValueError("shapes do not match at an add: "
                             + " vs ".join(fmt_shape(x) for x in ins))
    return ins[0]


def mul_shape(args: Args, ins: list[Shape]) -> Shape:
    """Broadcasting multiply (squeeze-and-excitation: C×H×W times C×1×1)."""
    out = list(ins[0])
    for s in ins[1:]:
        if len(s) != len(out) or any(a != b and 1 not in (a, b) for a, b in zip(out, s)):
            raise ValueError("shapes do not broadcast at a multiply: "
                             + " vs ".join(fmt_shape(x) for x in ins))
        out = [max(a, b) for a, b in zip(out, s)]
    return tuple(out)


def concat_shape(args: Args, ins: list[Shape]) -> Shape:
    rest = {s[1:] for s in ins}
    if len(rest) > 1 or len({len(s) for s in ins}) > 1:
        raise ValueError("concat needs equal spatial sizes, got "
                         + " and ".join(fmt_shape(x) for x in ins))
    return (sum(s[0] for s in ins), *ins[0][1:])


def mul_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    # ((a·b)·c)…: every factor, and each partial product but the last
    partial = tuple(Saved("tensor", f"product {i}", numel=numel(out)) for i in range(len(ins) - 2))
    return (*keeps_inputs(args, ins, out), *partial)


def join_ops(args: Args, ins: list[Shape], out: Shape) -> int:
    return (len(ins) - 1) * numel(out)


register(Kind("add", "elementwise sum of the branches (residual add)", add_shape,
              other_ops=join_ops, saved=nothing, join=True, category="join",
              torch=Torch(op="sum")))
register(Kind("mul", "elementwise product of the branches, broadcasting (squeeze-and-excitation)",
              mul_shape, other_ops=join_ops, saved=mul_saved, join=True, aliases=("multiply",),
              category="join",
              torch=Torch(op="product")))
register(Kind("concat", "concatenation of the branches on the channel axis", concat_shape,
              saved=nothing, join=True, aliases=("cat",), category="join",
              torch=Torch(op="cat")))
