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
        return Fraction(max((h - lo + 1 for lo, h in zip(self.lo, self.hi) if lo is not None),
                            default=0))  # 0: no unit reads any pixel (convT k < s, then a skip)

    @property
    def jump(self) -> Num:
        if type(self.period) is int:
            return Fraction(self.period, self.q)
        return Fraction(self.period) / self.q

    @property
    def start(self) -> Num:
        if self.lo[0] is not None:
            centre = self.lo[0] + self.hi[0]
            return Fraction(centre, 2) if type(centre) is int else Fraction(centre) / 2
        # unit 0 reads nothing: where it would sit (0 when no unit reads anything)
        r = next((r for r, lo in enumerate(self.lo) if lo is not None), None)
        if r is None:
            return Fraction(0)
        return Fraction(self.lo[r] + self.hi[r]) / 2 - r * self.jump

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

    def upsample(self, f: int, bilinear: bool, align_corners: bool = False, n: int = 0) -> Axis:
        """Nearest: output o copies input ⌊o/f⌋. Bilinear (align_corners=False): source
        x = (o + ½)/f − ½ and its two neighbours, ⌊x⌋ alone when x is whole (the other weight
        is exactly zero). Bilinear with align_corners on n inputs: x = o·(n − 1)/(f·n − 1), so
        the lattice repeats every (f·n − 1)/g outputs with a shift of (n − 1)/g inputs
        (g = gcd); on n = 1 every output copies input 0 (a constant axis, jump 0)."""
        if bilinear and align_corners:
            num, den = n - 1, f * n - 1
            if den == 0:
                return self
            g = math.gcd(num, den)

            def corner(o: int) -> list[int]:
                a, r = divmod(o * num, den)
                return [a] if r == 0 else [a, a + 1]
            return self.gather(corner, den // g, num // g)

        def deps(o: int) -> list[int]:
            if not bilinear:
                return [o // f]
            x = Fraction(2 * o + 1, 2 * f) - Fraction(1, 2)
            return [math.floor(x)] if x.denominator == 1 else [math.floor(x), math.floor(x) + 1]
        return self.gather(deps, f, 1, (-2, 1) if bilinear else (Fraction(1 - f, f), 0))

    def constant(self) -> Axis:
        """Every unit given unit 0's field (jump 0): a one-unit axis broadcast over a map."""
        b = self.bounds(0)
        return self if b is None else Axis((b[0],), (b[1],), 0)

    def covers(self, n: int) -> bool:
        """A constant axis whose one field spans all n input pixels."""
        return self.period == 0 and self.lo[0] is not None and self.lo[0] <= 0 <= n - 1 <= \
            self.hi[0]

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
    """One field per spatial axis of the input (1, 2 or 3 of them: L; H, W; T, H, W).

    `lattice[a]` is axis a's lattice, `grid[a]` the units along it of the map this field
    belongs to, `glob[a]` whether every input pixel along it reaches every unit. `axes()` is
    the accessor the kinds use (`for ax in f.axes()`); `h` and `w` name the last two axes of a
    2-D field (for readers written for images; code over any rank uses `axes()`)."""

    lattice: tuple[Axis, ...]
    grid: tuple[int, ...]  # units per axis of the map this field belongs to
    glob: tuple[bool, ...]  # per axis: every input pixel along it reaches every unit

    @staticmethod
    def input(*sizes: int) -> Field:
        return Field((Axis.pixel(),) * len(sizes), tuple(sizes), (False,) * len(sizes))

    @property
    def rank(self) -> int:
        return len(self.lattice)

    @property
    def h(self) -> Axis:
        return self.lattice[-2]

    @property
    def w(self) -> Axis:
        return self.lattice[-1]

    @property
    def is_global(self) -> bool:
        """Every input pixel reaches every unit (every axis global)."""
        return all(self.glob)

    def global_axes(self) -> tuple[int, ...]:
        return tuple(a for a, g in enumerate(self.glob) if g)

    def axes(self) -> tuple[Axis, ...]:
        return self.lattice

    def with_axes(self, axes: Iterable[Axis], grid: tuple[int, ...]) -> Field:
        return Field(tuple(axes), grid, self.glob)

    def windowed(self, k: tuple[int, ...], s: tuple[int, ...], lo: tuple[int, ...],
                 d: tuple[int, ...], grid: tuple[int, ...]) -> Field:
        """Every axis through its sliding window (`Axis.window`, per-axis numbers). When every
        axis is one shared lattice and the numbers agree on every axis (a square map through a
        square layer), the window is computed once and the result is shared in turn, so the
        next layer finds it shared too."""
        lat = self.lattice
        first = lat[0]
        if all(ax is first for ax in lat) and len(set(zip(k, s, lo, d))) == 1:
            ax = first.window(k[0], s[0], lo[0], d[0])
            return Field((ax,) * len(lat), grid, self.glob)
        return Field(tuple(ax.window(*t) for ax, t in zip(lat, zip(k, s, lo, d))), grid,
                     self.glob)

    def globalize(self) -> Field:
        """Every unit sees the whole input: size = union of the fields of all n units."""
        if self.is_global:
            return self
        return Field(tuple(ax.window(n, n, 0) for ax, n in zip(self.lattice, self.grid)),
                     (1,) * self.rank, (True,) * self.rank)

    def broadcast(self, grid: tuple[int, ...], hw: tuple[int, ...]) -> Field:
        """This map broadcast to `grid` units (a multiply by a C×1×1 or C×1×W gate): an axis of
        one unit stretched to n > 1 gives every unit that one unit's field (a constant axis,
        jump 0), global along that axis when the field spans the input there."""
        if self.grid == grid:
            return self
        axes, glob = list(self.lattice), list(self.glob)
        for a in range(len(axes)):
            if self.grid[a] == 1 and grid[a] > 1:
                axes[a] = axes[a].constant()
                glob[a] = glob[a] or axes[a].covers(hw[a])
        return Field(tuple(axes), grid, tuple(glob))

    def area(self) -> Num:
        return math.prod((ax.size for ax in self.lattice), start=Fraction(1))


@dataclass(frozen=True)
class RF:
    """The largest and the smallest field over all paths that reach a unit, and alignment.

    `local`: the largest field over the paths that carry the map, gates left out (a
    squeeze-and-excitation or attention branch broadcast over the map by a multiply); None when
    it is `max`. Tables show it; `max` is what the unit depends on (and what torch measures)."""

    max: Field
    min: Field
    aligned: bool = True
    local: Field | None = None
    parts: Parts = ()  # per channel range, when they differ (core/channels.py)

    @staticmethod
    def input(*sizes: int) -> RF:
        f = Field.input(*sizes)
        return RF(f, f)

    @property
    def shown(self) -> Field:
        return self.max if self.local is None else self.local

    def map(self, fn: Callable[[Field], Field]) -> RF:
        """fn on every field (once on a field that is both the largest and the smallest)."""
        largest = fn(self.max)
        smallest = largest if self.min is self.max else fn(self.min)
        if self.local is None:
            if largest is self.max and smallest is self.min and not self.parts:
                return self  # a layer that keeps the field (a norm, an activation)
            return RF(largest, smallest, self.aligned)
        return RF(largest, smallest, self.aligned, fn(self.local))

    def broadcast(self, grid: tuple[int, ...], hw: tuple[int, ...]) -> RF:
        return self.map(lambda f: f.broadcast(grid, hw))


Parts = tuple[tuple[int, RF], ...]  # run-length encoded channel segments and their fields


def join(fields: list[RF], grid: tuple[int, ...] | None = None,
         hw: tuple[int, ...] = ()) -> RF:
    """Combine the fields arriving at an add / concat / multiply whose output has `grid` units
    (None: not a map) on an input of `hw` pixels.

    A path with one unit along an axis that the output has n > 1 of is broadcast first: every
    output unit reads that one unit (`Field.broadcast`). The largest field is then, per axis,
    the union over paths (a 1×7 and a 7×1 branch give 7×7): a unit after the join reads every
    path, so its field is the hull of the paths' fields for that unit, taken residue by residue
    over a common period when the paths share a jump (otherwise the largest path by size); with
    a constant (broadcast) path, the constant envelope of all paths over the output's units. An
    axis is global when a path is global along it or the envelope spans the input. The smallest
    is the smallest per axis over the paths that are not global along it. Paths are aligned when
    their local, non-constant axes share jump and centre. The local field joins the paths that
    are not broadcast (every path when all are).
    """
    broadcast = [grid is not None and f.max.grid != grid for f in fields]
    if grid is not None and any(broadcast):
        fields = [f.broadcast(grid, hw) for f in fields]
    largest = [f.max for f in fields]
    aligned = all(f.aligned for f in fields)
    for a in range(fields[0].max.rank):
        grids = {_grid(f.lattice[a]) for f in largest
                 if not f.glob[a] and f.lattice[a].period != 0
                 and any(lo is not None for lo in f.lattice[a].lo)}  # a map no pixel reaches
        aligned = aligned and len(grids) <= 1
    out = RF(_largest(largest, hw), _smallest([f.min for f in fields]), aligned)
    if any(broadcast) or any(f.local is not None for f in fields):
        carried = [f for f, b in zip(fields, broadcast) if not b] or fields
        shown = _largest([f.shown for f in carried], hw)
        if shown != out.max:
            out = replace(out, local=shown)
    return out


def plain(ax: Axis) -> tuple[int, int, int] | None:
    """(lo, hi, period) of a q = 1 axis whose bounds and period are ints, else None: nearly
    every axis, and the case the fast paths (`_size`, `_grid`, `hull`, `numbers`, the engine's
    magnitude check) take without a Fraction."""
    if len(ax.lo) == 1:
        lo, hi, p = ax.lo[0], ax.hi[0], ax.period
        if type(lo) is int and type(hi) is int and type(p) is int:
            return lo, hi, p
    return None


def _size(ax: Axis) -> Any:
    """ax.size (an int on a plain axis)."""
    b = plain(ax)
    return ax.size if b is None else b[1] - b[0] + 1


def _grid(ax: Axis) -> tuple[Any, Any]:
    """(jump, 2·start): where an axis's units sit; ints on a plain axis (equal and hashed alike
    with the Fractions of any other lattice)."""
    b = plain(ax)
    return (ax.jump, 2 * ax.start) if b is None else (b[2], b[0] + b[1])


def _largest(fields: list[Field], hw: tuple[int, ...]) -> Field:
    """Per axis, the union over paths (see `join`)."""
    if len(fields) == 1:
        return fields[0]
    grid = fields[0].grid
    axes, glob = [], []
    done: dict[Any, tuple[Axis, bool]] = {}  # axes shared by every path: one hull (see windowed)
    for a in range(fields[0].rank):
        key = (tuple(id(f.lattice[a]) for f in fields), tuple(f.glob[a] for f in fields),
               grid[a], hw[a] if a < len(hw) else None)
        if key not in done:
            ax = hull([f.lattice[a] for f in fields], grid[a])
            done[key] = (ax, any(f.glob[a] for f in fields)
                         or (ax.period == 0 and a < len(hw) and ax.covers(hw[a])))
        axes.append(done[key][0])
        glob.append(done[key][1])
    return Field(tuple(axes), grid, tuple(glob))


def _smallest(fields: list[Field]) -> Field:
    """Per axis, the smallest field over the paths not global along it (all when every path
    is)."""
    axes, glob = [], []
    for a in range(fields[0].rank):
        local = [f for f in fields if not f.glob[a]] or fields
        axes.append(min((f.lattice[a] for f in local), key=_size))
        glob.append(all(f.glob[a] for f in fields))
    return Field(tuple(axes), fields[0].grid, tuple(glob))


def hull(axes: list[Axis], n: int = 1) -> Axis:
    """Per unit, the hull of the fields of several axes over the same map of n units (the
    support of a sum or a concatenation); the largest by size when their jumps differ. With a
    constant axis (jump 0), the constant envelope of every path's units 0..n−1: exact for units
    inside the map when the constant field contains theirs (a gate that covers the input)."""
    plains = [plain(a) for a in axes]
    first = plains[0]
    if first is not None and first[2] != 0 and all(p is not None and p[2] == first[2]
                                                    for p in plains):  # plain, one jump
        low = min(p[0] for p in plains if p is not None)
        high = max(p[1] for p in plains if p is not None)
        return axes[0] if (low, high) == first[:2] else Axis((low,), (high,), first[2])
    if len(set(axes)) == 1:
        return axes[0]
    if any(a.period == 0 for a in axes):
        bs = [b for a in axes for b in map(a.bounds, range(min(n, a.q)) if a.period == 0 else
                                           _ends(a, n)) if b is not None]
        if not bs:
            return axes[0]
        return Axis((min(b[0] for b in bs),), (max(b[1] for b in bs),), 0)
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


def _ends(ax: Axis, n: int) -> list[int]:
    """Units of a periodic axis whose fields reach furthest over n units: the first and the
    last period (the fields of the units between lie inside theirs)."""
    q = ax.q
    return sorted({*range(min(q, n)), *range(max(0, n - q), n)})


def numbers(ax: Axis) -> tuple[int | float, int | float, int | float]:
    """(size, jump, start) of an axis as JSON numbers (`num` of each); without Fractions on a
    q = 1 axis of int bounds, the common case."""
    b = plain(ax)
    if b is None:
        return num(ax.size), num(ax.jump), num(ax.start)
    lo, hi, period = b
    centre = lo + hi
    return hi - lo + 1, period, centre // 2 if centre % 2 == 0 else centre / 2


def num(x: Fraction) -> int | float:
    """A Fraction as an int when whole, else a float (for JSON and tables)."""
    return int(x) if x.denominator == 1 else float(x)


def fmt_num(x: Fraction) -> str:
    v = num(x)
    return str(v) if isinstance(v, int) else f"{v:g}"
