"""The effective receptive field's closed form (core/erf_theory.py): standard library only."""

from __future__ import annotations

import math

import pytest

from cnncalc.core.erf_theory import UNIFORM, NoClosedForm, Spread, mixture, spread
from cnncalc.frontends.load import analyze

CONV = "{conv: {out: 2, k: 3, p: 1, bias: false}}"


def stack_sigma(text: str) -> tuple[float, float]:
    from cnncalc.frontends.stack import build_items, parse_stack

    g = build_items((1, 64, 64), parse_stack(text, 1), text)
    return spread(g, g.output.name, UNIFORM).sigma


def test_stack_formula_is_the_sum_of_uniform_variances():
    assert stack_sigma("3x3*10") == pytest.approx((math.sqrt(10 * (3**2 - 1) / 12),) * 2)
    # stride 2 first: the later kernels sit on a grid of jump 2 → ×2² in variance
    assert stack_sigma("3x3 s2, 3x3") == pytest.approx(
        (math.sqrt(8 / 12 + 2**2 * 8 / 12),) * 2)  # = √(40/12) ≈ 1.826


def test_mixture_of_two_paths_weights_by_mass():
    a = Spread(1.0, (0.0, 0.0), (0.0, 0.0))
    b = Spread(3.0, (2.0, 0.0), (4.0, 1.0))
    m = mixture([a, b])
    assert m.mass == 4.0
    assert m.mean == (3 * 2 / 4, 0.0)  # = 1.5
    # E[x²] = (1·0 + 3·(4 + 2²))/4 = 6, minus 1.5² → 3.75 on h; w: 3·1/4 = 0.75
    assert m.var == pytest.approx((6 - 1.5**2, 3 / 4))


def test_no_closed_form_through_squeeze_excitation(spec):
    path = spec(f"""
        - {CONV}
        - mul: [[], [gap, {{conv: {{out: 2, k: 1}}}}, sigmoid]]
        """, input="2x16x16")
    g = analyze(path)
    with pytest.raises(NoClosedForm, match=r"gap1 \(gap\)"):  # the first such layer
        spread(g, g.output.name)
