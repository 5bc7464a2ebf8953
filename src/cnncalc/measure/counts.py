"""Measure the torch module built from a spec: per-layer output shapes, parameters and MACs.

Shapes, parameters and torch's FlopCounterMode need no data, so they run on the meta device.
fvcore's FlopCountAnalysis traces with real tensors (on the chosen device) and is reported beside
ours because its convention differs: it counts batchnorm and adaptive pooling, and it skips (logs
as unsupported) `aten::add` and `aten::max_pool2d`. Each counter's skipped ops are recorded per
layer, so a zero is never silent. torch is imported lazily, like everywhere in the backend.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from cnncalc.core.engine import Graph
from cnncalc.core.measured import Measured
from cnncalc.core.optional import require_torch
from cnncalc.measure.build import build_module

# Ops that move or reshape data without arithmetic: no counter has a reason to count them.
MOVES = frozenset({
    "view", "_unsafe_view", "reshape", "transpose", "permute", "t", "expand", "split",
    "split_with_sizes", "cat", "detach", "alias", "clone", "contiguous", "unsqueeze", "squeeze",
    "select", "slice", "movedim", "flatten", "empty", "empty_like", "copy_", "_to_copy",
    "unbind", "as_strided", "chunk", "narrow", "dropout", "lift_fresh", "size", "stride",
})



def op_name(func: Any) -> str:
    """'convolution' for aten.convolution.default; 'max_pool2d' for aten::max_pool2d."""
    name = str(getattr(func, "overloadpacket", func))
    if "::" in name:
        return name.split("::")[-1]
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def meta_measure(g: Graph) -> Measured:
    """Shapes, params and FlopCounterMode MACs per layer, from one meta-device forward each."""
    torch = require_torch()
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        net = build_module(g)
    shapes: dict[str, tuple[int, ...]] = {}
    for x in g.layers:
        net.layer(x.name).register_forward_hook(
            lambda m, i, o, name=x.name: shapes.__setitem__(name, tuple(o.shape[1:])))
    inp = torch.empty(1, *g.input_shape, device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(inp)
    counts = counter.get_flop_counts()
    macs = {x.name: sum(counts.get(f"GraphNet.{x.name}", {}).values()) // 2 for x in g.layers}
    params = {x.name: sum(p.numel() for p in net.layer(x.name).parameters()) for x in g.layers}
    return Measured(shapes, params, macs, torch_skipped(net, g, inp))


def torch_skipped(net: Any, g: Graph, x: Any) -> dict[str, list[str]]:
    """Per layer, the arithmetic aten ops that ran and that FlopCounterMode has no formula for."""
    torch = require_torch()
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    counted = {op_name(k) for k in flop_registry}
    seen: dict[str, Counter[str]] = {x.name: Counter() for x in g.layers}
    current: list[str] = []

    class Log(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if current:
                seen[current[-1]][op_name(func)] += 1
            return func(*args, **(kwargs or {}))

    def enter(name: str) -> Any:
        return lambda module, inputs: current.append(name)

    def leave(module: Any, inputs: Any, output: Any) -> None:
        current.pop()

    for layer in g.layers:
        net.layer(layer.name).register_forward_pre_hook(enter(layer.name))
        net.layer(layer.name).register_forward_hook(leave)
    with Log(), torch.no_grad():
        net(x)
    return {name: sorted(op for op in ops if op not in counted and op not in MOVES)
            for name, ops in seen.items()}


def fvcore_measure(g: Graph, m: Measured, device: Any) -> Measured:
    """Add fvcore's per-layer count and, per layer, the ops it counted and the ops it skipped.

    Without fvcore the numbers stay None and `fvcore_error` says why (never a silent zero).
    """
    torch = require_torch()
    try:
        from fvcore.nn import FlopCountAnalysis
    except ImportError:
        m.fvcore_error = "fvcore is not installed (pip install fvcore)"
        return m
    net = build_module(g).to(device)
    x = torch.ones(1, *g.input_shape, device=device)
    fa = FlopCountAnalysis(net, x)
    fa.unsupported_ops_warnings(False)
    fa.uncalled_modules_warnings(False)
    fa.tracer_warnings("none")
    by_module = fa.by_module()
    by_op = fa.by_module_and_operator()
    m.fvcore = {x.name: int(by_module.get(x.name, 0)) for x in g.layers}
    m.fvcore_counted = {x.name: {op: int(n) for op, n in by_op.get(x.name, {}).items() if n}
                        for x in g.layers}
    m.fvcore_skipped = {x.name: sorted(op_name(op) for op in fa.unsupported_ops(x.name)
                                       if op_name(op) not in MOVES)
                        for x in g.layers}
    return m


def measure_counts(g: Graph, device: Any, fvcore: bool = True) -> Measured:
    """Everything but the receptive field: meta-device counts, then fvcore on `device`."""
    m = meta_measure(g)
    if not fvcore:
        m.fvcore_error = "fvcore not run (--no-fvcore)"
        return m
    return fvcore_measure(g, m, device)
