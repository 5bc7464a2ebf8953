"""Where torch runs, and torch's failures as one line each.

`pick_device("cuda")` raises BackendError when CUDA is missing instead of letting torch fail deep
inside a forward pass; `out_of_memory(what)` turns an out-of-memory error into one line that says
what was being done (for example "at batch 64"), so callers can keep the results of smaller
batches. torch is imported lazily, like everywhere in the backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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
        s in text for s in ("out of memory", "can't allocate memory")))  # CUDA; CPU allocator


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
