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
    fvcore beside) and receptive field by gradient support. Exit 1 when anything disagrees.
    The field measurement dominates the time (a minute or more on a large net with --rf all;
    --rf none skips it).

    Example: cnncalc verify resnet18 --input 3x64x64 --rf all
    """
    from cnncalc.frontends.load import analyze

    g = analyze(spec, input, args=arg)
    check_format(format, ("table", "md", "json", "csv"))
    if rf not in ("stages", "all", "none"):
        raise CnncalcError(f"unknown --rf {rf!r}; choose stages, all or none")
    from cnncalc.core.checks import compare
    from cnncalc.measure.counts import measure_counts
    from cnncalc.measure.device import out_of_memory, pick_device
    from cnncalc.measure.support import measure_fields, select
    from cnncalc.report.verify import render

    dev = pick_device(device)
    with out_of_memory(f"measuring {g.name} on {device}"):
        v = compare(g, measure_counts(g, dev, fvcore), measure_fields(g, select(g, rf), dev))
    emit(render(v, format, device))
    if not v.agrees:
        raise typer.Exit(1)
