"""The timing harness: the discipline of torch.utils.benchmark, by hand so it can report progress
and time single layers.

- warm-up: calls until a quarter of the budget has passed (at least two calls; the first pays
  for allocation, oneDNN primitive creation or torch.compile);
- blocks: each block runs `number` calls, sized so a block lasts about BLOCK_FRACTION of the
  budget, and yields one per-call time (block time ÷ number), so timer overhead is amortised;
- enough blocks: until the budget is spent and at least `min_blocks` blocks were timed;
- on CUDA each block is bracketed by CUDA events and synchronised, so queued kernels are counted.

The caller runs it under `torch.inference_mode()`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from cnncalc.core.optional import require_torch
from cnncalc.core.timed import Stats
from cnncalc.measure.device import synchronize

MIN_BLOCKS = 7
BLOCK_FRACTION = 1 / 20
WARMUP_FRACTION = 1 / 4

Progress = Callable[[str, float], None]  # (what is being measured, fraction done of it)



def quantile(sorted_times: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    pos = q * (len(sorted_times) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_times) - 1)
    return sorted_times[lo] + (sorted_times[hi] - sorted_times[lo]) * (pos - lo)


def stats(times: list[float], calls: int) -> Stats:
    s = sorted(times)
    return Stats(statistics.median(s), quantile(s, 0.10), quantile(s, 0.25), quantile(s, 0.75),
                 quantile(s, 0.90), statistics.fmean(s), s[0], len(s), calls)


def _block(fn: Callable[[], Any], number: int, device: Any) -> float:
    """Seconds for `number` calls of fn, queued GPU work included."""
    if getattr(device, "type", device) == "cuda":
        torch = require_torch()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(number):
            fn()
        end.record()
        end.synchronize()
        return float(start.elapsed_time(end)) / 1e3
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    synchronize(device)
    return time.perf_counter() - t0


def warm_up(fn: Callable[[], Any], device: Any, seconds: float) -> float:
    """Call fn until `seconds` have passed (at least twice); seconds per call of the last ones."""
    t0 = time.perf_counter()
    fn()
    synchronize(device)
    t1 = time.perf_counter()
    n = 0
    while n < 1 or time.perf_counter() - t0 < seconds:
        fn()
        synchronize(device)
        n += 1
    return max((time.perf_counter() - t1) / n, 1e-9)


def time_calls(fn: Callable[[], Any], device: Any, min_time: float,
               min_blocks: int = MIN_BLOCKS, progress: Progress | None = None,
               label: str = "") -> tuple[list[float], int]:
    """Per-call seconds of each timed block, and the number of timed calls."""
    per_call = warm_up(fn, device, min_time * WARMUP_FRACTION)
    number = max(1, int(min_time * BLOCK_FRACTION / per_call))
    times: list[float] = []
    spent = 0.0
    while spent < min_time or len(times) < min_blocks:
        t = _block(fn, number, device)
        times.append(t / number)
        spent += t
        if progress:
            progress(label, min(1.0, spent / min_time if min_time else 1.0,
                                len(times) / min_blocks))
    return times, number * len(times)


class LayerClock:
    """Forward hooks that time each named layer of a GraphNet, synchronising before each clock
    read so a layer's time holds its own kernels only."""

    def __init__(self, net: Any, names: list[str], device: Any):
        self.device = device
        self.times: dict[str, list[float]] = {n: [] for n in names}
        self._start: dict[str, float] = {}
        self._handles = []
        for name in names:
            m = net.layer(name)
            self._handles.append(m.register_forward_pre_hook(self._pre(name)))
            self._handles.append(m.register_forward_hook(self._post(name)))

    def _pre(self, name: str) -> Callable[..., None]:
        def hook(module: Any, args: Any) -> None:
            synchronize(self.device)
            self._start[name] = time.perf_counter()
        return hook

    def _post(self, name: str) -> Callable[..., None]:
        def hook(module: Any, args: Any, out: Any) -> None:
            synchronize(self.device)
            self.times[name].append(time.perf_counter() - self._start[name])
        return hook

    def clear(self) -> None:
        for v in self.times.values():
            v.clear()

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def medians(self) -> dict[str, float]:
        return {n: statistics.median(v) for n, v in self.times.items() if v}
