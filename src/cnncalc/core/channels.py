"""Receptive fields per channel range: a concat keeps each input's field on its channels, a split
selects them, a shuffle permutes them (issue 14: `concat: [[conv k1], [conv k7 p3]]` then
`split` index 0 reads a 1×1 field, not the union 7×7).

`RF.parts` holds run-length encoded channel segments `((count, RF), ...)`, empty when every
channel has the same field; `RF.max`/`min` stay the join over all channels, so a report that
shows one field per layer is unchanged. Layers that act channel by channel (activations, norms,
pools, upsampling, a depthwise conv) map each segment; adds and multiplies join per segment;
every other layer mixes channels and drops the parts. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from cnncalc.core.rf import RF, Field, Parts, join

PER_CHANNEL = frozenset({"activation", "norm", "pool", "regularise", "resample", "other"})


def segments(rf: RF, c: int) -> Parts:
    return rf.parts or ((c, rf),)


def merged(parts: Parts) -> Parts:
    out: list[tuple[int, RF]] = []
    for n, p in parts:
        if out and out[-1][1] == p:
            out[-1] = (out[-1][0] + n, p)
        else:
            out.append((n, p))
    return tuple(out)


def whole(rf: RF, parts: Parts) -> RF:
    """`rf` carrying `parts` (none when every channel has the same field)."""
    parts = merged(parts)
    return replace(rf, parts=parts if len(parts) > 1 else ())


def selected(parts: Parts, start: int, stop: int, grid: tuple[int, ...] | None,
             hw: tuple[int, ...]) -> RF:
    """The field of channels [start, stop): the join of their segments, with its parts."""
    out, at = [], 0
    for n, p in parts:
        lo, hi = max(at, start), min(at + n, stop)
        if lo < hi:
            out.append((hi - lo, p))
        at += n
    got = merged(tuple(out))
    distinct = list(dict.fromkeys(p for _, p in got))
    rf = distinct[0] if len(distinct) == 1 else join(distinct, grid, hw)
    return replace(rf, parts=got if len(got) > 1 else ())


def shuffled(parts: Parts, c: int, groups: int) -> Parts:
    """Output channel j of a shuffle reads input (j mod g)·(c/g) + ⌊j/g⌋."""
    per = [p for n, p in parts for _ in range(n)]
    return merged(tuple((1, per[(j % groups) * (c // groups) + j // groups]) for j in range(c)))


def mapped(parts: Parts, fn: Callable[[Field], Field]) -> Parts:
    memo: dict[RF, RF] = {}
    for _, p in parts:
        if p not in memo:
            memo[p] = p.map(fn)
    return merged(tuple((n, memo[p]) for n, p in parts))


def joined(rfs: list[RF], cs: list[int], c: int, grid: tuple[int, ...] | None,
           hw: tuple[int, ...]) -> Parts:
    """Channel by channel, the join of the inputs of an add or a multiply (an input of one
    channel broadcasts to all c)."""
    segs = [segments(r, c) if n != 1 or c == 1 else ((c, replace(r, parts=())),)
            for r, n in zip(rfs, cs)]
    cuts = sorted({0, c, *(sum(n for n, _ in s[:i]) for s in segs for i in range(len(s)))})
    memo: dict[tuple[RF, ...], RF] = {}
    out = []
    for lo, hi in zip(cuts, cuts[1:]):
        key = tuple(_at(s, lo) for s in segs)
        if key not in memo:
            memo[key] = replace(join(list(key), grid, hw), parts=())
        out.append((hi - lo, memo[key]))
    return merged(tuple(out))


def _at(parts: Parts, i: int) -> RF:
    at = 0
    for n, p in parts:
        if i < at + n:
            return p
        at += n
    raise IndexError(i)
