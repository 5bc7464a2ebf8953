"""The support of a unit's gradient is its theoretical receptive field."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from cnncalc.frontends.load import analyze  # noqa: E402
from cnncalc.measure.build import build_module  # noqa: E402
from cnncalc.measure.gradient import averaging_weights, centre, unit_gradient  # noqa: E402


def support(grad):
    rows = (grad.abs().sum(dim=(0, 1, 3)) > 0).nonzero().flatten()
    cols = (grad.abs().sum(dim=(0, 1, 2)) > 0).nonzero().flatten()
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_centre_of_odd_and_even_axes():
    assert centre(7) == 3 and centre(8) == 3 and centre(8, 1) == 4


def test_resnet18_layer2_gradient_support_is_its_field():
    g = analyze("resnet18", "3x400x400")
    net = averaging_weights(build_module(g, linear=True))
    grad = unit_gradient(net, "layer2.1.relu2", torch.ones(1, 3, 400, 400))
    # conv1 7, maxpool +2·2, layer1's four 3×3 at jump 4 (+2·4 each), layer2.0.conv1 at jump 4,
    # then three 3×3 at jump 8 (+2·8 each); the 1×1 projection adds nothing
    assert support(grad) == (7 + 2*2 + 4*2*4 + 2*4 + 3*2*8,) * 2  # = 99
    assert g.nodes["layer2.1.relu2"].rf.max.h.size == 99


def test_each_sample_gets_its_own_gradient():
    g = analyze("resnet18", "3x64x64")
    net = build_module(g)
    x = torch.randn(3, 3, 64, 64)
    batched = unit_gradient(net, "layer1.0.conv1", x)
    single = unit_gradient(net, "layer1.0.conv1", x[1:2])
    assert torch.allclose(batched[1:2], single, atol=1e-6)
