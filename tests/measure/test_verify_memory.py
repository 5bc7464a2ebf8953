"""verify measures the bytes autograd keeps, per layer, beside `cnncalc memory`'s model."""

from __future__ import annotations

import pytest

from tests.conftest import cli

pytest.importorskip("torch")


def test_verify_checks_saved_bytes_per_layer_and_in_all():
    r = cli("verify", "lenet5", "--rf", "none", "--no-fvcore", "-f", "json")
    assert r.code == 0, r.err
    doc = r.json()
    # lenet5 at 1×32×32: what `cnncalc memory lenet5` reports, and torch's saved tensors
    assert doc["saved_bytes"] == {"analytic": 36_432, "measured": 36_432, "ok": True}
    rows = {x["name"]: x["saved_bytes"] for x in doc["layers"]}
    assert rows["c1"] == {"analytic": 1 * 32 * 32 * 4, "measured": 4096, "ok": True}  # its input
    assert all(x["ok"] for x in rows.values())
    r = cli("verify", "lenet5", "--rf", "none", "--no-fvcore")
    assert "Saved for backward (one training forward, batch 1, float32, CPU; cnncalc memory): " \
           "analytic 36,432 B = measured ✓" in r.out


def test_a_saved_bytes_disagreement_is_a_disagreement():
    from cnncalc.core.checks import compare
    from cnncalc.frontends.load import analyze
    from cnncalc.measure.counts import measure_counts

    g = analyze("lenet5")
    m = measure_counts(g, "cpu", fvcore=False)
    v = compare(g, m, {}, {"c1": 4096 + 4})  # 4 bytes more than the model says at c1
    assert not v.agrees and v.saved.ok is False
    assert [r.layer.name for r in v.rows if r.saved.ok is False][0] == "c1"
