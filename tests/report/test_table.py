"""The table writer never cuts a number: at widths 40, 80, 120, 200 and piped (no width), every
number of the JSON records appears intact in the text, no line ends in a space, and no `…`."""

from __future__ import annotations

import csv
import io
import json

import pytest

from cnncalc.frontends.load import analyze
from cnncalc.report import table
from cnncalc.report.render import render, rf_columns, shapes_columns
from cnncalc.report.rows import shape_str
from cnncalc.report.table import Col, Table
from cnncalc.report.zoo import render as zoo_render
from cnncalc.report.zoo import zoo_row
from tests.conftest import cli

WIDTHS = (40, 80, 120, 200, None)


def check_lines(text: str, width: int | None) -> None:
    """No `…`, no trailing space, and at a width no line longer than it but one word that
    cannot be broken (the table itself, its totals, its notes and warnings)."""
    assert "…" not in text
    for line in text.splitlines():
        assert line == line.rstrip(), repr(line)
        assert width is None or len(line) <= width or " " not in line.strip(), (width, line)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("spec", ["resnet18", "inception_v3", "densenet121"])
def test_shapes_keeps_every_number(spec, width):
    g = analyze(spec)
    out = render(g, shapes_columns(1, False), "table", width=width)
    check_lines(out, width)
    data = json.loads(render(g, shapes_columns(1, False), "json"))
    for x in data["layers"]:
        assert f"{x['params']:,}" in out and f"{x['macs']:,}" in out
        assert shape_str(tuple(x["out_shape"])) in out
    if width is None:  # piped: the full table, every column
        assert "Jump" in out and "Kind" in out and "left out" not in out
    elif width <= 80 and "left out" in out:
        assert "columns left out at" in out


def table_rows(text: str, wrapping: str) -> list[dict[str, str]]:
    """The rows of a table by header, boxed or stacked: in a box a row's `wrapping` cell is
    joined over its lines and its other cells come from its first line."""
    lines = text.splitlines()
    heads = [x for x in lines if x.startswith("┃")]
    if not heads:
        return stacked_rows(lines)
    head = [c.strip() for c in heads[0].split("┃")[1:-1]]
    out: list[dict[str, str]] = []
    for line in (x for x in lines if x.startswith("│")):
        cells = dict(zip(head, (c.strip() for c in line.split("│")[1:-1])))
        if any(v for k, v in cells.items() if k != wrapping):
            out.append(cells)
        else:
            out[-1][wrapping] = f"{out[-1][wrapping]}{cells[wrapping]}"
    return out


def stacked_rows(lines: list[str]) -> list[dict[str, str]]:
    """One block per row: the name, then 'Header value' items joined by ' · '."""
    out: list[dict[str, str]] = []
    for line in lines[1:]:
        if line.startswith("(one block per row"):
            break
        if not line.startswith(" "):
            out.append({"": line})
            continue
        for item in line.strip().split(" · "):  # a header of two words: the zoo's Key idea
            k, v = ("Key idea", item[9:]) if item.startswith("Key idea ") else item.split(" ", 1)
            out[-1][k] = v
    return [{"Model": r.pop(""), **r} for r in out]


def size_cell(f: dict) -> str:
    sizes = ["global" if g else str(n) for g, n in zip(f["global_axes"], f["size"])]
    return sizes[0] if len(set(sizes)) == 1 else "×".join(sizes)


@pytest.mark.parametrize("width", WIDTHS)
def test_rf_keeps_every_field(width):
    """Row by row, the RF, RF min and jump cells are the JSON's local field, smallest field and
    jump (checked in every column the width keeps)."""
    g = analyze("vgg16")
    out = render(g, rf_columns(), "table", totals=False, width=width)
    check_lines(out, width)
    layers = json.loads(render(g, rf_columns(), "json"))["layers"]
    got = table_rows(out, "Layer")
    assert [r["Layer"] for r in got] == [x["name"] for x in layers]
    for r, x in zip(got, layers):
        assert r["RF"] == size_cell(x["rf_local"]), r
        assert r.get("RF min", size_cell(x["rf_min"])) == size_cell(x["rf_min"]), r
        jump = "–" if x["rf_local"]["global"] else str(x["rf_local"]["jump"][0])
        assert r.get("Jump", jump) == jump, r


@pytest.mark.parametrize("width", WIDTHS)
def test_zoo_keeps_every_number(width):
    """Every JSON number of the table's columns intact: params and MACs in full (61,706, not
    61.71K), each on its model's row."""
    rs = [zoo_row(analyze(n)) for n in ("lenet5", "resnet50", "vgg16", "efficientnet_b0")]
    out = zoo_render(rs, "table", width=width)
    check_lines(out, width)
    models = json.loads(zoo_render(rs, "json"))["models"]
    got = table_rows(out, "Key idea")
    assert [r["Model"] for r in got] == [m["name"] for m in models]
    for r, m in zip(got, models):
        assert r["Params"] == f"{m['params']:,}" and r["MACs"] == f"{m['macs']:,}", r
        assert r["RF"] == size_cell(m["rf"]), r


def test_lines_fit_the_width_unless_a_word_is_longer():
    out = render(analyze("resnet18"), shapes_columns(1, False), "table", width=80)
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "left out" not in out and "│ layer1.0.   │" in out  # names wrap first
    out = render(analyze("resnet18"), shapes_columns(1, False), "table", width=60)
    assert "columns left out at 60 columns: Kind, Jump" in out  # the least important first


def test_narrow_terminal_stacks_rows():
    t = Table("a long title that wraps at the terminal, not at the table",
              [Col("Layer", wrap="name"), Col("Params", right=True), Col("MACs", right=True)],
              [["features.denseblock4.denselayer16.conv2", "118,013,952", "1,234,567,890"]])
    lines = table.text_table(t, 20)
    assert lines[0] == "a long title that"  # wrapped at 20
    assert "features." in lines and "Params 118,013,952" in "\n".join(lines)
    assert "1,234,567,890" in "\n".join(lines)


def test_long_names_wrap_after_dots():
    t = Table("", [Col("Layer", wrap="name"), Col("MACs", right=True)],
              [["features.denseblock4.denselayer16.conv2", "118,013,952"]])
    out = "\n".join(table.text_table(t, 30))
    assert "118,013,952" in out and "features." in out and "conv2" in out


def test_csv_is_the_json_flattened():
    g = analyze("resnet18")
    data = json.loads(render(g, shapes_columns(1, False), "json"))
    got = list(csv.DictReader(io.StringIO(render(g, shapes_columns(1, False), "csv"))))
    assert got[0]["name"] == data["layers"][0]["name"] == "conv1"
    assert got[0]["out_shape"] == "64x112x112"  # ASCII x
    assert int(got[0]["macs"]) == data["layers"][0]["macs"]
    assert got[0]["rf_size_h"] == "7" and got[0]["aligned"] == "true"
    assert got[-1]["rf_global"] == "true"
    same = render(g, rf_columns(), "csv").splitlines()[0]
    assert same == render(g, shapes_columns(1, False), "csv").splitlines()[0]  # one header


def test_one_json_encoding():
    assert table.dumps({"shape": "64×56", "xs": [{"a": None}]}) == \
        '{\n  "shape": "64×56",\n  "xs": [\n    {"a": null}\n  ]\n}'
    assert table.csv_cell(None) == "" and table.csv_cell(True) == "true"


@pytest.mark.parametrize("args", [
    ("shapes", "resnet18", "-f", "json"), ("memory", "resnet18", "-f", "json"),
    ("sizes", "unet", "-r", "32..64", "-f", "json"),
    ("check", "resnet18", "--max-params", "1000", "-f", "json"),
    ("rf", "resnet18", "--target", "100", "-f", "json"),
    ("conv", "224", "-k", "3", "-f", "json"), ("zoo", "-f", "json")])
def test_every_command_writes_the_one_json(args):
    """Every command's JSON is `table.dumps` of its data: UTF-8 (× as ×, not \\u00d7), objects
    indented, the records of a list one a line."""
    r = cli(*args)
    assert r.code in (0, 1), r.err
    assert r.out.rstrip("\n") == table.dumps(json.loads(r.out))
    assert "\\u00" not in r.out


@pytest.mark.parametrize("stem", ["q\x7fr", "a\u202eb", "c\x85d", "t\U000e0041g", "\x1b[2Jx"])
def test_control_characters_in_json_are_json_escapes(tmp_path, stem):
    """A spec named after its file, the file's name holding a control character: the JSON is
    still JSON (the character a JSON escape, not a Python one) and safe on a terminal."""
    path = tmp_path / f"{stem}.yaml"
    path.write_text("input: 3x8x8\nlayers: [relu]\n")
    r = cli("shapes", str(path), "-f", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["spec"] == stem
    assert all(c.isprintable() or c == "\n" for c in r.out), repr(r.out[:80])


def test_markdown_names_in_backticks_and_groups_named_alike():
    g = analyze("resnet18")
    md = render(g, shapes_columns(1, False), "md", depth=1)
    rf = render(g, rf_columns(), "md", depth=1)
    assert "| `layer1.0` | 7 layers |" in md and "| `layer1.0` | 7 layers |" in rf


def test_stacked_prose_wraps_at_its_words():
    # a prose cell longer than the terminal, in the stacked layout: lines of its own, every
    # number whole (memory's Saved tensors at 40 columns)
    t = Table("", [Col("Layer", wrap="name"), Col("Bytes", right=True),
                   Col("Saved", wrap="words")],
              [["stem.conv1" * 3, "1,605,632", "input (conv1); mean float32 25,088 B; "
                "rstd float32 25,088 B; indices int64 1,605,632 B"]])
    lines = table.text_table(t, 30)
    assert all(len(x) <= 30 for x in lines), lines
    assert "  Bytes 1,605,632" in lines and sum("25,088" in x for x in lines) == 2
