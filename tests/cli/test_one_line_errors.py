"""Every error path of the core: one line naming file:line:col or the layer, exit code 2."""

from __future__ import annotations

import re

import pytest

from tests.conftest import cli

LOC = r"^\S+\.yaml:\d+:\d+: "


def one_line_error(*args: str) -> str:
    r = cli(*args)
    assert r.code == 2, (r.code, r.out, r.err)
    assert r.out == ""
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    return lines[0]


@pytest.mark.parametrize(("layers", "input", "pattern"), [
    ("- {conv: {out: 8, k: 7}}", "3x5x5",
     r"layer conv1: conv on 3×5×5: conv kernel 7 \(k=7, d=1\) is larger than the padded input 5"),
    ("- {conv: {out: 8, k: 3, groups: 2}}", "3x8x8",
     r"layer conv1: conv on 3×8×8: in channels 3 are not divisible by groups 2"),
    ("- {conv: {out: 9, k: 3, groups: 3}}\n- {conv: {out: 8, k: 1, groups: 3}}", "3x8x8",
     r"layer conv2: .*out channels 8 are not divisible by groups 3"),
    ("- {add: [[{conv: {out: 8, k: 1}}], []]}", "3x8x8",
     r"layer add1: add on 8×8×8: shapes do not match at an add: 8×8×8 vs 3×8×8"),
    ("- {concat: [[{maxpool: 2}], []]}", "3x8x8",
     r"layer concat1: .*concat needs equal spatial sizes, got 3×4×4 and 3×8×8"),
    ("- {residual: {body: [{conv: {out: 8, k: 3, s: 2, p: 1}}], shortcut: identity}}", "3x8x8",
     r"layer add1: .*shapes do not match at an add: 8×4×4 vs 3×8×8"),
    ("- flatten\n- {conv: {out: 8, k: 3}}", "3x8x8",
     r"layer conv1: conv on 192: conv needs a C×H×W input, got 192"),
    ("- {maxpool: {k: 2, p: 2}}", "3x8x8",
     r"layer maxpool1: .*pool padding 2 must be at most half the kernel 2"),
    ("- {conv: {out: 8, k: 3, s: 2, p: same}}", "3x8x8",
     r"padding 'same' needs stride 1"),
])
def test_shape_errors_name_the_layer_and_numbers(spec, layers, input, pattern):
    line = one_line_error("shapes", spec(layers, input=input))
    assert re.match(LOC, line), line
    assert re.search(pattern, line), line


@pytest.mark.parametrize(("layers", "pattern"), [
    ("- convv", r"unknown layer kind 'convv' \(did you mean 'conv'\?\)"),
    ("- {conv: {out: 8, kernal: 3}}", r"conv conv1: unknown argument 'kernal'.*\(did you mean 'kernel'\?\)"),
    ("- {conv: {k: 3}}", r"conv conv1: missing required argument 'out'"),
    ("- {conv: {out: 8.5, k: 3}}", r"conv conv1: out expected a positive integer, got 8.5"),
    ("- {conv: {out: yes, k: 3}}", r"out expected a positive integer, got 'yes'"),
    ("- {conv: {out: 0, k: 3}}", r"out expected a positive integer, got 0"),
    ("- {conv: {out: 8, k: 3}, relu: {}}", r"exactly one kind key, found several layer kinds"),
    ("- {conv: {out: 8, k: 3}, repeat: -1}", r"repeat must be an integer from 0"),
    ("- [1, 2]", r"expected a layer"),
    ("- {residual: {bdy: [relu]}}", r"residual takes 'body' and 'shortcut', not 'bdy'.*did you mean 'body'"),
    ("- {concat: [[relu]]}", r"concat joins two or more paths, got 1"),
    ("- {conv: {out: 8, k: 3}, name: a.b}", r"a layer name is letters, digits"),
    ("- {conv: {out: 8, k: 3}, name: x}\n- {conv: {out: 8, k: 3}, name: x}", r"two layers are named 'x'"),
])
def test_spec_errors_point_at_file_line_col(spec, layers, pattern):
    line = one_line_error("shapes", spec(layers, input="3x8x8"))
    assert re.match(LOC, line), line
    assert re.search(pattern, line), line


def test_error_position_is_the_offending_line(spec):
    path = spec("- relu\n- bn\n- {conv: {out: 8, kernal: 3}}", input="3x8x8")
    line = one_line_error("shapes", path)
    # lines 1-3 are name, input, layers:; the third item is line 6:
    # "  - {conv: {out: 8, kernal: 3}}" — the key 'kernal' starts at column 21
    assert line.startswith(f"{path}:6:21: ")


@pytest.mark.parametrize(("blocks", "layers", "pattern"), [
    ("b: {args: {out: 8}, body: [{conv: {out: $ot, k: 1}}]}", "- b",
     r"unknown argument \$ot \(did you mean 'out'\?\)"),
    ("b: {args: {out: 8}, body: [relu]}", "- {b: {outt: 3}}",
     r"block 'b' has no argument 'outt'.*did you mean 'out'"),
    ("b: {args: [out], body: [relu]}", "- b", r"block 'b' needs argument 'out'"),
    ("a: {body: [b]}\nb: {body: [a]}", "- a", r"block 'a' uses itself \(a → b → a\)"),
    ("b: {args: {c: 8}, body: [{conv: {out: $c / 3, k: 1}}]}", "- b",
     r"out expected a positive integer, got 2.66.*"),
    ("b: {args: {c: 8}, body: [{conv: {out: '__import__(\"os\")', k: 1}}]}", "- b",
     r"out expected a positive integer, got '__import__"),
    ("b: {args: {c: 8}, body: [{conv: {out: '$c.__class__', k: 1}}]}", "- b",
     r"not allowed in an expression|cannot parse"),
    ("relu: {body: [bn]}", "- relu", r"block name 'relu' is already a layer kind"),
])
def test_block_errors(spec, blocks, layers, pattern):
    line = one_line_error("shapes", spec(layers, input="3x8x8", blocks=blocks))
    assert re.search(pattern, line), line


def test_yaml_syntax_error_has_position(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ninput: {channels: 3, size: 8\nlayers: [relu]\n")
    line = one_line_error("shapes", str(path))
    assert re.match(r"^\S+bad\.yaml:\d+:\d+: YAML syntax", line), line


@pytest.mark.parametrize(("text", "pattern"), [
    ("name: x\nlayers: [relu]\n", r"spec needs 'input'"),
    ("name: x\ninput: {channels: 3, size: 8}\nlayrs: [relu]\n", r"unknown top-level key 'layrs'.*did you mean 'layers'"),
    ("input: {channels: 3, size: [8, 8, 8, 8]}\nlayers: [relu]\n", r"input size \[8, 8, 8, 8\] has 4 axes"),
    ("input: {channels: 3, size: 0}\nlayers: [relu]\n", r"input channels and size must be positive integers"),
    ("- 1\n- 2\n", r"a spec is a mapping"),
    ("", r"spec is empty"),
])
def test_header_errors(tmp_path, text, pattern):
    path = tmp_path / "h.yaml"
    path.write_text(text)
    assert re.search(pattern, one_line_error("shapes", str(path)))


def test_missing_spec_suggests_zoo_name():
    line = one_line_error("shapes", "resnet5")
    assert "no spec file or zoo spec named 'resnet5'" in line and "did you mean 'resnet50'" in line


def test_bad_format_and_bad_input_option(spec):
    path = spec("- relu", input="3x8x8")
    assert "unknown format 'yaml'" in one_line_error("shapes", path, "-f", "yaml")
    assert "bad input size '3x0x8'" in one_line_error("shapes", path, "--input", "3x0x8")


@pytest.mark.parametrize(("argv", "message"), [
    (["shapes"], "cnncalc shapes: Missing argument 'spec'. (see 'cnncalc shapes --help')"),
    (["shapes", "lenet5", "--batch", "0"], "cnncalc shapes: Invalid value for '--batch'"),
    (["shapez"], "cnncalc: No such command 'shapez'. Did you mean 'shapes'?"),
])
def test_usage_errors_are_one_line_from_the_entry_point(argv, message):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "cnncalc", *argv], capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith(message), r.stderr


@pytest.mark.parametrize(("size", "message"), [
    ("1x1000000x1000000", "each of C, H, W is an integer from 1 to 100,000"),
    ("3xax3", "write CxHxW like 3x224x224, or HxW"),
])
def test_bad_input_sizes_say_what_is_allowed(size, message):
    r = cli("shapes", "lenet5", "--input", size)
    assert r.code == 2 and r.err.strip() == f"bad input size {size!r}: {message}"
