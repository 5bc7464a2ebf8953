"""The typer app, its shared options and the one-line error handling of every command.

Errors a user can act on (CnncalcError) print one line and exit 2; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from cnncalc.core.errors import CnncalcError
from cnncalc.core.text import Escaped, terminal_safe
from cnncalc.report.terminal import encodable

app = typer.Typer(
    name="cnncalc", no_args_is_help=True, add_completion=True,
    pretty_exceptions_enable=False, rich_markup_mode=None,
    help="CNN architecture calculator: shapes, params, MACs and receptive fields, "
         "analytic (instant, no torch) and measured (torch).",
)

F = TypeVar("F", bound=Callable[..., Any])


def number(*decls: str, min: float, max: float, help: str, **kw: Any) -> Any:
    """A numeric option, read strictly in one place: written in ASCII (int('٣') is 3 in
    Python), finite (no nan, no inf), within [min, max]; a float option when a bound is a
    float. Anything else is one line naming the option (exit 2). `min`/`max` stay on the
    option, where `--help` and the tests read them."""
    kind: type = float if isinstance(min, float) or isinstance(max, float) else int

    def parse(value: Any) -> Any:
        if isinstance(value, str):
            if not value.isascii():
                raise typer.BadParameter(f"{value!r} is not a number written in ASCII digits")
            try:
                value = kind(value)
            except ValueError:
                what = "an integer" if kind is int else "a number"
                raise typer.BadParameter(f"{value!r} is not {what}") from None
        if not (value == value and min <= value <= max):  # value == value: not nan
            raise typer.BadParameter(f"{value} is not in the range {span}")
        return value

    span = f"{_bound(min)} to {_bound(max)}"
    return typer.Option(*decls, min=min, max=max, parser=parse, help=f"{help} [{span}]",
                        metavar="INTEGER" if kind is int else "FLOAT", **kw)


def numeric_options(command: Any) -> list[tuple[str, str, str, Any, Any, type]]:
    """(command, parameter, longest flag, min, max, int or float) of every int or float option
    of the click command typer builds from `app` (typer.main.get_command(app)), read from the
    commands' annotations (typer.Option(min=, max=), `number`): the walk of the options that
    docs/errors.md lists and the tests hold to their bounds."""
    import types
    import typing

    out: list[tuple[str, str, str, Any, Any, type]] = []
    for name, c in command.commands.items():
        hints = typing.get_type_hints(c.callback, include_extras=True)
        for p in c.params:
            ann = hints.get(p.name)
            if typing.get_origin(ann) is not typing.Annotated:
                continue
            base, *meta = typing.get_args(ann)
            info = next((m for m in meta if isinstance(m, typer.models.ParameterInfo)), None)
            kinds = typing.get_args(base) if isinstance(base, types.UnionType) else (base,)
            for t in (int, float):
                if t in kinds and info is not None:
                    out.append((name, p.name, max(p.opts, key=len), info.min, info.max, t))
    return out


def _bound(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"cnncalc {version('cnncalc')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            typer.echo("cnncalc (not installed)")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print cnncalc's version and exit.")] = False) -> None:
    """CNN architecture calculator: shapes, params, MACs and receptive fields, analytic
    (instant, no torch) and measured (torch)."""

SpecArg = Annotated[str, typer.Argument(
    help="Spec file (.yaml), a zoo name such as resnet50, a Python spec (net.py, defining SPEC) "
         "or a torch model (model.py:Net, pkg.mod:factory; runs its code, as importing it "
         "would).")]
InputOpt = Annotated[str | None, typer.Option(
    "--input", "-i", help="Input size CxHxW (3x224x224) or HxW; default: the spec's.")]
BatchOpt = Annotated[int, number("--batch", "-b", min=1, max=65_536, help="Batch size.")]
FormatOpt = Annotated[str, typer.Option(
    "--format", "-f", help="Output format: table, md, json or csv.")]
AttentionMacsOpt = Annotated[str, typer.Option(
    "--attention-macs", help="What attention's MACs count: all (the Q, K, V and output "
                             "projections plus Q·Kᵀ and A·V) or projections (those against a "
                             "weight only).")]
DepthOpt = Annotated[int | None, number(
    "--depth", "-d", min=0, max=64, help="Collapse layers nested deeper than this into one row "
    "of the table or Markdown (JSON and CSV always list every layer).")]
ArgOpt = Annotated[list[str] | None, typer.Option(
    "--arg", help="name=value keyword argument for a Python model class or factory "
                  "(model.py:Net, pkg.mod:fn); repeatable. Security: a Python spec or model runs "
                  "its code, exactly as importing it would.")]
WeightsOpt = Annotated[str | None, typer.Option(
    "--weights", help="A state_dict (or a checkpoint holding one under state_dict, model or "
                      "ema) for a torch model or a spec; a spec's names are those `export --to "
                      "torch` writes. Read with torch.load(weights_only=True).")]
DeviceOpt = Annotated[str, typer.Option(
    "--device", help="Where torch runs: cpu, cuda or cuda:N.")]


def fail(message: str, code: int = 2) -> None:
    """One line on stderr (control characters escaped), then exit."""
    sys.stderr.write(terminal_safe(message.rstrip("\n")) + "\n")
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


def check_format(format: str, allowed: tuple[str, ...]) -> None:
    if format not in allowed:
        raise CnncalcError(f"unknown format {format!r}; choose one of {', '.join(allowed)}")


def emit(text: str | None) -> None:
    """The one writer of a command's output: control characters in it are escaped (the colour
    sequences of a table drawn for a terminal kept)."""
    if text is not None:
        # control characters escaped, then ASCII stand-ins where the encoding has no ×, ✓, box lines
        if not isinstance(text, Escaped):  # JSON escapes its own (report/table.dumps)
            text = terminal_safe(text, colours=sys.stdout.isatty())
        text = encodable(text)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
