"""Where torch runs, and torch's failures as one line each.

`pick_device("cuda")` raises BackendError when CUDA is missing instead of letting torch fail deep
inside a forward pass; `out_of_memory(what)` turns an out-of-memory error into one line that says
what was being done (for example "at batch 64"), so callers can keep the results of smaller
batches. torch is imported lazily, like everywhere in the backend.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cnncalc.core.engine import Graph
from cnncalc.core.errors import BackendError
from cnncalc.core.optional import require_torch
from cnncalc.core.text import is_count

DEVICES = ("cpu", "cuda")


def pick_device(name: str) -> Any:
    """A torch.device for 'cpu', 'cuda' or 'cuda:N', or one line saying why it cannot be had."""
    torch = require_torch()
    kind, _, index = name.partition(":")
    if kind not in DEVICES or (index and not is_count(index)):
        raise BackendError(f"unknown device {name!r}; choose cpu, cuda or cuda:N")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise BackendError(f"CUDA is not available here (torch {torch.__version__}: no GPU "
                               "or a CPU-only build); use --device cpu")
        if index and int(index) >= torch.cuda.device_count():
            raise BackendError(f"no GPU {name}: this machine has {torch.cuda.device_count()}")
    return torch.device(name)


def is_out_of_memory(e: BaseException) -> bool:
    torch = require_torch()
    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", ())
    text = str(e).lower()
    return (isinstance(e, oom) if oom else False) or (isinstance(e, RuntimeError) and any(
        s in text for s in ("out of memory", "can't allocate memory", "tried to allocate",
                            "storage size calculation overflowed")))  # CUDA; CPU allocator


MAX_TORCH_BYTES = 64 << 30  # what a measuring command may allocate on the CPU, at most


def estimate_bytes(g: Graph, batch: int, backward: bool, itemsize: int = 4
                   ) -> tuple[int, str]:
    """Bytes a forward (and backward) pass of `g` at `batch` needs, from the engine's sizes:
    weights and buffers once, the input and every layer output per sample (three times with
    a backward pass: outputs, their gradients, what autograd saves). And how it adds up."""
    t = g.totals()
    weights = (t.params + t.buffers) * itemsize
    per_sample = (math.prod(g.input_shape) + sum(x.activations for x in g.layers)) * itemsize
    passes = 3 if backward else 1
    total = weights + batch * per_sample * passes
    how = (f"weights {_size(weights)} + {batch:,} × {_size(per_sample)} of activations"
           + (" × 3 for the backward pass" if backward else ""))
    return total, how


def budget(device: Any) -> int:
    """What may be allocated: free GPU memory, or min(available memory, MAX_TORCH_BYTES)."""
    if getattr(device, "type", device) == "cuda":
        free, _ = require_torch().cuda.mem_get_info(device)
        return int(free)
    avail = MAX_TORCH_BYTES
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = min(avail, int(line.split()[1]) * 1024)
    except OSError:
        pass
    return avail


def reserve(g: Graph, batch: int, device: Any, what: str, backward: bool = False,
            itemsize: int = 4) -> None:
    """Refuse, before any tensor exists, a run whose estimate exceeds the budget: one line with
    the estimate, how it adds up, and the limit."""
    need, how = estimate_bytes(g, batch, backward, itemsize)
    limit = budget(device)
    if need > limit:
        raise BackendError(f"{what} needs about {_size(need)} ({how}); the limit here is "
                           f"{_size(limit)}")


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} PB"  # pragma: no cover


@contextmanager
def out_of_memory(what: str) -> Iterator[None]:
    """Re-raise an out-of-memory error as BackendError('out of memory <what>')."""
    try:
        yield
    except (RuntimeError, MemoryError) as e:
        if not (isinstance(e, MemoryError) or is_out_of_memory(e)):
            raise
        torch = require_torch()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise BackendError(f"out of memory {what}") from None


def synchronize(device: Any) -> None:
    """Wait for queued GPU work; a no-op on CPU."""
    if getattr(device, "type", device) == "cuda":
        require_torch().cuda.synchronize(device)
