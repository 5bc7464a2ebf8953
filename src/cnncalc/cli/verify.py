"""`cnncalc verify`: build the spec in torch, measure it, and put every analytic number beside its
measured twin. Exit code 0 when everything agrees, 1 when anything disagrees, 2 for bad input."""

from __future__ import annotations

from typing import Annotated

import typer

from cnncalc.cli.app import (
    ArgOpt,
    DeviceOpt,
    FormatOpt,
    InputOpt,
    SpecArg,
    app,
    check_format,
    emit,
    handle_errors,
)
from cnncalc.core.errors import CnncalcError

RfOpt = Annotated[str, typer.Option(
    "--rf", help="Which layers get their receptive field measured by gradient support: stages "
                 "(the last layer of each top-level group, and every resampling layer), all, "
                 "or none.")]
FvcoreOpt = Annotated[bool, typer.Option(
    "--fvcore/--no-fvcore", help="Show fvcore's count beside ours (a traced forward).")]


@app.command()
@handle_errors
def verify(spec: SpecArg, input: InputOpt = None, device: DeviceOpt = "cpu",
           format: FormatOpt = "table", rf: RfOpt = "stages", fvcore: FvcoreOpt = True,
           arg: ArgOpt = None) -> None:
    """Analytic next to measured, per layer: output shape, params, MACs (FlopCounterMode / 2,
    fvcore beside) and receptive field by gradient support. A torch model is measured itself
    (its forward, parameters() and FlopCounterMode). Exit 1 when anything disagrees. The field
    measurement dominates the time (a minute or more on a large net with --rf all; --rf none
    skips it).

    Example: cnncalc verify resnet18 --input 3x64x64 --rf all
    """
    from cnncalc.api import verify as measure
    from cnncalc.report.progress import progress

    check_format(format, ("table", "md", "json", "csv"))
    if rf not in ("stages", "all", "none"):
        raise CnncalcError(f"unknown --rf {rf!r}; choose stages, all or none")
    with progress() as update:  # on stderr, on a terminal only
        fields = None if update is None else \
            (lambda done, total: update("receptive fields", done, total))
        v = measure(spec, input, device=device, rf=rf, fvcore=fvcore, args=arg, progress=fields)
    emit(v.render(format))
    if not v.agrees:
        raise typer.Exit(1)
