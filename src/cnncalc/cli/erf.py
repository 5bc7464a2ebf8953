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
    WeightsOpt,
    app,
    check_format,
    emit,
    handle_errors,
    number,
)
from cnncalc.core.errors import CnncalcError


def samples_done(update: Any) -> Callable[[int, int], None] | None:
    """The measurement's (done, total) callback as a row of the progress bar."""
    return None if update is None else lambda done, total: update("samples", done, total)


@app.command()
@handle_errors
def erf(spec: Annotated[str | None, typer.Argument(
            help="Spec file (.yaml), a zoo name such as resnet50 or a torch model "
                 "(model.py:Net, measured with its own weights); or use --stack.")] = None,
        layer: Annotated[str | None, typer.Option(
            "--layer", "-l", help="Layer whose centre unit is measured; default: the last "
                                  "layer with spatial extent.")] = None,
        input: InputOpt = None,
        samples: Annotated[int, number(
            "--samples", "-n", min=1, max=100_000, help="Random inputs averaged over.")] = 32,
        init: Annotated[str | None, typer.Option(
            "--init", help="Weights: default (torch's), uniform (each conv 1/fan_in: the "
                           "closed form's setting) or constant (every weight 1). Default: a "
                           "torch model's own weights (or --weights), torch's for a spec.")]
        = None,
        linear: Annotated[bool, typer.Option(
            "--linear", help="No activations; max pools become average pools.")] = False,
        seed: Annotated[int, number("--seed", min=0, max=2**63 - 1,
                                          help="Seed of weights and inputs.")] = 0,
        device: DeviceOpt = "cpu",
        aggregate: Annotated[str, typer.Option(
            "--aggregate", help="Per pixel: abs (|gradient|) or positive (max(gradient, 0), "
                                "as RepLKNet).")] = "abs",
        inputs: Annotated[str, typer.Option(
            "--inputs", help="Input images: randn (Gaussian noise) or ones.")] = "randn",
        chunk: Annotated[int | None, number(
            "--chunk", min=1, max=65_536,
                help="Samples per backward pass; default: what fits 2 GiB "
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
                            "3x3) at each of --depths instead of a spec.")] = None,
        depths: Annotated[str | None, typer.Option(
            "--depths", "--depth", help="With --stack: depths, comma-separated (default "
                                        "5,10,20,40).")] = None,
        relu: Annotated[bool, typer.Option(
            "--relu", help="With --stack: a ReLU after each conv.")] = False,
        images: Annotated[str | None, typer.Option(
            "--images", help="Real images instead of random inputs: a folder or a glob "
                             "(PNG, JPEG; needs Pillow), resized and centre-cropped to the "
                             "input, averaged over all of them (RepLKNet's protocol).")] = None,
        mean: Annotated[str | None, typer.Option(
            "--mean", help="With --images: per-channel mean, 0.485,0.456,0.406 (ImageNet's, "
                           "the default) or none.")] = None,
        std: Annotated[str | None, typer.Option(
            "--std", help="With --images: per-channel std, 0.229,0.224,0.225 (ImageNet's, "
                          "the default) or none.")] = None,
        format: FormatOpt = "table", arg: ArgOpt = None, weights: WeightsOpt = None) -> None:
    """Effective receptive field: the gradient of a unit's centre over random inputs, its
    Gaussian σ, contribution areas, and the theoretical RF and closed-form σ beside them.

    Example: cnncalc erf --stack 3x3 --depths 7 --init uniform --linear;
    cnncalc erf resnet18 --input 3x128x128 --layer layer2.1.relu2 --png erf.png
    """
    from cnncalc.measure.device import pick_device
    from cnncalc.measure.erf import check_request, parse_depths, stack_series
    from cnncalc.report import erf as report
    from cnncalc.report.progress import progress

    check_format(format, report.FORMATS)
    check_request(spec, stack, depths, relu, png)
    if stack is not None and images:
        raise CnncalcError("--images measures a spec or a model, not --stack")
    if png:
        from cnncalc.cli.output import check_target

        report.check_png(png)
        check_target(png, ".png", "--png", "PNG image", [spec] if spec else [])
    options = dict(layer=layer, samples=samples, init=init, linear=linear, seed=seed,
                   device=pick_device(device), chunk=chunk, aggregate=aggregate, inputs=inputs)
    if stack is not None:
        from cnncalc.frontends.stack import stack_graph

        depth_list = parse_depths(depths)
        graphs = [stack_graph(stack, n, input, relu) for n in depth_list]
        with progress() as update:
            series = stack_series(graphs, depth_list, progress=samples_done(update), **options)
        return emit(report.render(series, format))
    from cnncalc.api import erf as measure

    with progress() as update:
        e = measure(spec, input, progress=samples_done(update), weights=weights, args=arg,
                    images=images, mean=mean, std=std, **{**options, "device": device})
    if png:
        e.save_png(png, log)
        typer.echo(f"wrote {png}", err=True)
    emit(e.render(format, heatmap, log))
