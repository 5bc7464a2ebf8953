"""CI's fuzz run: a few hundred broken zoo specs and random YAML documents through `cnncalc shapes`.

Each must end with a result or error lines and exit 2, never a traceback or a hang. The
10,000-case run with counts is `python benchmarks/fuzz.py`.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import harness
from tests.fuzz.harness import (
    Outcome,
    make_case,
    mutate,
    mutated_zoo_spec,
    random_argv,
    random_spec,
    run_argv,
    run_case,
)

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def ends_well(out: Outcome) -> None:
    assert out.kind in ("result", "error"), out.detail


@FUZZ
@given(st.randoms(use_true_random=False))
def test_mutated_zoo_specs(rng: random.Random):
    ends_well(run_case(mutated_zoo_spec(rng), ["-f", "json"]))


@FUZZ
@given(st.randoms(use_true_random=False))
def test_random_yaml(rng: random.Random):
    ends_well(run_case(random_spec(rng), ["-f", rng.choice(["json", "csv", "md"])]))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.randoms(use_true_random=False))
def test_cases_with_options_and_the_table(rng: random.Random):
    text, options = make_case(rng)
    ends_well(run_case(text, options))


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.randoms(use_true_random=False))
def test_calculator_command_lines(rng: random.Random):
    ends_well(run_argv(random_argv(rng)))


def test_apply_refuses_work_that_would_take_minutes():
    # 2×2 input padded by 100,000: (2 + 2·100000 − 1)/1 + 1 = 200,002 rows and columns
    out = run_argv(["apply", "-i", "[[1,2],[3,4]]", "-k", "[[1]]", "-p", "100000"])
    assert out.kind == "error" and out.detail.startswith(
        "the output is 200002×200002 cells of 1×1 windows: 40,000,800,004 values to visit")


def test_usage_errors_count_as_one_line_errors():
    out = run_argv(["pool", "8", "-d", "2"])  # pool has no --dilation
    assert out.kind == "error" and out.detail == "No such option: -d"


# The harness itself must see what it is looking for -------------------------------------------

def test_harness_sees_results_errors_tracebacks_and_hangs(monkeypatch):
    good = "input: 3x8x8\nlayers: [relu]\n"
    assert run_case(good, ["-f", "json"]).kind == "result"
    bad = run_case("input: 3x8x8\nlayers: [relu, convv]\n", ["-f", "json"])
    assert bad.kind == "error" and "unknown layer kind 'convv'" in bad.detail

    import cnncalc.frontends.load as load

    def boom(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(load, "analyze", boom)
    assert run_case(good, ["-f", "json"]).kind == "traceback"

    def spin(*args, **kwargs):
        while True:
            pass

    monkeypatch.setattr(load, "analyze", spin)
    assert run_case(good, ["-f", "json"], timeout=0.2).kind == "hang"


def test_mutations_change_the_text_and_are_reproducible():
    text = harness.ZOO_TEXTS["resnet18"]
    changed = sum(mutate(text, random.Random(n)) != text for n in range(50))
    assert changed >= 40  # a few edits (a swap of equal lines, a repeat on a line without '}') may be no-ops
    assert make_case(random.Random("7:3")) == make_case(random.Random("7:3"))


@pytest.mark.parametrize("seed", range(3))
def test_fuzz_counts_add_up(seed):
    counts, failures = harness.fuzz(10, seed)
    assert sum(counts.values()) == 10 and counts["traceback"] == counts["hang"] == 0, failures
