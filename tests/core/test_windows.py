"""Swin's kinds in the analytic core (no torch): their formulas by hand, the lattice of fields
through windows, and what `--attention-macs projections` leaves out."""

from __future__ import annotations

import pytest

from cnncalc.core.engine import Graph
from cnncalc.core.errors import CnncalcError, ShapeError
from cnncalc.core.layers.windows import window_axis
from cnncalc.core.rf import Axis


def block(shape, **args) -> Graph:
    """One window_attention on `shape`; C×N tokens come from a C×N×1 map through to_tokens."""
    g = Graph(shape if len(shape) == 3 else (*shape, 1), name="w")
    source = "input" if len(shape) == 3 else g.add("tokens", "to_tokens", {}, ("input",)).name
    g.add("attn", "window_attention", {"heads": 3, "window": 7, "shift": 0, "bias": True,
                                       **args}, (source,))
    return g


def test_swin_t_stage1_attention_by_hand():
    x = block((96, 56, 56), shift=3).layers[-1]
    assert x.params == 4 * 96 * 96 + 4 * 96 + 13 * 13 * 3 == 37_755  # projections, bias table
    assert x.buffers == 7**4 == 2_401  # the relative-position index
    assert x.macs == 4 * 56 * 56 * 96**2 + 2 * 56 * 56 * 7**2 * 96 == 145_108_992
    assert x.matmuls == 2 * 56 * 56 * 7**2 * 96 == 29_503_488  # 64 windows · 2 · 7⁴ · 96


def test_a_grid_not_a_multiple_of_the_window_is_padded():
    x = block((96, 10, 9)).layers[-1]  # padded to 14×14: four windows
    assert x.out_shape == (96, 10, 9)
    assert x.macs == 4 * 14 * 14 * 96**2 + 2 * 14 * 14 * 49 * 96  # = 7,225,344 + 1,843,968
    assert x.macs == 9_069_312


def test_patch_merge_by_hand():
    g = Graph((96, 7, 7), name="m")
    x = g.add("merge", "patch_merge", {}, ("input",))
    assert x.out_shape == (192, 4, 4)  # ⌈7/2⌉: the odd side padded
    assert x.params == 8 * 96 + 4 * 96 * 2 * 96 == 74_496  # layernorm(4C), linear 4C -> 2C
    assert x.macs == 4 * 96 * 2 * 96 * 4 * 4 == 1_179_648


@pytest.mark.parametrize("args, shape, message", [
    ({"shift": 7}, (96, 14, 14), "shift 7 must be smaller than the window 7"),
    ({"heads": 5}, (96, 14, 14), "dim 96 is not divisible by heads 5"),
    ({}, (96, 196), "window_attention needs a C×H×W input, got 96×196"),
])
def test_bad_windows_say_why(args, shape, message):
    with pytest.raises(ShapeError, match=message):
        block(shape, **args)


def test_window_lattice_by_hand():
    ax = Axis.pixel()  # tokens straight on pixels
    plain = window_axis(ax, 14, 7, 0)
    assert [plain.bounds(o) for o in (0, 6, 7, 13)] == [(0, 6), (0, 6), (7, 13), (7, 13)]
    shifted = window_axis(ax, 14, 7, 3)  # windows [3, 10), and [−4, 3) clipped to [0, 3)
    assert [shifted.bounds(o) for o in (0, 2, 3, 9, 10)] == [(-4, 2), (-4, 2), (3, 9), (3, 9),
                                                             (10, 16)]
    assert window_axis(ax, 7, 7, 3) == window_axis(ax, 7, 7, 0)  # one window: no roll
    one = window_axis(ax, 5, 7, 3)  # 5 tokens padded to 7: every token reads the 5
    assert [one.bounds(o) for o in range(5)] == [(0, 4)] * 5


def test_one_window_over_the_grid_is_global():
    g = block((96, 7, 7), shift=3)
    f = g.layers[-1].rf.max
    assert f.is_global and f.grid == (7, 7)


def test_projections_only_and_back():
    g = block((96, 56, 56), shift=3)
    full = g.totals().macs
    g.count_attention("projections")
    assert g.totals().macs == full - 29_503_488 == 4 * 56 * 56 * 96**2
    g.count_attention("projections")  # idempotent
    assert g.totals().macs == 4 * 56 * 56 * 96**2
    later = g.add("again", "window_attention", {"heads": 3, "window": 7, "shift": 0,
                                               "bias": True}, ("attn",))
    assert later.macs == 4 * 56 * 56 * 96**2  # a layer added afterwards follows the mode
    g.count_attention("all")
    assert g.totals().macs == 2 * full
    with pytest.raises(CnncalcError, match="unknown --attention-macs 'qk'"):
        g.count_attention("qk")
