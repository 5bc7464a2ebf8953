"""The evaluator fuzzer: random expressions over the whole grammar (frontends/expr.py), with
numbers at and past every bound, each evaluated against random block arguments.

Every expression must give a value inside the evaluator's domain (a bool, an int below 2**256,
a finite float at most 1e300, or a bare argument passed through) or one ExprError; anything else
is a failure, and so is a case past 5 s. `python benchmarks/fuzz.py --target expr` runs many
and reports counts, the slowest case and the peak memory of one evaluation (tracemalloc).
"""

from __future__ import annotations

import math
import random
import time
import tracemalloc
from collections import Counter
from typing import Any

from cnncalc.frontends.expr import MAX_BITS, MAX_FLOAT, ExprError, evaluate

NUMBERS = ["0", "1", "-1", "2", "3", "8", "64", "0.5", "1e-300", "1e300", "1e308", "2**63",
           "10**9", "9" * 30, "9" * 80, "0.1", "256", "255", "1e-5"]
OPS = ["+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">", ">=", "and", "or"]
CALLS = ["min", "max", "int", "round", "ceil", "floor", "divisible", "abs", "__import__"]
ENVS: list[dict[str, Any]] = [{"c": 8, "p": "same", "l": [1, 2], "t": True, "f": 0.75,
                               "big": 2**200, "neg": -3}]
REFS = ["$c", "$p", "$l", "$t", "$f", "$big", "$neg", "$nope"]
OUTCOMES = ("value", "error", "traceback", "hang")


def random_expr(rng: random.Random, depth: int = 4) -> str:
    r = rng.random()
    if depth <= 0 or r < 0.3:
        return rng.choice(NUMBERS + REFS)
    if r < 0.6:
        return f"{random_expr(rng, depth - 1)} {rng.choice(OPS)} {random_expr(rng, depth - 1)}"
    if r < 0.7:
        return f"({random_expr(rng, depth - 1)})"
    if r < 0.8:
        return f"{rng.choice(['-', 'not ', '+'])}{random_expr(rng, depth - 1)}"
    if r < 0.9:
        args = ", ".join(random_expr(rng, depth - 1) for _ in range(rng.randint(0, 3)))
        return f"{rng.choice(CALLS)}({args})"
    return (f"{random_expr(rng, depth - 1)} if {random_expr(rng, depth - 1)} "
            f"else {random_expr(rng, depth - 1)}")


def in_domain(v: Any, text: str) -> bool:
    if text.strip().startswith("$") and text.strip()[1:].isidentifier():
        return True  # a bare reference passes any value through
    if isinstance(v, bool):
        return True
    if isinstance(v, int):
        return v.bit_length() <= MAX_BITS
    return isinstance(v, float) and math.isfinite(v) and abs(v) <= MAX_FLOAT


def run_expr(text: str) -> tuple[str, float, int, str]:
    """(outcome, seconds, peak bytes, detail) of one evaluation."""
    tracemalloc.start()
    t = time.perf_counter()
    try:
        v = evaluate(text, ENVS[0])
        kind, detail = ("value", "") if in_domain(v, text) else ("traceback", f"out of domain {v!r:.60}")
    except ExprError:
        kind, detail = "error", ""
    except Exception as e:  # noqa: BLE001 - that is what the fuzzer looks for
        kind, detail = "traceback", f"{type(e).__name__}: {e}"
    took = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if took > 5:
        kind = "hang"
    return kind, took, peak, detail


def fuzz_expr(cases: int, seed: int) -> tuple[Counter[str], list[str], float, int]:
    """Counts, the first failures, the slowest case (s) and the largest peak (bytes)."""
    counts: Counter[str] = Counter(dict.fromkeys(OUTCOMES, 0))
    failures: list[str] = []
    slowest, peak = 0.0, 0
    for n in range(cases):
        rng = random.Random(f"expr:{seed}:{n}")
        text = random_expr(rng)[:200]
        kind, took, mem, detail = run_expr(text)
        counts[kind] += 1
        slowest, peak = max(slowest, took), max(peak, mem)
        if kind in ("traceback", "hang") and len(failures) < 20:
            failures.append(f"expr {seed}:{n}: {kind}: {text!r}: {detail}")
    return counts, failures, slowest, peak
