"""Which torch op is which layer kind: module classes (with their arguments read off the
module), functions, tensor methods and operators. fx_ops and fx_calls walk the trace with these
tables."""

from __future__ import annotations

import operator
from typing import Any

from cnncalc.core.optional import require_torch

torch = require_torch()
nn, F = torch.nn, torch.nn.functional

ACT_MODULES = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.GELU: "gelu", nn.SiLU: "silu",
               nn.Sigmoid: "sigmoid", nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid",
               nn.Tanh: "tanh", nn.Mish: "mish"}
ACT_FUNCS = {F.relu: "relu", torch.relu: "relu", F.relu6: "relu6", F.gelu: "gelu",
             F.silu: "silu", torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid",
             F.hardswish: "hardswish", F.hardsigmoid: "hardsigmoid", torch.tanh: "tanh",
             F.tanh: "tanh", F.mish: "mish", F.leaky_relu: "leaky_relu"}
ACT_METHODS = {"relu": "relu", "relu_": "relu", "sigmoid": "sigmoid", "sigmoid_": "sigmoid",
               "tanh": "tanh", "tanh_": "tanh"}
ADD = (operator.add, operator.iadd, torch.add, "add", "add_")
MUL = (operator.mul, operator.imul, torch.mul, "mul", "mul_")
SCALAR_ONLY = (operator.sub, operator.truediv, operator.isub, operator.itruediv, torch.sub,
               torch.div, "sub", "div", "div_", "sub_", operator.neg)
PASS = ("contiguous", "clone", "float", "to", "detach", "type_as")
LAYOUT = ("permute", "movedim", "transpose")
SPLITS = (torch.chunk, torch.split, "chunk", "split")


def _pair(v: Any) -> Any:
    return list(v) if isinstance(v, (tuple, list)) else v


def _window(m: Any) -> dict[str, Any]:
    return {"kernel_size": _pair(m.kernel_size), "stride": _pair(m.stride or m.kernel_size),
            "padding": _pair(m.padding), "ceil_mode": bool(m.ceil_mode)}


def _conv(m: Any) -> dict[str, Any]:
    return {"out": m.out_channels, "kernel_size": _pair(m.kernel_size), "stride": _pair(m.stride),
            "dilation": _pair(m.dilation), "groups": m.groups, "bias": m.bias is not None}


def _adaptive(m: Any, kind: str, rank: int) -> tuple[str, dict[str, Any]]:
    size = m.output_size
    size = [size] * rank if isinstance(size, int) else list(size)
    if None in size:
        raise ValueError(f"output size {m.output_size} keeps an axis (None)")
    if kind == "adaptive_avgpool" and size == [1] * rank:
        return "gap", {}
    return kind, {"size": size}


def _pad(m: Any) -> tuple[str, dict[str, Any]]:
    """nn.ConstantPad{d}d / nn.ZeroPad{d}d: F.pad's order (last axis first) as per-axis pairs."""
    return "pad", {"padding": pad_pairs(m.padding), "value": float(getattr(m, "value", 0.0))}


def pad_pairs(flat: Any) -> list[list[int]]:
    """F.pad's (last_lo, last_hi, ..., first_lo, first_hi) as [[first_lo, first_hi], ...]."""
    flat = list(flat)
    if any(v < 0 for v in flat):
        raise ValueError(f"negative padding {tuple(flat)} crops")
    return [flat[i:i + 2] for i in range(0, len(flat), 2)][::-1]


def split_args(sizes: Any, index: int) -> dict[str, Any]:
    """`parts` when the split is even (as a spec writes it), else the sizes."""
    sizes = list(sizes)
    if len(set(sizes)) == 1:
        return {"parts": len(sizes), "index": index}
    return {"sizes": sizes, "index": index}


# torch's interpolation on 1, 2 or 3 axes: cnncalc's `bilinear` (per axis, whatever the rank)
LINEAR_MODES = {"linear": "bilinear", "bilinear": "bilinear", "trilinear": "bilinear"}


def _plain(kind: str) -> Any:
    return lambda m: (kind, {})


# module type -> (kind, args from the module); channel_first: acts on C whatever the layout
def _ranked(name: str, rule: Any) -> dict[type, Any]:
    """`rule(module, rank)` for nn.{name}1d, 2d and 3d (those torch has)."""
    return {getattr(nn, name.format(d=r)): (lambda m, r=r: rule(m, r)) for r in (1, 2, 3)
            if hasattr(nn, name.format(d=r))}


def _bn(m: Any, rank: int) -> tuple[str, dict[str, Any]]:
    return "bn", {"eps": m.eps, "momentum": m.momentum or 0.1, "affine": m.affine}


MODULES: dict[type, Any] = {
    **_ranked("Conv{d}d", lambda m, r: ("conv", {**_conv(m), "padding": _pair(m.padding)})),
    **_ranked("ConvTranspose{d}d", lambda m, r: ("convT", {
        **_conv(m), "padding": _pair(m.padding), "output_padding": _pair(m.output_padding)})),
    **_ranked("MaxPool{d}d", lambda m, r: ("maxpool", {**_window(m),
                                                       "dilation": _pair(m.dilation)})),
    **_ranked("AvgPool{d}d", lambda m, r: ("avgpool", {
        **_window(m), "count_include_pad": m.count_include_pad})),
    **_ranked("AdaptiveAvgPool{d}d", lambda m, r: _adaptive(m, "adaptive_avgpool", r)),
    **_ranked("AdaptiveMaxPool{d}d", lambda m, r: _adaptive(m, "adaptive_maxpool", r)),
    **_ranked("BatchNorm{d}d", _bn),
    **_ranked("ConstantPad{d}d", lambda m, r: _pad(m)),
    **_ranked("ZeroPad{d}d", lambda m, r: _pad(m)),
    **_ranked("Dropout{d}d", lambda m, r: ("dropout", {"p": m.p})),
    nn.GroupNorm: lambda m: ("groupnorm", {"groups": m.num_groups, "eps": m.eps,
                                           "affine": m.affine}),
    nn.LeakyReLU: lambda m: ("leaky_relu", {"negative_slope": m.negative_slope}),
    nn.Dropout: lambda m: ("dropout", {"p": m.p}),
    nn.Identity: lambda m: ("identity", {}),
    nn.ChannelShuffle: lambda m: ("shuffle", {"groups": m.groups}),
    nn.Upsample: lambda m: ("upsample", {"scale_factor": _scale(m.scale_factor),
                                         "mode": LINEAR_MODES.get(m.mode, m.mode),
                                         "align_corners": bool(m.align_corners)}),
    **{cls: _plain(k) for cls, k in ACT_MODULES.items()},
}
# cnncalc's own modules (measure/build.py builds them; a built network traces back), named by
# module and class so that reading a model never imports the builder
BUILT = "cnncalc.measure.build."
WINDOWS = "cnncalc.measure.windows."  # compiled from core/layers/window_source.py
OWN_MODULES: dict[str, Any] = {
    BUILT + "ChannelLinear": lambda m: ("linear", {"out": m.out_features,
                                                   "bias": m.bias is not None}),
    BUILT + "ChannelLayerNorm": lambda m: ("layernorm", {"eps": m.eps,
                                                         "affine": m.elementwise_affine}),
    BUILT + "Scale": lambda m: ("scale", {}),
    BUILT + "DropPath": lambda m: ("droppath", {"p": m.p}),
    BUILT + "Split": lambda m: ("split", {"sizes": list(m.sizes), "index": m.index}
                                if getattr(m, "by_sizes", False) else split_args(m.sizes, m.index)),
    BUILT + "ChannelShuffle": lambda m: ("shuffle", {"groups": m.groups}),
    BUILT + "Add": _plain("add"), BUILT + "Mul": _plain("mul"),
    BUILT + "Concat": _plain("concat"),
    BUILT + "ToTokens": _plain("to_tokens"), BUILT + "ClassToken": _plain("class_token"),
    BUILT + "PosEmbed": _plain("pos_embed"),
    BUILT + "TakeToken": lambda m: ("take_token", {"index": m.index}),
    BUILT + "SelfAttention": lambda m: ("attention", {"heads": m.heads,
                                                      "bias": m.qkv.bias is not None}),
    WINDOWS + "WindowAttention": lambda m: ("window_attention", {
        "heads": m.heads, "window": m.window, "shift": m.shift, "bias": m.qkv.bias is not None}),
    WINDOWS + "PatchMerge": _plain("patch_merge"),
}


def module_rule(m: Any) -> Any:
    """The rule reading module m as (kind, args), or None."""
    cls = type(m)
    return MODULES.get(cls) or OWN_MODULES.get(f"{cls.__module__}.{cls.__qualname__}")
LAST_DIM = {nn.Linear: lambda m: ("linear", {"out": m.out_features, "bias": m.bias is not None}),
            nn.LayerNorm: lambda m: ("layernorm", {"eps": m.eps,
                                                   "affine": m.elementwise_affine})}


def _scale(s: Any) -> Any:
    vals = list(s) if isinstance(s, (tuple, list)) else [s]
    if not all(float(v).is_integer() for v in vals):
        raise ValueError(f"scale factor {s} is not an integer")
    return [int(v) for v in vals] if isinstance(s, (tuple, list)) else int(vals[0])



# torchvision's Swin v1 modules, recognised by class name and attributes (torchvision itself
# need not be importable; frontends/torch_model/swin.py maps them)
SWIN = {"ShiftedWindowAttention": ("window_size", "shift_size", "num_heads", "qkv", "proj",
                                   "relative_position_bias_table"),
        "PatchMerging": ("reduction", "norm", "dim")}


def is_swin(m: Any) -> bool:
    names = SWIN.get(type(m).__name__)
    return names is not None and all(_own(m, a) is not None for a in names)


def _own(m: Any, name: str) -> Any:
    """m's attribute `name` (a submodule, parameter or plain attribute), read without
    Module.__getattr__: during a trace fx patches it, and reading a parameter there would add a
    node to the traced graph."""
    for where in (m.__dict__, m.__dict__.get("_modules", {}), m.__dict__.get("_parameters", {}),
                  m.__dict__.get("_buffers", {})):
        if name in where:
            return where[name]
    return None


def is_sdpa_attention(m: Any) -> bool:
    """A self-attention module that calls F.scaled_dot_product_attention between a `qkv` linear
    (C -> 3C) and a `proj` linear (C -> C), holding no other parameters and no other modules
    than identities and dropouts (timm's `Attention`, and modules written like it): read whole
    as the attention kind. Its forward must name scaled_dot_product_attention; the mapped row's
    output shape is then checked against the traced one, as every row's is."""
    qkv, proj, heads = _own(m, "qkv"), _own(m, "proj"), _own(m, "num_heads")
    forward = getattr(type(m).forward, "__code__", None)
    return (type(qkv) is nn.Linear and type(proj) is nn.Linear and type(heads) is int
            and heads > 0 and forward is not None
            and "scaled_dot_product_attention" in forward.co_names
            and qkv.out_features == 3 * qkv.in_features == 3 * proj.in_features
            and proj.out_features == proj.in_features and proj.in_features % heads == 0
            and all(c is qkv or c is proj or type(c) in (nn.Identity, nn.Dropout)
                    for c in m.__dict__.get("_modules", {}).values())
            and not m.__dict__.get("_parameters"))


def is_leaf(m: Any) -> bool:
    """A module mapped whole: the tracer does not look inside it."""
    return type(m) in LAST_DIM or type(m) in (nn.Flatten, nn.MultiheadAttention) or \
        module_rule(m) is not None or is_swin(m) or is_sdpa_attention(m)
