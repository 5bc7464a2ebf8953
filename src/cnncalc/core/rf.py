"""Theoretical receptive field: per axis, the exact field of every unit, as a periodic lattice.

NB: per axis, output unit o = m·q + r (0 ≤ r < q) covers the input pixels
[lo[r] + m·P, hi[r] + m·P] (integers; an input pixel i has lo = hi = i, q = 1, P = 1). Every
layer builds its axis with one operation, `Axis.gather(deps, q_op, s_op)`: `deps(o)` lists the
units of the previous map that output unit o reads (the lattice extends past the map's borders,
padding ignored), and the layer repeats every q_op outputs with a shift of s_op inputs. Unit o's
field is the hull of its inputs' fields. We report, per axis:

    size  = the largest field over units, max over r of hi[r] − lo[r] + 1 (a whole number)
    jump  = P / q, the average distance between neighbouring units' fields
    start = (lo[0] + hi[0]) / 2, the centre of unit 0's field

For a sliding window (kernel k, dilation d, stride s, leading padding p) on a field with q = 1
this is the classic recurrence

    r     <- r + (k - 1)·d·j
    j     <- j·s
    start <- start + ((k - 1)·d/2 - p)·j

Upsampling layers (transposed conv, upsample) and adaptive pooling make q > 1: their units' fields
differ in size and step unevenly (after a transposed conv with k = s = 2 units 2m and 2m + 1 share
a field), and the size is the largest over units, which the recurrence does not give. A unit that
reads nothing (a transposed conv with k < s) has no field and is left out of the largest.
A field is *global* when every input pixel can reach the unit (global pooling, a linear layer over
a flattened map); its size is then the union of all units' fields, a window over the whole map.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

Num = Fraction
MAX_PERIOD = 4096  # units per period past which a lattice is coarsened (see `_coarsen`)
MAX_RF_WORK = 1_000_000  # unit-taps one layer's lattice may cost; past it, `_envelope`
Bound = tuple[Any, Any] | None  # (lo, hi) of one unit's field, None when it reads nothing


@dataclass(frozen=True)
class Axis:
    """Unit m·q + r covers [lo[r] + m·P, hi[r] + m·P]; lo[r] = hi[r] = None: no field."""

    lo: tuple[Any, ...]
    hi: tuple[Any, ...]
    period: Any  # P, input pixels between unit o and unit o + q (an int; see `_coarsen`)
    exact: bool = field(default=True, compare=False)  # False: this layer's field is an envelope

    @staticmethod
    def pixel() -> Axis:
        return Axis((0,), (0,), 1)

    @property
    def q(self) -> int:
        return len(self.lo)

    @property
    def size(self) -> Num:
        return Fraction(max(h - lo + 1 for lo, h in zip(self.lo, self.hi) if lo is not None))

    @property
    def jump(self) -> Num:
        return Fraction(self.period) / self.q

    @property
    def start(self) -> Num:
        if self.lo[0] is not None:
            return Fraction(self.lo[0] + self.hi[0]) / 2
        r = next(r for r, lo in enumerate(self.lo) if lo is not None)  # unit 0 reads nothing:
        return Fraction(self.lo[r] + self.hi[r]) / 2 - r * self.jump  # where it would sit

    @property
    def uniform(self) -> bool:
        """Every unit's field has the same size and they step evenly (the recurrence holds)."""
        return self.q == 1

    def bounds(self, i: int) -> Bound:
        """(lo, hi) input pixels of unit i's field (any integer i), None when it has none."""
        m, r = divmod(i, self.q)
        if self.lo[r] is None:
            return None
        return (self.lo[r] + m * self.period, self.hi[r] + m * self.period)

    def gather(self, deps: Callable[[int], Iterable[int]], q_op: int, s_op: int,
               span: tuple[Any, Any] | None = None) -> Axis:
        """The next layer's axis: output unit o reads units deps(o) of this axis, and
        deps(o + q_op) = deps(o) + s_op. `span` = (a, b): every unit o reads only units within
        [x + a, x + b], x = o·s_op/q_op; when building the lattice would cost more than
        MAX_RF_WORK unit-taps, the field is that envelope (O(1) whatever the layer's numbers)."""
        q, period = self.q, self.period
        g = math.gcd(s_op, q)
        big = q_op * (q // g)
        if span is not None and big * _taps(span, s_op, q_op) > MAX_RF_WORK:
            return _envelope(self if q == 1 else _coarsen(self), span, q_op, s_op)
        if big > MAX_PERIOD and q > 1:
            return _coarsen(self).gather(deps, q_op, s_op, span)
        shift = s_op // g * period  # = (s_op·Q/q_op)/q · P
        lo, hi = [], []
        for o in range(big):
            bs = [b for b in map(self.bounds, deps(o)) if b is not None]
            lo.append(min((b[0] for b in bs), default=None))
            hi.append(max((b[1] for b in bs), default=None))
        return _reduce(Axis(tuple(lo), tuple(hi), shift))

    def window(self, k: int, s: int, p: int, d: int = 1) -> Axis:
        if self.q == 1 and self.lo[0] is not None:  # the recurrence, fast: no lists
            lo, hi, period = self.lo[0] - p * self.period, self.hi[0], self.period
            return Axis((lo,), (hi + ((k - 1) * d - p) * period,), period * s)
        return self.gather(lambda o: [o * s - p + t * d for t in range(k)], 1, s,
                           (-p, -p + (k - 1) * d))

    def transposed(self, k: int, s: int, p: int, d: int = 1) -> Axis:
        """Output o reads input i when o = i·s − p + t·d for a tap t < k."""
        return self.gather(lambda o: [(o + p - t * d) // s for t in range(k)
                                      if (o + p - t * d) % s == 0], s, 1,
                           (Fraction(p - (k - 1) * d, s), Fraction(p, s)))

    def upsample(self, f: int, bilinear: bool) -> Axis:
        """Nearest: output o copies input ⌊o/f⌋. Bilinear (align_corners=False): source
        x = (o + ½)/f − ½ and its two neighbours, ⌊x⌋ alone when x is whole (the other weight
        is exactly zero)."""
        def deps(o: int) -> list[int]:
            if not bilinear:
                return [o // f]
            x = Fraction(2 * o + 1, 2 * f) - Fraction(1, 2)
            return [math.floor(x)] if x.denominator == 1 else [math.floor(x), math.floor(x) + 1]
        return self.gather(deps, f, 1, (-2, 1) if bilinear else (Fraction(1 - f, f), 0))

    def adaptive(self, n: int, o: int) -> Axis:
        """Bin i of o covers inputs [⌊i·n/o⌋, ⌈(i+1)·n/o⌉)."""
        g = math.gcd(n, o)
        return self.gather(lambda i: range(i * n // o, -(-(i + 1) * n // o)), o // g, n // g,
                           (-1, Fraction(n, o)))


def _taps(span: tuple[Any, Any], s_op: int, q_op: int) -> int:
    """About how many units one output unit reads, from its span (at least 1)."""
    width: int = math.ceil(span[1] - span[0])
    return max(1, width + 1)


def _envelope(ax: Axis, span: tuple[Any, Any], q_op: int, s_op: int) -> Axis:
    """The O(1) upper bound used when a lattice would cost too much to build: on a q = 1 axis
    (unit i covers [lo + i·P, hi + i·P]) output unit o reads units within [x + a, x + b],
    x = o·s_op/q_op, so it covers at most [lo + (x + a)·P, hi + (x + b)·P]: a q = 1 lattice with
    jump s_op·P/q_op. The size is an upper bound (marked `exact=False`); the jump is exact."""
    a, b = span
    lo, hi = ax.lo[0], ax.hi[0]
    if lo is None:
        return ax
    return Axis((lo + a * ax.period,), (hi + b * ax.period,),
                Fraction(s_op) * ax.period / q_op, exact=False)


def _reduce(ax: Axis) -> Axis:
    """The same lattice with the shortest period that repeats (q = 2 with identical residues
    shifted by P/2 becomes q = 1); a lattice longer than MAX_PERIOD is coarsened."""
    q = ax.q
    for d in range(1, q):
        if q % d or (ax.period * d) % q:
            continue
        step = ax.period * d // q
        if all(_shifted(ax.lo[r], step) == ax.lo[r + d] and _shifted(ax.hi[r], step) == ax.hi[r + d]
               for r in range(q - d)):
            return Axis(ax.lo[:d], ax.hi[:d], step)
    return ax if q <= MAX_PERIOD else _coarsen(ax)


def _shifted(x: Any, step: Any) -> Any:
    return None if x is None else x + step


def _coarsen(ax: Axis) -> Axis:
    """An envelope with q = 1 for a lattice whose period would blow up (adaptive pooling between
    coprime sizes followed by a large upsampling; normal nets never get here): unit i is given
    [a + i·P/q, b + i·P/q] with a = min over r of lo[r] − r·P/q and b = max of hi[r] − r·P/q.
    It contains every unit's true field, so the size is an upper bound and may be fractional;
    the jump stays exact."""
    j = Fraction(ax.period) / ax.q
    lo = min(x - r * j for r, x in enumerate(ax.lo) if x is not None)
    hi = max(x - r * j for r, x in enumerate(ax.hi) if x is not None)
    return Axis((lo,), (hi,), j)


@dataclass(frozen=True)
class Field:
    h: Axis
    w: Axis
    grid: tuple[int, int]  # units per axis of the map this field belongs to
    is_global: bool = False

    @staticmethod
    def input(h: int, w: int) -> Field:
        return Field(Axis.pixel(), Axis.pixel(), (h, w))

    def axes(self) -> tuple[Axis, Axis]:
        return (self.h, self.w)

    def with_axes(self, h: Axis, w: Axis, grid: tuple[int, int]) -> Field:
        return replace(self, h=h, w=w, grid=grid)

    def globalize(self) -> Field:
        """Every unit sees the whole input: size = union of the fields of all n units."""
        if self.is_global:
            return self
        n_h, n_w = self.grid
        return Field(self.h.window(n_h, n_h, 0), self.w.window(n_w, n_w, 0), (1, 1), True)

    def area(self) -> Num:
        return self.h.size * self.w.size


@dataclass(frozen=True)
class RF:
    """The largest and the smallest field over all paths that reach a unit, and alignment."""

    max: Field
    min: Field
    aligned: bool = True

    @staticmethod
    def input(h: int, w: int) -> RF:
        f = Field.input(h, w)
        return RF(f, f)

    def map(self, fn: Callable[[Field], Field]) -> RF:
        return RF(fn(self.max), fn(self.min), self.aligned)


def join(fields: list[RF]) -> RF:
    """Combine the fields arriving at an add / concat / multiply.

    The largest field is, per axis, the union over paths (a 1×7 and a 7×1 branch give 7×7): a
    unit after the join reads every path, so its field is the hull of the paths' fields for that
    unit, taken residue by residue over a common period when the paths share a jump (otherwise
    the largest path by size). It is global if any path is global. The smallest is the smallest
    per axis over the local paths.
    Paths are aligned when their local fields share jump and centre.
    """
    largest = [f.max for f in fields]
    smallest = [f.min for f in fields]
    local = [(f.max.h.jump, f.max.w.jump, f.max.h.start, f.max.w.start)
             for f in fields if not f.max.is_global]
    aligned = all(f.aligned for f in fields) and len(set(local)) <= 1
    return RF(_extreme(largest, max), _extreme(smallest, min), aligned)


def _extreme(fields: list[Field], pick: Any) -> Field:
    """Per axis, the largest (pick=max) or smallest (pick=min) field. A global path wins the
    largest; the smallest looks at local paths unless every path is global."""
    glob = [f for f in fields if f.is_global]
    if glob and (pick is max or len(glob) == len(fields)):
        best: Field = pick(glob, key=lambda f: f.area())
        return best
    local = [f for f in fields if not f.is_global]
    if pick is max:
        return Field(hull([f.h for f in local]), hull([f.w for f in local]), local[0].grid)
    h = pick((f.h for f in local), key=lambda a: a.size)
    w = pick((f.w for f in local), key=lambda a: a.size)
    return Field(h, w, local[0].grid)


def hull(axes: list[Axis]) -> Axis:
    """Per unit, the hull of the fields of several axes over the same map (the support of a sum
    or a concatenation); the largest by size when their jumps differ."""
    if len(set(axes)) == 1:
        return axes[0]
    if len({a.jump for a in axes}) > 1:
        return max(axes, key=lambda a: a.size)
    q = math.lcm(*(a.q for a in axes))
    if q > MAX_PERIOD:  # coprime long periods: O(1) envelopes instead of lcm residues
        return hull([_coarsen(a) for a in axes])
    lo, hi = [], []
    for r in range(q):
        bs = [b for b in (a.bounds(r) for a in axes) if b is not None]
        lo.append(min((b[0] for b in bs), default=None))
        hi.append(max((b[1] for b in bs), default=None))
    return _reduce(Axis(tuple(lo), tuple(hi), axes[0].period * (q // axes[0].q)))


def num(x: Fraction) -> int | float:
    """A Fraction as an int when whole, else a float (for JSON and tables)."""
    return int(x) if x.denominator == 1 else float(x)


def fmt_num(x: Fraction) -> str:
    v = num(x)
    return str(v) if isinstance(v, int) else f"{v:g}"
