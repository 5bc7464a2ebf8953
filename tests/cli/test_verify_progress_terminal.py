"""verify's progress (issue 22, CLI conventions): a bar on stderr when stderr is a terminal, naming
the stage that dominates (the receptive-field measurement); nothing when stderr is a pipe; the
table on stdout either way. Run as a real process with stderr on a pseudo-terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.terminal_run import on_a_terminal

pytest.importorskip("torch")
pytest.importorskip("pty")

SRC = str(Path(__file__).resolve().parents[2] / "src")
ARGS = [sys.executable, "-m", "cnncalc", "verify", "lenet5", "--rf", "all", "--no-fvcore"]
ENV = {**os.environ, "PYTHONPATH": SRC, "COLUMNS": "100"}


@pytest.mark.skipif(os.name != "posix", reason="a POSIX pseudo-terminal")
def test_a_bar_on_a_terminal_stderr_and_none_on_a_pipe():
    code, err, out = on_a_terminal(ARGS, ENV, stream="stderr")
    assert code == 0
    assert "receptive fields" in err and "100%" in err  # the stage, to its end
    assert "lenet5" in out and "receptive fields" not in out  # the bar never reaches stdout
    piped = subprocess.run(ARGS, capture_output=True, text=True, env=ENV, timeout=120)
    assert piped.returncode == 0 and piped.stderr == ""
