"""Pool output sizes against torch on a grid of small maps (issue 14, item 5).

torch's rule (`pooling_output_shape_pad_lr`): out = ⌊(n + 2p − d·(k−1) − 1 + (s−1 if ceil))/s⌋ + 1
with floor division also for a negative numerator, lowered by one when the last window would
start past the input and the leading padding; only out < 1 is an error. So a ceil_mode pool
whose window is larger than the padded input gives one unit.
"""

from __future__ import annotations

import itertools

import pytest

from cnncalc.core.engine import Graph
from cnncalc.core.errors import ShapeError

torch = pytest.importorskip("torch")
F = torch.nn.functional


def engine_out(kind: str, n: int, k: int, s: int, p: int, d: int, ceil: bool) -> int | None:
    args = {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": ceil}
    if kind == "maxpool":
        args["dilation"] = d
    g = Graph((1, n, n))
    try:
        return g.add("p", kind, args, ["input"]).out_shape[1]
    except ShapeError:
        return None


def torch_out(kind: str, n: int, k: int, s: int, p: int, d: int, ceil: bool) -> int | None:
    x = torch.zeros(1, 1, n, n)
    try:
        if kind == "maxpool":
            return F.max_pool2d(x, k, s, p, d, ceil_mode=ceil).shape[2]
        return F.avg_pool2d(x, k, s, p, ceil_mode=ceil).shape[2]
    except RuntimeError:
        return None


def test_pool_output_size_matches_torch_on_a_grid():
    cases = bad = 0
    wrong = []
    for kind, n, k, s, p, d, ceil in itertools.product(
            ("maxpool", "avgpool"), range(1, 9), range(1, 7), range(1, 5), range(4), (1, 2, 3),
            (False, True)):
        if p > k // 2 or (kind == "avgpool" and d != 1):
            continue
        cases += 1
        ours, theirs = engine_out(kind, n, k, s, p, d, ceil), torch_out(kind, n, k, s, p, d, ceil)
        if ours != theirs:
            bad += 1
            wrong.append((kind, n, k, s, p, d, ceil, ours, theirs))
    assert cases == 3840
    assert bad == 0, wrong[:10]  # before the fix: 202 of 3,840, all refused where torch gives 1


@pytest.mark.parametrize(("kind", "n", "k", "s", "d"), [
    ("maxpool", 1, 2, 2, 1),  # (1 − 1 − 1 + 1)//2 + 1 = 1; torch 1
    ("avgpool", 2, 3, 2, 1),  # (2 − 2 − 1 + 1)//2 + 1 = 1; torch 1
    ("maxpool", 12, 5, 5, 3),  # (12 − 12 − 1 + 4)//5 + 1 = 1; torch 1
])
def test_ceil_pool_larger_than_its_input_gives_one_unit(kind, n, k, s, d):
    assert engine_out(kind, n, k, s, 0, d, True) == 1
    assert torch_out(kind, n, k, s, 0, d, True) == 1
    assert engine_out(kind, n, k, s, 0, d, False) is None  # floor mode: torch refuses too
    assert torch_out(kind, n, k, s, 0, d, False) is None


@pytest.mark.parametrize(("name", "size", "params", "macs"), [
    ("googlenet", "3x24x24", 6_624_904, 15_921_408),  # maxpool4 k3 s2 ceil on 832×1×1 -> 1×1
    ("googlenet", "3x16x16", 6_624_904, 10_404_608),
    ("squeezenet1_0", "3x24x24", 1_248_424, 4_768_032),  # k3 s2 ceil pool on 2×2 -> 1×1
    ("squeezenet1_1", "3x20x20", 1_235_496, 2_005_696),
])
def test_zoo_at_small_inputs_matches_its_torch_build(name, size, params, macs):
    from tests.conftest import cli

    shapes = cli("shapes", name, "--input", size, "-f", "json")
    assert shapes.code == 0, shapes.err  # refused before the fix
    totals = shapes.json()["totals"]
    assert (totals["params"], totals["macs"]) == (params, macs)
    r = cli("verify", name, "--input", size, "--rf", "none", "--no-fvcore", "-f", "json")
    assert r.code == 0 and r.json()["agree"]  # torch's build: the same shapes, params, MACs
