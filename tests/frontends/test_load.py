"""The YAML front end called directly: text or file -> Spec -> the engine's Graph, with positions."""

from __future__ import annotations

import pytest

from cnncalc.core.errors import SpecError
from cnncalc.frontends.load import analyze, build, parse_spec

TINY = """\
name: tiny
input: 3x32x32
layers:
  - {conv: {out: 8, k: 3, p: 1}, name: c1}
  - relu
  - {maxpool: 2}
  - flatten
  - {linear: 10}
"""


def test_parse_then_build_a_yaml_string():
    spec = parse_spec(TINY, "tiny.yaml")
    assert (spec.name, spec.input_shape) == ("tiny", (3, 32, 32))
    g = build(spec)
    assert [x.name for x in g.layers] == ["c1", "relu1", "maxpool1", "flatten1", "linear1"]
    c1, _, pool, flat, fc = g.layers
    assert c1.out_shape == (8, (32 + 2*1 - 1*(3-1) - 1)//1 + 1, 32)  # = 32
    assert c1.params == 8 * 3 * 3 * 3 + 8  # = 224
    assert c1.macs == 8 * 3 * 3 * 3 * 32 * 32  # = 221,184
    assert pool.out_shape == (8, (32 - 1*(2-1) - 1)//2 + 1, 16)  # stride defaults to k: 16
    assert flat.out_shape == (8 * 16 * 16,)  # = 2,048
    assert (fc.params, fc.macs) == (2048 * 10 + 10, 2048 * 10)  # = 20,490, 20,480
    assert g.totals().params == 224 + 20_490  # = 20,714


def test_each_layer_keeps_its_position_in_the_file():
    g = build(parse_spec(TINY, "tiny.yaml"))
    assert [str(x.loc) for x in g.layers][:2] == ["tiny.yaml:4:5", "tiny.yaml:5:5"]


def test_a_file_and_an_input_override(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    g = analyze(path, "3x64x64")
    assert g.input_shape == (3, 64, 64)
    assert g.nodes["flatten1"].out_shape == (8 * (64 // 2) * (64 // 2),)  # = 8,192
    assert g.nodes["linear1"].params == 8192 * 10 + 10  # = 81,930


def test_a_zoo_name_loads_too():
    g = analyze("lenet5")
    assert g.input_shape == (1, 32, 32) and g.totals().params == 61_706


def test_a_mistake_is_a_spec_error_with_file_line_col():
    with pytest.raises(SpecError, match=r"^bad\.yaml:4:21: .*did you mean 'kernel'"):
        build(parse_spec(TINY.replace("k: 3", "kernal: 3"), "bad.yaml"))


def test_automatic_names_keep_a_kind_ending_in_a_digit_readable():
    # relu6 counted once reads relu6_1, not relu61 (relu 61); plain kinds stay relu1, relu2
    g = analyze("mobilenet_v2")
    names = [x.name for x in g.layers]
    assert "stem.relu6_1" in names and not any(n.endswith("relu61") for n in names)
    text = """
name: t
input: {channels: 3, size: [8, 8]}
blocks:
  b:
    body: [relu6, relu6, relu, relu]
layers:
  - {b: {}, name: x}
"""
    names = [x.name for x in build(parse_spec(text, "t.yaml")).layers]
    assert names == ["x.relu6_1", "x.relu6_2", "x.relu1", "x.relu2"]


def test_layers_written_alike_do_not_share_their_arguments():
    """A bare kind's arguments are worked out once per kind (coerce's cache) and copied: each
    layer owns its dict, as when every layer had them worked out anew."""
    g = build(parse_spec("input: 3x8x8\nlayers: [maxpool, bn, maxpool, bn]\n"
                         .replace("maxpool", "{maxpool: 2}"), "t.yaml"))
    a, b = g.layers[1].args, g.layers[3].args
    assert a == b and a is not b
    a["eps"] = 0.5
    assert g.layers[3].args["eps"] == 1e-5
    assert build(parse_spec("input: 3x8x8\nlayers: [bn]\n", "t.yaml")).layers[0].args["eps"] \
        == 1e-5
