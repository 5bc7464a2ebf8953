"""`cnncalc latency`: the measured speed of a spec's network beside its analytic MACs."""

from __future__ import annotations

from typing import Annotated

import typer

from cnncalc.cli.app import (
    ArgOpt,
    DeviceOpt,
    FormatOpt,
    InputOpt,
    SpecArg,
    WeightsOpt,
    app,
    check_format,
    emit,
    fail,
    handle_errors,
    number,
)


@app.command()
@handle_errors
def latency(
    spec: SpecArg, input: InputOpt = None,
    batches: Annotated[str, typer.Option(
        "--batches", "--batch", "-b", help="Batch sizes, comma-separated: 1,8,32.")] = "1",
    device: DeviceOpt = "cpu",
    dtype: Annotated[str | None, typer.Option(
        "--dtype", help="float32, float16 or bfloat16; default: a torch model's own, float32 "
                        "for a spec.")] = None,
    channels_last: Annotated[bool, typer.Option(
        "--channels-last", help="Module and input in channels-last (NHWC) memory format.")]
    = False,
    threads: Annotated[int | None, number(
        "--threads", min=1, max=256, help="torch CPU threads (default: torch's).")] = None,
    compile_: Annotated[bool, typer.Option(
        "--compile", help="Time torch.compile(module); compilation happens in the warm-up.")]
    = False,
    per_layer: Annotated[bool, typer.Option(
        "--per-layer", help="Also time every layer: MACs, bytes moved, FLOP/byte and a "
                            "roofline verdict; the slowest highlighted.")] = False,
    peak_gflops: Annotated[float | None, number(
        "--peak-gflops", min=0.001, max=1e9, help="Peak GFLOP/s to compare with (default: a CPU "
                                         "matmul measured once, or the GPU's datasheet).")]
    = None,
    min_time: Annotated[float, number(
        "--min-time", min=0.0, max=600.0,
        help="Seconds of timed runs per batch size, after warm-up (at least 7 blocks whatever "
             "the budget).")] = 1.0,
    format: FormatOpt = "table", arg: ArgOpt = None, weights: WeightsOpt = None,
) -> None:
    """Measured latency per batch size: median and p10–p90, images/s, achieved GMAC/s from the
    analytic MACs and the fraction of the device's peak; with --per-layer, each layer's time on
    a roofline. A torch model is timed itself (eval mode, inference_mode). Out of memory at a
    batch keeps the smaller batches' results (exit code 2).

    Example: cnncalc latency resnet18 --batches 1,8 --per-layer
    """
    from cnncalc.api import latency as measure
    from cnncalc.report.latency import FORMATS
    from cnncalc.report.progress import progress

    check_format(format, FORMATS)
    with progress() as update:
        t = measure(spec, input, batches=batches, device=device, dtype=dtype,
                    channels_last=channels_last, threads=threads, compile=compile_,
                    min_time=min_time, per_layer=per_layer, peak_gflops=peak_gflops,
                    weights=weights, args=arg, progress=update)
    emit(t.render(format))
    if t.error:
        fail(t.error)
