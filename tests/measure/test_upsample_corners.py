"""Bilinear upsampling with align_corners=True (issue 14, item 4).

torch: source x = o·(n − 1)/(f·n − 1), so the mean step of unit fields is (n − 1)/(f·n − 1)
input units and unit 0 sits on input 0. Per-unit supports compared by gradient.
"""

from __future__ import annotations

import pytest

from cnncalc.core.engine import Graph
from cnncalc.core.errors import ShapeError
from cnncalc.frontends.load import analyze

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional

from cnncalc.frontends.torch_model.trace import trace_graph  # noqa: E402
from tests.measure.unit_fields import disagreements  # noqa: E402

CONV = {"out": 1, "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 1, "groups": 1,
        "bias": False}


def test_bilinear_align_corners_lattice(spec):
    g = analyze(spec("""
        - {conv: {out: 1, k: 3, s: 2, p: 1}}
        - {upsample: {scale: 3, mode: bilinear, align_corners: true}}
    """, input="1x30x26"))
    f = g.layers[-1].rf.max
    # 15 rows ×3: jump 2·(15 − 1)/(45 − 1) = 7/11; 13 columns: 2·12/38 = 12/19 (before: 2/3)
    assert (f.h.jump, f.w.jump) == (pytest.approx(7 / 11), pytest.approx(12 / 19))
    assert (f.h.start, f.w.start) == (0, 0)  # unit 0 centred on pixel 0 (before: −1)
    assert (f.h.size, f.w.size) == (5, 5)
    assert disagreements(g, max_units=3) == []


def test_align_corners_sweep_matches_torch():
    cases = bad = 0
    for n in range(1, 18):
        for f in (2, 3, 4):
            for pre in (False, True):
                g = Graph((1, 2 * n if pre else n, 3))
                src = "input"
                if pre:
                    g.add("c", "conv", CONV, ["input"])
                    src = "c"
                g.add("u", "upsample", {"scale_factor": [f, 1], "mode": "bilinear",
                                        "align_corners": True}, [src])
                cases += 1
                bad += len(disagreements(g))
    assert (cases, bad) == (102, 0)  # before: 64 of 102 cases had a unit off


def test_align_corners_with_nearest_is_refused():
    g = Graph((1, 4, 4))
    with pytest.raises(ShapeError, match="bilinear"):
        g.add("u", "upsample", {"scale_factor": 2, "mode": "nearest", "align_corners": True},
              ["input"])


class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, stride=2, padding=1)
        self.up = nn.Upsample(scale_factor=3, mode="bilinear", align_corners=True)

    def forward(self, x):
        return F.interpolate(self.up(self.conv(x)), scale_factor=2, mode="bilinear",
                             align_corners=True)


def test_traced_align_corners_maps_with_the_flag():
    g = trace_graph(Up(), (1, 15, 13))
    ups = [x for x in g.layers if x.kind == "upsample"]
    assert [x.args["align_corners"] for x in ups] == [True, True] and g.partial == []
    assert disagreements(g) == []
