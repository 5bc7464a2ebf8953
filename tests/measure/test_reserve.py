"""Allocations in the torch commands are estimated from the engine's sizes before any tensor
exists (measure/device.reserve): a refusal is one line with the estimate and the limit; the
guard around the real allocation knows every allocation failure torch raises."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("torch")

from cnncalc.core.errors import BackendError  # noqa: E402
from cnncalc.frontends.load import analyze  # noqa: E402
from cnncalc.measure.device import estimate_bytes, out_of_memory  # noqa: E402
from tests.conftest import cli  # noqa: E402


@pytest.mark.parametrize("argv, says", [
    (("erf", "lenet5", "--input", "1x30000x30000"), "the ERF needs about 2.8 TB"),
    (("erf", "--stack", "3x3", "--input", "3x100000x100000"), "the ERF needs about 2.2 TB"),
    (("erf", "--stack", "3x3 s2", "--depth", "30"), "the ERF needs about"),
    (("verify", "lenet5", "--input", "1x30000x30000", "--rf", "none"),
     "verifying lenet5 needs about 2.8 TB"),
])
def test_huge_runs_are_refused_before_allocating(argv, says):
    t = time.perf_counter()
    r = cli(*argv)
    assert time.perf_counter() - t < 10
    assert r.code == 2 and says in r.err and "the limit here is" in r.err, r.err
    assert len(r.err.splitlines()) == 1


def test_latency_refuses_weights_that_cannot_fit(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("input: 100000x8x8\nlayers: [{conv: {out: 1000000, k: 3}}]\n")
    r = cli("latency", str(path))
    assert r.code == 2 and "latency at batch 1 needs about 3.6 TB (weights 3.6 TB" in r.err


def test_the_estimate_adds_weights_and_activations():
    g = analyze("lenet5")
    t = g.totals()
    need, how = estimate_bytes(g, 2, backward=True)
    per_sample = 1 * 32 * 32 + sum(x.activations for x in g.layers)
    assert need == 4 * (t.params + t.buffers) + 2 * 3 * 4 * per_sample
    assert "× 3 for the backward pass" in how


@pytest.mark.parametrize("message", [
    "DefaultCPUAllocator: can't allocate memory: you tried to allocate 2263768375680 bytes",
    "Storage size calculation overflowed with sizes=[3221225469, 3221225469]",
    "CUDA out of memory. Tried to allocate 2.00 GiB",
])
def test_every_allocation_failure_is_out_of_memory(message):
    with pytest.raises(BackendError, match="out of memory building"):
        with out_of_memory("building"):
            raise RuntimeError(message)
