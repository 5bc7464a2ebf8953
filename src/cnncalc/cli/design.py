"""`cnncalc sizes` (which input sizes work and what they cost) and `cnncalc check` (a budget
guard for CI: exit 0 within budget, 1 over it, 2 on bad input)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cnncalc.cli.app import (
    ArgOpt,
    BatchOpt,
    InputOpt,
    SpecArg,
    app,
    check_format,
    emit,
    handle_errors,
    number,
)
from cnncalc.core.errors import CnncalcError

FormatOpt = Annotated[str, typer.Option(
    "--format", "-f", help="Output format: table, md, json or csv.")]


@app.command()
@handle_errors
def sizes(spec: Annotated[str, typer.Argument(help="Spec file (.yaml) or zoo name.")],
          range_: Annotated[str, typer.Option(
              "--range", "-r", help="Sizes to scan: LO..HI (square), LO..HI:STEP, or H and W "
                                    "ranges like 64..512x64..256:32 (at most 10,000 sizes).")]
          = "32..1024",
          at: Annotated[str | None, typer.Option(
              "--at", help="The table's sizes, comma-separated: 224,320,448 or 224x320,... "
                           "(default: the spec's size ×1, 1.5, 2, 3 among those that run).")]
          = None,
          tile: Annotated[int | None, number(
              "--tile", min=1, max=100_000,
              help="Sliding-window inference with TxT tiles: the units per "
                   "tile with their full field, the step and the overlap.")]
          = None,
          png: Annotated[Path | None, typer.Option(
              "--png", help="Also plot MACs and memory against the size (needs matplotlib).")]
          = None,
          format: FormatOpt = "table") -> None:
    """Which input sizes run, which lose no pixels to a floor, where joins line up; MACs and
    activations as exact formulas in H and W; border layers and tiling.

    Example: cnncalc sizes unet --range 32..512 --tile 512
    """
    from cnncalc.core.design import analyze_sizes
    from cnncalc.frontends.load import load_spec, parse_input
    from cnncalc.frontends.pysource import is_python
    from cnncalc.frontends.sizes import lowering, parse_range
    from cnncalc.report.design import FORMATS, render
    from cnncalc.report.design import png as plot

    check_format(format, FORMATS)
    if is_python(spec):
        raise CnncalcError("sizes reads YAML specs and zoo names; export a Python spec or model "
                           "with `cnncalc export --to yaml` first")
    s = load_spec(spec)
    if len(s.input_shape) != 3:
        raise CnncalcError(f"sizes scans H×W images; {s.name}'s input "
                           f"{'×'.join(map(str, s.input_shape))} has {len(s.input_shape) - 1} "
                           "spatial ax" + ("is" if len(s.input_shape) == 2 else "es"))
    scanned = parse_range(range_)
    picks = None if at is None else \
        [parse_input(x, s.input_shape[0])[1:] for x in at.split(",") if x.strip()]
    result = analyze_sizes(lowering(s), s.name, s.input_shape, scanned,
                           [(h, w) for h, w in picks] if picks is not None else None, tile)
    emit(render(result, format))
    if png is not None:
        typer.echo(plot(result, str(png)), err=True)


def _limits(values: dict[str, str | None]) -> dict[str, int]:
    from cnncalc.core.budget import parse_amount
    return {k: parse_amount(v, k) for k, v in values.items() if v is not None}


def _budget_file(path: Path) -> dict[str, Any]:
    """A project file: YAML with a top-level `budget:` mapping (other keys are ignored)."""
    from cnncalc.core.errors import SpecError
    from cnncalc.frontends.load import read_budget
    from cnncalc.frontends.source import load_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"cannot read {path}: {e}") from None
    root = load_yaml(text, str(path))
    if not root.is_map or "budget" not in root.value:
        raise SpecError(f"{path} has no top-level 'budget:' mapping", root.loc)
    return read_budget(root.value["budget"])


@app.command()
@handle_errors
def check(spec: SpecArg, input: InputOpt = None, batch: BatchOpt = 1,
          max_params: Annotated[str | None, typer.Option(
              "--max-params", help="At most this many parameters: 5M, 25557032.")] = None,
          max_macs: Annotated[str | None, typer.Option(
              "--max-macs", help="At most this many MACs per forward pass: 1G, 4.1G.")] = None,
          max_memory: Annotated[str | None, typer.Option(
              "--max-memory", help="At most this many bytes of weights plus layer outputs "
                                   "(float32): 8GiB, 512MB.")] = None,
          min_rf: Annotated[str | None, typer.Option(
              "--min-rf", help="A receptive field of at least this many pixels at the last "
                               "local layer.")] = None,
          budget: Annotated[Path | None, typer.Option(
              "--budget", help="A project file (YAML) whose 'budget:' mapping gives the "
                               "limits; options given here win.")] = None,
          format: FormatOpt = "table", arg: ArgOpt = None) -> None:
    """A budget guard: exit 0 within every limit, 1 over any (one line per limit with its
    margin), 2 on bad input or when a limit cannot be judged (--min-rf after an op cnncalc
    does not map: the field is unknown). Limits come from the options, --budget FILE, or the
    spec's budget:.

    Example: cnncalc check resnet50 --max-params 30M --max-macs 5G
    """
    from cnncalc.core.budget import check as judge
    from cnncalc.frontends.load import analyze, load_spec
    from cnncalc.frontends.pysource import is_python
    from cnncalc.report.design import FORMATS, render_check

    check_format(format, FORMATS)
    limits: dict[str, Any] = {} if is_python(spec) else dict(load_spec(spec).budget)
    if budget is not None:
        limits.update(_budget_file(budget))
    limits.update(_limits({"max_params": max_params, "max_macs": max_macs,
                           "max_memory": max_memory, "min_rf": min_rf}))
    size = input or limits.pop("input", None)
    limits.pop("input", None)
    verdict = judge(analyze(spec, size, batch, arg), limits)
    emit(render_check(verdict, format))
    if verdict.ok is False:
        raise typer.Exit(1)
    if verdict.unjudged:
        x = verdict.unjudged[0]
        raise CnncalcError(f"--{x.name.replace('_', '-')} cannot be judged: the {x.what} at "
                           f"{x.where} is unknown ({x.unknown})")
