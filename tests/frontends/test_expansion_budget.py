"""Expansion is bounded by the work it asks for (Lowerer.step), not only by the layers produced:
loops of layer-free items are refused quickly with the limit in the line."""

from __future__ import annotations

import time

import pytest

from cnncalc.frontends.lower import MAX_STEPS
from tests.conftest import cli

ARGS = ", ".join(f"a{i}: '{'$in + ' * 30}1'" for i in range(20))
CASES = {
    "empty seqs, 3 deep": ("layers:\n  - {seq: [{seq: [{seq: [], repeat: 10000}], repeat: 10000}]"
                           ", repeat: 10000}\n  - relu\n"),
    "blocks x10, if false": ("blocks:\n  b0: {body: [{relu: , if: false}]}\n"
                             + "".join(f"  b{i}: {{body: [{{b{i - 1}: , repeat: 10}}]}}\n"
                                       for i in range(1, 10))
                             + "layers: [b9, relu]\n"),
    "blocks x10, erring body": ("blocks:\n  b0: {body: [{relu: {nope: 1}}]}\n"
                                + "".join(f"  b{i}: {{body: [{{b{i - 1}: , repeat: 10}}]}}\n"
                                          for i in range(1, 10))
                                + "layers: [b9, relu]\n"),
    "costly arguments": (f"blocks:\n  b: {{args: {{{ARGS}}}, body: [{{relu: , if: false}}]}}\n"
                         "layers: [{seq: [{b: , repeat: 10000}], repeat: 10000}, relu]\n"),
}


@pytest.mark.parametrize("name", CASES)
def test_layer_free_loops_are_refused_fast(tmp_path, name):
    path = tmp_path / "s.yaml"
    path.write_text("input: 3x8x8\n" + CASES[name])
    t = time.perf_counter()
    r = cli("shapes", str(path))
    assert time.perf_counter() - t < 4
    assert r.code == 2 and f"spec expands to more than {MAX_STEPS:,} items" in r.err, r.err
