"""`cnncalc shapes` and `cnncalc rf`: the analytic tables, no torch."""

from __future__ import annotations

from typing import Annotated

import typer

from cnncalc.cli import (
    BatchOpt,
    DepthOpt,
    FormatOpt,
    InputOpt,
    SpecArg,
    app,
    check_format,
    emit,
    handle_errors,
)


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
