"""Every zoo spec built in torch agrees with the engine: per-layer shapes and params, total MACs.

Built and run on the meta device: shapes, parameter counts and FlopCounterMode need no data.
"""

from __future__ import annotations

import pytest

from cnncalc.spec.load import analyze, zoo_names

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", zoo_names())
def test_zoo_spec_in_torch_matches_the_engine(name):
    from torch.utils.flop_counter import FlopCounterMode

    from cnncalc.backends.torch_build import build_module

    g = analyze(name)
    with torch.device("meta"):
        net = build_module(g)
    shapes: dict[str, tuple[int, ...]] = {}
    for x in g.layers:
        net.layer(x.name).register_forward_hook(
            lambda m, i, o, name=x.name: shapes.__setitem__(name, tuple(o.shape[1:])))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.empty(1, *g.input_shape, device="meta"))
    assert {x.name: x.out_shape for x in g.layers} == shapes
    assert {x.name: x.params for x in g.layers} == {
        x.name: sum(p.numel() for p in net.layer(x.name).parameters()) for x in g.layers}
    assert sum(p.numel() for p in net.parameters()) == g.totals().params
    assert counter.get_total_flops() == 2 * g.totals().macs  # FlopCounterMode counts 2 per MAC
