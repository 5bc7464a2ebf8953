"""Channel ranges keep their own fields through concat, split and shuffle (issue 14, item 6).

torch: gradient support of the head's units (linearised net, per unit, clipped), beside each.
"""

from __future__ import annotations

import pytest

from cnncalc.frontends.load import analyze

torch = pytest.importorskip("torch")

from tests.measure.unit_fields import disagreements  # noqa: E402

CAT = "- concat: [[{conv: {out: 4, k: 1}}], [{conv: {out: 4, k: 7, p: 3}}]]\n"


def head(spec, middle: str) -> tuple[int, int]:
    g = analyze(spec(CAT + middle + "- {conv: {out: 4, k: 1}, name: head}\n", input="4x32x32"))
    assert disagreements(g) == []  # every layer's field, per unit, equals torch's support
    f = g.nodes["head"].rf.max
    return (f.h.size, f.w.size)


@pytest.mark.parametrize(("middle", "size"), [
    ("- {split: {parts: 2, index: 0}}\n", 1),  # torch 1×1 (cnncalc 7×7 before)
    ("- {split: {parts: 2, index: 1}}\n", 7),  # torch 7×7
    ("- {split: {sizes: [2, 6], index: 0}}\n", 1),  # torch 1×1 (7×7 before)
    ("- {split: {sizes: [6, 2], index: 0}}\n", 7),  # torch 7×7: channels 0–5 include the k7 ones
    ("- {shuffle: 2}\n- {split: {parts: 2, index: 0}}\n", 7),  # torch 7×7: a shuffle mixes
    ("- relu\n- {maxpool: {k: 2}}\n- {split: {parts: 2, index: 0}}\n", 2),  # torch 2×2
])
def test_split_after_concat_selects_the_channel_field(spec, middle, size):
    assert head(spec, middle) == (size, size)


def test_add_joins_channel_by_channel(spec):
    # concat [k1 | k7] + bn of itself: each channel keeps its own field; a split then selects
    g = analyze(spec(CAT + "- add: [[], [bn]]\n- {split: {parts: 2, index: 0}, name: s}\n",
                     input="4x32x32"))
    assert g.nodes["s"].rf.max.h.size == 1  # torch 1
    assert disagreements(g) == []


def test_shufflenet_rf_is_unchanged():
    g = analyze("shufflenet_v2_x1_0")
    assert all(not x.rf.parts or len(x.out_shape) == 3 for x in g.layers)
    from cnncalc.report.zoo import final_field

    f = final_field(g)
    assert f is not None and f.h.size == 527  # = the zoo's published RF
