"""The terminal ERF heatmap without colour (issue 22, "Honest rows"): with NO_COLOR set, or when
stdout is not a terminal, the map is drawn with a character ramp, never as blank cells; on a
colour terminal it is drawn in colour. Run as a real process (a pipe, a pseudo-terminal)."""

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
ARGS = [sys.executable, "-m", "cnncalc", "erf", "lenet5", "-n", "2"]
RAMP = set(".:-=+*#%@")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    return {**env, "PYTHONPATH": SRC, "COLUMNS": "100", **extra}


def _map_lines(text: str) -> list[str]:
    """The heatmap's rows: the lines framed by the ░ border."""
    return [line for line in text.splitlines() if line.strip().startswith("░")]


def _on_a_terminal(env: dict[str, str]) -> str:
    code, out, _ = on_a_terminal(ARGS, env)
    assert code == 0
    return out


def test_piped_heatmap_is_a_character_ramp():
    out = subprocess.run(ARGS, capture_output=True, text=True, env=_env(), timeout=60).stdout
    rows = _map_lines(out)
    assert len(rows) >= 8 and "\x1b[" not in out
    assert set("".join(rows)) & RAMP  # not blank: the gradient is drawn with characters


@pytest.mark.skipif(os.name != "posix", reason="a POSIX pseudo-terminal")
def test_no_color_terminal_gets_the_ramp_and_a_colour_terminal_colour():
    plain = _on_a_terminal(_env(NO_COLOR="1"))
    assert "\x1b[38" not in plain and "\x1b[48" not in plain
    assert set("".join(_map_lines(plain))) & RAMP
    coloured = _on_a_terminal(_env(TERM="xterm-256color"))
    assert "\x1b[38" in coloured or "\x1b[48" in coloured  # the same command, colour allowed
