"""The command line: each command loads, computes, renders and picks an exit code.

Errors a user can act on (CnncalcError) print one line and exit 2; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from cnncalc.errors import CnncalcError

app = typer.Typer(
    name="cnncalc", no_args_is_help=True, add_completion=False,
    pretty_exceptions_enable=False, rich_markup_mode=None,
    help="CNN architecture calculator: shapes, params, MACs and receptive fields, "
         "analytic (instant, no torch) and measured (torch).",
)

F = TypeVar("F", bound=Callable[..., Any])

SpecArg = Annotated[str, typer.Argument(help="Spec file (.yaml) or a zoo name such as resnet50.")]
InputOpt = Annotated[str | None, typer.Option(
    "--input", "-i", help="Input size CxHxW (3x224x224) or HxW; default: the spec's.")]
BatchOpt = Annotated[int, typer.Option("--batch", "-b", min=1, help="Batch size.")]
FormatOpt = Annotated[str, typer.Option(
    "--format", "-f", help="Output format: table, md, json or csv.")]
DepthOpt = Annotated[int | None, typer.Option(
    "--depth", "-d", min=0, help="Collapse layers nested deeper than this into one row.")]


def fail(message: str, code: int = 2) -> None:
    """One line on stderr, then exit."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def handle_errors(fn: F) -> F:
    """Turn CnncalcError into one line per error and exit code 2."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CnncalcError as e:
            fail(str(e))
    return wrapper  # type: ignore[return-value]


def check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise CnncalcError(f"unknown format {fmt!r}; choose one of {', '.join(allowed)}")


def emit(text: str | None) -> None:
    if text is not None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command()
@handle_errors
def shapes(spec: SpecArg, input: InputOpt = None, batch: BatchOpt = 1,
           format: FormatOpt = "table", depth: DepthOpt = None,
           all_ops: Annotated[bool, typer.Option(
               "--all-ops", help="Also count bias, norm, activation, pooling, add and multiply "
                                 "ops, in their own column.")] = False) -> None:
    """Per layer: output shape, params, MACs and receptive field, with totals.

    Example: cnncalc shapes resnet50 --depth 1
    """
    from cnncalc.report.render import FORMATS, print_table, render, shapes_columns
    from cnncalc.spec.load import analyze

    check_format(format, FORMATS)
    g = analyze(spec, input, batch)
    cols = shapes_columns(batch, all_ops)
    text = render(g, cols, format, depth)
    emit(text) if text is not None else print_table(g, cols, depth)


@app.command()
@handle_errors
def rf(spec: SpecArg, input: InputOpt = None, format: FormatOpt = "table",
       depth: DepthOpt = None) -> None:
    """Per layer: receptive field size, jump and start, smallest over paths, alignment.

    Example: cnncalc rf vgg16
    """
    from cnncalc.report.render import FORMATS, print_table, render, rf_columns
    from cnncalc.spec.load import analyze

    check_format(format, FORMATS)
    g = analyze(spec, input)
    text = render(g, rf_columns(), format, depth, totals=False)
    emit(text) if text is not None else print_table(g, rf_columns(), depth, totals=False)


def main() -> None:
    app()
