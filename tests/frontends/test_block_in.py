"""`$in`: the channel count entering the enclosing block, for blocks that size themselves."""

from __future__ import annotations

from tests.conftest import cli, layers_of

EXPAND = """
expand:  # 1×1 to in·t, depthwise 3×3, 1×1 back to out
  args: {t: 6, out: 24}
  body:
    - {conv: {out: $in * $t, k: 1, bias: false}}
    - {dwconv: {k: 3, p: 1, bias: false}}
    - {conv: {out: $out, k: 1, bias: false}}
"""


def test_in_is_the_channels_entering_each_block_use(spec):
    path = spec("- {expand: {t: 6, out: 24}, repeat: 2}", input="16x8x8", blocks=EXPAND)
    outs = [x["out_shape"][0] for x in layers_of(path)]
    assert outs == [16 * 6, 16 * 6, 24, 24 * 6, 24 * 6, 24]  # 96, 96, 24, 144, 144, 24


def test_in_stays_the_block_input_inside_the_body(spec):
    blocks = """
    transition:
      body:
        - {conv: {out: 64, k: 1}}
        - {conv: {out: $in // 2, k: 1}}
    """
    (_, second) = layers_of(spec("- transition", input="256x8x8", blocks=blocks))
    assert second["out_shape"][0] == 256 // 2  # = 128, not 64 // 2


def test_a_default_may_use_in(spec):
    blocks = """
    se:
      args: {squeeze: "max(1, $in // 4)"}
      body:
        - mul: [[], [gap, {conv: {out: $squeeze, k: 1}}, relu, {conv: {out: $in, k: 1}}, sigmoid]]
    """
    layers = layers_of(spec("- se", input="40x7x7", blocks=blocks))
    assert [x["out_shape"] for x in layers if x["kind"] == "conv"] == [[40 // 4, 1, 1], [40, 1, 1]]


def test_top_level_in_is_the_input_channels(spec):
    (layer,) = layers_of(spec("- {conv: {out: $in * 2, k: 1}}", input="5x4x4"))
    assert layer["out_shape"] == [5 * 2, 4, 4]  # 10×4×4


def test_in_is_not_a_block_argument(spec):
    blocks = """
    bad:
      args: {in: 3}
      body: [relu]
    """
    r = cli("shapes", spec("- bad", blocks=blocks))
    assert r.code == 2
    assert "argument name 'in' is reserved" in r.err
