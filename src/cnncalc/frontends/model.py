"""Loading a source into a `core.model.Model`: a spec's graph, or a torch module beside its trace.

Standard library only; torch is imported by the tracer, and only when the source is a torch module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnncalc.core.layers.registry import Shape
from cnncalc.core.model import Model


def from_module(module: Any, shape: Shape, batch: int = 1, where: str | None = None) -> Model:
    """Trace an nn.Module on a C×H×W input and keep it beside its graph."""
    from cnncalc.frontends.torch_model.trace import trace_model

    g, gm, rows = trace_model(module, shape, batch, where or type(module).__name__)
    return Model(g, module, gm, rows)


def open_source(arg: str | Path, input: str | None = None, batch: int = 1,
                args: list[str] | None = None) -> Model:
    """Load a spec (file, zoo name, Python spec) or a torch model reference (`model.py:Net`)."""
    from cnncalc.frontends.load import analyze
    from cnncalc.frontends.pysource import is_python, load_python

    if is_python(str(arg)):
        return load_python(str(arg), input, batch, args)
    return Model(analyze(arg, input, batch, args))
