"""After an op no kind maps (a traced torch.roll), the fields it feeds are unknown: `?` in the
table, null in JSON, empty in CSV, and the table's own title says PARTIAL."""

from __future__ import annotations

import csv
import io
import json

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from cnncalc.frontends.torch_model.trace import trace_graph  # noqa: E402
from cnncalc.report.render import render, rf_columns, shapes_columns  # noqa: E402


class Rolled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.conv2 = nn.Conv2d(4, 4, 3, stride=2)
        self.conv3 = nn.Conv2d(4, 4, 3)

    def forward(self, x):
        return self.conv3(self.conv2(torch.roll(self.conv1(x), 1, dims=2)))


def test_rows_after_an_unmapped_op_are_unknown():
    g = trace_graph(Rolled(), (3, 16, 16))
    table = render(g, rf_columns(), "table", totals=False, width=None)
    assert "PARTIAL" in table.splitlines()[0]  # the status is in the table's title
    rows = {line.split("│")[1].strip(): line for line in table.splitlines()
            if line.startswith("│")}
    assert "│      3 │" in rows["conv1"]  # before the roll: known
    for name in ("conv2", "conv3"):  # fed by the roll: no number that looks real
        cells = [c.strip() for c in rows[name].split("│")[4:9]]
        assert cells == ["?"] * 5, rows[name]
    data = json.loads(render(g, shapes_columns(1, False), "json"))
    by = {x["name"]: x for x in data["layers"]}
    assert by["conv1"]["rf"]["size"] == [3, 3]
    assert by["conv3"]["rf"] is None and by["conv3"]["rf_min"] is None
    assert by["conv3"]["macs"] == 4 * 4 * 9 * 4 * 4  # 16→14→6→4; shapes and MACs stay known
    got = {r["name"]: r for r in csv.DictReader(io.StringIO(
        render(g, shapes_columns(1, False), "csv")))}
    assert got["conv3"]["rf_size_h"] == "" and got["conv1"]["rf_size_h"] == "3"
