"""Every zoo spec built in torch agrees with the engine: per-layer shapes and params, total MACs.

Built and run on the meta device: shapes, parameter counts and FlopCounterMode need no data.
"""

from __future__ import annotations

import pytest

from cnncalc.frontends.load import analyze, zoo_names

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", zoo_names())
def test_zoo_spec_in_torch_matches_the_engine(name):
    from cnncalc.measure.build import build_module
    from cnncalc.measure.counts import meta_measure

    g = analyze(name)
    m = meta_measure(g)  # hooks per layer and FlopCounterMode / 2, on the meta device
    assert {x.name: x.out_shape for x in g.layers} == m.shapes
    assert {x.name: x.params for x in g.layers} == m.params
    assert {x.name: x.macs for x in g.layers} == m.macs
    with torch.device("meta"):
        net = build_module(g)
    assert sum(p.numel() for p in net.parameters()) == g.totals().params
