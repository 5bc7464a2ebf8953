"""Property: random graphs built from the corners of issue 14, compared with torch.

Graphs draw broadcast multiplies (a gate from gap, adaptive [1, W] or [H, 1], or a valid conv as
large as the map, in either order), splits after concats (with or without a shuffle), pools with
k 1–6, s 1–4, d 1–3 and ceil_mode on maps shrunk to a few pixels, bilinear upsampling with
align_corners, and residual adds. For each: shapes, params and MACs against a meta-device torch
build, and the receptive field of the corner, centre and last unit of every layer against the
gradient support of the linearised torch build (tests/measure/unit_fields.py). A pool the engine
refuses must be one torch refuses too (sizes: every dilation with padding and ceil_mode; fields:
dilation only without them, since a field is the hull of what a unit reads, and a dilated window
whose outer taps fall in the padding leaves holes at the border that a hull cannot show: see
docs/conventions.md). A second property traces random torch modules with tied
weights (and a weight-standardised conv, a learnable position map) and compares the params with
`sum(p.numel() for p in m.parameters())` and MACs with FlopCounterMode / 2.

Examples per run: CNNCALC_PROPERTY_EXAMPLES (default 200 each, 400 in all per CI run; about a
minute on two cores). Set it to 2000 or more for a long run.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.core.engine import Graph
from cnncalc.core.errors import ShapeError

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional

from cnncalc.frontends.torch_model.trace import trace_graph  # noqa: E402
from tests.measure.test_property import check  # noqa: E402
from tests.measure.unit_fields import disagreements  # noqa: E402

EXAMPLES = int(os.environ.get("CNNCALC_PROPERTY_EXAMPLES", "200"))
OPS = ("conv", "shrink", "bcast_mul", "cat_split", "tiny_pool", "tiny_pool", "upsample",
       "residual")


def conv(out: int, k: int | list[int], s: int = 1, p: int = 0, groups: int = 1) -> dict:
    return {"out": out, "kernel_size": k, "stride": s, "padding": p, "dilation": 1,
            "groups": groups, "bias": True}


class Builder:
    def __init__(self, g: Graph):
        self.g, self.i = g, 0

    def add(self, kind: str, args: dict, inputs: list[str]) -> str | None:
        self.i += 1
        name = f"{kind}{self.i}"
        try:
            self.g.add(name, kind, args, inputs)
        except ShapeError:
            return None
        return name


def torch_refuses_pool(kind: str, shape: tuple[int, ...], a: dict) -> bool:
    x = torch.zeros(1, *shape)
    try:
        if kind == "maxpool":
            F.max_pool2d(x, a["kernel_size"], a["stride"], a["padding"], a["dilation"],
                         ceil_mode=a["ceil_mode"])
        else:
            F.avg_pool2d(x, a["kernel_size"], a["stride"], a["padding"], ceil_mode=a["ceil_mode"])
    except RuntimeError:
        return True
    return False


def step(draw, b: Builder, cur: str) -> str:
    g = b.g
    c, h, w = g.shape(cur)
    op = draw(st.sampled_from(OPS))
    if op == "conv":
        k = draw(st.sampled_from([1, 3, 5]))
        return b.add("conv", conv(draw(st.integers(1, 6)), k, 1, k // 2), [cur]) or cur
    if op == "shrink":
        return b.add("conv", conv(c, 3, 2, 1), [cur]) or cur
    if op == "bcast_mul":
        how = draw(st.sampled_from(["gap", "rows", "cols", "valid"]))
        if how == "gap":
            gate = b.add("gap", {}, [cur])
        elif how == "valid":
            gate = b.add("conv", conv(c, [h, w]), [cur])
        else:
            gate = b.add("adaptive_avgpool", {"size": [1, w] if how == "rows" else [h, 1]}, [cur])
        assert gate is not None
        gate = b.add("conv", conv(c, 1), [gate])
        gate = b.add("sigmoid", {}, [gate])
        ins = [cur, gate] if draw(st.booleans()) else [gate, cur]
        return b.add("mul", {}, ins) or cur
    if op == "cat_split":
        k = draw(st.sampled_from([1, 3, 5, 7]))
        other = b.add("conv", conv(draw(st.integers(1, 4)), k, 1, k // 2), [cur])
        assert other is not None
        ins = [cur, other] if draw(st.booleans()) else [other, cur]
        cat = b.add("concat", {}, ins)
        assert cat is not None
        total = g.shape(cat)[0]
        if draw(st.booleans()) and total % 2 == 0:
            cat = b.add("shuffle", {"groups": 2}, [cat]) or cat
        cut = draw(st.integers(1, total - 1)) if total > 1 else 0
        if not cut:
            return cat
        return b.add("split", {"parts": 2, "sizes": [cut, total - cut],
                               "index": draw(st.integers(0, 1))}, [cat]) or cat
    if op == "tiny_pool":
        kind = draw(st.sampled_from(["maxpool", "avgpool"]))
        k = draw(st.integers(1, 6))
        a = {"kernel_size": k, "stride": draw(st.integers(1, 4)),
             "padding": draw(st.integers(0, k // 2)), "ceil_mode": draw(st.booleans())}
        if kind == "maxpool":  # dilated with padding or ceil: holes at the border, see below
            plain = a["padding"] == 0 and not a["ceil_mode"]
            a["dilation"] = draw(st.integers(1, 3)) if plain else 1
        else:
            a["count_include_pad"] = True
        out = b.add(kind, a, [cur])
        if out is None:  # refused: torch must refuse it too
            assert torch_refuses_pool(kind, (c, h, w), a), (kind, (c, h, w), a)
        return out or cur
    if op == "upsample":
        bilinear = draw(st.booleans())
        a = {"scale_factor": draw(st.integers(2, 3)), "mode": "bilinear" if bilinear else "nearest",
             "align_corners": bilinear and draw(st.booleans())}
        return b.add("upsample", a, [cur]) or cur
    k = draw(st.sampled_from([1, 3]))
    branch = b.add("conv", conv(c, k, 1, k // 2), [cur])
    assert branch is not None
    return b.add("add", {}, [cur, branch]) or cur


@st.composite
def graphs(draw) -> Graph:
    g = Graph((draw(st.integers(1, 4)), draw(st.integers(3, 20)), draw(st.integers(3, 20))),
              "corners")
    b, cur = Builder(g), "input"
    for _ in range(draw(st.integers(1, 6))):
        cur = step(draw, b, cur)
    return g


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_random_corner_graphs_match_torch(g):
    check(g)  # shapes, params, MACs
    assert disagreements(g) == []  # per-unit fields


# Tied weights, computed weights, position maps: through the fx import -------------------------

class StdConv(nn.Conv2d):
    def forward(self, x):
        w = self.weight
        w = (w - w.mean(dim=(1, 2, 3), keepdim=True)) / (
            w.var(dim=(1, 2, 3), keepdim=True, correction=0) + 1e-5).sqrt()
        return F.conv2d(x, w, self.bias, self.stride, self.padding)


class Chain(nn.Module):
    def __init__(self, c: int, kernels: list[int], ties: list[int], std: int, pos: bool,
                 hw: int):
        super().__init__()
        self.convs = nn.ModuleList(
            (StdConv if i == std else nn.Conv2d)(c, c, k, padding=k // 2)
            for i, k in enumerate(kernels))
        for i, j in enumerate(ties):  # tie conv i's weight to an earlier conv of the same kernel
            if j < i and kernels[j] == kernels[i]:
                self.convs[i].weight = self.convs[j].weight
        self.pos = nn.Parameter(torch.zeros(1, c, hw, hw)) if pos else None

    def forward(self, x):
        for m in self.convs:
            x = F.relu(m(x))
        return x + self.pos if self.pos is not None else x


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_tied_modules_count_like_torch(data):
    n = data.draw(st.integers(1, 5))
    kernels = data.draw(st.lists(st.sampled_from([1, 3]), min_size=n, max_size=n))
    ties = data.draw(st.lists(st.integers(0, n - 1), min_size=n, max_size=n))
    std = data.draw(st.integers(-1, n - 1))
    pos, c = data.draw(st.booleans()), data.draw(st.integers(1, 4))
    m = Chain(c, kernels, ties, std, pos, 6)
    g = trace_graph(m, (c, 6, 6))
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as fc:
        m(torch.zeros(1, c, 6, 6))
    assert g.totals().params == sum(p.numel() for p in m.parameters())
    assert g.totals().macs == fc.get_total_flops() // 2
    assert len(g.partial) == int(pos)  # only `x + self.pos` has no kind
    assert not [n for n in g.notes if n.code == "unused-params"]
