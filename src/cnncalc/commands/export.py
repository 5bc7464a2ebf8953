"""`cnncalc export SPEC --to torch`: the spec as source in another language.

Targets are a small dispatch table, TARGETS: name → (graph → text). Adding one (a YAML writer,
say) is one entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from cnncalc.cli import InputOpt, SpecArg, app, emit, handle_errors
from cnncalc.errors import CnncalcError, did_you_mean

if TYPE_CHECKING:
    from cnncalc.engine import Graph


def _torch(g: Graph) -> str:
    from cnncalc.report.export_torch import export_torch

    return export_torch(g)


TARGETS: dict[str, Callable[[Graph], str]] = {"torch": _torch}

ToOpt = Annotated[str, typer.Option("--to", "-t", help="Target: torch (an nn.Module class).")]


@app.command()
@handle_errors
def export(spec: SpecArg, to: ToOpt = "torch", input: InputOpt = None) -> None:
    """Print the spec as source: --to torch writes a readable nn.Module class, plain torch only.

    Example: cnncalc export resnet18 --to torch > resnet18.py
    """
    from cnncalc.spec.load import analyze

    target = TARGETS.get(to)
    if target is None:
        raise CnncalcError(f"unknown export target {to!r}; choose {', '.join(TARGETS)}",
                           hint=did_you_mean(to, TARGETS))
    emit(target(analyze(spec, input)))
