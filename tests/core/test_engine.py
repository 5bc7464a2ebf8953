"""The engine called directly: `Graph.add` computes each layer's shape, params, MACs and receptive
field the moment it is added. Every expected number has its hand arithmetic beside it:
out = (n + 2·p − d·(k−1) − 1)//s + 1; conv params = out·(in/groups)·k² (+ out with bias);
conv MACs = params without bias × H_out·W_out; field size r' = r + (k−1)·d·j, jump j' = j·s.
"""

from __future__ import annotations

import pytest

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.errors import ShapeError

CONV = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True}
POOL = {"padding": 0, "dilation": 1, "ceil_mode": False}


def conv(out: int, k: int, **kw) -> dict:
    return {**CONV, "out": out, "kernel_size": k, **kw}


def field(x: Layer) -> tuple[int, int, int]:
    """(size, jump, start) of the largest field on the h axis."""
    h = x.rf.max.h
    return h.size, h.jump, h.start


@pytest.fixture
def stem() -> Graph:
    """ResNet's stem on 3×224×224: 7×7/2 conv, 3×3/2 max pool."""
    g = Graph((3, 224, 224), "stem")
    g.add("conv1", "conv", conv(64, 7, stride=2, padding=3, bias=False), ["input"])
    g.add("pool", "maxpool", {**POOL, "kernel_size": 3, "stride": 2, "padding": 1}, ["conv1"])
    return g


def test_conv_shape_params_macs_and_field(stem):
    x = stem.nodes["conv1"]
    assert x.out_shape == (64, (224 + 2*3 - 1*(7-1) - 1)//2 + 1, 112)  # = 112
    assert x.params == 64 * 3 * 7 * 7  # = 9,408, no bias
    assert x.macs == 64 * 3 * 7 * 7 * 112 * 112  # = 118,013,952
    assert x.other_ops == 0  # no bias to add
    # size 1 + (7−1)·1·1 = 7, jump 1·2 = 2; unit 0 reads pixels −3..3, centred on 0
    assert field(x) == (7, 2, 0)


def test_pool_after_the_stem_conv(stem):
    x = stem.nodes["pool"]
    assert x.out_shape == (64, (112 + 2*1 - 1*(3-1) - 1)//2 + 1, 56)  # = 56
    assert (x.params, x.macs) == (0, 0)  # a pool has no weights and no multiply-accumulates
    assert x.other_ops == 64 * 56 * 56 * 3 * 3  # one comparison per window tap: 1,806,336
    # size 7 + (3−1)·2 = 11, jump 2·2 = 4; unit 0 reads conv units −1..1: pixels −5..5
    assert field(x) == (11, 4, 0)


def test_residual_join_takes_the_largest_and_smallest_path(stem):
    body = dict(padding=1, bias=False)
    stem.add("a", "conv", conv(64, 3, **body), ["pool"])
    stem.add("relu", "relu", {}, ["a"])
    stem.add("b", "conv", conv(64, 3, **body), ["relu"])
    x = stem.add("sum", "add", {}, ["b", "pool"])
    assert stem.nodes["a"].params == 64 * 64 * 3 * 3  # = 36,864
    assert stem.nodes["a"].macs == 36_864 * 56 * 56  # = 115,605,504
    assert x.out_shape == (64, 56, 56)
    assert x.rf.max.h.size == 11 + (3-1)*4 + (3-1)*4  # the body: 27
    assert x.rf.min.h.size == 11  # the shortcut
    assert x.rf.aligned  # both paths centred on 0 with jump 4
    assert x.other_ops == 64 * 56 * 56  # one add per element: 200,704


def test_head_global_pool_flatten_linear_and_totals(stem):
    stem.add("gap", "gap", {}, ["pool"])
    stem.add("flat", "flatten", {}, ["gap"])
    fc = stem.add("fc", "linear", {"out": 1000, "bias": True}, ["flat"])
    assert stem.shape("gap") == (64, 1, 1) and stem.shape("flat") == (64,)
    assert fc.params == 64 * 1000 + 1000  # = 65,000
    assert fc.macs == 64 * 1000  # bias excluded: 64,000
    gap = stem.nodes["gap"].rf.max
    assert gap.is_global and gap.h.size == 11 + (56-1)*4  # every one of 56 units: 231
    t = stem.totals()
    assert t.params == 9_408 + 65_000  # = 74,408
    assert t.macs == 118_013_952 + 64_000  # = 118,077,952
    assert t.flops == 2 * t.macs
    assert t.activations == 64*112*112 + 64*56*56 + 64 + 64 + 1000  # = 1,004,648
    assert t.param_bytes == 4 * t.params  # float32


def test_batch_scales_macs_and_activations_but_not_params():
    one, eight = Graph((3, 32, 32)), Graph((3, 32, 32), batch=8)
    for g in (one, eight):
        g.add("c", "conv", conv(16, 3, padding=1), ["input"])
    a, b = one.totals(), eight.totals()
    assert a.params == b.params == 16 * 3 * 3 * 3 + 16  # = 448
    assert a.macs == 16 * 3 * 3 * 3 * 32 * 32  # = 442,368
    assert b.macs == 8 * a.macs and b.activations == 8 * 16 * 32 * 32  # = 131,072


def test_dilation_groups_and_transposed_conv():
    g = Graph((32, 16, 16))
    d = g.add("d", "conv", conv(32, 3, padding=2, dilation=2, groups=32, bias=False), ["input"])
    assert d.out_shape == (32, (16 + 2*2 - 2*(3-1) - 1)//1 + 1, 16)  # = 16
    assert d.params == 32 * (32 // 32) * 3 * 3  # depthwise: 288
    assert d.rf.max.h.size == 1 + (3-1)*2  # = 5
    t = g.add("t", "convT", {**conv(8, 2, stride=2), "output_padding": 0}, ["d"])
    assert t.out_shape == (8, (16-1)*2 - 2*0 + 1*(2-1) + 0 + 1, 32)  # = 32
    assert t.params == 32 * 8 * 2 * 2 + 8  # in·(out/groups)·k² + bias = 1,032
    assert t.macs == 32 * 8 * 2 * 2 * 16 * 16  # every input pixel spreads k² taps: 262,144
    assert t.rf.max.h.jump == pytest.approx(1 / 2)  # the jump divides by the stride


def test_a_floor_that_drops_a_row_is_a_warning():
    g = Graph((3, 224, 224))
    x = g.add("c", "conv", conv(8, 3, stride=2), ["input"])
    assert x.out_shape == (8, (224 + 2*0 - 1*(3-1) - 1)//2 + 1, 111)  # = 111
    # 224 − 2 − 1 = 221 is odd: the last row and column are never read
    (w,) = g.warnings()
    assert w.code == "floor-drop" and w.layer == "c" and "last 1 input row(s)" in w.message


@pytest.mark.parametrize(("kind", "args", "inputs", "message"), [
    ("conv", conv(8, 7), ["input"], "kernel 7 .* is larger than the padded input 5"),
    ("conv", conv(8, 3, groups=2), ["input"], "in channels 3 are not divisible by groups 2"),
    ("add", {}, ["input"], "add needs two or more inputs"),
    ("no_such_kind", {}, ["input"], "unknown layer kind 'no_such_kind'"),
])
def test_shape_errors_name_the_layer(kind, args, inputs, message):
    g = Graph((3, 5, 5))
    with pytest.raises(ShapeError, match=rf"^layer x: .*{message}"):
        g.add("x", kind, args, inputs)
    assert g.layers == []  # nothing half-added


def test_names_are_unique():
    g = Graph((3, 8, 8))
    g.add("x", "relu", {}, ["input"])
    with pytest.raises(ShapeError, match="a layer with this name already exists"):
        g.add("x", "relu", {}, ["x"])


def test_a_field_larger_than_the_input_names_the_axes_it_outgrows():
    # 3-D: 4 frames of 32×32; two 3×3×3 convs reach 5 frames (1 + 2 + 2) but 5×5 pixels, so
    # only T outgrows the input; on a square image every axis does and none is named
    g = Graph((3, 4, 32, 32))
    g.add("a", "conv", conv(8, 3, padding=1), ["input"])
    g.add("b", "conv", conv(8, 3, padding=1), ["a"])
    [w] = [w for w in g.warnings() if w.code == "rf-exceeds-input"]
    assert w.layer == "b" and w.message == (
        "b: the receptive field (5×5×5) is larger than the 4×32×32 input along T (5 > 4) "
        "from this layer on")
    g = Graph((3, 4, 4))
    g.add("a", "conv", conv(8, 3, padding=1), ["input"])
    g.add("b", "conv", conv(8, 3, padding=1), ["a"])
    [w] = [w for w in g.warnings() if w.code == "rf-exceeds-input"]
    assert w.message == "b: the receptive field (5×5) is larger than the 4×4 input from this " \
        "layer on"
