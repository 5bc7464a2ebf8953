"""Measuring the user's own nn.Module, not a copy rebuilt from its graph.

`ModuleNet(model)` holds the module and the torch.fx GraphModule traced from it (which shares the
module's parameters and runs its code). `forward` is the module's own; `run(x, keep, until)`
interprets the GraphModule node by node and returns rows' values by the engine's names, in the
engine's N×C×H×W layout, so the ERF's unit gradient and the per-layer clock work on it exactly as
on a `GraphNet`. Unmapped ops run like any other node: they never block a measurement.

`measure_module_counts` is verify's measured side for a module: each row's output shape from the
module's own forward, its parameters from the tensors its nodes use (each counted once, at first
use), its MACs from FlopCounterMode / 2 per node, the arithmetic ops FlopCounterMode skips, and
fvcore's count of the module itself for the rows named after a submodule.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from cnncalc.core.engine import Graph
from cnncalc.core.errors import CnncalcError
from cnncalc.core.measured import Measured
from cnncalc.core.model import Model
from cnncalc.core.optional import require_torch
from cnncalc.measure.counts import MOVES, op_name

torch = require_torch()
fx = torch.fx
Module: Any = torch.nn.Module  # torch is untyped here: its classes are Any to mypy
Interpreter: Any = fx.Interpreter

OnValue = Callable[[str, Any], None]  # (layer name, its value in N×C×H×W)


class _Stop(Exception):
    """Raised after the `until` row: the rest of the graph is not run."""


class _Hooks:
    """What `LayerClock` hooks on a row of a ModuleNet: called around the row's node."""

    def __init__(self, net: ModuleNet, name: str):
        self.net, self.name = net, name

    def register_forward_pre_hook(self, fn: Any) -> _Handle:
        return _Handle(self.net._pre.setdefault(self.name, []), fn)

    def register_forward_hook(self, fn: Any) -> _Handle:
        return _Handle(self.net._post.setdefault(self.name, []), fn)


class _Handle:
    def __init__(self, hooks: list[Any], fn: Any):
        self.hooks, self.fn = hooks, fn
        hooks.append(fn)

    def remove(self) -> None:
        if self.fn in self.hooks:
            self.hooks.remove(self.fn)


class ModuleNet(Module):
    """The user's module, measurable row by row (see the module docstring)."""

    def __init__(self, model: Model):
        super().__init__()
        if model.module is None or model.traced is None:
            raise CnncalcError(f"{model.graph.name} is a spec, not a torch module")
        self.module = model.module
        self.traced = model.traced
        self.spec_name = model.graph.name
        self.input_shape = model.graph.input_shape
        self.rows = dict(model.rows)
        self.producer: dict[str, str] = {}  # layer -> the fx node that makes its value
        for node, (layer, _) in model.rows.items():
            self.producer.setdefault(layer, node)
        self.made = {node: layer for layer, node in self.producer.items()}
        self._pre: dict[str, list[Any]] = {}
        self._post: dict[str, list[Any]] = {}

    def layer(self, name: str) -> _Hooks:
        """Hooks around the node that makes row `name` (never called for a row made inside
        another row's node)."""
        return _Hooks(self, name)

    def forward(self, x: Any) -> Any:
        if any(self._pre.values()) or any(self._post.values()):
            return self.run(x)["output"]  # the per-layer clock: node by node
        return self.module(x)

    def run(self, x: Any, keep: Iterable[str] = (), until: str | None = None,
            on_value: OnValue | None = None, on_node: Callable[[Any], None] | None = None
            ) -> dict[str, Any]:
        """The rows in `keep` (and `until`, after which it stops) in N×C×H×W, and what forward
        returns under "output"; `on_value(row, value)` sees every row's value as it is made,
        `on_node(node)` is called before each node runs."""
        keep = set(keep) | ({until} if until else set())
        out: dict[str, Any] = {}
        net = self

        class Run(Interpreter):
            def run_node(self, n: Any) -> Any:
                if on_node is not None:
                    on_node(n)
                row = net.made.get(n.name)
                for fn in net._pre.get(row, ()) if row else ():
                    fn(None, ())
                value = super().run_node(n)
                if row is None:
                    return value
                for fn in net._post.get(row, ()):
                    fn(None, (), value)
                if row in keep or on_value is not None:
                    canonical = layout(value, net.rows[n.name][1])
                    if on_value is not None:
                        on_value(row, canonical)
                    if row in keep:
                        out[row] = canonical
                if row == until:
                    raise _Stop
                return value

        try:
            out["output"] = Run(self.traced).run(x)
        except _Stop:
            pass
        return out


def layout(value: Any, perm: tuple[int, ...]) -> Any:
    """A node's tensor in the engine's N×C×H×W order (tensor dim i holds canonical dim perm[i])."""
    if perm == tuple(range(len(perm))) or not hasattr(value, "permute"):
        return value
    return value.permute(*sorted(range(len(perm)), key=lambda i: perm[i]))


@contextmanager
def evaluating(module: Any) -> Iterator[None]:
    """`module` and its submodules in eval mode, their own modes restored afterwards."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def placement(module: Any) -> tuple[Any, Any]:
    """The device and dtype of the module's first parameter (CPU, float32 without one)."""
    p = next(iter(module.parameters()), None)
    return (p.device, p.dtype) if p is not None else (torch.device("cpu"), torch.float32)


def module_net(model: Model, device: Any = None, dtype: Any = None,
               copy_always: bool = False) -> ModuleNet:
    """The ModuleNet of `model` on `device` in `dtype` (the module's own when None). The user's
    module is never moved, cast or re-initialised: that happens on a deep copy."""
    net = ModuleNet(model)
    here, kind = placement(model.module)
    device = torch.device(device) if isinstance(device, str) else (device or here)
    dtype = dtype or kind
    if copy_always or device != here or dtype != kind:
        net = copy.deepcopy(net).to(device=device, dtype=dtype)
    return net


def measurable(g: Graph, names: list[str]) -> list[str]:
    """The layers of `names` that no unmapped row feeds: the rebuilt network their receptive
    fields are measured on (`measure.support`) can build them."""
    from cnncalc.measure.support import ancestors

    return [n for n in names if all(g.nodes[a].kind != "unmapped"
                                    for a in ancestors(g, [n]) if a in g.nodes)]


def measure_module_counts(model: Model, device: Any = None, fvcore: bool = True) -> Measured:
    """Per row of the module's graph: output shape, parameters, MACs and FlopCounterMode's
    skipped ops, from one forward of the module on a batch of one (see the module docstring)."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import FlopCounterMode, flop_registry

    g = model.graph
    net = module_net(model, device)
    dev, dtype = placement(net.module)
    counted = {op_name(k) for k in flop_registry}
    shapes: dict[str, tuple[int, ...]] = {}
    flops: Counter[str] = Counter()
    seen: dict[str, Counter[str]] = {x.name: Counter() for x in g.layers}
    current: list[str | None] = [None]

    class Log(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            row = current[0]
            if row is not None and row in seen:
                seen[row][op_name(func)] += 1
            return func(*args, **(kwargs or {}))

    with FlopCounterMode(display=False) as counter:
        last = [0]

        def on_node(n: Any) -> None:
            total = counter.get_total_flops()
            if current[0] is not None:
                flops[current[0]] += total - last[0]
            last[0] = total
            current[0] = net.rows[n.name][0] if n.name in net.rows else _consumer(net, n)

        x = torch.randn(1, *g.input_shape, device=dev, dtype=dtype)
        with Log(), torch.no_grad():
            net.run(x, on_node=on_node,
                    on_value=lambda row, v: shapes.__setitem__(row, tuple(v.shape[1:])))
            on_node(_End())
    made = [x.name for x in g.layers if x.name in net.producer]  # the rows a node makes; a
    # row made inside another row's node (a mean that is also a flatten) is not measured apart
    params = node_params(net, g)
    m = Measured({k: v for k, v in shapes.items() if k in made}, {k: params[k] for k in made},
                 {k: flops[k] // 2 for k in made},
                 {k: sorted(op for op in seen[k] if op not in counted and op not in MOVES)
                  for k in made})
    if not fvcore:
        m.fvcore_error = "fvcore not run (--no-fvcore)"
        return m
    return fvcore_module(net, g, m, x)


class _End:
    name = ""


def _consumer(net: ModuleNet, n: Any) -> str | None:
    """The row a node without a value of its own works for: its first user's row, through
    users that have none either (`self.class_token.expand(n, -1, -1)` then a cat)."""
    todo: list[Any] = list(getattr(n, "users", ()))
    seen: set[str] = set()
    while todo:
        user = todo.pop(0)
        if user.name in net.rows:
            return net.rows[user.name][0]
        if user.name not in seen and len(seen) < 8:
            seen.add(user.name)
            todo.extend(user.users)
    return None


def node_params(net: ModuleNet, g: Graph) -> dict[str, int]:
    """Per row, the parameters its nodes use (a call_module's module, a get_attr's tensor, at
    its first user's row); each tensor counted once, at first use, as the tracer counts."""
    params = dict.fromkeys((x.name for x in g.layers), 0)
    modules = dict(net.traced.named_modules())
    used: set[int] = set()
    for n in net.traced.graph.nodes:
        row = net.rows[n.name][0] if n.name in net.rows else None
        if n.op == "call_module":
            # a module returning a tuple (nn.MultiheadAttention) works for its [0]'s row
            row = row if row is not None else _consumer(net, n)
            tensors = list(modules[n.target].parameters())
        elif n.op == "get_attr":
            row = _consumer(net, n)
            t = net.traced
            for part in n.target.split("."):
                t = getattr(t, part)
            tensors = [t] if isinstance(t, torch.nn.Parameter) else []
        else:
            continue
        fresh = [p for p in tensors if id(p) not in used]
        used |= {id(p) for p in fresh}
        if row is not None and row in params:
            params[row] += sum(p.numel() for p in fresh)
    return params


def fvcore_module(net: ModuleNet, g: Graph, m: Measured, x: Any) -> Measured:
    """fvcore's count of the user's module, for the rows named after one of its submodules."""
    try:
        from fvcore.nn import FlopCountAnalysis
    except ImportError:
        m.fvcore_error = "fvcore is not installed (pip install fvcore)"
        return m
    fa = FlopCountAnalysis(net.module, x)
    fa.unsupported_ops_warnings(False)
    fa.uncalled_modules_warnings(False)
    fa.tracer_warnings("none")
    by_module = fa.by_module()
    by_op = fa.by_module_and_operator()
    names = {x.name for x in g.layers if x.name in by_module}
    m.fvcore = {name: int(by_module[name]) for name in names}
    m.fvcore_counted = {name: {op: int(k) for op, k in by_op.get(name, {}).items() if k}
                        for name in names}
    m.fvcore_skipped = {name: sorted(op_name(op) for op in fa.unsupported_ops(name)
                                     if op_name(op) not in MOVES) for name in names}
    return m
