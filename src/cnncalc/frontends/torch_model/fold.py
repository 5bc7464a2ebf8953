"""A constant pad folded into the windowed layer after it (conv, max pool, average pool): the
spec language says `padding: causal` or (leading, trailing) pairs, and torch says the same with
a pad module (or F.pad) before a layer that pads nothing; measure/build.py builds the former as
the latter, and reading it back gives the spec's one row.

A pad folds only when nothing else reads it and its fill is what the layer's own padding would
be: 0 before a conv, −inf before a max pool (torch's own padding never wins the max), 0 before
an average pool that counts padded zeros in its mean (count_include_pad=True). Otherwise, and
for a crop (negative padding) or a reflect/replicate/circular pad (which stay unmapped rows),
the pad keeps a row of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cnncalc.core.errors import CnncalcError
from cnncalc.core.layers.common import per_axis
from cnncalc.core.layers.registry import Kind
from cnncalc.core.optional import require_torch
from cnncalc.frontends.args import coerce

nn = require_torch().nn


@dataclass(frozen=True)
class Pad:
    """A pad row that may fold: its fx node, its input and what it pads with."""

    node: Any
    src: str  # the row the pad reads
    pairs: tuple[tuple[int, int], ...]
    value: float


def fits(kind: Kind, args: dict[str, Any], value: float) -> bool:
    """The pad's fill is the layer's own padding value."""
    if kind.name == "maxpool":
        return value == -math.inf
    if kind.name == "avgpool":
        return value == 0.0 and bool(args.get("count_include_pad", True))
    return value == 0.0


def merged(pad: Pad, args: dict[str, Any]) -> Any:
    """The layer's padding with the pad's added, in the spec's words: 'causal' when every axis
    pads d·(k−1) before and nothing after, else (leading, trailing) pairs per axis (coerce
    writes symmetric pairs as plain padding). None when the layer's own padding is 'same'."""
    rank, own = len(pad.pairs), args.get("padding", 0)
    if own == "valid":
        own = 0
    if isinstance(own, str):
        return None
    own_axes = per_axis(own, rank, "padding")
    pairs = [(lo + p, hi + p) for (lo, hi), p in zip(pad.pairs, own_axes)]
    k = per_axis(args["kernel_size"], rank, "kernel_size")
    d = per_axis(args.get("dilation", 1), rank, "dilation")
    if any(lo or hi for lo, hi in pairs) and all(
            (lo, hi) == (dd * (kk - 1), 0) for (lo, hi), kk, dd in zip(pairs, k, d)):
        return "causal"
    return [[lo, hi] for lo, hi in pairs]


def folded_args(kind: Kind, pad: Pad, args: dict[str, Any], in_shape: tuple[int, ...],
                traced: tuple[int, ...] | None) -> dict[str, Any] | None:
    """The layer's arguments with the pad folded in, or None when it cannot fold: the fill does
    not fit, the layer pads 'same', or the folded layer would not give the traced shape (a pool's
    own padding is at most half its kernel, and its ceil_mode rounds against the input only)."""
    if not fits(kind, args, pad.value):
        return None
    padding = merged(pad, args)
    if padding is None:
        return None
    new = {**args, "padding": padding}
    try:
        given: dict[str, Any] = {k: (v, None) for k, v in new.items()}
        checked = coerce(kind, given, None, "fold")  # type: ignore[arg-type]  # no position
        out = kind.out_shape(checked, [in_shape])
    except (CnncalcError, ValueError):  # a SpecError, or a formula refusing the arguments
        return None
    return new if traced is None or tuple(out) == traced else None


def sequential_name(pad_node: Any, node: Any, modules: dict[str, Any]) -> str | None:
    """`X` when the pad and the layer are `X.0` and `X.1`, the only children of nn.Sequential
    `X` (what measure/build.py makes of a padded layer), so a round trip keeps the spec's name."""
    if pad_node.op != "call_module" or node.op != "call_module":
        return None
    parent, _, first = pad_node.target.rpartition(".")
    seq: Any = modules.get(parent) if parent else None
    if first != "0" or node.target != f"{parent}.1" or type(seq) is not nn.Sequential or \
            len(seq) != 2:
        return None
    return str(parent)
