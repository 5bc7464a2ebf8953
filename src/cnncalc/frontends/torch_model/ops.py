"""Mapping torch.fx nodes onto layer kinds: modules, their functional forms and tensor methods.

`OpMapper(gm, graph).run()` walks the traced nodes in order and adds one engine layer per mapped
node (layout-only nodes such as permute, contiguous and scalar arithmetic add none).
"""

from __future__ import annotations

import operator
import os
import re
from dataclasses import dataclass
from typing import Any

from cnncalc.core.engine import Graph, Layer, Note, Partial
from cnncalc.core.errors import CnncalcError
from cnncalc.core.layers.common import all_pads, fmt_shape
from cnncalc.core.layers.registry import Kind, Shape, lookup
from cnncalc.core.optional import require_torch
from cnncalc.core.text import numbered
from cnncalc.frontends.args import coerce
from cnncalc.frontends.torch_model.fold import Pad, folded_args, sequential_name
from cnncalc.frontends.torch_model.table import (
    LAST_DIM,
    is_sdpa_attention,
    is_swin,
    module_rule,
)

torch = require_torch()
TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep  # the tracer's own frames
# the kinds whose output has a layout of its own (N×F, N×C×T), whatever the input's
NEW_LAYOUT = {"flatten": (0, 1), "take_token": (0, 1), "to_tokens": (0, 1, 2)}
nn = torch.nn


@dataclass(frozen=True)
class Val:
    """A traced tensor: the engine layer holding it and its layout (tensor dim i holds the
    canonical N×C×H×W dim perm[i])."""

    src: str
    perm: tuple[int, ...]


@dataclass(frozen=True)
class Parts:
    """The tuple from chunk/split along the channels, before indexing."""

    src: str
    perm: tuple[int, ...]
    sizes: tuple[int, ...]


@dataclass(frozen=True)
class Grouped:
    """N×C×H×W viewed as N×g×(C/g)×H×W for a channel shuffle; `swapped` after transpose(1, 2)."""

    src: str
    groups: int
    swapped: bool = False


@dataclass(frozen=True)
class FromParams:
    """A tensor computed from parameters alone (a standardised weight, `W + A @ B`): the names
    of the learnable parameters it was made from, so the op that uses it counts them."""

    names: frozenset[str]


@dataclass
class Tupled:
    """The tuple a mapped module returned (nn.MultiheadAttention: the output, the weights)."""

    items: tuple[Any, ...]


@dataclass
class Many:
    """The tuple an unmapped op returned: each [i] becomes an unmapped row (the first one
    holding the op's parameters)."""

    srcs: tuple[str, ...]
    params: int = 0


class OpMapper:
    """Walks the traced nodes, keeping each node's value: a Val (a tensor held by an engine
    layer), Parts (a channel split before indexing), Grouped (halfway through a channel
    shuffle), Many (an unmapped op's tuple), a ("param", name) reference, or None for plain
    values."""

    def __init__(self, gm: Any, g: Graph, model: Any = None):
        self.gm, self.g = gm, g
        # the model's own modules: the GraphModule keeps only those its nodes call, under plain
        # nn.Module parents (what a pad folds by looks at its nn.Sequential parent)
        self.own = dict((model if model is not None else gm).named_modules())
        self.vals: dict[Any, Any] = {}
        self.used: set[int] = set()  # ids of the parameter tensors counted so far
        self.first: dict[int, str] = {}  # a counted tensor's id -> the row that counted it
        self.names: dict[int, str] = {}  # a parameter tensor's id -> its first qualified name
        for n, p in gm.named_parameters(remove_duplicate=False):
            self.names.setdefault(id(p), n)
        self.counts: dict[str, int] = {}
        self.modules = dict(gm.named_modules())
        self.pads: dict[str, Pad] = {}  # pad rows that may fold into the layer after them

    # Bookkeeping ---------------------------------------------------------------------------

    def shape(self, node: Any) -> tuple[int, ...] | None:
        meta = node.meta.get("tensor_meta")
        return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None

    def canonical(self, node: Any, perm: tuple[int, ...]) -> tuple[int, ...]:
        """The node's traced shape in N×C×H×W order, batch dropped."""
        s = self.shape(node)
        assert s is not None
        inv = sorted(range(len(perm)), key=lambda i: perm[i])
        return tuple(s[i] for i in inv)[1:]

    def name(self, node: Any, word: str, base: str | None = None) -> str:
        if base is None and node.op == "call_module":
            base = node.target
        elif base is None:
            scope = node.meta.get("cnncalc_scope", "")
            base = f"{scope}.{word}" if scope else word
        name, n = base, 1
        while name in self.g.nodes:
            n += 1
            name = numbered(base, n)
        return name

    def add(self, node: Any, kind: str, args: dict[str, Any], ins: list[Val],
            word: str | None = None, perm: tuple[int, ...] | None = None,
            check: bool = True) -> Val:
        k = lookup(kind)
        assert k is not None
        base = None
        if k.window and ins and ins[0].src in self.pads:
            args, ins, base = self.fold(node, k, args, ins)
        name = self.name(node, word or kind, base)
        given = {key: (v, None) for key, v in args.items()}
        layer = self.g.add(name, kind, coerce(k, given, None, name),  # type: ignore[arg-type]
                           [v.src for v in ins])
        if kind == "pad":
            rank = len(layer.in_shapes[0]) - 1
            self.pads[name] = Pad(node, ins[0].src, all_pads(layer.args, rank),
                                  layer.args["value"])
        perm = perm if perm is not None else ins[0].perm
        traced = self.canonical(node, perm) if check and self.shape(node) is not None else None
        if traced is not None and traced != layer.out_shape:
            self.partial(node, mismatch=f"{kind} gives {fmt_shape(layer.out_shape)} but the "
                                        f"model {fmt_shape(traced)}")
        return Val(name, perm)

    def fold(self, node: Any, k: Kind, args: dict[str, Any], ins: list[Val]
             ) -> tuple[dict[str, Any], list[Val], str | None]:
        """A windowed layer reading a pad row: the pad folded into its padding (fold.py) when
        only this layer reads it, the pad's row then gone; else the arguments as they are."""
        pad, x = self.pads[ins[0].src], ins[0]
        src = self.g.nodes[pad.src]
        traced = self.canonical(node, x.perm) if self.shape(node) is not None else None
        new = folded_args(k, pad, args, src.out_shape, traced) \
            if list(pad.node.users) == [node] else None
        if new is None:
            return args, ins, None
        row = self.g.nodes.pop(x.src)
        self.g.layers.remove(row)
        del self.pads[x.src]
        self.vals[pad.node] = None  # its value is now inside the layer's row
        return new, [Val(pad.src, x.perm), *ins[1:]], sequential_name(pad.node, node,
                                                                      self.own)

    def partial(self, node: Any, op: str = "", mismatch: str = "") -> None:
        where = node.meta.get("cnncalc_scope") or node.name
        self.g.partial.append(Partial(where, source_loc(node), op, mismatch))

    def claim(self, params: list[Any], src: str) -> int:
        """Mark tensors as counted at row `src`; the number of values of the fresh ones."""
        fresh = {id(p): p for p in params if id(p) not in self.used}
        self.used |= set(fresh)
        for i in fresh:
            self.first[i] = src
        return sum(p.numel() for p in fresh.values())

    def params_of(self, node: Any) -> list[Any]:
        """The parameters an unmapped node holds: its module's, or those its arguments refer to
        (`x + self.pos`, an op on a weight computed from parameters)."""
        if node.op == "call_module":
            return list(self.modules[node.target].parameters())
        return [self.gm.get_parameter(n)
                for n in sorted(self.param_names(_flat(node.args, node.kwargs)))]

    def param_names(self, nodes: list[Any]) -> set[str]:
        """The learnable parameters among these nodes' values (buffers left out)."""
        names: set[str] = set()
        for v in (self.vals.get(a) for a in nodes):
            if isinstance(v, FromParams):
                names |= v.names
            elif isinstance(v, tuple) and v[0] == "param" and self.is_param(v[1]):
                names.add(v[1])
        return names

    def is_param(self, target: str) -> bool:
        try:
            self.gm.get_parameter(target)
        except AttributeError:
            return False
        return True

    def settle(self, node: Any, src: str, params: list[Any]) -> None:
        """A mapped row against the tensors it uses: its formula must count what they hold.
        Each tensor counts once, at its first use, whatever shares it (a module called twice,
        tied weights); the row then holds only its fresh tensors, and a note says so."""
        layer = self.g.nodes[src]
        held = sum(p.numel() for p in params)
        if layer.params != held:
            self.partial(node, mismatch=f"{layer.kind} formula gives {layer.params:,} params, "
                                        f"the model holds {held:,}")
        shared = [p for p in dict.fromkeys(params) if id(p) in self.used]
        layer.params -= held - self.claim(params, src)
        if shared and len(shared) == len(params):
            self.g.notes.append(Note("shared-params",
                                     f"{src} reuses parameters counted at their first use"))
        elif shared:
            what = ", ".join(f"{self.names.get(id(p), '?')} ({p.numel():,})" for p in shared)
            where = ", ".join(dict.fromkeys(self.first[id(p)] for p in shared))
            self.g.notes.append(Note("shared-params",
                                     f"{src} shares {what}, counted at {where}"))

    # The walk ------------------------------------------------------------------------------

    def run(self) -> None:
        for node in self.gm.graph.nodes:
            try:
                self.vals[node] = self.visit(node)
            except (CnncalcError, ValueError, KeyError, AssertionError, TypeError) as e:
                self.vals[node] = self.unmapped(node, f"{_op_name(node)} ({e})")

    def visit(self, node: Any) -> Any:
        if node.op == "placeholder":
            return Val("input", tuple(range(len(self.shape(node) or (0, 0, 0, 0)))))
        if node.op == "get_attr":
            return ("param", node.target)
        if node.op == "output":
            return None
        if node.op == "call_module":
            return self.module(node)
        if node.meta.get("tensor_meta") is None:
            return None  # sizes, shapes and other plain values
        vals = [self.vals.get(a) for a in _flat(node.args, node.kwargs)]
        if node.target is operator.getitem and isinstance(vals[0], Tupled):
            return vals[0].items[node.args[1]]  # a mapped module's tuple (attention)
        if not any(isinstance(v, (Val, Parts, Many, Grouped)) for v in vals):
            names = self.param_names(_flat(node.args, node.kwargs))  # w.mean(), (w - m) / s
            return FromParams(frozenset(names)) if names else None  # or a constant tensor
        if node.target is operator.getitem and isinstance(vals[0], Many):
            many, params = vals[0], vals[0].params
            many.params = 0
            return self.opaque_from(node, list(many.srcs), "", params)  # reported at its producer
        from cnncalc.frontends.torch_model.calls import call

        return call(self, node)

    def module(self, node: Any) -> Any:
        m = self.modules[node.target]
        x = self.vals.get(node.args[0]) if node.args else None
        ins = [self.vals[a] for a in node.args if isinstance(self.vals.get(a), Val)]
        kind_args = None
        if type(m) is nn.Upsample and m.size is not None:
            kind_args = self.upsample_to_size(node, m, x)
            if kind_args is None:
                return self.unmapped(node, "module Upsample (size= that is not an integer "
                                           "multiple of the input's height and width)")
        elif type(m) is nn.MultiheadAttention:
            from cnncalc.frontends.torch_model.tokens import attention

            return attention(self, node, m)
        elif is_sdpa_attention(m):
            from cnncalc.frontends.torch_model.tokens import sdpa_attention

            return sdpa_attention(self, node, m, x)
        elif is_swin(m):
            from cnncalc.frontends.torch_model.swin import swin_module

            return swin_module(self, node, m, x)
        elif module_rule(m) is not None:
            kind_args = module_rule(m)(m)
        elif type(m) in LAST_DIM and isinstance(x, Val) and x.perm[-1] == 1:
            kind_args = LAST_DIM[type(m)](m)
        elif type(m) is nn.Flatten and isinstance(x, Val) and m.start_dim == 1 and \
                m.end_dim == -1:
            kind_args = ("flatten", {})
        if kind_args is None or not ins:
            return self.unmapped(node, f"module {type(m).__name__}")
        kind, args = kind_args
        out = self.add(node, kind, args, ins, perm=NEW_LAYOUT.get(kind))
        self.settle(node, out.src, list(m.parameters()))
        return out

    def upsample_to_size(self, node: Any, m: Any, x: Any) -> tuple[str, dict[str, Any]] | None:
        """`nn.Upsample(size=...)` as the integer scale it amounts to on this input, if any."""
        if not isinstance(x, Val) or x.perm != tuple(range(len(x.perm))) or \
                self.shape(node) is None:
            return None
        src = self.g.nodes[x.src].out_shape
        out = self.canonical(node, x.perm)
        if len(src) != 3 or len(out) != 3 or any(o % i for o, i in zip(out[1:], src[1:])):
            return None
        return "upsample", {"scale_factor": [o // i for o, i in zip(out[1:], src[1:])],
                            "mode": m.mode, "align_corners": bool(m.align_corners)}

    def unmapped(self, node: Any, what: str) -> Any:
        """A row that keeps the node's parameters and traced shape, reported as partial."""
        srcs = [v.src for v in (self.vals.get(a) for a in _flat(node.args, node.kwargs))
                if isinstance(v, (Val, Parts, Grouped))]
        self.partial(node, op=what)
        held = self.params_of(node)
        if self.shape(node) is None:  # a tuple of tensors: rows come at each [i]
            return Many(tuple(srcs), self.claim(held, srcs[0] if srcs else "input"))
        out = self.opaque_from(node, srcs, _op_name(node).split(".")[-1].lower(), 0)
        self.g.nodes[out.src].params = self.claim(held, out.src)
        return out

    def opaque_from(self, node: Any, srcs: list[str], word: str, params: int) -> Val:
        s = self.shape(node)
        assert s is not None
        perm = tuple(range(len(s)))
        name = self.name(node, word or "unmapped")
        opaque(self.g, name, "unmapped", srcs, self.canonical(node, perm), params)
        return Val(name, perm)


def _flat(args: Any, kwargs: Any) -> list[Any]:
    """The fx nodes among a call's arguments, nested lists flattened."""
    out: list[Any] = []
    stack = [*args, *kwargs.values()]
    while stack:
        a = stack.pop(0)
        if isinstance(a, (list, tuple)):
            stack[:0] = list(a)
        elif isinstance(a, torch.fx.Node):
            out.append(a)
    return out


def _op_name(node: Any) -> str:
    t = node.target
    if node.op == "call_method":
        return f"Tensor.{t}"
    if node.op == "call_module":
        return node.target
    return f"{getattr(t, '__module__', '') or ''}.{getattr(t, '__name__', str(t))}".lstrip(".")



def source_loc(node: Any) -> str:
    """file:line of the model code that made the node, from fx's recorded stack trace."""
    found = re.findall(r'File "([^"]+)", line (\d+)', node.stack_trace or "")
    ours = [f for f in found if not f[0].startswith((TORCH_DIR, HERE))]
    return f"{ours[-1][0]}:{ours[-1][1]}" if ours else "?"


def opaque(g: Graph, name: str, kind: str, ins: list[str], out: Shape, params: int) -> Layer:
    """A row for a node no kind describes: its parameters kept, no MACs, the RF carried over."""
    src = [g.nodes[i] for i in ins] or [g.nodes["input"]]
    rf = src[0].rf
    if len(out) != 3 or out[1:] != src[0].out_shape[1:]:
        rf = rf.map(lambda f: f.globalize())
    layer = Layer(name, kind, {}, tuple(ins), [x.out_shape for x in src], out, rf, params)
    g.layers.append(layer)
    g.nodes[name] = layer
    return layer
