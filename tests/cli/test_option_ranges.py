"""Every numeric option of every command has both bounds (walked from the click tree, so a new
option without them fails here), and values past them, inf, nan and other digits are one line."""

from __future__ import annotations

import contextlib
import io
import math
import signal
import sys

import pytest
import typer

from cnncalc.cli.app import numeric_options
from cnncalc.cli.main import app, main


def run_main(*argv: str) -> tuple[int, str]:
    """The real entry point in-process (usage errors are main()'s one line): code, stderr."""
    err, old_argv = io.StringIO(), sys.argv
    old_int, old_pipe = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGPIPE)
    sys.argv = ["cnncalc", *argv]
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            main()
    except SystemExit as e:
        return int(e.code or 0), err.getvalue()
    finally:
        sys.argv = old_argv
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGPIPE, old_pipe)
    return 0, err.getvalue()


OPTIONS = numeric_options(typer.main.get_command(app))


def test_the_walk_finds_the_options():
    assert {(o[0], o[1]) for o in OPTIONS} >= {("erf", "samples"), ("erf", "seed"),
                                               ("latency", "min_time"), ("shapes", "batch")}


@pytest.mark.parametrize("command, name, flag, lo, hi, t", OPTIONS,
                         ids=[f"{o[0]}-{o[1]}" for o in OPTIONS])
def test_every_numeric_option_has_finite_bounds(command, name, flag, lo, hi, t):
    assert lo is not None and hi is not None, f"{command} {flag} needs min= and max="
    assert math.isfinite(lo) and math.isfinite(hi) and lo <= hi


ARGV = {"shapes": ["lenet5"], "rf": ["lenet5"], "erf": ["lenet5"], "latency": ["lenet5"],
        "conv": ["3x8x8", "-k", "3"], "pool": ["3x8x8"], "dsconv": ["--cin", "3", "--cout", "3"],
        "fc-vs-conv": ["3x8x8"]}


@pytest.mark.parametrize("command, name, flag, lo, hi, t", OPTIONS,
                         ids=[f"{o[0]}-{o[1]}" for o in OPTIONS])
def test_values_out_of_range_are_one_line(command, name, flag, lo, hi, t):
    over = str(int(hi) + 1) if t is int else str(hi * 2)
    for bad in (over, "inf", "nan", "9" * 25, "²", "٣"):
        argv = [*ARGV.get(command, []), flag, bad]
        if command == "dsconv" and flag in ("--cin", "--cout"):
            argv = ["--cin", "3", "--cout", "3", flag, bad]
        code, err = run_main(command, *argv)
        assert code == 2 and len(err.strip().splitlines()) == 1, (argv, err)
