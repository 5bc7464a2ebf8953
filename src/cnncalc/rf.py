"""Theoretical receptive field: the recurrence, per axis, in exact fractions.

NB: for a sliding window with kernel k, dilation d, stride s and leading padding p, applied to a
field of size r, jump j (distance in input pixels between neighbouring units) and start
(centre of the first unit's field, in input pixels):

    r     <- r + (k - 1)·d·j
    j     <- j·s
    start <- start + ((k - 1)·d/2 - p)·j

Upsampling layers (transposed conv, upsample) divide the jump; their output units see a varying
number of input units and we report the largest. A field is *global* when every input pixel can
reach the unit (global pooling, a linear layer over a flattened map); its size is then the union
of all units' fields, r + (n - 1)·j for a map of n units.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

Num = Fraction


@dataclass(frozen=True)
class Axis:
    size: Num
    jump: Num
    start: Num

    def window(self, k: int, s: int, p: int, d: int = 1) -> Axis:
        keff = (k - 1) * d
        return Axis(self.size + keff * self.jump, self.jump * s,
                    self.start + (Fraction(keff, 2) - p) * self.jump)

    def spread(self, lo: Fraction, hi: Fraction, factor: Fraction) -> Axis:
        """Output unit 0 sees input units lo..hi (of this axis); output jump is jump/factor."""
        return Axis(self.size + (hi - lo) * self.jump, self.jump / factor,
                    self.start + (lo + hi) / 2 * self.jump)


@dataclass(frozen=True)
class Field:
    h: Axis
    w: Axis
    grid: tuple[int, int]  # units per axis of the map this field belongs to
    is_global: bool = False

    @staticmethod
    def input(h: int, w: int) -> Field:
        one = Axis(Fraction(1), Fraction(1), Fraction(0))  # pixel 0 is centred at 0
        return Field(one, one, (h, w))

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

    def map(self, fn) -> RF:  # type: ignore[no-untyped-def]
        return RF(fn(self.max), fn(self.min), self.aligned)


def join(fields: list[RF]) -> RF:
    """Combine the fields arriving at an add / concat / multiply.

    The largest field is the largest over paths, per axis (a 1×7 and a 7×1 branch give 7×7),
    and global if any path is global; the smallest is the smallest per axis over the local paths.
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
        return pick(glob, key=lambda f: f.area())
    local = [f for f in fields if not f.is_global]
    h = pick((f.h for f in local), key=lambda a: a.size)
    w = pick((f.w for f in local), key=lambda a: a.size)
    return Field(h, w, local[0].grid)


def num(x: Fraction) -> int | float:
    """A Fraction as an int when whole, else a float (for JSON and tables)."""
    return int(x) if x.denominator == 1 else float(x)


def fmt(x: Fraction) -> str:
    v = num(x)
    return str(v) if isinstance(v, int) else f"{v:g}"
