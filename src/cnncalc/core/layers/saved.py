"""What autograd keeps for backward, declared per kind as tensors (the `saved` formula).

NB (the memory convention, stated once; docs/memory.md says the same): a kind names the tensors
its backward reads — its input, its output, or a tensor of its own (per-channel statistics,
int64 indices, a mask, a copy) — never a size in bytes, so that the graph can count a storage
once when two layers keep the same tensor, as torch does: a ReLU keeps its output and the conv
after it keeps that same tensor as its input. Parameters and buffers are never counted here.
`core/memory.py` turns these declarations into bytes; every rule was read off torch 2.13 on CPU
with `torch.autograd.graph.saved_tensors_hooks` (tests/measure/test_memory.py holds them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Shape = tuple[int, ...]
Args = dict[str, Any]

# bytes per value of a saved tensor's dtype; "act" is the activation dtype (--dtype, --amp)
DTYPE_BYTES = {"float32": 4, "int64": 8, "bool": 1}


@dataclass(frozen=True)
class Saved:
    """One tensor a kind's backward reads.

    what: "input" (input `index`, the producer's tensor: shared with whoever else keeps it),
    "output" (the layer's own output), or "tensor" (one of the kind's own: `numel` values per
    sample, or in all when `per_sample` is False, of `dtype`).
    nhwc: the input is kept as an N×H×W×C-contiguous tensor (nn.Linear on a map): the
    producer's tensor when it already is, else a private copy.
    """

    what: str
    name: str = ""
    index: int = 0
    numel: int = 0
    dtype: str = "act"
    per_sample: bool = True
    nhwc: bool = False


INPUT = Saved("input", "input")
OUTPUT = Saved("output", "output")

SavedRule = Callable[[Args, list[Shape], Shape], tuple[Saved, ...]]


def undeclared(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    """The default of a kind that has not declared what it saves: treated as nothing, and
    tests/core/test_kinds.py fails it."""
    return ()


def nothing(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    return ()


def keeps_input(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    return (INPUT,)


def keeps_output(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    return (OUTPUT,)


def keeps_inputs(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    """Every input (a product: each factor's gradient reads the others)."""
    return tuple(Saved("input", f"input {i}", index=i) for i in range(len(ins)))


def stats(name: str, numel: int, per_sample: bool = True) -> Saved:
    """Float32 statistics (a norm's mean and inverse deviation), whatever the activation dtype."""
    return Saved("tensor", name, numel=numel, dtype="float32", per_sample=per_sample)


def never_a_view(args: Args) -> bool:
    return False


def always_a_view(args: Args) -> bool:
    return True
