"""CSV is the JSON flattened (report/table.py `flat`), for every command: one row per JSON record
(every layer, whatever --depth), the same values, under a header that depends on the command and
the input's rank only, never on the values (a null field is the same per-axis columns, empty)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cnncalc.report import table
from cnncalc.report.rows import layer_columns
from tests.conftest import cli

# the PARTIAL model of the audit: a torch.roll no kind maps, every field after it unknown
ROLLED = str(Path(__file__).resolve().parents[1] / "report" / "partial_models.py") + ":Rolled"


@pytest.fixture
def rolled():
    pytest.importorskip("torch")
    return ROLLED


def read(out: str) -> tuple[list[str], list[dict[str, str]]]:
    return out.splitlines()[0].split(","), list(csv.DictReader(io.StringIO(out)))


def same_as_flat(records: list[dict], out: str) -> None:
    """Each CSV row is its JSON record flattened: every cell table.flat's value, and every
    value flat gives has its column."""
    head, got = read(out)
    assert len(got) == len(records)
    for record, row in zip(records, got):
        flat = table.flat(record)
        assert {k for k, v in flat.items() if v is not None} <= set(head), record["name"]
        assert row == {k: table.csv_cell(flat.get(k)) for k in head}, record["name"]


def csv_and_json(*args: str) -> tuple[str, dict]:
    c, j = cli(*args, "-f", "csv"), cli(*args, "-f", "json")
    assert c.code in (0, 1) and j.code in (0, 1), c.err + j.err
    return c.out, j.json()


SHAPES = [("resnet18",), ("efficientnet_b0",), ("wavenet",), ("r3d_18", "-i", "3x16x32x32"),
          ("vit_b_32",), ("lenet5",)]


@pytest.mark.parametrize("command", ["shapes", "rf"])
@pytest.mark.parametrize("args", SHAPES)
def test_shapes_and_rf_csv_is_the_json_flattened(command, args):
    out, data = csv_and_json(command, *args)
    same_as_flat(data["layers"], out)
    rank = len(data["input"]) - 1
    assert read(out)[0] == layer_columns(rank)  # the input's rank decides the header


def test_the_header_is_the_same_with_null_fields(rolled):
    """After the roll every field is null: the same columns, empty; no bare rf / rf_min."""
    out, data = csv_and_json("shapes", rolled, "--input", "3x32x32")
    head, got = read(out)
    plain = read(cli("shapes", "resnet18", "-i", "3x32x32", "-f", "csv").out)[0]
    assert head == plain == layer_columns(2)
    assert "rf" not in head and "rf_min" not in head and "rf_local_size_h" in head
    rows = {r["name"]: r for r in got}
    assert rows["c1"]["rf_size_h"] == "3" and rows["c3"]["rf_size_h"] == ""
    assert all(rows["fc"][k] == "" for k in head if k.startswith(("rf", "aligned")))
    same_as_flat(data["layers"], out)


def test_depth_collapses_the_table_not_the_machine_formats():
    out, data = csv_and_json("shapes", "resnet18", "-d", "1")
    assert len(read(out)[1]) == len(data["layers"]) == 69  # every layer, not 15 groups
    assert "group" not in {r["kind"] for r in read(out)[1]} and "layers" not in read(out)[0]
    same_as_flat(data["layers"], out)
    assert "7 layers" in cli("shapes", "resnet18", "-d", "1", "-f", "md").out  # the table groups


def test_a_gated_net_carries_rf_and_rf_local_like_its_json():
    """efficientnet_b0's last unit depends on the whole input through its SE gates (rf: global,
    229 = the union of its units' fields) while the local field, the RF column, is 851."""
    out, data = csv_and_json("shapes", "efficientnet_b0")
    row = {r["name"]: r for r in read(out)[1]}["last_conv.silu1"]
    x = {x["name"]: x for x in data["layers"]}["last_conv.silu1"]
    assert x["rf"]["size"] == [229, 229] and x["rf"]["global"] is True
    assert x["rf_local"]["size"] == [851, 851]
    assert (row["rf_size_h"], row["rf_global"]) == ("229", "true")
    assert (row["rf_local_size_h"], row["rf_local_global"]) == ("851", "false")


def test_zoo_csv_is_the_json_flattened():
    out, data = csv_and_json("zoo")
    same_as_flat(data["models"], out)


VERIFY_STATUS = {"ok", "clipped", "empty", "no-spatial", "too-large", "period", "border",
                 "nonfinite", "memory"}


def test_verify_csv_is_the_json_flattened_with_machine_values():
    pytest.importorskip("torch")
    from cnncalc.report.verify import csv_columns

    out, data = csv_and_json("verify", "resnet18", "--input", "3x32x32")
    same_as_flat(data["layers"], out)
    head, got = read(out)
    assert head == csv_columns(2) and "rf_measured_jump" not in head
    assert head == read(cli("verify", "lenet5", "--rf", "none", "-f", "csv").out)[0]
    rows = {r["name"]: r for r in got}
    assert rows["conv1"]["rf_measured_input"] == "32x32" and rows["conv1"]["rf_note"] == ""
    assert (rows["fc"]["rf_measured_status"], rows["fc"]["rf_measured_global"]) == ("ok", "true")
    assert rows["fc"]["rf_measured_jump_h"] == ""  # a global field has no jump to measure
    assert rows["layer1.0.conv1"]["rf_measured_status"] == ""  # not selected: empty
    assert {r["rf_measured_status"] for r in got} <= VERIFY_STATUS | {""}
    assert "rf at" not in out and "global" not in {c for r in got for c in r.values()}


def test_verify_partial_csv_keeps_the_header(rolled):
    pytest.importorskip("torch")
    from cnncalc.report.verify import csv_columns

    out, data = csv_and_json("verify", rolled, "--input", "3x32x32")
    same_as_flat(data["layers"], out)
    assert read(out)[0] == csv_columns(2)
