"""`cnncalc shapes` and `cnncalc rf`: the analytic tables, no torch; `--explain` shows each
layer's formulas with its numbers substituted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cnncalc.cli.app import (
    ArgOpt,
    AttentionMacsOpt,
    BatchOpt,
    DepthOpt,
    FormatOpt,
    InputOpt,
    SpecArg,
    app,
    check_format,
    emit,
    handle_errors,
    number,
)
from cnncalc.core.errors import CnncalcError

if TYPE_CHECKING:
    from cnncalc.core.engine import Graph

ExplainOpt = Annotated[bool, typer.Option(
    "--explain", help="Per layer, the formulas with the layer's numbers substituted "
                      "(formats: table, md, json, csv: one row a step, latex).")]
LayerOpt = Annotated[str | None, typer.Option(
    "--layer", "-l", help="With --explain: only this layer (or the layers under this name).")]


def explain(g: Graph, layer: str | None, format: str, rf_only: bool) -> None:
    """Print the worked derivation of every layer, or of the layers named `layer`."""
    from cnncalc.core.errors import did_you_mean
    from cnncalc.report.answer import FORMATS, render
    from cnncalc.report.explain import LATEX, TEXT
    from cnncalc.report.interview import explain_answer

    check_format(format, FORMATS)
    layers = g.layers if layer is None else \
        [x for x in g.layers if x.name == layer or x.name.startswith(layer + ".")]
    if not layers:
        raise CnncalcError(f"no layer named {layer!r} in {g.name}",
                           hint=did_you_mean(layer or "", [x.name for x in g.layers]))
    nt = LATEX if format == "latex" else TEXT
    emit(render(explain_answer(g, layers, rf_only, nt), format))


@app.command()
@handle_errors
def shapes(spec: SpecArg, input: InputOpt = None, batch: BatchOpt = 1,
           format: FormatOpt = "table", depth: DepthOpt = None,
           all_ops: Annotated[bool, typer.Option(
               "--all-ops", help="Also count bias, norm, activation, pooling, add and multiply "
                                 "ops, in their own column.")] = False,
           explain_: ExplainOpt = False, layer: LayerOpt = None, arg: ArgOpt = None,
           attention_macs: AttentionMacsOpt = "all") -> None:
    """Per layer: output shape, params, MACs and receptive field, with totals.

    Example: cnncalc shapes resnet50 --depth 1
    """
    from cnncalc.frontends.load import analyze
    from cnncalc.report.render import FORMATS, render, shapes_columns

    g = analyze(spec, input, batch, arg).count_attention(attention_macs)
    if explain_ or layer:
        return explain(g, layer, format, rf_only=False)
    check_format(format, FORMATS)
    emit(render(g, shapes_columns(batch, all_ops), format, depth))


@app.command()
@handle_errors
def rf(spec: Annotated[str | None, typer.Argument(
           help="Spec file (.yaml), zoo name, Python spec (net.py) or torch model "
                "(model.py:Net, pkg.mod:fn; runs its code); or use --stack.")] = None,
       input: InputOpt = None, format: FormatOpt = "table", depth: DepthOpt = None,
       stack: Annotated[str | None, typer.Option(
           "--stack", help="A quick stack instead of a spec: '3x3*7', '3x3 d1,d2,d4,d8', "
                           "'7x7 s2, max3 s2 p1, 3x3*2' (input 1x224x224 unless --input).")]
       = None,
       explain_: ExplainOpt = False, layer: LayerOpt = None, arg: ArgOpt = None,
       target: Annotated[int | None, number(
           "--target", min=1, max=100_000,
           help="Where the field first reaches this many pixels: the layer "
                "and stage of a spec, or how many layers of a --stack.")]
       = None) -> None:
    """Per layer: receptive field size, jump and start, smallest over paths, alignment.

    Example: cnncalc rf vgg16; cnncalc rf --stack "3x3 d1,d2,d4,d8" --explain
    """
    from cnncalc.frontends.stack import spec_or_stack
    from cnncalc.report.render import FORMATS, render, rf_columns

    if target is not None:
        return reach_target(spec, stack, input, arg, target, format)
    g = spec_or_stack(spec, stack, input, arg)
    if explain_ or layer:
        return explain(g, layer, format, rf_only=True)
    check_format(format, FORMATS)
    emit(render(g, rf_columns(), format, depth, totals=False))


def reach_target(spec: str | None, stack: str | None, input: str | None, arg: list[str] | None,
                 target: int, format: str) -> None:
    """`rf --target`: the first layer of a spec whose field reaches the target, or the layers a
    repeated --stack needs."""
    from cnncalc.core.design import reach
    from cnncalc.frontends.sizes import stack_to_target
    from cnncalc.frontends.stack import spec_or_stack
    from cnncalc.report.design import FORMATS, render_reach

    check_format(format, FORMATS)
    if spec is None and stack is not None:
        emit(render_reach(stack_to_target(stack, target, input), format))
        return
    emit(render_reach(reach(spec_or_stack(spec, stack, input, arg), target), format))
