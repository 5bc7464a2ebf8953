"""Property: for random valid graphs, the engine's shapes, params and MACs equal torch's.

Graphs are drawn through the engine's Graph API: convs (kernel, stride, padding, dilation,
groups), pools, transposed convs, linears, residual adds, concats, adaptive pools, upsampling and
a flattened head. A layer whose shapes do not work out is left out (the engine raises ShapeError
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


def conv_args(draw, c: int) -> dict:
    groups = draw(st.sampled_from(divisors(c)))
    k = draw(st.integers(1, 5))
    s = draw(st.integers(1, 3))
    pad = draw(st.one_of(st.integers(0, 3), st.just("same") if s == 1 else st.just(0)))
    return {"out": groups * draw(st.integers(1, 3)), "kernel_size": k, "stride": s,
            "padding": pad, "dilation": draw(st.integers(1, 2)), "groups": groups,
            "bias": draw(st.booleans())}


def convt_args(draw, c: int) -> dict:
    groups = draw(st.sampled_from(divisors(c)))
    s, d = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    return {"out": groups * draw(st.integers(1, 3)), "kernel_size": draw(st.integers(1, 4)),
            "stride": s, "padding": draw(st.integers(0, 2)),
            "output_padding": draw(st.integers(0, max(s, d) - 1)), "dilation": d,
            "groups": groups, "bias": draw(st.booleans())}


def pool_args(draw, kind: str) -> dict:
    k = draw(st.integers(1, 3))
    a = {"kernel_size": k, "stride": draw(st.integers(1, 3)), "padding": draw(st.integers(0, k // 2)),
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
    c = g.shape(cur)[0]
    n = f"l{i}"
    if op == "conv":
        return add(g, n, "conv", conv_args(draw, c), [cur]) or cur
    if op == "convT":
        return add(g, n, "convT", convt_args(draw, c), [cur]) or cur
    if op in ("maxpool", "avgpool"):
        return add(g, n, op, pool_args(draw, op), [cur]) or cur
    if op == "linear":
        return add(g, n, "linear", {"out": draw(st.integers(1, 6)), "bias": draw(st.booleans())},
                   [cur]) or cur
    if op == "adaptive":
        kind = draw(st.sampled_from(["adaptive_avgpool", "adaptive_maxpool"]))
        size = [draw(st.integers(1, 5)), draw(st.integers(1, 5))]
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
    c, h, w = draw(st.integers(1, 8)), draw(st.integers(4, 40)), draw(st.integers(4, 40))
    g = Graph((c, h, w), "random")
    cur = "input"
    for i in range(draw(st.integers(1, 7))):
        cur = step(draw, g, cur, i)
    if draw(st.booleans()) and len(g.shape(cur)) == 3:
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

def build(shape: tuple[int, int, int], *layers: tuple[str, str, dict, list[str]]) -> Graph:
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
