"""The entry point: registers every command on the app, then runs it.

Each command lives in its own module and registers itself on `app`; the import order is the
order of `cnncalc --help`: the analytic tables, the measurements, then the calculators.
"""

from __future__ import annotations

import importlib
import sys

import typer

from cnncalc.cli.app import app

COMMANDS = ("analytic", "design", "verify", "erf", "latency", "memory", "export", "zoo",
            "interview", "schema")
for _module in COMMANDS:
    importlib.import_module(f"cnncalc.cli.{_module}")


def main() -> None:
    """Entry point. Usage errors (a missing argument, a bad option) become one line too; a
    bare `cnncalc` prints the help."""
    if len(sys.argv) <= 1:
        sys.argv.append("--help")
    try:
        code = app(prog_name="cnncalc", standalone_mode=False)
    except Exception as e:  # click's UsageError/BadParameter carry format_message and exit_code
        if not (hasattr(e, "format_message") and hasattr(e, "exit_code")):
            raise
        ctx = getattr(e, "ctx", None)
        where = ctx.command_path if ctx is not None else "cnncalc"
        typer.echo(f"{where}: {e.format_message()} (see '{where} --help')", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
