"""Measured latency of a spec's network beside its analytic MACs.

`measure(graph, batches, setup)` builds the graph in torch, times a forward pass per batch size
with the harness of `backends.timing` (warm-up, blocks, median, CUDA events) under
`torch.inference_mode()`, and with `per_layer` times every layer with synchronised hooks and puts
its bytes moved and arithmetic intensity on a roofline. An out-of-memory (or any backend error) at
batch N ends the loop and is kept in `error`, with the results of the smaller batches.

Per layer, bytes moved = (every input + the output at this batch + params + buffers) × bytes per
value of the dtype: each value read or written once, the least traffic the layer can have.
Arithmetic intensity = FLOPs ÷ bytes with FLOPs = 2 × MACs (the MAC convention: conv and linear
only), so norms, pools and activations have intensity 0 and count as memory-bound.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.errors import BackendError
from cnncalc.core.layers.common import numel
from cnncalc.core.optional import require_torch
from cnncalc.core.text import is_count
from cnncalc.core.timed import BatchResult, LatencyResult, LayerTime, Peak, Setup
from cnncalc.measure.build import build_module
from cnncalc.measure.device import is_out_of_memory, out_of_memory, pick_device, reserve
from cnncalc.measure.peak import find_peak
from cnncalc.measure.timing import (
    MIN_BLOCKS,
    WARMUP_FRACTION,
    LayerClock,
    Progress,
    stats,
    time_calls,
    warm_up,
)

DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2}  # name -> bytes per value



def check_dtype(name: str) -> None:
    if name not in DTYPES:
        raise BackendError(f"unknown dtype {name!r}; choose {', '.join(DTYPES)}")


MAX_BATCH = 65_536


def parse_batches(text: str) -> list[int]:
    """'1,8,32' -> [1, 8, 32]: positive integers, ascending, no repeats."""
    parts = text.replace(" ", "").split(",")
    out = [int(p) for p in parts] if all(is_count(p) for p in parts) else []
    if not out or any(not 1 <= b <= MAX_BATCH for b in out):
        raise BackendError(f"--batches wants integers from 1 to {MAX_BATCH:,} separated by "
                           f"commas, got {text!r}")
    return sorted(set(out))


@contextmanager
def threads(n: int | None) -> Iterator[None]:
    torch = require_torch()
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def unsupported(what: str) -> Iterator[None]:
    """A dtype or compile failure inside torch as one line; other errors pass through."""
    try:
        yield
    except (RuntimeError, NotImplementedError) as e:
        if isinstance(e, RuntimeError) and is_out_of_memory(e):
            raise
        text = str(e).strip().splitlines()
        raise BackendError(f"{what}: {text[0] if text else type(e).__name__}") from None


def device_name(device: Any) -> str:
    torch = require_torch()
    if device.type == "cuda":
        return str(torch.cuda.get_device_name(device))
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: Any, setup: Setup) -> dict[str, Any]:
    torch = require_torch()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"torch": torch.__version__, "python": platform.python_version(),
            "platform": platform.platform(), "device": str(device),
            "device_name": device_name(device), "threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(), "dtype": setup.dtype,
            "channels_last": setup.channels_last, "compile": setup.compile,
            "min_time_s": setup.min_time, "load_average_1min": load}


def layer_bytes(x: Layer, batch: int, value_bytes: int) -> int:
    values = batch * (sum(numel(s) for s in x.in_shapes) + numel(x.out_shape))
    return (values + x.params + x.buffers) * value_bytes


def roofline(x: Layer, batch: int, seconds: float, value_bytes: int, peak: Peak) -> LayerTime:
    nbytes = layer_bytes(x, batch, value_bytes)
    macs = x.macs * batch
    ridge = peak.ridge
    bound = None if ridge is None else ("compute" if 2 * macs / nbytes >= ridge else "memory")
    return LayerTime(x.name, x.kind, tuple(x.in_shapes[0]), tuple(x.out_shape), x.params, macs,
                     seconds, nbytes, bound)


def time_layers(graph: Graph, net: Any, x: Any, device: Any, setup: Setup, peak: Peak,
                progress: Progress | None) -> list[LayerTime]:
    """Each layer's median time over repeated forward passes, hooks synchronising around it."""
    names = [layer.name for layer in graph.layers]
    clock = LayerClock(net, names, device)
    label = f"per layer, batch {x.shape[0]}"
    try:
        warm_up(lambda: net(x), device, setup.min_time * WARMUP_FRACTION)
        clock.clear()
        t0, passes = time.perf_counter(), 0
        while passes < MIN_BLOCKS or time.perf_counter() - t0 < setup.min_time:
            net(x)
            passes += 1
            if progress:
                done = (time.perf_counter() - t0) / setup.min_time if setup.min_time else 1.0
                progress(label, min(1.0, done, passes / MIN_BLOCKS))
        medians = clock.medians()
    finally:
        clock.remove()
    value_bytes = DTYPES[setup.dtype]
    # a row made inside another row's node (a module's mean that is also a flatten) has no
    # time of its own
    return [roofline(layer, x.shape[0], medians.get(layer.name, 0.0), value_bytes, peak)
            for layer in graph.layers]


def measure_batch(graph: Graph, net: Any, runner: Any, batch: int, device: Any, setup: Setup,
                  peak: Peak, progress: Progress | None) -> BatchResult:
    torch = require_torch()
    dtype = getattr(torch, setup.dtype)
    x = torch.randn(batch, *graph.input_shape, device=device).to(dtype)
    if setup.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    what = "torch.compile failed" if setup.compile else f"{setup.dtype} on {device.type}"
    with unsupported(what):
        runner(x)
    times, calls = time_calls(lambda: runner(x), device, setup.min_time, progress=progress,
                              label=f"batch {batch}")
    macs = sum(layer.macs for layer in graph.layers) * batch
    result = BatchResult(batch, macs, stats(times, calls))
    if setup.per_layer:
        result.layers = time_layers(graph, net, x, device, setup, peak, progress)
    return result


def prepare(graph: Graph, device: Any, setup: Setup, net: Any = None) -> tuple[Any, Any]:
    """The eager module on the device in the dtype, and what to call (compiled or not). `net`:
    the user's own module (`measure.module.ModuleNet`) or a spec's net with loaded weights;
    by default the graph built with torch's initialisation."""
    torch = require_torch()
    net = build_module(graph) if net is None else net
    net = net.to(device=device, dtype=getattr(torch, setup.dtype))
    if setup.channels_last:
        net = net.to(memory_format=torch.channels_last)
    runner = torch.compile(net) if setup.compile else net
    return net, runner


def measure_latency(graph: Graph, batches: list[int], setup: Setup,
                    progress: Progress | None = None, net: Any = None) -> LatencyResult:
    """Latency at each batch size, smallest first; stops at the first failing batch. `net`: the
    module to time (see `prepare`); the graph gives the MACs and the per-layer rows."""
    torch = require_torch()
    check_dtype(setup.dtype)
    device = pick_device(setup.device)
    with threads(setup.threads), torch.inference_mode():
        env = environment(device, setup)  # before our own work raises the load average
        itemsize = torch.empty((), dtype=getattr(torch, setup.dtype)).element_size()
        reserve(graph, batches[0], device, f"latency at batch {batches[0]}", itemsize=itemsize)
        with out_of_memory("building the network"):
            net, runner = prepare(graph, device, setup, net)
        with unsupported(f"{setup.dtype} on {device.type}"):
            peak = find_peak(device, getattr(torch, setup.dtype), setup.peak_gflops,
                             setup.per_layer, progress)
        result = LatencyResult(graph.name, graph.input_shape, setup, env, peak)
        for b in batches:
            try:
                reserve(graph, b, device, f"latency at batch {b}", itemsize=itemsize)
                with out_of_memory(f"at batch {b}"):
                    result.batches.append(
                        measure_batch(graph, net, runner, b, device, setup, peak, progress))
            except BackendError as e:
                result.error = str(e)
                break
    return result
