"""`cnncalc erf`: the measured effective receptive field beside the theoretical one (torch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from cnncalc.cli.app import (
    ArgOpt,
    DeviceOpt,
    FormatOpt,
    InputOpt,
    app,
    check_format,
    emit,
    handle_errors,
)
from cnncalc.core.errors import CnncalcError

DEPTHS = "5,10,20,40"  # --stack's default depths: Luo's figure 1


def samples_done(update: Any) -> Callable[[int, int], None] | None:
    """The measurement's (done, total) callback as a row of the progress bar."""
    return None if update is None else lambda done, total: update("samples", done, total)


def parse_depths(text: str) -> list[int]:
    try:
        depths = [int(d) for d in text.split(",")]
    except ValueError:
        depths = []
    if not depths or min(depths) < 1:
        raise CnncalcError(f"bad --depth {text!r}: write depths like 5,10,20,40")
    return depths


@app.command()
@handle_errors
def erf(spec: Annotated[str | None, typer.Argument(
            help="Spec file (.yaml) or a zoo name such as resnet50; or use --stack.")] = None,
        layer: Annotated[str | None, typer.Option(
            "--layer", "-l", help="Layer whose centre unit is measured; default: the last "
                                  "layer with spatial extent.")] = None,
        input: InputOpt = None,
        samples: Annotated[int, typer.Option(
            "--samples", "-n", min=1, help="Random inputs averaged over.")] = 32,
        init: Annotated[str, typer.Option(
            "--init", help="Weights: default (torch's), uniform (each conv 1/fan_in: the "
                           "closed form's setting) or constant (every weight 1).")] = "default",
        linear: Annotated[bool, typer.Option(
            "--linear", help="No activations; max pools become average pools.")] = False,
        seed: Annotated[int, typer.Option("--seed", help="Seed of weights and inputs.")] = 0,
        device: DeviceOpt = "cpu",
        aggregate: Annotated[str, typer.Option(
            "--aggregate", help="Per pixel: abs (|gradient|) or positive (max(gradient, 0), "
                                "as RepLKNet).")] = "abs",
        inputs: Annotated[str, typer.Option(
            "--inputs", help="Input images: randn (Gaussian noise) or ones.")] = "randn",
        chunk: Annotated[int | None, typer.Option(
            "--chunk", min=1, help="Samples per backward pass; default: what fits 2 GiB "
                                   "(half the free GPU memory on CUDA).")] = None,
        png: Annotated[str | None, typer.Option(
            "--png", help="Save a figure: heatmap, RF box, 1σ/2σ ellipses, centre row.")] = None,
        log: Annotated[bool, typer.Option(
            "--log", help="Heatmaps on the log10(1 + x) scale.")] = False,
        heatmap: Annotated[bool, typer.Option(
            "--heatmap/--no-heatmap", help="With --format table: the map in the terminal.")]
        = True,
        stack: Annotated[str | None, typer.Option(
            "--stack", help="Measure stacks of this item (the `rf --stack` shorthand, e.g. "
                            "3x3) at each --depth instead of a spec.")] = None,
        depth: Annotated[str | None, typer.Option(
            "--depth", help="With --stack: depths (default 5,10,20,40).")] = None,
        relu: Annotated[bool, typer.Option(
            "--relu", help="With --stack: a ReLU after each conv.")] = False,
        format: FormatOpt = "table", arg: ArgOpt = None) -> None:
    """Effective receptive field: the gradient of a unit's centre over random inputs, its
    Gaussian σ, contribution areas, and the theoretical RF and closed-form σ beside them.

    Example: cnncalc erf --stack 3x3 --depth 7 --init uniform --linear;
    cnncalc erf resnet18 --input 3x128x128 --layer layer2.1.relu2 --png erf.png
    """
    from cnncalc.measure.device import pick_device
    from cnncalc.measure.erf import measure, stack_series
    from cnncalc.report import erf as report
    from cnncalc.report.progress import progress

    check_format(format, report.FORMATS)
    if (spec is None) == (stack is None):
        raise CnncalcError("give a spec (file or zoo name) or --stack 3x3, not both"
                           if spec else "give a spec (file or zoo name) or --stack 3x3")
    if stack is None and (depth or relu):
        raise CnncalcError("--depth and --relu go with --stack")
    if stack is not None and png:
        raise CnncalcError("--png draws one map: give a spec, not --stack")
    if png:
        report.check_png(png)
    options = dict(samples=samples, init=init, linear=linear, seed=seed,
                   device=pick_device(device), chunk=chunk, aggregate=aggregate, inputs=inputs)
    if stack is not None:
        with progress() as update:
            series, a, a_theory = stack_series(stack, parse_depths(depth or DEPTHS), input,
                                               relu, layer=layer, progress=samples_done(update),
                                               **options)
        text = report.series_text(series, a, a_theory, format)
        return emit(text) if text is not None else report.print_series(series, a, a_theory)
    from cnncalc.frontends.load import analyze

    g = analyze(spec, input, args=arg)  # type: ignore[arg-type]
    with progress() as update:
        e = measure(g, layer, progress=samples_done(update), **options)  # type: ignore[arg-type]
    if png:
        report.save_png(e, png, log)
    if format == "table":
        from rich.console import Console

        console = Console()
        report.print_table(e, console)
        if heatmap:
            console.print(report.heatmap(e, log, max(8, min(48, console.width // 2 - 1))))
    else:
        emit(report.to_json(g, e) if format == "json" else report.to_md(e))
