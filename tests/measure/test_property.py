"""Property: for random valid graphs, the engine's shapes, params and MACs equal torch's.

Graphs are drawn through the engine's Graph API on an input of 1, 2 or 3 spatial axes (C×L,
C×H×W, C×T×H×W; the rank is drawn too): convs (kernel, stride, padding — per axis, as
(leading, trailing) pairs or causal —, dilation, groups), pools, transposed convs, linears,
residual adds, concats, adaptive pools, upsampling and a flattened head. A layer whose shapes do not work out is left out (the engine raises ShapeError
for it), so every drawn graph is valid. Built on the meta device, so no data is computed.

Examples per run: CNNCALC_PROPERTY_EXAMPLES (default 200); set it to 2000 or more for a long run.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.core.engine import Graph
from cnncalc.core.errors import ShapeError

torch = pytest.importorskip("torch")

from cnncalc.measure.counts import meta_measure  # noqa: E402

EXAMPLES = int(os.environ.get("CNNCALC_PROPERTY_EXAMPLES", "200"))
OPS = ("conv", "conv", "convT", "maxpool", "avgpool", "linear", "residual", "concat",
       "adaptive", "upsample", "bn_relu")


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def per_axis(draw, values, rank: int):
    """One value for every axis, or (sometimes) one drawn per axis."""
    if rank == 2 or not draw(st.booleans()):
        return draw(values)
    return tuple(draw(values) for _ in range(rank))


def pads(draw, rank: int, most: int = 3):
    """(leading, trailing) per axis, with one pair at least asymmetric."""
    pairs = [(draw(st.integers(0, most)), draw(st.integers(0, most))) for _ in range(rank)]
    return tuple(pairs) if any(lo != hi for lo, hi in pairs) else ((1, 0), *pairs[1:])


def conv_args(draw, c: int, rank: int = 2) -> dict:
    groups = draw(st.sampled_from(divisors(c)))
    k = per_axis(draw, st.integers(1, 5), rank)
    s = per_axis(draw, st.integers(1, 3), rank)
    one = s == 1
    pad = draw(st.one_of(st.integers(0, 3), st.just("same") if one else st.just(0),
                         st.just("causal"), st.just(pads(draw, rank))))
    return {"out": groups * draw(st.integers(1, 3)), "kernel_size": k, "stride": s,
            "padding": pad, "dilation": per_axis(draw, st.integers(1, 2), rank),
            "groups": groups, "bias": draw(st.booleans())}


def convt_args(draw, c: int, rank: int = 2) -> dict:
    groups = draw(st.sampled_from(divisors(c)))
    s, d = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    return {"out": groups * draw(st.integers(1, 3)),
            "kernel_size": per_axis(draw, st.integers(1, 4), rank),
            "stride": s, "padding": draw(st.integers(0, 2)),
            "output_padding": draw(st.integers(0, max(s, d) - 1)), "dilation": d,
            "groups": groups, "bias": draw(st.booleans())}


def pool_args(draw, kind: str, rank: int = 2) -> dict:
    k = draw(st.integers(1, 3))
    pad = draw(st.integers(0, k // 2)) if rank == 2 or draw(st.booleans()) else \
        draw(st.sampled_from(["causal", pads(draw, rank, 2)]))
    a = {"kernel_size": k, "stride": per_axis(draw, st.integers(1, 3), rank), "padding": pad,
         "ceil_mode": draw(st.booleans())}
    if kind == "maxpool":
        a["dilation"] = draw(st.integers(1, 2))
    else:
        a["count_include_pad"] = draw(st.booleans())
    return a


def add(g: Graph, name: str, kind: str, args: dict, inputs: list[str]) -> str | None:
    try:
        g.add(name, kind, args, inputs)
    except ShapeError:
        return None
    return name


def step(draw, g: Graph, cur: str, i: int) -> str:
    """One drawn op after node `cur`; returns the new current node (unchanged when invalid)."""
    op = draw(st.sampled_from(OPS))
    c, rank = g.shape(cur)[0], g.rank
    n = f"l{i}"
    if op == "conv":
        return add(g, n, "conv", conv_args(draw, c, rank), [cur]) or cur
    if op == "convT":
        return add(g, n, "convT", convt_args(draw, c, rank), [cur]) or cur
    if op in ("maxpool", "avgpool"):
        return add(g, n, op, pool_args(draw, op, rank), [cur]) or cur
    if op == "linear":
        return add(g, n, "linear", {"out": draw(st.integers(1, 6)), "bias": draw(st.booleans())},
                   [cur]) or cur
    if op == "adaptive":
        kind = draw(st.sampled_from(["adaptive_avgpool", "adaptive_maxpool"]))
        size = [draw(st.integers(1, 5)) for _ in range(rank)]
        return add(g, n, kind, {"size": size}, [cur]) or cur
    if op == "upsample":
        args = {"scale_factor": draw(st.integers(1, 2)),
                "mode": draw(st.sampled_from(["nearest", "bilinear"]))}
        return add(g, n, "upsample", args, [cur]) or cur
    if op == "bn_relu":
        cur = add(g, n, "bn", {"eps": 1e-5, "momentum": 0.1, "affine": True}, [cur]) or cur
        return add(g, n + "r", "relu", {}, [cur]) or cur
    k = draw(st.sampled_from([1, 3, 5]))
    branch = {"out": c if op == "residual" else draw(st.integers(1, 6)), "kernel_size": k,
              "stride": 1, "padding": k // 2, "dilation": 1, "groups": 1, "bias": False}
    b = add(g, n + "b", "conv", branch, [cur])
    if b is None:
        return cur
    return add(g, n, "add" if op == "residual" else "concat", {}, [cur, b]) or b


@st.composite
def graphs(draw) -> Graph:
    rank = draw(st.sampled_from([2, 2, 1, 3]))
    largest = {1: 64, 2: 40, 3: 12}[rank]
    c = draw(st.integers(1, 8))
    g = Graph((c, *(draw(st.integers(4, largest)) for _ in range(rank))), "random")
    cur = "input"
    for i in range(draw(st.integers(1, 7))):
        cur = step(draw, g, cur, i)
    if draw(st.booleans()) and len(g.shape(cur)) == rank + 1:
        cur = add(g, "flat", "flatten", {}, [cur]) or cur
        add(g, "head", "linear", {"out": draw(st.integers(1, 10)), "bias": True}, [cur])
    return g


def measured(g: Graph) -> tuple[dict, dict, dict]:
    m = meta_measure(g)  # one meta-device forward: hooks per layer, FlopCounterMode / 2
    return m.shapes, m.params, m.macs


def check(g: Graph) -> None:
    shapes, params, macs = measured(g)
    assert {x.name: x.out_shape for x in g.layers} == shapes
    assert {x.name: x.params for x in g.layers} == params
    assert {x.name: x.macs for x in g.layers} == macs


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_random_graphs_match_torch(g):
    check(g)


# Regression tests: cases the property found or that sit on an edge --------------------------

def build(shape: tuple[int, ...], *layers: tuple[str, str, dict, list[str]]) -> Graph:
    g = Graph(shape, "regression")
    for name, kind, args, inputs in layers:
        g.add(name, kind, args, inputs)
    return g


def test_ceil_mode_pool_whose_last_window_would_start_in_the_padding():
    # H = 5, k 2, s 2, p 1, ceil: ⌈(5 + 2 − 1 − 1)/2⌉ + 1 = 4, but window 4 starts at 6 ≥ 5 + 1
    g = build((1, 5, 5), ("p", "maxpool", {"kernel_size": 2, "stride": 2, "padding": 1,
                                           "dilation": 1, "ceil_mode": True}, ["input"]))
    assert g.shape("p") == (1, 3, 3)  # = ⌈5/2⌉ + 1 − 1
    check(g)


def test_transposed_conv_with_groups_dilation_and_output_padding():
    args = {"out": 4, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1,
            "dilation": 2, "groups": 2, "bias": True}
    g = build((2, 5, 7), ("t", "convT", args, ["input"]))
    # (5 − 1)·2 − 2·1 + 2·(3 − 1) + 1 + 1 = 12; (7 − 1)·2 − 2 + 4 + 1 + 1 = 16
    assert g.shape("t") == (4, 12, 16)
    assert g.nodes["t"].macs == 2 * (4 // 2) * 3 * 3 * 5 * 7  # C_in · C_out/g · k² · H_in · W_in
    check(g)


def test_same_padding_with_an_even_dilated_kernel():
    args = {"out": 3, "kernel_size": 4, "stride": 1, "padding": "same", "dilation": 2,
            "groups": 1, "bias": False}
    g = build((1, 9, 6), ("c", "conv", args, ["input"]))
    assert g.shape("c") == (3, 9, 6)  # total padding 2·(4 − 1) = 6: 3 before, 3 after
    check(g)


def test_linear_on_a_map_then_concat():
    g = build((3, 4, 4), ("fc", "linear", {"out": 5, "bias": True}, ["input"]),
              ("cat", "concat", {}, ["input", "fc"]))
    assert g.shape("cat") == (3 + 5, 4, 4)
    assert g.nodes["fc"].macs == 3 * 5 * 4 * 4  # in · out at each of the 16 positions = 240
    check(g)


def test_a_map_no_pixel_reaches_joins_without_a_field():
    # convT k1 s2 leaves odd units empty; conv k1 s2 p1 reads units 2o − 1, all odd: no unit of
    # `c` reads any pixel (size 0; torch: a zero gradient everywhere); the join used to crash
    t = {"out": 1, "kernel_size": 1, "stride": 2, "padding": 0, "output_padding": 0,
         "dilation": 1, "groups": 1, "bias": False}
    c = {"out": 1, "kernel_size": 1, "stride": 2, "padding": 1, "dilation": 1, "groups": 1,
         "bias": False}
    g = build((1, 4, 4), ("t", "convT", t, ["input"]), ("c", "conv", c, ["t"]),
              ("a", "add", {}, ["c", "c"]))
    assert g.shape("c") == (1, (7 + 2 - 1) // 2 + 1, 5)  # = 5×5
    assert g.nodes["a"].rf.max.h.size == 0
    check(g)


def test_a_causal_dilated_stack_and_asymmetric_padding_on_one_axis():
    g = build((1, 32), ("c1", "conv", {"out": 2, "kernel_size": 2, "stride": 1,
                                       "padding": "causal", "dilation": 4, "groups": 1,
                                       "bias": True}, ["input"]),
              ("p", "maxpool", {"kernel_size": 3, "stride": 2, "padding": ((2, 1),),
                                "dilation": 1, "ceil_mode": False}, ["c1"]))
    assert g.shape("c1") == (2, 32)  # 32 + 4·(2 − 1) + 0 − 4·(2 − 1) − 1 + 1
    assert g.shape("p") == (2, 17)  # ⌊(32 + 2 + 1 − 3)/2⌋ + 1 = 17
    assert g.nodes["c1"].rf.max.axes()[0].start == -2  # the field of unit 0: [−4, 0]
    check(g)


def test_a_video_stem_with_per_axis_kernel_stride_and_padding():
    g = build((3, 8, 16, 16), ("c", "conv", {"out": 4, "kernel_size": (3, 7, 7),
                                             "stride": (1, 2, 2), "padding": (1, 3, 3),
                                             "dilation": 1, "groups": 1, "bias": False},
                               ["input"]))
    assert g.shape("c") == (4, 8, 8, 8)  # T: 8 + 2 − 2 − 1 + 1; H: ⌊(16 + 6 − 6 − 1)/2⌋ + 1
    assert g.nodes["c"].macs == 4 * 3 * 3 * 7 * 7 * 8 * 8 * 8  # C_out·C_in·K_t·K_h·K_w·T·H·W
    check(g)


def test_a_3d_average_pool_refuses_an_axis_shorter_than_its_window():
    # torch's avg_pool3d (not 1-D, not 2-D, not max) checks T, H, W ≥ k before padding: T = 2 < 3
    pool = {"kernel_size": 3, "stride": 1, "padding": 1, "ceil_mode": False,
            "count_include_pad": True}
    with pytest.raises(ShapeError, match="avg_pool3d"):
        build((1, 2, 4, 4), ("p", "avgpool", pool, ["input"]))
    window = {k: v for k, v in pool.items() if k != "count_include_pad"}
    g = build((1, 2, 4, 4), ("p", "maxpool", {**window, "dilation": 1}, ["input"]))
    assert g.shape("p") == (1, 2, 4, 4)  # (2 + 2 − 2 − 1)/1 + 1 = 2; (4 + 2 − 3)/1 + 1 = 4
    check(g)
    two = build((1, 2, 4), ("p", "avgpool", pool, ["input"]))
    assert two.shape("p") == (1, 2, 4)  # the 2-D pool takes it
    check(two)
