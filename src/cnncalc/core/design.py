"""`cnncalc sizes`: which input sizes a network takes, what they cost, where its fields outgrow
the input, and how to tile a large image. Plain records for report/design.py. Standard library
only.

Border layers (after Richter et al., *Receptive Field Analysis*): from the first layer whose
receptive field is larger than the input on some axis, every unit's field reaches past the image
and sees padding. Tiling for sliding-window inference: a unit has its full field inside a tile of
T pixels when its field (size F, units a jump J apart) fits, so a tile holds ⌊(T − F)/J⌋ + 1 such
units per axis; tiles placed that many units apart (step = units·J pixels) cover every output
unit with its full field, overlapping by T − step pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cnncalc.core.costs import Costs, derive
from cnncalc.core.engine import Graph, Layer
from cnncalc.core.errors import CnncalcError
from cnncalc.core.layers.registry import Shape
from cnncalc.core.partial import named_ops, rf_unknown
from cnncalc.core.rf import Axis, Field, fmt_num
from cnncalc.core.sizes import Lower, Outcome, Scan, lower_at, program_at, scan

MAX_PIECES = 12  # pieces of a size list written out
SHOW_SIZES = (1, 1.5, 2, 3)  # the table's sizes: the spec's own times these, where they run


@dataclass(frozen=True)
class Tile:
    tile: int
    layer: str  # the layer whose units the tiles serve (the last with a local field)
    field: tuple[Fraction, Fraction]  # its field size, H and W
    jump: tuple[Fraction, Fraction]
    units: tuple[int, int]  # units per tile with their full field, per axis
    step: tuple[Fraction, Fraction]  # pixels between tiles
    overlap: tuple[Fraction, Fraction]
    runs: bool  # the tile size itself runs


@dataclass(frozen=True)
class Border:
    size: tuple[int, int]
    layer: str | None  # the first layer whose field exceeds the input; None: none does
    count: int  # layers from it on
    field: tuple[Fraction, ...] | None  # per spatial axis


@dataclass
class SizesResult:
    name: str
    input_shape: Shape  # the spec's own
    scan: Scan
    lo: tuple[int, int]
    hi: tuple[int, int]
    square: bool
    costs: Costs
    rows: list[Outcome] = field(default_factory=list)  # the table's sizes
    borders: list[Border] = field(default_factory=list)
    tile: Tile | None = None
    offsets: list[str] = field(default_factory=list)  # joins whose paths' grids are offset

    def values(self, which: str) -> list[Outcome]:
        """runs; exact (no floor drops pixels); joins (every join gets equal sizes, no cropping:
        a join of unequal sizes is a layer error, so these are the sizes that run); join (fails
        at a join)."""
        out = self.scan.outcomes
        if which in ("runs", "joins"):
            return [o for o in out if o.runs]
        if which == "exact":
            return [o for o in out if o.exact]
        return [o for o in out if not o.runs and o.at_join]

    @property
    def smallest(self) -> Outcome | None:
        running = self.scan.running
        return min(running, key=lambda o: (o.h * o.w, o.h)) if running else None


def analyze_sizes(lower: Lower, name: str, input_shape: Shape, sizes: list[tuple[int, int]],
                  at: list[tuple[int, int]] | None = None, tile: int | None = None) -> SizesResult:
    """Scan `sizes`, derive the cost formulas, and the table, border layers and tiling."""
    result = scan(lower, name, input_shape[0], sizes)
    own, prog = program_at(result, lower, input_shape)
    if not own.runs:  # the spec's own size fails: take the programme of the first that runs
        first = next(iter(result.running), None)
        if first is not None:
            own, prog = program_at(result, lower, (input_shape[0], first.h, first.w))
    costs = derive(prog, result.outcomes)
    offsets = [w.message for w in prog.graph.warnings() if w.code == "misaligned"]
    hs, ws = [h for h, _ in sizes], [w for _, w in sizes]
    out = SizesResult(name, input_shape, result, (min(hs), min(ws)), (max(hs), max(ws)),
                      all(h == w for h, w in sizes), costs, offsets=offsets)
    picks = at if at is not None else _default_sizes(input_shape, result)
    for h, w in picks:
        row, _ = program_at(result, lower, (input_shape[0], h, w))
        out.rows.append(row)
        out.borders.append(border(prog.graph, (h, w)))
    if tile is not None:
        out.tile = tiling(prog.graph, tile, lower_at(lower, (input_shape[0], tile, tile),
                                                     name)[0].runs)
    return out


def _default_sizes(shape: Shape, result: Scan) -> list[tuple[int, int]]:
    running = result.running
    if not running:
        return [(shape[1], shape[2])]
    picks: list[tuple[int, int]] = []
    for f in SHOW_SIZES:
        want = (round(shape[1] * f), round(shape[2] * f))
        best = min(running, key=lambda o: abs(o.h - want[0]) + abs(o.w - want[1]))
        if (best.h, best.w) not in picks:
            picks.append((best.h, best.w))
    return picks


def border(g: Graph, size: tuple[int, int]) -> Border:
    """The first layer whose (largest) field is larger than an input of `size`."""
    for i, x in enumerate(g.layers):
        f = x.rf.max
        if not f.is_global and (f.h.size > size[0] or f.w.size > size[1]):
            return Border(size, x.name, len(g.layers) - i, (f.h.size, f.w.size))
    return Border(size, None, 0, None)


def tiling(g: Graph, tile: int, runs: bool) -> Tile:
    """Tile size, step and overlap that give every unit of the last local layer its field."""
    local = [x for x in g.layers if not x.rf.max.is_global and len(x.out_shape) == 3]
    if not local:
        raise CnncalcError(f"{g.name} has no layer with a local receptive field to tile for")
    x: Layer = local[-1]
    axes = (x.rf.max.h, x.rf.max.w)
    units, steps = [], []
    for ax in axes:
        if ax.size > tile:
            raise CnncalcError(f"--tile {tile} is smaller than the receptive field of {x.name} "
                               f"({fmt_num(ax.size)} pixels): no unit would see its full field",
                               hint=f"take a tile of at least {math.ceil(ax.size)}")
        n, step = _units(ax, tile)
        units.append(n)
        steps.append(step)
    return Tile(tile, x.name, (axes[0].size, axes[1].size), (axes[0].jump, axes[1].jump),
                (units[0], units[1]), (steps[0], steps[1]),
                (tile - steps[0], tile - steps[1]), runs)


def _units(ax: Axis, tile: int) -> tuple[int, Fraction]:
    """Units a jump apart whose field of the axis's size fits in the tile; the step between
    tiles is a whole number of pixels and of units."""
    jump = ax.jump
    n = math.floor((tile - ax.size) / jump) + 1
    per = jump.denominator  # units per whole pixel step
    n = max(per, n - n % per) if n >= per else n
    return n, n * jump


def describe(ns: list[int], hi: int) -> str:
    """Sizes in words: 'multiples of 16 from 32', 'every size from 75', '32–40, 48–56'."""
    if not ns:
        return "none"
    if len(ns) == 1:
        return str(ns[0])
    first, last = ns[0], ns[-1]
    m = math.gcd(*(b - a for a, b in zip(ns, ns[1:])))
    if ns == list(range(first, last + 1, m)):
        until = "" if last + m > hi else f" to {last}"
        if m == 1:
            return f"every size from {first}{until}"
        if first % m == 0:
            return f"multiples of {m} from {first}{until}"
        return f"every {m}th size from {first} ({first % m} mod {m}){until}"
    runs: list[list[int]] = [[first, first]]
    for n in ns[1:]:
        if n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    shown = [f"{a}–{b}" if b > a else str(a) for a, b in runs[:MAX_PIECES]]
    more = f", … ({len(runs) - MAX_PIECES} more pieces)" if len(runs) > MAX_PIECES else ""
    return ", ".join(shown) + more


@dataclass(frozen=True)
class Reach:
    """Where a network's (largest) receptive field first reaches `target` pixels on both axes.
    After an op no kind maps (a PARTIAL trace) only the layers whose field is known count:
    `unknown` names the others, `why` says which op; `largest` is then None when the output's
    field is unknown, and `best` the layer with the largest known field."""

    name: str
    target: int
    layer: str | None  # None: no layer (whose field is known) reaches it
    field: tuple[Fraction, ...] | None  # per spatial axis
    largest: tuple[Fraction, ...] | None  # the last layer's field; None: unknown
    repeats: int | None = None  # a stack: copies of it needed
    layers: int | None = None  # a stack: the layers in those copies
    before: tuple[Fraction, ...] | None = None  # a stack: the field one copy short
    unknown: tuple[str, ...] = ()  # the layers whose field is unknown (after an unmapped op)
    why: str = ""  # "after the unmapped torch.roll at roll"
    best: tuple[str, tuple[Fraction, ...]] | None = None  # partial: the largest known field
    partial: tuple[str, ...] = ()  # what the trace leaves unmapped (Graph.partial, in words)

    @property
    def stage(self) -> str | None:
        return self.layer.split(".")[0] if self.layer else None


def reach(g: Graph, target: int) -> Reach:
    if target < 1:
        raise CnncalcError(f"--target {target}: a receptive field is at least 1 pixel")
    unknown = rf_unknown(g)
    known = [x for x in g.layers if x.name not in unknown]
    partial: dict[str, Any] = {"partial": tuple(map(str, g.partial))}
    if unknown:
        ops = [x.name for x in g.layers if x.kind == "unmapped"]
        best = max(known, key=lambda x: min(_sizes(x.rf.max)), default=None)
        partial |= {"unknown": tuple(x.name for x in g.layers if x.name in unknown),
                   "why": f"from the unmapped {named_ops(g, ops)} on",
                   "best": None if best is None else (best.name, _sizes(best.rf.max))}
    last = None if g.output.name in unknown else _sizes(g.output.rf.max)
    for x in known:
        f = x.rf.max
        if min(ax.size for ax in f.axes()) >= target:
            return Reach(g.name, target, x.name, _sizes(f), last, **partial)
    return Reach(g.name, target, None, None, last, **partial)


def _sizes(f: Field) -> tuple[Fraction, ...]:
    return tuple(ax.size for ax in f.axes())


# conv --to ------------------------------------------------------------------------------------

MAX_K, MAX_S, MAX_D = 11, 4, 3  # the choices `conv N --to M` looks through
KERNEL_ORDER = (3, 1, 2, 7, 5, 4, 9, 11, 6, 8, 10)  # how often each kernel size is met
KNOWN = {(3, 2, 1, 1): "the strided 3×3 conv of ResNet, MobileNet, VGG-style downsampling",
         (1, 2, 0, 1): "ResNet's 1×1 projection shortcut",
         (2, 2, 0, 1): "2×2 stride 2: patchify / ConvNeXt downsampling, like a 2×2 pool",
         (7, 2, 3, 1): "the 7×7 stride-2 stem of ResNet and GoogLeNet",
         (4, 2, 1, 1): "4×4 stride 2, pad 1: DCGAN and pix2pix encoders",
         (5, 2, 2, 1): "5×5 stride 2: EfficientNet, MnasNet",
         (3, 1, 1, 1): "the 'same' 3×3 conv", (1, 1, 0, 1): "a 1×1 conv",
         (4, 4, 0, 1): "4×4 stride 4: the patchify stem of ConvNeXt and Swin"}


@dataclass(frozen=True)
class Choice:
    k: int
    s: int
    p: int
    d: int
    drops: int  # input pixels the floor leaves out at the end (beyond the padding)
    known: str


def conv_choices(n: int, m: int) -> list[Choice]:
    """Every (k, s, p, d) with k ≤ 11, s ≤ 4, d ≤ 3, p ≤ d·(k−1) (symmetric padding) whose
    conv maps n pixels to m, most common first: known patterns, dilation 1, 'same'-style
    padding, no dropped pixels, the usual kernel sizes."""
    from cnncalc.core.layers.common import window_out

    out = []
    for k in range(1, MAX_K + 1):
        for d in range(1, MAX_D + 1 if k > 1 else 2):
            for s in range(1, MAX_S + 1):
                for p in range(0, d * (k - 1) + 1):
                    span = n + 2 * p - d * (k - 1) - 1
                    if span < 0 or window_out(n, k, s, p, p, d, False, "conv") != m:
                        continue
                    window = d * (k - 1) + 1
                    drops = max(0, span % s - p) if window >= s else 0
                    out.append(Choice(k, s, p, d, drops, KNOWN.get((k, s, p, d), "")))
    return sorted(out, key=_commonness)


def _commonness(c: Choice) -> tuple[int, ...]:
    same = c.p == c.d * (c.k - 1) // 2
    return (not c.known, c.d != 1, c.drops > 0, not (same or c.p == 0),
            KERNEL_ORDER.index(c.k), c.s, c.p, c.d)
