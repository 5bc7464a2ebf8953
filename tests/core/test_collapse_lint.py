"""The collapse lint follows the path that carries the map, not a gating branch (issue 14, 8)."""

from __future__ import annotations

import pytest

from cnncalc.frontends.load import analyze
from tests.conftest import cli


def codes(*args: str) -> list[str]:
    r = cli("shapes", *args, "-f", "json")
    assert r.code == 0, r.err
    return [w["code"] for w in r.json()["warnings"]]


@pytest.mark.parametrize("name", ["efficientnet_b0", "mobilenet_v3_small", "mobilenet_v3_large",
                                  "regnet_y_400mf"])
def test_se_branch_does_not_trigger_collapse(name):
    # before: "*.se.fc1 collapses to 1×1 ... later layers see mostly padding"
    assert "collapse" not in codes(name)


def test_gate_broadcast_back_is_not_a_collapse(spec):
    path = spec("""
        - {conv: {out: 8, k: 3, s: 2}}
        - mul: [[], [gap, {conv: {out: 8, k: 1}}, sigmoid]]
        - {conv: {out: 8, k: 3, p: 1}}
    """, input="3x16x16")
    assert "collapse" not in codes(path)


def test_a_valid_conv_over_the_whole_map_as_a_gate_is_not_a_collapse(spec):
    path = spec("""
        - mul: [[], [{conv: {out: 3, k: 16}}, sigmoid]]
        - {conv: {out: 8, k: 3, p: 1}}
    """, input="3x16x16")
    assert "collapse" not in codes(path)


def test_a_real_collapse_still_warns(spec):
    path = spec("""
        - {conv: {out: 8, k: 16}}
        - {conv: {out: 8, k: 3, p: 1}}
    """, input="3x16x16")
    assert "collapse" in codes(path)


def test_googlenet_at_24_collapses_on_its_main_path():
    g = analyze("googlenet", input="3x24x24")
    (lint,) = [w for w in g.warnings() if w.code == "collapse"]
    assert lint.layer == "maxpool3"  # 24 → 12 → 6 → 3 → 1: the inception 3×3s then read 1×1
