"""`erf`'s theoretical field on nets with gates is the field `rf` reports (issue 22)."""

from __future__ import annotations

import pytest

from cnncalc.frontends.load import analyze
from tests.conftest import cli

pytest.importorskip("torch")

from cnncalc.measure.erf import field_box  # noqa: E402


@pytest.mark.parametrize(("name", "size"), [("mobilenet_v3_small", 96), ("efficientnet_b0", 32)])
def test_theoretical_field_of_an_se_net_is_the_rf_column(name, size):
    g = analyze(name, input=f"3x{size}x{size}")
    layer = [x for x in g.layers if len(x.out_shape) == 3][-1].name
    (h, w), (ch, cw), _ = field_box(g, layer)
    rows = cli("rf", name, "--input", f"3x{size}x{size}", "-f", "json").json()["layers"]
    (row,) = [x for x in rows if x["name"] == layer]
    assert [h, w] == row["rf_local"]["size"]  # before: 15,267 on mobilenet_v3_small at 96
    assert 0 <= ch < size and 0 <= cw < size  # before: centre at pixel 814 of 96
