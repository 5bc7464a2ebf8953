"""`cnncalc memory` through the one table writer: at widths 40, 80, 120, 200 and piped every
number of its JSON appears intact in the text; Markdown names in backticks and readable totals;
CSV cells for machines (numbers as numbers, no units); the saved breakdown as records in JSON."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from cnncalc.cli.main import app
from cnncalc.core.memory import MemorySetup, fit, memory
from cnncalc.frontends.load import analyze
from cnncalc.report.memory import render
from cnncalc.report.rows import human_bytes

WIDTHS = (40, 80, 120, 200, None)


def result(spec: str = "resnet18", **setup):
    return memory(analyze(spec), MemorySetup(**setup))


def check_lines(text: str, width: int | None) -> None:
    assert "…" not in text
    for line in text.splitlines():
        assert line == line.rstrip(), repr(line)
        # a line wider than the terminal only when one word (a number, a shape) is
        assert width is None or len(line) <= width or \
            max(map(len, line.split())) + 2 > width, (width, line)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("spec", ["resnet18", "convnext_tiny"])
def test_every_number_of_the_json_is_in_the_text(spec, width):
    r = result(spec, batch=2)
    out = render(r, "table", width=width)
    check_lines(out, width)
    data = json.loads(render(r, "json"))
    for x in data["layers"]:
        for key in ("out_bytes", "saved_bytes", "live_bytes"):
            assert human_bytes(x[key]) in out, (x["name"], key)
    for key, value in data["totals"].items():
        assert f"{value:,}" in out, key
    if width is None:  # piped: the full table, the saved tensors with their bytes
        assert "Saved tensors" in out and "Kind" in out and "left out" not in out
        for x in data["layers"]:
            assert x["name"] in out
            for s in x["saved"]:
                assert s["of"] is not None or f"{s['bytes']:,} B" in out
    elif width == 80:  # the breakdown is left out first, and the line says so
        assert "columns left out at 80 columns: Saved tensors" in out
    elif width == 40:  # too narrow for the numbers side by side: one block per layer
        assert "one block per row" in out


def test_80_columns_from_the_cli():
    runner = CliRunner()
    r = runner.invoke(app, ["memory", "resnet18"], env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    assert r.exit_code == 0
    assert all(len(line) <= 80 for line in r.stdout.splitlines()), r.stdout
    assert "columns left out at 80 columns: Saved tensors" in r.stdout


def test_markdown_names_in_backticks_and_readable_totals():
    out = render(result(), "md")
    assert "| `conv1` | conv | 64×112×112 |" in out
    assert "| Parameters | 11,689,512 (11.69M) |" in out
    assert "| Parameter memory | 46,758,048 B (44.59 MiB) |" in out
    assert "| Optimizer state (adam) | 93,516,096 B (89.18 MiB) |" in out
    assert "params_bytes" not in out and "parameters |" not in out
    fitted = render(fit(analyze("resnet18"), MemorySetup(), 2 * 2**30), "md")
    assert "| Largest batch that fits (train) | 68 |" in fitted


def test_csv_cells_are_for_machines():
    r = result(batch=2)
    rows = list(csv.DictReader(io.StringIO(render(r, "csv"))))
    assert list(rows[0]) == ["name", "kind", "out_shape", "out_bytes", "saved_bytes",
                             "live_bytes", "saved"]
    for row in rows:
        for key in ("out_bytes", "saved_bytes", "live_bytes"):
            assert row[key].isdigit(), (row["name"], key, row[key])
        assert " B" not in row["saved"] and "," not in row["saved"].replace("q, k, v", "")
    by = {row["name"]: row for row in rows}
    assert by["bn1"]["saved"] == "input;mean;invstd"
    assert by["maxpool1"]["saved"] == "input;indices"
    assert by["layer1.0.add1"]["saved"] == ""
    assert by["conv1"]["out_shape"] == "64x112x112"


def test_json_saved_is_a_list_of_records():
    data = json.loads(render(result(batch=2), "json"))
    by = {x["name"]: x for x in data["layers"]}
    assert by["maxpool1"]["saved"] == [
        {"what": "input", "dtype": "float32", "bytes": 2 * 64 * 112 * 112 * 4, "of": "relu1",
         "kept_already": True},  # relu1 keeps its output first: 6,422,528 bytes, counted there
        {"what": "indices", "dtype": "int64", "bytes": 2 * 64 * 56 * 56 * 8, "of": None,
         "kept_already": False}]  # = 3,211,264
    for x in data["layers"]:  # what a layer is charged is what it keeps first
        assert x["saved_bytes"] == sum(s["bytes"] for s in x["saved"] if not s["kept_already"])
