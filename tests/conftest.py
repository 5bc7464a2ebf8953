"""Shared helpers: run the CLI in-process at a fixed width, write small specs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cnncalc.cli.main import app

WIDTH = "200"


class Result:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


def cli(*args: str) -> Result:
    """Run `cnncalc ARGS` in-process; stdout and stderr apart."""
    runner = CliRunner()
    r = runner.invoke(app, list(args), env={"TERMINAL_WIDTH": WIDTH, "COLUMNS": WIDTH},
                      catch_exceptions=False)
    return Result(r.exit_code, r.stdout, r.stderr)


@pytest.fixture
def spec(tmp_path: Path):
    """spec(layers_yaml, input='3x224x224', blocks='') -> path of a written spec file."""
    counter = iter(range(10_000))

    def write(layers: str, input: str = "3x224x224", blocks: str = "") -> str:
        c, h, w = input.split("x")
        text = f"name: t\ninput: {{channels: {c}, size: [{h}, {w}]}}\n"
        if blocks:
            text += "blocks:\n" + textwrap.indent(textwrap.dedent(blocks).strip("\n"), "  ") + "\n"
        text += "layers:\n" + textwrap.indent(textwrap.dedent(layers).strip("\n"), "  ") + "\n"
        path = tmp_path / f"spec{next(counter)}.yaml"
        path.write_text(text)
        return str(path)

    return write


def layers_of(path: str, *args: str) -> list[dict[str, Any]]:
    r = cli("shapes", path, "-f", "json", *args)
    assert r.code == 0, r.err
    return r.json()["layers"]


def error_lines(*args: str) -> list[str]:
    """Run a command that must fail with exit 2: its stderr lines, stdout empty."""
    r = cli(*args)
    assert r.code == 2, (r.code, r.out, r.err)
    assert r.out == ""
    return r.err.strip().splitlines()


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> str:
    """Write TEXT as tmp_path/NAME; its path as a string."""
    path = tmp_path / name
    path.write_text(text)
    return str(path)
