"""Any `nn.Module` into the engine's graph: trace it with torch.fx, run the trace on fake tensors
for the shapes (no data, no arithmetic), and map each node onto a layer kind.

Every number still comes from the registry's formulas; the module only supplies the arguments
(channels, kernel sizes, ...). Two checks keep the mapping honest: each mapped layer's output
shape must equal the traced one, and its parameter count the module's. Nodes that map onto no kind
become `unmapped` rows that keep the module's parameters but no MACs, and the graph is marked
partial (`graph.partial` names each op and where it is), never silently counted as zero.

Layout: a tensor is tracked as the engine layer holding it plus a permutation of N×C×H×W, so
`permute` → channel-last `nn.Linear` / `nn.LayerNorm` → `permute` (ConvNeXt) is a linear or a
layernorm on the channels.
"""

from __future__ import annotations

import contextlib
import io
import logging
from typing import Any

from cnncalc.core.engine import Graph, Note
from cnncalc.core.errors import BackendError
from cnncalc.core.layers.common import fmt_shape
from cnncalc.core.layers.registry import Shape
from cnncalc.core.optional import require_torch
from cnncalc.frontends.torch_model.ops import OpMapper, Val
from cnncalc.frontends.torch_model.table import is_leaf

torch = require_torch()
fx = torch.fx
Tracer: Any = fx.Tracer  # torch is untyped here: its classes are Any to mypy

FALLBACKS = ("wrap the data-dependent helper in torch.fx.wrap, pass --arg values that avoid the "
             "branch, or write the network as a spec (docs/python.md)")


class ScopeTracer(Tracer):
    """torch.fx's tracer that also records which module each node was made in, and keeps the
    modules we map whole as leaves."""

    def __init__(self) -> None:
        super().__init__()
        self.path: list[str] = []
        self.record_stack_traces = True

    def is_leaf_module(self, m: Any, qualname: str) -> bool:
        return is_leaf(m) or super().is_leaf_module(m, qualname)

    def call_module(self, m: Any, forward: Any, args: Any, kwargs: Any) -> Any:
        self.path.append(self.path_of_module(m))
        try:
            return super().call_module(m, forward, args, kwargs)
        finally:
            self.path.pop()

    def create_node(self, *args: Any, **kwargs: Any) -> Any:
        node = super().create_node(*args, **kwargs)
        node.meta["cnncalc_scope"] = self.path[-1] if self.path else ""
        return node


def trace(model: Any, where: str) -> Any:
    """The GraphModule, or one line saying why fx cannot trace the model."""
    tracer = ScopeTracer()
    try:
        graph = tracer.trace(model)
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise BackendError(f"torch.fx cannot trace {where}: {type(e).__name__}: {first[:200]} "
                           f"(data-dependent control flow?); fallbacks: {FALLBACKS}") from None
    return fx.GraphModule(model, graph)


def propagate(gm: Any, shape: Shape, where: str) -> None:
    """Shapes on every node (`node.meta['tensor_meta']`), computed on meta or fake tensors:
    shapes only, no arithmetic."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.passes.shape_prop import ShapeProp

    tensors = [*gm.parameters(), *gm.buffers()]
    on_meta = bool(tensors) and all(t.is_meta for t in tensors)
    mode = None if on_meta else FakeTensorMode(allow_non_fake_inputs=True)
    try:
        # The example input is made on the meta device or inside the fake mode: it holds no
        # memory, however large the shape.
        with contextlib.nullcontext() if mode is None else mode:
            x = torch.empty((1, *shape), device="meta" if mode is None else
                            (tensors[0].device if tensors else "cpu"))
        with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()), quiet_fake_tensors():
            ShapeProp(gm, mode).propagate(x)  # ShapeProp prints; fake tensors log a traceback
    except Exception as e:
        cause = e.__cause__ or e  # ShapeProp wraps the model's own error
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise BackendError(f"{where} fails on a 1×{fmt_shape(shape)} input: "
                           f"{type(cause).__name__}: {first[:300]}") from None


@contextlib.contextmanager
def quiet_fake_tensors() -> Any:
    """Fake-tensor mode logs the model's own shape error as a 19-line traceback (on a handler
    made before any redirect) before it raises it; we say it in one line, so silence the log."""
    log = logging.getLogger("torch._subclasses.fake_tensor")
    level = log.level
    log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        log.setLevel(level)


def trace_graph(model: Any, shape: Shape, batch: int = 1, where: str = "model") -> Graph:
    """The engine's graph of `model` on a C×H×W input (see the module docstring)."""
    return trace_model(model, shape, batch, where)[0]


def trace_model(model: Any, shape: Shape, batch: int = 1, where: str = "model"
                ) -> tuple[Graph, Any, dict[str, tuple[str, tuple[int, ...]]]]:
    """The graph, the GraphModule it was read from (it shares `model`'s parameters and runs its
    code) and, per fx node that holds a layer's value, that layer's name and the node's layout
    (`Val.perm`): what measuring the module itself needs to name its nodes' values by row."""
    model.eval()
    gm = trace(model, where)
    inputs = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        raise BackendError(f"{where}.forward takes {len(inputs)} inputs; cnncalc feeds one "
                           "tensor (write a wrapper module that takes one)")
    propagate(gm, shape, where)
    g = Graph(shape, getattr(model, "spec_name", None) or type(model).__name__, batch)
    g.source = where
    mapper = OpMapper(gm, g, model)
    mapper.run()
    _unused_params(model, mapper.used, g)
    _output_note(gm, mapper, g)
    rows = {node.name: (v.src, v.perm) for node, v in mapper.vals.items() if isinstance(v, Val)}
    return g, gm, rows


def _output_note(gm: Any, mapper: Any, g: Graph) -> None:
    """Say so when what forward returns is not the last row."""
    out = next(n for n in gm.graph.nodes if n.op == "output").args[0]
    val = mapper.vals.get(out) if isinstance(out, fx.Node) else None
    if out is None:
        g.notes.append(Note("no-output", "forward returns None; the last row is the last layer "
                                         "traced"))
    elif val is None or not hasattr(val, "src"):
        g.notes.append(Note("several-outputs", "forward returns several values; the last row "
                                               "is the last layer traced"))
    elif g.layers and val.src != g.layers[-1].name:
        g.notes.append(Note("output-not-last", f"forward returns {val.src}, not the last row; "
                                               "every traced layer is still counted"))


def _unused_params(model: Any, used: set[int], g: Graph) -> None:
    unused = [(n, p.numel()) for n, p in model.named_parameters() if id(p) not in used]
    if unused:
        total = sum(k for _, k in unused)
        names = ", ".join(n for n, _ in unused[:3]) + (" ..." if len(unused) > 3 else "")
        g.notes.append(Note("unused-params", f"{total:,} parameters are not used by forward "
                                             f"and not counted ({names})"))

