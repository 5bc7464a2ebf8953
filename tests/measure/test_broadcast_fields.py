"""A multiply that broadcasts a gate over the map (issue 14, item 1; issue 22, gates).

torch's numbers are gradient supports of the linearised net (positive averaging weights, float64,
all-ones input), written beside the engine's.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from cnncalc.frontends.load import analyze
from tests.conftest import cli

torch = pytest.importorskip("torch")

from tests.measure.unit_fields import disagreements  # noqa: E402

CA_W = """
    - mul:
        - []
        - [{adaptive_avgpool: [1, 24]}, {conv: {out: 8, k: 1}}, sigmoid]
    - {conv: {out: 8, k: 3, p: 1}, name: after}
"""
CA = """
    - {conv: {out: 8, k: 3, p: 1}, name: stem}
    - mul:
        - []
        - [{adaptive_avgpool: [1, 24]}, {conv: {out: 8, k: 1}}, sigmoid]
        - [{adaptive_avgpool: [20, 1]}, {conv: {out: 8, k: 1}}, sigmoid]
    - {conv: {out: 8, k: 3, p: 1}, name: after}
"""
VALID = """
    - mul: [[], [{conv: {out: 8, k: [20, 24]}}, sigmoid]]
    - {conv: {out: 8, k: 3, p: 1}, name: after}
"""


def test_coordinate_attention_is_global_along_the_pooled_axis(spec):
    g = analyze(spec(CA_W, input="8x20x24"))
    mul, after = g.nodes["mul1"].rf.max, g.nodes["after"].rf.max
    assert mul.glob == (True, False) and mul.w.size == 1 and mul.h.jump == 0 and mul.w.jump == 1
    assert after.glob == (True, False) and after.w.size == 3  # 1 + (3 − 1)
    # torch: unit (10, 12) of `after` reads rows 0–19 (all 20) and columns 11–13
    assert disagreements(g) == []
    # before: mul1 20×1 with jump 20×1, unit 10 placed at rows 200–219 of a 20-row input


def test_coordinate_attention_on_both_axes_is_global(spec):
    g = analyze(spec(CA, input="8x20x24"))
    assert g.nodes["mul1"].rf.max.is_global and g.nodes["after"].rf.max.is_global
    # torch: units (0,0), (10,12), (19,23) of mul1 and after read all 20×24 pixels
    assert disagreements(g) == []  # before: 22×26 with jump 20×24, not global
    assert g.nodes["after"].rf.shown.h.size == 5  # the data path: two 3×3 convs


def test_valid_full_kernel_branch_broadcast_is_global(spec):
    g = analyze(spec(VALID, input="8x20x24"))
    assert g.nodes["after"].rf.max.is_global  # torch: whole 20×24 (before: 22×26 local)
    assert disagreements(g) == []


def test_verify_agrees_on_broadcast_gates(spec):
    for text in (CA_W, CA, VALID):
        r = cli("verify", spec(text, input="8x20x24"), "--rf", "all", "--no-fvcore", "-f", "json")
        assert r.code == 0, r.out  # exit 1 with the old join, see the next test


def test_verify_flags_the_old_broadcast_field(spec, monkeypatch):
    # the old join never broadcast: mul1 of ca_w got 20×1 with jump 20×1 (the gate's lattice,
    # unit 10 at rows 200–219), and verify said "all agree" (the field never fit: too-large).
    # Now a field that never fits is measured per unit, clipped to the input: exit 1.
    import cnncalc.core.engine as engine
    from cnncalc.core import rf

    def old(f: rf.Field) -> rf.Field:  # no broadcast, no per-axis global
        return f if f.is_global else replace(f, glob=(False, False))

    monkeypatch.setattr(engine, "join", lambda fields, grid, hw: rf.join(
        [x.map(old) for x in fields]))
    path = spec(CA_W, input="8x20x24")
    r = cli("verify", path, "--rf", "all", "--no-fvcore", "-f", "json")
    assert r.code == 1
    (mul,) = [x for x in r.json()["layers"] if x["name"] == "mul1"]
    assert mul["rf"]["ok"] is False and mul["rf"]["measured"]["status"] == "clipped"
