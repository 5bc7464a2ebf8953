"""Coverage-guided fuzzing with atheris (libFuzzer) of the two text entry points: the evaluator
and the spec reader + engine. Optional: `pip install atheris`; CI does not use it.

    python benchmarks/atheris_fuzz.py expr -atheris_runs=200000 -rss_limit_mb=500 -timeout=5
    python benchmarks/atheris_fuzz.py spec -max_total_time=600 -rss_limit_mb=500 -timeout=5

A CnncalcError (or ExprError) is the expected answer to bad input; any other exception is a
crash that libFuzzer reports with the input that caused it; -timeout and -rss_limit_mb make a
hang or a memory blow-up a failure too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

with atheris.instrument_imports():
    from cnncalc.core.errors import CnncalcError
    from cnncalc.frontends.expr import ExprError, evaluate
    from cnncalc.frontends.load import build, parse_spec

ENV = {"c": 8, "p": "same", "l": [1, 2], "t": True, "f": 0.75}


def expr_target(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(220)
    try:
        evaluate("$c + " + text if "$" not in text else text, ENV)
    except ExprError:
        pass


def spec_target(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(4000)
    try:
        build(parse_spec("input: 3x16x16\n" + text if "input" not in text else text))
    except CnncalcError:
        pass


if __name__ == "__main__":
    target = {"expr": expr_target, "spec": spec_target}[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()
