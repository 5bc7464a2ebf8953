"""A spec as readable PyTorch source: one `nn.Module` class, plain torch only.

Each layer becomes an attribute named after it (`layer1.0.conv1` → `layer1_0_conv1`; names that
fold together, `block.1` and `block_1`, get `_2`, `_3`, ... in graph order) holding the
module torch's own `nn` offers, with only its non-default arguments written out; joins and channel
splits are written in `forward` (`a + b`, `torch.cat`, `torch.split`). `forward` keeps one
variable `x` along a chain and names a value only where the graph branches. Standard library only:
the text is generated, torch is not imported.
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.errors import CnncalcError
from cnncalc.core.layers.common import pair
from cnncalc.core.layers.registry import lookup

JOINS = ("add", "mul", "concat")  # written as expressions in forward, no module
RESERVED = {"forward", "training", "add", "cuda", "to", "eval", "train", "float", "double",
            "half", "type", "apply", "parameters", "modules", "children", "x", "torch", "nn",
            "self"}


def ident(name: str) -> str:
    s = re.sub(r"\W", "_", name)
    s = f"l_{s}" if s[0].isdigit() else s
    return f"{s}_" if keyword.iskeyword(s) or s in RESERVED else s


def idents(g: Graph) -> dict[str, str]:
    """Every value's Python name, unique: names that `ident` folds together (`block.1` and
    `block_1`) get `_2`, `_3`, ... in graph order, so the later one never overwrites the first."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in ["input"] + [x.name for x in g.layers]:
        base = ident(name)
        s, n = base, 1
        while s in used or s in RESERVED or keyword.iskeyword(s):
            n += 1
            s = f"{base}_{n}"
        used.add(s)
        out[name] = s
    return out


def class_name(name: str) -> str:
    words = re.split(r"[^0-9A-Za-z]+", name)
    s = "".join(w[:1].upper() + w[1:] for w in words if w)
    return s if s and not s[0].isdigit() else f"Net{s}"


def value(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        a, b = pair(v)
        return str(a) if a == b else f"({a}, {b})"
    return repr(v)


def kwargs(a: dict[str, Any], defaults: dict[str, Any]) -> str:
    parts = [f"{k}={value(a[k])}" for k, d in defaults.items()
             if k in a and a[k] is not None and value(a[k]) != value(d)]
    return "".join(f", {p}" for p in parts)


def module(x: Layer) -> str | None:
    """The constructor of x's module, or None when forward does the work."""
    a, c, k = x.args, x.in_shapes[0][0], x.kind
    spatial = len(x.in_shapes[0]) == 3
    if k == "conv":
        return (f"nn.Conv2d({c}, {a['out']}, kernel_size={value(a['kernel_size'])}"
                + kwargs(a, {"stride": 1, "padding": 0, "dilation": 1, "groups": 1,
                             "bias": True}) + ")")
    if k == "convT":
        return (f"nn.ConvTranspose2d({c}, {a['out']}, kernel_size={value(a['kernel_size'])}"
                + kwargs(a, {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1,
                             "bias": True, "dilation": 1}) + ")")
    if k == "linear":
        return f"nn.Linear({c}, {a['out']}" + kwargs(a, {"bias": True}) + ")"
    if k in ("maxpool", "avgpool"):
        extra = {"dilation": 1} if k == "maxpool" else {"count_include_pad": True}
        return (f"nn.{'Max' if k == 'maxpool' else 'Avg'}Pool2d(kernel_size="
                f"{value(a['kernel_size'])}"
                + kwargs(a, {"stride": a["kernel_size"], "padding": 0, **extra,
                             "ceil_mode": False}) + ")")
    if k in ("adaptive_avgpool", "adaptive_maxpool"):
        return f"nn.Adaptive{'Avg' if 'avg' in k else 'Max'}Pool2d({value(a['size'])})"
    if k == "gap":
        return "nn.AdaptiveAvgPool2d(1)"
    if k == "upsample":
        mode = f", mode={a['mode']!r}" + (", align_corners=False" if a["mode"] == "bilinear"
                                          else "")
        return f"nn.Upsample(scale_factor={value(a['scale_factor'])}{mode})"
    if k == "bn":
        return (f"nn.BatchNorm{'2' if spatial else '1'}d({c}"
                + kwargs(a, {"eps": 1e-5, "momentum": 0.1, "affine": True}) + ")")
    if k == "layernorm":
        return (f"nn.LayerNorm({c}, eps={a['eps']!r}"
                + kwargs({"elementwise_affine": a["affine"]}, {"elementwise_affine": True}) + ")")
    if k == "groupnorm":
        return (f"nn.GroupNorm({a['groups']}, {c}"
                + kwargs(a, {"eps": 1e-5, "affine": True}) + ")")
    torch_class = lookup(k).extra.get("torch")  # type: ignore[union-attr]
    if torch_class:
        return f"nn.{torch_class}()"
    if k == "leaky_relu":
        return f"nn.LeakyReLU({a['negative_slope']!r})"
    if k == "dropout":
        return f"nn.Dropout({a['p']!r})"
    if k in ("droppath", "identity"):
        return "nn.Identity()"
    if k == "flatten":
        return "nn.Flatten()"
    if k == "shuffle":
        return f"nn.ChannelShuffle({a['groups']})"
    if k == "scale":
        shape = f"({c}, 1, 1)" if spatial else f"({c},)"
        return f"nn.Parameter(torch.full({shape}, {a['init']!r}))"
    return None


def comment(x: Layer) -> str:
    if x.kind == "droppath":
        return f"  # stochastic depth (p={x.args['p']}): the identity at inference"
    return ""


def call(x: Layer, args: list[str], name: str | None = None) -> str:
    """The expression computing x from its input variables (`name`: x's attribute)."""
    attr, k = f"self.{name or ident(x.name)}", x.kind
    on_map = len(x.in_shapes[0]) == 3
    if k == "add":
        return " + ".join(args)
    if k == "mul":
        return " * ".join(args)
    if k == "concat":
        return f"torch.cat([{', '.join(args)}], dim=1)"
    if k == "split":
        sizes = x.args["sizes"] or [x.in_shapes[0][0] // x.args["parts"]] * x.args["parts"]
        return f"torch.split({args[0]}, {list(sizes)}, dim=1)[{x.args['index']}]"
    if k == "scale":
        return f"{args[0]} * {attr}"
    if k in ("linear", "layernorm") and on_map:  # on the channel axis at every position
        return f"{attr}({args[0]}.movedim(1, -1)).movedim(-1, 1)"
    return f"{attr}({args[0]})"


def variables(g: Graph, names: dict[str, str] | None = None) -> dict[str, str]:
    """'x' for a value read once, by the very next layer; the layer's own name otherwise."""
    names = names or idents(g)
    readers: dict[str, list[int]] = {}
    for i, x in enumerate(g.layers):
        for n in x.inputs:
            readers.setdefault(n, []).append(i)
    order = ["input"] + [x.name for x in g.layers]
    out = {}
    for i, name in enumerate(order):
        r = readers.get(name, [])
        chained = r == [i] or (not r and i == len(order) - 1)
        out[name] = "x" if chained else names[name]
    return out


def export_torch(g: Graph) -> str:
    """Python source of an nn.Module class equivalent to the graph."""
    unmapped = [x.name for x in g.layers if x.kind == "unmapped"]
    if unmapped:
        more = f" and {len(unmapped) - 3} more" if len(unmapped) > 3 else ""
        rows = "layers" if len(unmapped) > 1 else "layer"
        verb = "hold unmapped ops" if len(unmapped) > 1 else "holds an unmapped op"
        raise CnncalcError(f"cannot write {g.name} as a torch module: {rows} "
                           f"{', '.join(unmapped[:3])}{more} {verb}")
    cls = class_name(g.name)
    c, h, w = g.input_shape
    t = g.totals()
    init, fwd = [], []
    names = idents(g)
    var = variables(g, names)
    if var["input"] != "x":
        fwd.append(f"        {var['input']} = x")
    for x in g.layers:
        m = module(x)
        if m is not None:
            init.append(f"        self.{names[x.name]} = {m}{comment(x)}")
        fwd.append(f"        {var[x.name]} = {call(x, [var[n] for n in x.inputs], names[x.name])}")
    fwd.append(f"        return {var[g.layers[-1].name]}" if g.layers else "        return x")
    return "\n".join([
        '"""Generated by cnncalc export from the spec ' f"{g.name!r}" '."""',
        "",
        "import torch",
        "from torch import nn",
        "",
        "",
        f"class {cls}(nn.Module):",
        f'    """{g.name}: input {c}×{h}×{w}; {t.params:,} params, {t.macs:,} MACs."""',
        "",
        "    def __init__(self):",
        "        super().__init__()",
        *init,
        "",
        "    def forward(self, x):",
        *fwd,
        "",
        "",
        "if __name__ == \"__main__\":",
        f"    print({cls}()(torch.randn(1, {c}, {h}, {w})).shape)",
        "",
    ])
