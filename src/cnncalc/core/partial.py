"""Which receptive fields a partial analysis cannot know.

An op no layer kind describes (kind "unmapped", from a traced model) has no RF formula: its field
and the field of every layer it feeds, directly or not, are unknown. Shapes, params and MACs of
those layers stay known (the trace measured the shapes).
"""

from __future__ import annotations

from cnncalc.core.engine import Graph


def rf_unknown(g: Graph) -> set[str]:
    """The names of the layers whose receptive field is unknown."""
    out: set[str] = set()
    for x in g.layers:
        if x.kind == "unmapped" or any(i in out for i in x.inputs):
            out.add(x.name)
    return out
