"""A spec as readable PyTorch source: one `nn.Module` class, plain torch only.

Each layer becomes an attribute named after it (`layer1.0.conv1` → `layer1_0_conv1`; names that
fold together, `block.1` and `block_1`, get `_2`, `_3`, ... in graph order) holding the
module torch's own `nn` offers, with only its non-default arguments written out; joins and channel
splits are written in `forward` (`a + b`, `torch.cat`, `torch.split`). `forward` keeps one
variable `x` along a chain and names a value only where the graph branches. Standard library only:
the text is generated, torch is not imported.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Callable
from typing import Any

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.errors import CnncalcError
from cnncalc.core.layers.common import explicit_pads, torch_pad
from cnncalc.core.layers.elementwise import split_sizes
from cnncalc.core.layers.registry import REQUIRED, Torch, lookup
from cnncalc.core.layers.window_source import SOURCES

RESERVED = {"forward", "training", "add", "cuda", "to", "eval", "train", "float", "double",
            "half", "type", "apply", "parameters", "modules", "children", "x", "torch", "nn",
            "self"}


def ident(name: str) -> str:
    """An ASCII Python identifier for a layer name (any text: a traced model's keys too)."""
    s = re.sub(r"[^0-9A-Za-z_]", "_", name) or "l_"
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
    if keyword.iskeyword(s):  # False, None, True
        return f"{s}Net"
    return s if s and not s[0].isdigit() else f"Net{s}"


def value(v: Any) -> str:
    """A per-axis value: one number when every axis has it, else a tuple."""
    if isinstance(v, (list, tuple)):
        return repr(v[0]) if len(set(v)) == 1 else repr(tuple(v))
    if isinstance(v, float) and v in (math.inf, -math.inf):
        return f"float({str(v)!r})"
    return repr(v)


def arguments(t: Torch, x: Layer) -> str:
    """The constructor's arguments as source: positional ones, then each keyword that differs
    from its default (one without a default always)."""
    parts = [value(a.value) if a.name is None else f"{a.name}={value(a.value)}"
             for a in t.arguments(x.args, x.in_shapes[0])
             if a.name is None or a.default is REQUIRED or value(a.value) != value(a.default)]
    return ", ".join(parts)


# The ops of Torch(op=...), as source: the attribute's value (None: forward alone does the work)
# and the expression in forward, from the input variables and the attribute (the builder renders
# the same ops as modules of its own).
OP_MODULES: dict[str, Callable[[Layer], str | None]] = {
    "sum": lambda x: None,
    "product": lambda x: None,
    "cat": lambda x: None,
    "split": lambda x: None,
    "scale": lambda x: (f"nn.Parameter(torch.full({_vector(x)}, {x.args['init']!r}))"),
    "shuffle": lambda x: f"nn.ChannelShuffle({x.args['groups']})",
    "drop_path": lambda x: "nn.Identity()",
    "to_tokens": lambda x: None,
    "class_token": lambda x: f"nn.Parameter(torch.zeros(1, {x.in_shapes[0][0]}, 1))",
    "pos_embed": lambda x: f"nn.Parameter(torch.zeros(1, {x.in_shapes[0][0]}, "
                           f"{x.in_shapes[0][1]}))",
    "take_token": lambda x: None,
    "attention": lambda x: (f"nn.MultiheadAttention({x.in_shapes[0][0]}, {x.args['heads']}"
                            f"{'' if x.args['bias'] else ', bias=False'}, batch_first=True)"),
    "window_attention": lambda x: (f"WindowAttention({x.in_shapes[0][0]}, {x.args['heads']}, "
                                   f"{x.args['window']}, {x.args['shift']}"
                                   f"{'' if x.args['bias'] else ', bias=False'})"),
    "patch_merge": lambda x: f"PatchMerge({x.in_shapes[0][0]})",
}
OP_CALLS: dict[str, Callable[[Layer, list[str], str], str]] = {
    "sum": lambda x, args, attr: " + ".join(args),
    "product": lambda x, args, attr: " * ".join(args),
    "cat": lambda x, args, attr: f"torch.cat([{', '.join(args)}], dim=1)",
    "split": lambda x, args, attr: (f"torch.split({args[0]}, "
                                    f"{split_sizes(x.args, x.in_shapes[0][0])}, dim=1)"
                                    f"[{x.args['index']}]"),
    "scale": lambda x, args, attr: f"{args[0]} * {attr}",
    "shuffle": lambda x, args, attr: f"{attr}({args[0]})",
    "drop_path": lambda x, args, attr: f"{attr}({args[0]})",
    "to_tokens": lambda x, args, attr: f"{args[0]}.flatten(2)",
    "class_token": lambda x, args, attr: (f"torch.cat([{attr}.expand({args[0]}.shape[0], -1, -1)"
                                          f", {args[0]}], dim=2)"),
    "pos_embed": lambda x, args, attr: f"{args[0]} + {attr}",
    "take_token": lambda x, args, attr: f"{args[0]}[:, :, {x.args['index']}]",
    "attention": lambda x, args, attr: _attention_call(args[0], attr),
    "window_attention": lambda x, args, attr: f"{attr}({args[0]})",
    "patch_merge": lambda x, args, attr: f"{attr}({args[0]})",
}


def _attention_call(x: str, attr: str) -> str:
    # nn.MultiheadAttention on N×T×C (batch_first): q = k = v, the tokens; back to N×C×T
    t = f"{x}.transpose(1, 2)"
    return f"{attr}({t}, {t}, {t}, need_weights=False)[0].transpose(1, 2)"


def _vector(x: Layer) -> str:
    c, axes = x.in_shapes[0][0], len(x.in_shapes[0]) - 1
    return f"({c},)" if axes == 0 else f"({c}, {', '.join(['1'] * axes)})"


def _torch(x: Layer) -> Torch:
    kind = lookup(x.kind)
    assert kind is not None and kind.torch is not None
    return kind.torch


def module(x: Layer) -> str | None:
    """The constructor of x's module, or None when forward does the work."""
    t = _torch(x)
    if t.op is not None:
        return OP_MODULES[t.op](x)
    m = f"nn.{t.module_name(x.in_shapes[0])}({arguments(t, x)})"
    kind = lookup(x.kind)
    pads = explicit_pads(x.args, len(x.in_shapes[0]) - 1) if kind and kind.window else None
    if pads is None:
        return m
    # (leading, trailing) pairs or 'causal': an explicit pad, then the layer (measure/build.py)
    fill = value(-math.inf if x.kind == "maxpool" else 0.0)
    return f"nn.Sequential(nn.ConstantPad{len(pads)}d({torch_pad(pads)!r}, {fill}), {m})"


def comment(x: Layer) -> str:
    if _torch(x).op == "drop_path":
        return f"  # stochastic depth (p={x.args['p']}): the identity at inference"
    return ""


def call(x: Layer, args: list[str], name: str | None = None) -> str:
    """The expression computing x from its input variables (`name`: x's attribute)."""
    t, attr = _torch(x), f"self.{name or ident(x.name)}"
    if t.op is not None:
        return OP_CALLS[t.op](x, args, attr)
    if t.channels_last and len(x.in_shapes[0]) >= 2:  # on the channel axis at every position
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
    dims = ", ".join(map(str, g.input_shape))
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
    module_doc = f"Generated by cnncalc export from the spec {g.name!r}."
    class_doc = (f"{g.name}: input {'×'.join(map(str, g.input_shape))}; {t.params:,} params, "
                 f"{t.macs:,} MACs.")
    kinds = {x.kind for x in g.layers}
    helpers = [text.strip("\n") + "\n\n" for kind, (_, text) in SOURCES.items() if kind in kinds]
    source = "\n".join([
        repr(module_doc),  # user text reaches the source only as a repr() literal
        "",
        "import torch",
        "from torch import nn",
        "",
        "",
        *helpers,
        f"class {cls}(nn.Module):",
        f"    {repr(class_doc)}",
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
        f"    print({cls}()(torch.randn(1, {dims})).shape)",
        "",
    ])
    check_source(source, module_doc, cls, class_doc, helpers)
    return source


def check_source(source: str, module_doc: str, cls: str, class_doc: str,
                 helpers: list[str] | None = None) -> None:
    """Parse the generated text back before anyone prints it: one docstring, two imports, the
    helper classes of Swin's kinds exactly as core/layers/window_source.py writes them, one
    class and the `__main__` block, with the docstrings exactly the texts meant. Anything else is
    a bug in this module (user text that became code) and is never printed."""
    tree = ast.parse(source)
    helpers = helpers or []
    n = len(helpers)
    body = tree.body[:3] + tree.body[3 + n:]
    shape = [type(node).__name__ for node in body]
    ours = [ast.dump(ast.parse(text).body[0]) for text in helpers]
    ok = (shape == ["Expr", "Import", "ImportFrom", "ClassDef", "If"]
          and [ast.dump(node) for node in tree.body[3:3 + n]] == ours
          and ast.get_docstring(tree, clean=False) == module_doc
          and isinstance(body[3], ast.ClassDef) and body[3].name == cls
          and ast.get_docstring(body[3], clean=False) == class_doc
          and [type(n).__name__ for n in body[3].body] == ["Expr", "FunctionDef", "FunctionDef"]
          and ast.unparse(body[1]) == "import torch"
          and ast.unparse(body[2]) == "from torch import nn")
    if not ok:  # pragma: no cover - a bug, never the user's text
        raise AssertionError("export --to torch produced unexpected source; not printed")
