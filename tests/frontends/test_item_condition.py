"""`if:` on an item: the item is left out when its condition is false."""

from __future__ import annotations

from tests.conftest import cli, layers_of

BLOCKS = """
bneck:  # MobileNet-style: expansion only when t != 1, squeeze-and-excitation only when se
  args: {t: 6, se: false}
  body:
    - {conv: {out: $in * $t, k: 1}, if: $t != 1, name: expand}
    - {dwconv: {k: 3, p: 1}, name: dw}
    - {mul: [[], [gap, {conv: {out: 4, k: 1}}, relu, {conv: {out: $in * $t, k: 1}}, sigmoid]],
       if: $se, name: se}
"""


def test_if_false_leaves_the_item_out(spec):
    layers = layers_of(spec("- {bneck: {t: 1}}", input="16x8x8", blocks=BLOCKS))
    assert [x["name"] for x in layers] == ["bneck1.dw"]


def test_if_true_keeps_it(spec):
    layers = layers_of(spec("- {bneck: {t: 6, se: true}}", input="16x8x8", blocks=BLOCKS))
    names = [x["name"] for x in layers]
    assert names[:2] == ["bneck1.expand", "bneck1.dw"]
    assert names[-1] == "bneck1.se.mul1"
    assert layers[0]["out_shape"] == [16 * 6, 8, 8]  # 96×8×8


def test_literal_booleans(spec):
    path = spec("- {relu: {}, if: false}\n- {conv: {out: 3, k: 1}, if: true}", input="3x4x4")
    assert [x["kind"] for x in layers_of(path)] == ["conv"]


def test_if_needs_a_boolean(spec):
    r = cli("shapes", spec("- {relu: {}, if: 1}"))
    assert r.code == 2
    assert "'if' takes true, false or a condition" in r.err and "got 1" in r.err


def test_if_is_not_a_block_name(spec):
    r = cli("shapes", spec("- relu", blocks="if:\n  body: [relu]"))
    assert r.code == 2
    assert "block name 'if' is already a layer kind or keyword" in r.err
