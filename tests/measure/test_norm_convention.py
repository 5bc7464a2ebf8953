"""The normalisation convention (issue 14): fields follow the data path; a norm's statistics count
as constants, as BatchNorm's do in eval. Where a norm's statistics span the map (GroupNorm), torch
makes every unit depend on every pixel: the engine says so once, and keeps the local field."""

from __future__ import annotations

import pytest

from cnncalc.frontends.load import analyze

torch = pytest.importorskip("torch")
nn = torch.nn


def support_of_centre(norm) -> tuple[int, int]:
    """Rows and columns of the input reaching unit (8, 8), channel 0, of conv k3 p1 -> norm."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), norm).double()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(p.abs() + 0.1)
    x = torch.randn(1, 3, 16, 16, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(m(x)[0, 0, 8, 8], x)
    nz = g[0].abs().sum(0) > 0
    return int(nz.any(1).sum()), int(nz.any(0).sum())


def test_groupnorm_is_noted_and_keeps_the_local_field(spec):
    g = analyze(spec("- {conv: {out: 4, k: 3, p: 1}}\n- {groupnorm: {groups: 2}}\n",
                     input="3x16x16"))
    gn = g.layers[-1].rf.max
    assert (gn.h.size, gn.w.size) == (3, 3) and not gn.is_global  # the data path: 3×3
    assert support_of_centre(nn.GroupNorm(2, 4)) == (16, 16)  # torch: the whole 16×16
    assert [w.code for w in g.warnings()] == ["norm-stats"]


def test_batchnorm_is_local_and_not_noted(spec):
    g = analyze(spec("- {conv: {out: 4, k: 3, p: 1}}\n- bn\n", input="3x16x16"))
    assert support_of_centre(nn.BatchNorm2d(4).eval()) == (3, 3)  # torch eval: 3×3
    assert g.layers[-1].rf.max.h.size == 3 and g.warnings() == []
