"""Per-unit receptive fields, engine against torch: the exact check the property tests use.

torch's side: the graph built linear with positive averaging weights, adds and multiplies as
means, float64 on an all-ones input (as `verify` measures), and the gradient support of one unit
(summed over channels). The engine's side: the unit's lattice bounds, per axis, clipped to the
input and to the pixels that reach the layer at all (`reach`; the lattice extends into the
padding); a global axis must span what reaches the layer. Exact for a unit whose field lies
inside the input; at the border the hull is an upper bound (a dilated window whose outer tap
falls in the padding reads fewer pixels), so there the support must lie within it.
"""

from __future__ import annotations

from typing import Any

from cnncalc.core.engine import Graph
from cnncalc.measure.support import clipped_span, inside, reach, span_agrees, support


def disagreements(g: Graph, max_units: int = 3) -> list[tuple[str, Any, Any, Any]]:
    """(layer, unit, engine span, torch span) for every disagreeing unit of every map layer;
    the corner, centre and last unit of each."""
    import torch

    from cnncalc.measure.build import Mean, build_module
    from cnncalc.measure.gradient import averaging_weights

    mean = {"add": lambda a, i, o: Mean(), "mul": lambda a, i, o: Mean()}
    net = averaging_weights(build_module(g, linear=True, overrides=mean)).to(torch.float64)
    x = torch.ones(1, *g.input_shape, dtype=torch.float64, requires_grad=True)
    hw = g.input_shape[1:]
    names = [y.name for y in g.layers if len(y.out_shape) == 3]
    reached = reach(g)
    bad = []
    with torch.enable_grad():
        outs = net.run(x, keep=names)
        for name in names:
            layer, out = g.nodes[name], outs[name]
            _, h, w = layer.out_shape
            picks = list(dict.fromkeys([(0, 0), ((h - 1) // 2, (w - 1) // 2), (h - 1, w - 1)]))
            for unit in picks[:max_units]:
                (grad,) = torch.autograd.grad(out[0, :, unit[0], unit[1]].sum(), x,
                                              retain_graph=True)
                theirs = support(grad[0])
                if any(hi < lo for lo, hi in theirs):
                    theirs = ((0, -1), (0, -1))
                ours = clipped_span(layer, unit, hw, reached[name])
                if not span_agrees(theirs, ours, inside(layer, unit, hw)):
                    bad.append((name, unit, ours, theirs))
    return bad
