"""What torch measured, as plain records: standard library only, so `measure` builds them and
`report` and `core.checks` read them without importing torch.

- `Measured`: per-layer shapes, params and MACs from torch's FlopCounterMode and fvcore
  (`measure.counts`);
- `FieldResult`: one layer's receptive field by gradient support (`measure.support`), with the
  limits past which a field is not measured (LADDER, MAX_PERIOD, MEMORY);
- `Erf` and `Area`: an effective receptive field (`measure.erf`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from cnncalc.core.erf_theory import Spread
from cnncalc.core.rf import Field

Span = tuple[tuple[int, int], ...]  # (first, last) per spatial axis; last < first: none

LADDER = (32, 64, 128, 256, 512, 1024, 2048)  # input sides a field is measured at (and the spec's)
MEMORY = 8 * 2**30  # bytes of activations (float64, kept for the backward) one measurement may use
MAX_PERIOD = 16  # layers whose fields repeat over more units are not measured
THRESHOLDS = (0.2, 0.3, 0.5, 0.99)  # ERF: shares of the map an `Area` holds
# FieldResult statuses of a field that was not measured (every other status was: ok, global, empty)
UNMEASURED = ("no-spatial", "too-large", "period", "border", "nonfinite", "memory")


@dataclass
class Measured:
    """What torch and fvcore say about each layer, keyed by the layer's name."""

    shapes: dict[str, tuple[int, ...]]
    params: dict[str, int]
    macs: dict[str, int]  # FlopCounterMode / 2, batch 1
    torch_skipped: dict[str, list[str]]  # arithmetic ops FlopCounterMode does not count
    fvcore: dict[str, int] | None = None  # fvcore's count (one per multiply-add), batch 1
    fvcore_counted: dict[str, dict[str, int]] = field(default_factory=dict)  # per op
    fvcore_skipped: dict[str, list[str]] = field(default_factory=dict)
    fvcore_error: str | None = None


@dataclass
class FieldResult:
    """One layer's measured field. status: ok, global, clipped (per unit, the support against
    the engine's field clipped to the input: a field global or constant along one axis, or one
    that never fits inside the input), empty (the engine expects a field, the
    gradient is zero everywhere: a disagreement), no-spatial, too-large, memory, border, period,
    nonfinite."""

    status: str
    input: tuple[int, ...] | None = None  # the spatial sizes (L; H×W; T×H×W) measured at
    analytic: Field | None = None  # the engine's field at that input
    size: tuple[int, ...] | None = None  # per spatial axis
    jump: tuple[Fraction, ...] | None = None
    covers_input: bool | None = None  # global: every input pixel has a non-zero gradient
    floor_drop: bool = False  # global: the engine warns that a floor drops the last input rows
    # or columns, and fewer pixels than the whole input reach the layer
    span: Span | None = None  # global: the measured support, (first, last) row and column
    expected: Span | None = None  # global: the input pixels that reach the layer (`reach`)

    @property
    def agrees(self) -> bool | None:
        """True / False when measured; None when this layer could not be measured."""
        f = self.analytic
        if self.status == "empty":
            return False  # the engine gives the unit a field; no input pixel reaches it
        if f is None or self.status not in ("ok", "global", "clipped"):
            return None
        if f.is_global or self.status == "clipped":
            return self.span is not None and self.span == self.expected
        if self.jump != tuple(ax.jump for ax in f.axes()):
            return False
        if not self.whole:
            return None  # a fractional extent cannot equal a count of pixels
        return self.size is not None and \
            tuple(ax.size for ax in f.axes()) == tuple(map(Fraction, self.size))

    @property
    def whole(self) -> bool:
        """The engine's size is a whole number of pixels: always, except for the envelope the
        engine falls back to when a lattice's period blows up (`rf._coarsen`)."""
        f = self.analytic
        return f is None or all(ax.size.denominator == 1 for ax in f.axes())


@dataclass(frozen=True)
class Area:
    """RepLKNet's high-contribution area: the smallest centred square holding a share t."""

    t: float
    side: int | None  # None: t is not reached before the square leaves the input
    ratio: float | None  # side² / (H·W)


@dataclass
class Erf:
    """Everything `cnncalc erf` reports; plain numbers (the map as nested lists)."""

    spec: str
    layer: str
    input_shape: tuple[int, ...]
    samples: int
    init: str
    linear: bool
    aggregate: str
    inputs: str
    device: str
    seconds: float
    # the theoretical field per spatial axis (L; H, W; T, H, W): whole pixels unless an
    # envelope; None after an unmapped op (a PARTIAL trace: see `rf_unknown_after`)
    rf_size: tuple[float, ...] | None
    rf_centre: tuple[float, ...] | None
    rf_clipped: bool | None  # the theoretical field reaches past the input: the map is cut
    mean: tuple[float, ...]
    sigma: tuple[float, ...]
    theory: Spread | None
    theory_note: str
    areas: list[Area] = field(default_factory=list)
    log_areas: list[Area] = field(default_factory=list)
    map: list[list[float]] = field(default_factory=list)  # 2-D: the map; 1-D: one row (the
    # curve); 3-D: the centre slice along H×W (the centre frame)
    partial: tuple[str, ...] = ()  # why the traced model's analysis is partial (Partial lines)
    rf_unknown_after: tuple[str, ...] = ()  # the unmapped ops the layer reads, directly or not

    @property
    def erf_1sigma(self) -> tuple[float, ...]:
        return tuple(2 * s for s in self.sigma)

    @property
    def erf_2sigma(self) -> tuple[float, ...]:
        return tuple(4 * s for s in self.sigma)

    @property
    def ratio(self) -> tuple[float, ...] | None:
        """ERF (±2σ) over the theoretical RF, per axis; None when that field is unknown."""
        if self.rf_size is None:
            return None
        return tuple(4 * s / r for s, r in zip(self.sigma, self.rf_size))

    @property
    def theory_sigma(self) -> tuple[float, ...] | None:
        return self.theory.sigma if self.theory else None


@dataclass
class ErfSeries:
    """Luo's figure 1: the ERF of one item stacked to each depth, and how σ grows with depth,
    fitted to the measured and the closed-form σ (None with fewer than two depths): as a power
    σ ∝ depthᵃ (`exponent`) when the item keeps the jump (stride 1: Luo's √n law), as a factor a
    layer σ ∝ fᵈᵉᵖᵗʰ (`factor`) when its strides multiply the jump by `jump_factor` > 1 (the
    fields grow exponentially); the other fit is None."""

    series: list[Erf]
    exponent: float | None
    exponent_closed_form: float | None
    jump_factor: float = 1.0  # each repetition of the item multiplies the jump by this
    factor: float | None = None
    factor_closed_form: float | None = None
