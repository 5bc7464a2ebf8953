"""The exact per-unit field lattice (cnncalc/rf.py): upsampling, adaptive pooling, joins.

Each expected number is worked by hand beside it: unit o = m·q + r covers input pixels
[lo[r] + m·P, hi[r] + m·P]; `bounds(o)` gives that interval.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from cnncalc.core.rf import MAX_PERIOD, Axis, hull, num, numbers
from tests.conftest import layers_of

PIXEL = Axis.pixel()


def fields(ax: Axis, units: range) -> list[tuple[int, int] | None]:
    return [ax.bounds(o) for o in units]


def coarse() -> Axis:
    """conv 3 p1, maxpool 2, conv 3 p1, maxpool 2: one field per unit, 10 pixels, jump 4."""
    ax = PIXEL.window(3, 1, 1).window(2, 2, 0).window(3, 1, 1).window(2, 2, 0)
    # conv: [i−1, i+1]; pool: [2i−1, 2i+2]; conv at jump 2: [2i−3, 2i+4]; pool: [4i−3, 4i+6]
    assert fields(ax, range(2)) == [(-3, 6), (1, 10)]
    return ax


def test_a_window_on_a_plain_field_is_the_recurrence():
    ax = PIXEL.window(7, 2, 3).window(3, 2, 1)  # resnet's stem
    assert ax.q == 1
    assert ax.size == 7 + (3 - 1) * 2  # = 11
    assert ax.jump == 2 * 2  # = 4
    assert ax.start == (Fraction(7 - 1, 2) - 3) * 1 + (Fraction(3 - 1, 2) - 1) * 2  # = 0
    # the generic gather gives the same lattice as the fast path
    slow = PIXEL.window(7, 2, 3).gather(lambda o: [o * 2 - 1 + t for t in range(3)], 1, 2)
    assert slow == ax


def test_transposed_k2_s2_then_a_3x3_conv_per_unit():
    up = coarse().transposed(2, 2, 0)
    # output 2m and 2m + 1 both copy coarse unit m: [4m−3, 4m+6]; jump 4/2 = 2, q = 2
    assert fields(up, range(4)) == [(-3, 6), (-3, 6), (1, 10), (1, 10)]
    assert (up.q, up.jump, up.size) == (2, 2, 10)
    conv = up.window(3, 1, 1)
    # unit 2m reads 2m−1, 2m, 2m+1 = coarse m−1, m: [4m−7, 4m+6]; unit 2m+1: m, m+1: [4m−3, 4m+10]
    assert fields(conv, range(3)) == [(-7, 6), (-3, 10), (4 - 7, 4 + 6)]
    assert conv.size == 10 + 4  # = 14 for every unit, but the centres step 4, 0, 4, 0 …
    centres = [Fraction(a + b, 2) for a, b in fields(conv, range(4))]  # type: ignore[misc]
    assert [b - a for a, b in zip(centres, centres[1:])] == [4, 0, 4]
    # a second convT k2 s2 and a 3×3 conv (unet's decoder): units 4m … 4m+3 read, through the
    # copies, conv units (2m−1, 2m, 2m), (2m, 2m, 2m+1), (2m, 2m+1, 2m+1), (2m+1, 2m+1, 2m+2)
    conv2 = conv.transposed(2, 2, 0).window(3, 1, 1)
    sizes = [b - a + 1 for a, b in fields(conv2, range(4))]  # type: ignore[misc]
    assert sizes == [
        6 - (-7) + 1,  # 2m−1 and 2m are the same [4m−7, 4m+6]: 14
        10 - (-7) + 1,  # 2m ∪ 2m+1 = [4m−7, 4m+10]: 14 + 4 = 18
        10 - (-7) + 1,  # 18
        10 - (-3) + 1,  # 2m+1 and 2m+2 are the same [4m−3, 4m+10]: 14
    ]
    assert conv2.size == 18 and conv2.jump == 1  # the uniform recurrence said 14 + 2·1 = 16


def test_transposed_k3_s2_p1():
    ax = PIXEL.window(3, 1, 1).transposed(3, 2, 1)
    # output o reads i when o + 1 − t = 2i: o = 2m reads m (t = 1): [m−1, m+1], 3 pixels;
    # o = 2m + 1 reads m + 1 (t = 0) and m (t = 2): [m−1, m+2], 3 + 1 = 4
    assert fields(ax, range(3)) == [(-1, 1), (-1, 2), (0, 2)]
    assert (ax.size, ax.jump, ax.start) == (4, Fraction(1, 2), 0)


def test_transposed_with_k_below_s_leaves_units_without_a_field():
    ax = PIXEL.transposed(1, 2, 0)  # only even outputs receive an input
    assert fields(ax, range(4)) == [(0, 0), None, (1, 1), None]
    conv = ax.window(3, 1, 1)  # unit 2m+1 reads 2m, 2m+1 (nothing), 2m+2: [m, m+1]
    assert fields(conv, range(2)) == [(0, 0), (0, 1)] and conv.size == 2


def test_nearest_upsample_then_a_conv():
    up = coarse().upsample(2, bilinear=False)  # o copies ⌊o/2⌋: like the k2 s2 convT
    assert up == coarse().transposed(2, 2, 0)
    conv = PIXEL.window(3, 1, 1).upsample(3, bilinear=False).window(3, 1, 1)
    # ×3: units 3m, 3m+1, 3m+2 copy [m−1, m+1]; the conv's unit 3m reads 3m−1 (m−1), 3m, 3m+1
    # (m): [m−2, m+1] = 4; 3m+1 reads only m: 3; 3m+2 reads m, m, m+1: [m−1, m+2] = 4
    assert [b - a + 1 for a, b in fields(conv, range(3))] == [4, 3, 4]  # type: ignore[misc]
    assert (conv.size, conv.jump) == (4, Fraction(1, 3))


def test_bilinear_upsample_then_a_conv():
    up = PIXEL.window(3, 1, 1).upsample(2, bilinear=True)
    # x = (o + ½)/2 − ½: o = 2m gives m − ¼ (reads m−1, m: [m−2, m+1]); 2m+1 gives m + ¼ (m, m+1)
    assert fields(up, range(2)) == [(-2, 1), (-1, 2)] and up.size == 3 + 1
    conv = up.window(3, 1, 1)
    # unit 2m reads 2m−1, 2m ([m−2, m+1] both) and 2m+1 ([m−1, m+2]): [m−2, m+2]; unit 2m+1
    # reads 2m, 2m+1, 2m+2 ([m−1, m+2]): [m−2, m+2] too: 4 + 1 = 5
    assert fields(conv, range(2)) == [(-2, 2), (-2, 2)] and conv.size == 4 + 1
    # ×4: x = (o + ½)/4 − ½ is never whole: every output reads two neighbours
    assert PIXEL.upsample(4, bilinear=True).size == 2
    # ×3: x = (o + ½)/3 − ½ = m + (r − 1)/3 is whole for r = 1: that output reads one input
    assert fields(PIXEL.upsample(3, bilinear=True), range(3)) == [(-1, 0), (0, 0), (0, 1)]


def test_bilinear_after_a_transposed_conv_is_4_not_4_and_a_half():
    ax = PIXEL.window(3, 1, 1).transposed(3, 2, 1, 1).upsample(2, bilinear=True)
    # the convT's fields alternate 3 ([m−1, m+1]) and 4 ([m−1, m+2]); each bilinear output reads
    # one of each, and the 4 holds the 3
    assert ax.size == 4


def test_adaptive_pooling_7_to_3():
    ax = PIXEL.adaptive(7, 3)
    # bin i covers [⌊7i/3⌋, ⌈7(i+1)/3⌉): [0, 3), [2, 5), [4, 7): 3 pixels each; q = 3, P = 7
    assert fields(ax, range(4)) == [(0, 2), (2, 4), (4, 6), (7, 9)]
    assert (ax.size, ax.jump, ax.start) == (3, Fraction(7, 3), 1)
    # 6 → 4: [0, 2), [1, 3), [3, 5), [4, 6): the pattern of two repeats, q = 2, P = 3
    six = PIXEL.adaptive(6, 4)
    assert (six.q, six.period, six.size) == (2, 3, 2)
    # 7 → 7 and 8 → 4 are plain windows (k 1 s 1, k 2 s 2)
    assert PIXEL.adaptive(7, 7) == PIXEL.window(1, 1, 0)
    assert PIXEL.adaptive(8, 4) == PIXEL.window(2, 2, 0)


def test_a_join_is_the_union_of_its_paths():
    right = PIXEL.window(2, 1, 0)  # [i, i+1]
    left = PIXEL.window(2, 1, 1)  # [i−1, i]
    both = hull([right, left])
    assert both.bounds(0) == (-1, 1) and both.size == 3  # neither path's 2 holds the other
    # a stepped decoder path beside a plain skip: the union per residue over the common period
    up = coarse().transposed(2, 2, 0)  # q = 2, jump 2: [4m−3, 4m+6] twice
    skip = PIXEL.window(3, 1, 1).window(2, 2, 0)  # jump 2: [2i−1, 2i+2]
    u = hull([up, skip])
    assert fields(u, range(2)) == [(-3, 6), (-3, 6)] and u.jump == 2


def test_a_repeating_pattern_is_stored_with_its_shortest_period():
    ax = PIXEL.upsample(2, bilinear=False).window(2, 2, 0)  # ×2 then a 2×2 pool: the identity
    assert ax == PIXEL


def test_a_period_that_blows_up_falls_back_to_an_envelope():
    exact = PIXEL.adaptive(101, 97)  # q = 97 units per 101 pixels
    ax = exact.upsample(50, bilinear=False)  # the period would be 97·50 units
    assert ax.q <= MAX_PERIOD
    assert ax.jump == Fraction(101, 97) / 50  # still exact
    for o in range(0, 5000, 7):  # the envelope holds every unit's true field
        lo, hi = ax.bounds(o)  # type: ignore[misc]
        true_lo, true_hi = exact.bounds(o // 50)  # type: ignore[misc]
        assert lo <= true_lo and true_hi <= hi


def test_unet_like_decoder_through_the_engine(spec):
    rows = {x["name"]: x for x in layers_of(spec("""
        - {conv: {out: 2, k: 3, p: 1}}
        - {maxpool: 2}
        - {conv: {out: 2, k: 3, p: 1}}
        - {maxpool: 2}
        - {conv: {out: 2, k: 3, p: 1}}
        - {convT: {out: 2, k: 2, s: 2}}
        - {conv: {out: 2, k: 3, p: 1}}
        - {convT: {out: 2, k: 2, s: 2}}
        - {conv: {out: 2, k: 3, p: 1}}
    """, input="1x64x64"))}
    assert rows["conv3"]["rf"]["size"] == [3 + 1 + 2 * 2 + 1 * 2 + 2 * 4] * 2  # = 18, jump 4
    assert rows["conv4"]["rf"]["size"] == [18 + 4] * 2  # two coarse units: 22
    assert rows["conv5"]["rf"]["size"] == [22 + 4] * 2  # = 26 (the recurrence: 22 + 2·1 = 24)
    assert rows["conv5"]["rf"]["jump"] == [1, 1]


def test_explain_does_not_show_a_recurrence_that_does_not_hold(spec):
    from cnncalc.frontends.load import analyze
    from cnncalc.report.explain import rf_steps

    g = analyze(spec("""
        - {conv: {out: 2, k: 3, p: 1}}
        - {maxpool: 2}
        - {convT: {out: 2, k: 2, s: 2}}
        - {conv: {out: 2, k: 3, p: 1}}
    """, input="1x16x16"))
    plain = rf_steps(g, g.nodes["conv1"])
    assert [s.lhs for s in plain] == ["r", "j", "start"]  # r ← 1 + (3−1)·1·1 = 3 …
    after = rf_steps(g, g.nodes["conv2"])
    # conv1 3, pool +1 = 4 at jump 2; convT copies pairs; conv2 reads two pool units: 4 + 2 = 6
    assert after[0].chain == (str(4 + 2),) and "largest field over units" in after[0].what


@given(st.integers(-10**6, 10**6), st.integers(0, 10**6), st.integers(0, 10**4),
       st.integers(1, 4))
def test_json_numbers_of_an_axis_equal_the_fractions(lo, width, period, q):
    # rf.numbers skips the Fractions on a q = 1 axis of ints; it must give what num() gives,
    # int where whole and float where not, on every lattice
    axes = [Axis((lo,), (lo + width,), period),
            Axis(tuple(lo + r for r in range(q)), tuple(lo + width + r for r in range(q)),
                 period * q)]
    for ax in axes:
        want = (num(ax.size), num(ax.jump), num(ax.start))
        got = numbers(ax)
        assert got == want and [type(x) for x in got] == [type(x) for x in want]
