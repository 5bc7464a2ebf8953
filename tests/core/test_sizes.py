"""`cnncalc sizes` arithmetic: the replayed scan against the engine, the cost formulas against
`shapes`, summaries, border layers, tiling, rf targets and conv --to."""

from __future__ import annotations

import random

import pytest

from cnncalc.core.costs import Floor, derive
from cnncalc.core.design import analyze_sizes, conv_choices, describe, reach
from cnncalc.core.errors import CnncalcError, ShapeError
from cnncalc.core.sizes import _projection, scan
from cnncalc.frontends.load import build, load_spec
from cnncalc.frontends.sizes import lowering, parse_range, stack_to_target


def engine(spec, h, w):
    """What the engine says at one size: (error,) or (params, MACs, activations, drops)."""
    try:
        g = build(spec, (spec.input_shape[0], h, w))
    except ShapeError as e:
        return (str(e),)
    t = g.totals()
    return (t.params, t.macs, t.activations,
            tuple(dict.fromkeys(x.layer for x in g.floor_warnings)))


def replayed(o):
    return (o.error,) if not o.runs else (o.params, o.macs, o.activations, o.drops)


def test_unet_every_size_listed_and_unlisted_agrees_with_the_engine():
    s = load_spec("unet")
    r = scan(lowering(s), s.name, 1, parse_range("32..512"))
    assert [o.h for o in r.outcomes if o.runs] == list(range(32, 513, 16))  # 4 pools: 2^4
    for o in r.outcomes:
        assert replayed(o) == engine(s, o.h, o.w), o.h
    assert r.lowered == 1  # one lowering, 480 replays
    fails = [o for o in r.outcomes if not o.runs]
    assert all(o.at_join for o in fails)  # a concat whose paths differ: would need cropping


@pytest.mark.parametrize("name", ["resnet50", "inception_v3", "googlenet", "mobilenet_v3_small",
                                  "squeezenet1_0", "densenet121"])
def test_replay_matches_the_engine(name):
    s = load_spec(name)
    sizes = [(n, n) for n in range(30, 330, 3)] + [(97, 64), (64, 201), (33, 300)]
    r = scan(lowering(s), s.name, s.input_shape[0], sizes)
    for o in r.outcomes:
        assert replayed(o) == engine(s, o.h, o.w), (o.h, o.w)


def test_projection_rule_is_lower_py_brute_force():
    for a in range(1, 70):
        for b in range(1, 70):
            brute = next((s for s in range(1, a + 1) if -(-a // s) == b), 0)
            assert _projection((1, a, a), (1, b, b)) == (brute, brute)


def test_resnet50_macs_formula_reproduces_shapes_at_20_random_sizes():
    s = load_spec("resnet50")
    r = scan(lowering(s), s.name, 3, parse_range("32..1024"))
    costs = derive(r.programs[0], r.outcomes)
    assert costs.params == 25_557_032
    assert costs.macs is not None and costs.macs.wrong == () and costs.macs.checked == 993
    rnd = random.Random(19)
    for _ in range(20):
        h, w = rnd.randint(32, 1024), rnd.randint(32, 1024)
        g = build(s, (3, h, w))
        assert costs.macs(h, w) == g.totals().macs, (h, w)
        assert costs.activations is not None
        assert costs.activations(h, w) == g.totals().activations, (h, w)
    # the stem's term: 64 filters of 3·7·7 on ⌈H/2⌉×⌈W/2⌉ outputs
    assert costs.macs.terms[0].coef == 64 * 3 * 7 * 7
    assert costs.macs.terms[0].h == Floor(1, 1, 2, 0)  # ⌊(H + 1)/2⌋ = ⌈H/2⌉
    assert costs.macs(224, 224) == 4_089_184_256


def test_floor_algebra():
    f = Floor(1, 0, 1, 0).window(-1, 2)  # 3×3 s2 p1 on n: ⌊(n − 1)/2⌋ + 1 = ⌈n/2⌉
    assert f is not None and f.text("H") == "⌈H/2⌉"
    g = f.window(-1, 2)  # twice: ⌈n/4⌉
    assert g is not None and all(g(n) == -(-n // 4) for n in range(1, 200))
    up = Floor(1, 0, 2, 0).scale(2, 0)  # a 2×2 pool then a stride-2 transposed conv
    assert up.text("H") == "2·⌊H/2⌋" and up(33) == 32


def test_describe():
    assert describe(list(range(32, 513, 16)), 512) == "multiples of 16 from 32"
    assert describe(list(range(75, 1025)), 1024) == "every size from 75"
    assert describe([33, 65, 97], 100) == "every 32th size from 33 (1 mod 32)"
    assert describe([1, 2, 3, 7, 9, 10], 10) == "1–3, 7, 9–10"
    assert describe([], 10) == "none"


def test_ranges():
    assert parse_range("32..34") == [(32, 32), (33, 33), (34, 34)]
    assert parse_range("64..128:32x10..11") == [(64, 10), (64, 11), (96, 10), (96, 11),
                                                (128, 10), (128, 11)]
    for bad in ("32-64", "64..32", "0..5", "1..2x3..4x5..6"):
        with pytest.raises(CnncalcError):
            parse_range(bad)
    with pytest.raises(CnncalcError, match="at most 10,000"):
        parse_range("1..200x1..200")


def test_tiling_and_border_layers_for_unet():
    s = load_spec("unet")
    r = analyze_sizes(lowering(s), s.name, s.input_shape, parse_range("32..512"),
                      [(128, 128), (256, 256)], tile=512)
    g = build(s)
    field = g.output.rf.max.h.size
    assert r.tile is not None and r.tile.field == (field, field) and r.tile.jump == (1, 1)
    assert r.tile.units[0] == 512 - field + 1  # every window of the field's size in the tile
    assert r.tile.overlap[0] == field - 1
    b = r.borders[0]
    layer = next(x for x in g.layers if x.rf.max.h.size > 128)
    assert b.layer == layer.name  # the first layer whose field exceeds 128
    assert r.borders[1].layer is None  # at 256 no field exceeds the input
    with pytest.raises(CnncalcError, match="smaller than the receptive field"):
        analyze_sizes(lowering(s), s.name, s.input_shape, [(128, 128)], tile=64)


def test_rf_target():
    r = stack_to_target("3x3", 224, None)
    assert r.layers == 112 and r.field == (225, 225) and r.before == (223, 223)  # 1 + 2·112
    g = build(load_spec("resnet50"))
    hit = reach(g, 224)
    first = next(x for x in g.layers if min(x.rf.max.h.size, x.rf.max.w.size) >= 224)
    assert hit.layer == first.name and hit.stage == "layer3"
    assert reach(g, 10**6).layer is None
    with pytest.raises(CnncalcError, match="never reaches"):
        stack_to_target("1x1", 5, None)


def test_conv_choices():
    choices = conv_choices(224, 112)
    assert (choices[0].k, choices[0].s, choices[0].p, choices[0].d) == (3, 2, 1, 1)
    for c in choices:  # every choice checked by the output-size formula
        assert (224 + 2 * c.p - c.d * (c.k - 1) - 1) // c.s + 1 == 112
    assert conv_choices(224, 500) == []
