"""`cnncalc memory`: training and inference memory, analytic (no torch), measured with
--measure; --fit finds the largest batch."""

from __future__ import annotations

from typing import Annotated

import typer

from cnncalc.cli.app import (
    ArgOpt,
    BatchOpt,
    DeviceOpt,
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
def memory(
    spec: SpecArg, input: InputOpt = None, batch: BatchOpt = 1,
    dtype: Annotated[str, typer.Option(
        "--dtype", help="float32, float16 or bfloat16 (activations; also the weights "
                        "unless --amp).")] = "float32",
    amp: Annotated[bool, typer.Option(
        "--amp", help="Mixed precision: --dtype activations (float16 unless given), float32 "
                      "master weights.")] = False,
    optimizer: Annotated[str, typer.Option(
        "--optimizer", help="sgd, momentum, adam or adamw (state: 0, 1× or 2× params).")]
    = "adam",
    mode: Annotated[str, typer.Option("--mode", help="train or infer.")] = "train",
    checkpoint: Annotated[str, typer.Option(
        "--checkpoint", help="none, or stages: activation checkpointing of each top-level "
                             "group.")] = "none",
    fit: Annotated[str | None, typer.Option(
        "--fit", help="A memory budget (24GiB, 80GB): the largest batch that fits.")] = None,
    measure: Annotated[bool, typer.Option(
        "--measure", help="Measure with torch beside: saved tensors on CPU (exact), one "
                          "optimizer step, and with --device cuda the allocator's peaks.")]
    = False,
    device: DeviceOpt = "cpu", format: FormatOpt = "table", arg: ArgOpt = None,
) -> None:
    """Memory of a training step or an inference pass: per layer the tensors autograd keeps
    for backward (each storage once), output and live bytes; in total parameters, gradients,
    optimizer state, saved activations and the peaks. Exit 1 when --measure disagrees.

    Example: cnncalc memory resnet50 --batch 32 --optimizer adam --fit 24GiB
    """
    from dataclasses import replace

    from cnncalc.core import memory as model
    from cnncalc.frontends.load import analyze
    from cnncalc.report.memory import FORMATS, render

    check_format(format, FORMATS)
    if amp and dtype == "float32":
        dtype = "float16"  # --amp alone: float16 autocast, as torch.autocast on CUDA
    setup = model.MemorySetup(batch, dtype, amp, optimizer, mode, checkpoint)
    setup.check()
    g = analyze(spec, input, args=arg)
    result = model.memory(g, setup) if fit is None else \
        model.fit(g, setup, model.parse_bytes(fit))
    if measure:
        from cnncalc.measure.device import pick_device
        from cnncalc.measure.memory import measure_memory

        result.measured = measure_memory(g, replace(setup, batch=result.setup.batch),
                                         str(pick_device(device)))
    emit(render(result, format))
    m = result.measured
    if m is not None and setup.checkpoint == "none" and \
            m.saved_bytes != result.activations_saved_bytes:
        raise typer.Exit(1)
