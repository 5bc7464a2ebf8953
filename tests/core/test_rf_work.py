"""The engine's cost does not grow with a layer's numbers: a lattice that would cost more than
MAX_RF_WORK unit-taps is replaced by its O(1) envelope (rf._envelope), which contains every
unit's exact field, and the layer says so; every number a layer keeps is below 2**128."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.core import rf
from cnncalc.core.rf import Axis
from tests.conftest import cli

SLOW = {  # issue 15: 41 s, 22 s, more than a minute
    "upsample": "input: 1x1x1\nlayers: [{upsample: 1000000}]\n",
    "convT": ("input: 1x1x1\nlayers: [{convT: {out: 1, k: 2, s: 1000000}}, "
              "{convT: {out: 1, k: 2, s: 1000000}}]\n"),
    "adaptive": ("input: 1x1000x1000\nlayers: [{upsample: 1000}, {adaptive_avgpool: 1000000}, "
                 "{adaptive_avgpool: 999999}]\n"),
}


@pytest.mark.parametrize("name", SLOW)
def test_big_factors_cost_no_more_than_small_ones(tmp_path, name):
    path = tmp_path / "s.yaml"
    path.write_text(SLOW[name])
    t = time.perf_counter()
    r = cli("shapes", str(path), "-f", "json")
    assert time.perf_counter() - t < 2
    assert r.code == 0, r.err
    assert any(w["code"] == "rf-bound" for w in r.json()["warnings"])


def test_numbers_past_2_128_are_one_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("input: 1x1x1\nlayers: [{conv: {out: 1, k: 1, s: 1000000}, repeat: 1000}]\n")
    r = cli("shapes", str(path))
    assert r.code == 2 and "receptive-field jump exceeds 2**128" in r.err


def contains(exact: Axis, env: Axis, units: int) -> bool:
    for o in range(units):
        b = exact.bounds(o)
        e = env.bounds(o)
        if b is not None and not (e is not None and e[0] <= b[0] and b[1] <= e[1]):
            return False
    return True


axes = st.sampled_from([Axis.pixel(), Axis.pixel().window(3, 2, 1),
                        Axis.pixel().transposed(3, 2, 1), Axis.pixel().adaptive(7, 3)])


@settings(max_examples=200, deadline=None)
@given(axes, st.sampled_from(["transposed", "upsample", "bilinear", "adaptive", "window"]),
       st.integers(1, 6), st.integers(1, 5), st.integers(0, 3), st.integers(1, 3))
def test_the_envelope_contains_every_exact_field(ax, op, k, s, p, d):
    def apply(a: Axis) -> Axis:
        if op == "transposed":
            return a.transposed(k, s, p, d)
        if op == "upsample":
            return a.upsample(s, False)
        if op == "bilinear":
            return a.upsample(s, True)
        if op == "adaptive":
            return a.adaptive(k + s, s)
        return a.window(k, s, p, d)

    exact = apply(ax)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(rf, "MAX_RF_WORK", 0)
        env = apply(ax)
    assert contains(exact, env, 60)
    assert env.jump == exact.jump
