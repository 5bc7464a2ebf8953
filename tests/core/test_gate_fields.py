"""Gates (squeeze-and-excitation, attention) broadcast over the map, without torch (issue 22,
"Honest rows"): the RF column shows the field of the path that carries the map (zoo's number),
the gate's whole-input reach is noted once and kept in JSON's `rf`. The gradient-support checks of
the same fields are in tests/measure/test_broadcast_fields.py."""

from __future__ import annotations

from fractions import Fraction

import pytest

from cnncalc.frontends.load import analyze
from tests.conftest import cli


def test_se_field_does_not_grow_by_map_multiples():
    g = analyze("efficientnet_b0")
    dw = g.nodes["stage2.0.dw.conv1"].rf
    assert dw.max.is_global and dw.max.h.jump == 0  # before: jump 224, 448 after each SE
    assert dw.shown.h.jump == 4 and not dw.shown.is_global  # the data path's lattice
    last = g.nodes["last_conv.silu1"].rf.shown
    assert (last.h.size, last.h.jump) == (851, 32)  # = zoo's RF


@pytest.mark.parametrize("name", ["efficientnet_b0", "mobilenet_v3_small", "regnet_y_400mf"])
def test_rf_column_is_local_with_one_gate_note(name):
    r = cli("shapes", name, "-f", "json")
    layers, warnings = r.json()["layers"], r.json()["warnings"]
    gates = [w for w in warnings if w["code"] == "gate"]
    assert len(gates) == 1 and "whole input" in gates[0]["message"]
    spatial = [x for x in layers if len(x["out_shape"]) == 3 and x["out_shape"][1] > 1]
    assert not any(x["rf_local"]["global"] for x in spatial)  # no `global` on the main path
    assert all(x["rf_min"]["size"][0] <= x["rf_local"]["size"][0] for x in spatial)


def test_broadcast_fraction_free_jump():
    g = analyze("mobilenet_v3_small")
    assert all(isinstance(x.rf.max.h.jump, Fraction) for x in g.layers)


@pytest.mark.parametrize("command", ["shapes", "rf"])
def test_the_tables_show_the_local_field_and_the_gate_once(command):
    r = cli(command, "efficientnet_b0")
    (row,) = [line for line in r.out.splitlines() if "last_conv.silu1" in line]
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert "851" in cells and "global" not in row  # = zoo's RF for efficientnet_b0
    assert r.out.count("a gate broadcast over the map") == 1
