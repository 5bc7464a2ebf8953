"""`cnncalc export SPEC --to torch|yaml`: the spec as source in another language.

Targets are a small dispatch table, TARGETS: name → (graph → text). Adding one (a YAML writer,
say) is one entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from cnncalc.cli.app import ArgOpt, InputOpt, SpecArg, app, emit, handle_errors
from cnncalc.core.errors import CnncalcError, did_you_mean

if TYPE_CHECKING:
    from cnncalc.core.engine import Graph


def _torch(g: Graph) -> str:
    from cnncalc.report.export_torch import export_torch

    return export_torch(g)


def _yaml(g: Graph) -> str:
    from cnncalc.report.export_yaml import graph_to_yaml

    return graph_to_yaml(g)


TARGETS: dict[str, Callable[[Graph], str]] = {"torch": _torch, "yaml": _yaml}

ToOpt = Annotated[str, typer.Option(
    "--to", "-t", help="Target: torch (an nn.Module class) or yaml (a spec in our language; "
                       "turns a traced model.py:Net into an editable spec).")]


@app.command()
@handle_errors
def export(spec: SpecArg, to: ToOpt = "torch", input: InputOpt = None,
           arg: ArgOpt = None) -> None:
    """Print the spec as source: --to torch writes a readable nn.Module class, plain torch only;
    --to yaml writes a spec in cnncalc's language (from any input, a traced model too).

    Example: cnncalc export resnet18 --to torch > resnet18.py; cnncalc export model.py:Net --to yaml
    """
    from cnncalc.frontends.load import analyze

    target = TARGETS.get(to)
    if target is None:
        raise CnncalcError(f"unknown export target {to!r}; choose {', '.join(TARGETS)}",
                           hint=did_you_mean(to, TARGETS))
    emit(target(analyze(spec, input, args=arg)))
