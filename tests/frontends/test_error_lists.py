"""Several independent mistakes in one spec are reported together, one line each, up to a limit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnncalc.core.errors import ErrorList, SpecError, SpecErrors
from cnncalc.frontends.load import parse_spec
from tests.conftest import error_lines, write

ROOT = Path(__file__).resolve().parents[2]


def test_independent_errors_are_reported_together(tmp_path):
    text = ("input: 3x8x8\n"
            "layers:\n"
            "  - {conv: {out: 8, kernal: 3}}\n"
            "  - convv\n"
            "  - {linear: {outt: 3}}\n"
            "  - bn\n")
    lines = error_lines("shapes", write(tmp_path, text))
    assert [re.match(r"\S+:(\d+:\d+):", x)[1] for x in lines] == ["3:21", "4:5", "5:15"]
    assert "did you mean 'kernel'" in lines[0]
    assert "unknown layer kind 'convv' (did you mean 'conv'?)" in lines[1]
    assert "did you mean 'out'" in lines[2]


def test_a_shape_error_after_a_skipped_layer_is_not_reported(tmp_path):
    # conv1 is skipped, so the add sees 3 channels against 8: a consequence, not a new mistake
    text = ("input: 3x8x8\nlayers:\n  - {conv: {out: 8, k: 1, strid: 1}, name: c}\n"
            "  - {add: [[{conv: {out: 8, k: 1}}], []]}\n")
    (line,) = error_lines("shapes", write(tmp_path, text))
    assert "unknown argument 'strid'" in line


def test_a_block_used_many_times_reports_its_mistake_once(tmp_path):
    text = ("input: 3x8x8\nblocks: {b: {body: [{conv: {out: 8, kk: 1}}]}}\n"
            "layers: [{b: , repeat: 5}]\n")
    (line,) = error_lines("shapes", write(tmp_path, text))
    assert "unknown argument 'kk'" in line


def test_errors_stop_at_the_limit(tmp_path):
    items = "".join(f"  - bad{n}\n" for n in range(25))
    lines = error_lines("shapes", write(tmp_path, f"input: 3x8x8\nlayers:\n{items}"))
    assert len(lines) == 11  # 10 errors and the line saying where it stopped
    assert lines[-1] == "stopped after 10 errors; fix these and run again"


def test_header_errors_are_reported_together(tmp_path):
    text = "name: [1]\ninpt: 3x8x8\nlayers: 3\n"
    lines = error_lines("shapes", write(tmp_path, text))
    # in the order they stand in the file
    assert [x.split(": ", 1)[1] for x in lines] == [
        "'name' is a line of text, got [1]",
        "unknown top-level key 'inpt'; allowed: name, description, info, input, blocks, layers, "
        "budget "
        "(did you mean 'input'?)",
        "'layers' is a non-empty list of layers",
    ]


def test_error_list_semantics():
    errs = ErrorList(limit=3)
    errs.check()  # nothing collected: nothing raised
    errs.add(SpecError("a"))
    with pytest.raises(SpecError, match="^a$"):
        errs.check()  # one error is raised as itself
    errs.add(SpecError("b"))
    with pytest.raises(SpecErrors, match="^a\nb$"):
        errs.check()
    with pytest.raises(SpecErrors, match="stopped after 3 errors"):
        errs.add(SpecError("c"))


def test_parse_spec_is_unchanged_for_good_specs():
    spec = parse_spec("input: 3x8x8\nlayers: [relu]\n", "g.yaml")
    assert spec.input_shape == (3, 8, 8) and spec.name == "g"


def test_the_readme_example_of_several_mistakes():
    path = str(ROOT / "tests" / "data" / "mistakes.yaml")
    lines = error_lines("shapes", path)
    assert [x.removeprefix(path + ":") for x in lines] == [
        "5:22: conv conv1: unknown argument 'kernal'; allowed: out, kernel_size, stride, padding, "
        "dilation, groups, bias (did you mean 'kernel'?)",
        "6:18: conv conv2: out expected a positive integer, got 'yes' (YAML 1.1 reads this as a "
        "boolean; cnncalc reads it as text)",
        "7:18: conv conv3: out expected a positive integer, got '0x40' (write decimal 64)",
        "8:5: unknown layer kind 'rleu' (did you mean 'relu'?)",
    ]
