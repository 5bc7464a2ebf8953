"""A loaded source as one record: the engine's graph and, for a torch module, the module itself
beside its fx trace, so that measurements run on the user's module, not on a rebuilt copy.

Standard library only: the module and its trace are held as plain objects (`frontends.model`
makes them; `measure.module` measures them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnncalc.core.engine import Graph

Rows = dict[str, tuple[str, tuple[int, ...]]]  # fx node name -> (layer name, layout perm)


@dataclass(eq=False, repr=False)
class Model:
    """A loaded source. `module`: the user's nn.Module (None for a spec); `traced`: the
    torch.fx GraphModule traced from it (it shares the module's parameters and runs its code);
    `rows`: per fx node holding a layer's value, the layer's name and the node's layout."""

    graph: Graph
    module: Any = None
    traced: Any = None
    rows: Rows = field(default_factory=dict)

    @property
    def is_module(self) -> bool:
        return self.module is not None

    def __repr__(self) -> str:
        what = f", module {type(self.module).__name__}" if self.is_module else ""
        return f"<Model {self.graph.name}: {len(self.graph.layers)} layers{what}>"
