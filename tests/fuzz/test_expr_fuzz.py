"""CI's evaluator fuzz run: a few thousand random expressions, each a value in the domain or one
ExprError, fast and small. The big run is `python benchmarks/fuzz.py --target expr`."""

from __future__ import annotations

from tests.fuzz.expr_fuzz import fuzz_expr, run_expr


def test_random_expressions_are_values_or_one_error():
    counts, failures, slowest, peak = fuzz_expr(3000, seed=0)
    assert failures == [] and counts["traceback"] == counts["hang"] == 0
    assert counts["value"] > 100 and counts["error"] > 100
    assert slowest < 0.5 and peak < 1_000_000


def test_the_issue_expressions():
    for text in ("round($c, -10**9)", "((2**64)**64)**64 + $c", "(-8) ** 0.5 + $c",
                 "divisible($c, 0)", "$p < 3", "1e308 * 10 + $c"):
        assert run_expr(text)[0] == "error", text
