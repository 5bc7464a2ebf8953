"""The verdicts of `cnncalc verify`: each analytic number beside its measured twin.

Per layer: output shape, params and MACs (torch FlopCounterMode / 2) must equal the engine's;
the receptive field measured by gradient support must equal the engine's largest field (size
and jump, or "global"), at the input it was measured at; after an op no kind maps the engine
has no field, and nothing is compared. fvcore's count is checked too: its
conv/linear part must equal our MACs, and what it adds (batchnorm, adaptive pooling, norms,
upsampling) or skips (add, max pool, activations) is recorded, so the report can name it.

Every decision is made here, on typed records; `report.verify` only words them. Standard library
only: the records come from `core.measured`, filled by `measure`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.measured import UNMEASURED, FieldResult, Measured
from cnncalc.core.memory import MemorySetup, memory
from cnncalc.core.partial import rf_unknown, why_unknown
from cnncalc.core.rf import Field

MAC_OPS = frozenset({"conv", "linear", "matmul", "addmm", "einsum", "bmm"})


@dataclass(frozen=True)
class Check:
    """One number (or shape) compared: ok is None when it was not measured."""

    analytic: Any
    measured: Any
    ok: bool | None


@dataclass(frozen=True)
class FvcoreCheck:
    """fvcore's count beside ours. ok: its conv/linear part (`mac_part`) equals our MACs; None
    when fvcore did not run (`error` says why)."""

    value: int | None
    ok: bool | None
    mac_part: int = 0
    counted: tuple[tuple[str, int], ...] = ()  # ops outside MAC_OPS it counts, by name
    skipped: tuple[str, ...] = ()  # arithmetic ops it does not count
    error: str = ""


@dataclass(frozen=True)
class RfCheck:
    """The engine's largest field against the measured one. `analytic`: the engine's field at
    the input the field was measured at (the spec's when not measured); `resized`: that field
    differs from the engine's at the spec's input (adaptive pooling); `unknown`: why the engine
    has no field to compare (after an op no kind maps, core.partial; ok is None), "" when it
    has one."""

    analytic: Field
    measured: FieldResult | None  # None: the layer was not selected for measuring
    ok: bool | None
    resized: bool = False
    unknown: str = ""

    @property
    def unmeasured(self) -> str | None:
        """Why the field was not measured (a FieldResult status), if it was selected."""
        r = self.measured
        return r.status if r is not None and r.status in UNMEASURED else None


@dataclass(frozen=True)
class VerifyRow:
    layer: Layer
    shape: Check
    params: Check
    macs: Check
    fvcore: FvcoreCheck
    torch_skipped: tuple[str, ...]  # arithmetic ops FlopCounterMode does not count
    rf: RfCheck
    shortfall: str = ""  # why FlopCounterMode counts fewer MACs, when known (attention)
    saved: Check = Check(None, None, None)  # bytes autograd keeps, first kept by this layer

    @property
    def agrees(self) -> bool:
        macs = True if self.macs.ok is False and self.shortfall else self.macs.ok
        checks = (self.shape.ok, self.params.ok, macs, self.rf.ok, self.fvcore.ok,
                  self.saved.ok)
        return all(c is not False for c in checks)

    @property
    def both_skip(self) -> bool:
        """Both counters skip the same ops (said once)."""
        return bool(self.torch_skipped) and self.fvcore.value is not None and \
            self.fvcore.skipped == self.torch_skipped


@dataclass(frozen=True)
class Verification:
    graph: Graph
    rows: list[VerifyRow]  # graph order

    @property
    def agrees(self) -> bool:
        return all(r.agrees for r in self.rows)

    @property
    def disagreements(self) -> int:
        return sum(not r.agrees for r in self.rows)

    @property
    def rf_measured(self) -> int:
        return sum(r.rf.ok is not None for r in self.rows)

    @property
    def rf_unknown(self) -> int:
        """The layers whose analytic field is unknown (after an unmapped op)."""
        return sum(bool(r.rf.unknown) for r in self.rows)

    @property
    def saved(self) -> Check:
        """The bytes autograd keeps for backward in one training step (batch 1), in all; not
        measured (None) where verify did not measure them (a torch model, a GPU)."""
        if any(r.saved.measured is None for r in self.rows):
            return Check(None, None, None)
        analytic = sum(r.saved.analytic for r in self.rows)
        measured = sum(r.saved.measured for r in self.rows)
        return Check(analytic, measured, analytic == measured)


def fvcore_check(x: Layer, m: Measured) -> FvcoreCheck:
    if m.fvcore is None:
        return FvcoreCheck(None, None, error=m.fvcore_error or "fvcore not run")
    if x.name not in m.fvcore:  # a module's row made by functional code: fvcore counts modules
        return FvcoreCheck(None, None, error="fvcore counts by submodule; this row is not one")
    counted = m.fvcore_counted.get(x.name, {})
    mac_part = sum(n for op, n in counted.items() if op in MAC_OPS)
    extra = tuple((op, n) for op, n in sorted(counted.items()) if op not in MAC_OPS)
    return FvcoreCheck(m.fvcore[x.name], mac_part == x.macs, mac_part, extra,
                       tuple(m.fvcore_skipped.get(x.name, ())))


def same_numbers(a: Field, b: Field) -> bool:
    """The same size and jump on every axis (or both global): what verify compares."""
    if a.is_global or b.is_global:
        return a.is_global == b.is_global
    return [(x.size, x.jump) for x in a.axes()] == [(y.size, y.jump) for y in b.axes()]


def rf_check(x: Layer, r: FieldResult | None, unknown: str = "") -> RfCheck:
    spec_field = x.rf.max
    if unknown:  # nothing analytic to compare a measurement with
        return RfCheck(spec_field, r, None, unknown=unknown)
    if r is None or r.status in UNMEASURED:
        return RfCheck(spec_field, r, None)
    assert r.analytic is not None and r.input is not None
    if r.status == "empty":  # the engine gives the unit a field; no input pixel reaches it
        return RfCheck(r.analytic, r, False)
    return RfCheck(r.analytic, r, r.agrees, not same_numbers(r.analytic, spec_field))


def attention_shortfall(x: Layer, measured: int | None, skipped: tuple[str, ...]) -> str:
    """Why FlopCounterMode counts fewer MACs than an attention row has, when that is the known
    gap: torch has no flop formula for nn.MultiheadAttention's fused fast path (eval mode
    without grad) nor for the CPU kernel of scaled-dot-product attention, so it misses all of
    the layer, or Q·Kᵀ and A·V (2·N²·C) while counting the projections (4·N·C²)."""
    if x.kind != "attention" or measured is None or measured == x.macs:
        return ""
    c, n = x.in_shapes[0]
    proj = 4 * n * c * c
    if measured == 0 and "_native_multi_head_attention" in skipped:
        return ("FlopCounterMode has no formula for _native_multi_head_attention "
                "(nn.MultiheadAttention's fused fast path, in eval mode without grad): it "
                f"misses all {x.macs:,} MACs")
    sdpa = [op for op in skipped if "scaled_dot_product" in op]
    if measured == proj and sdpa:
        return (f"FlopCounterMode has no formula for {sdpa[0]} (attention's CPU kernel): it "
                f"counts the projections, 4·N·C² = {proj:,}, and misses Q·Kᵀ and A·V, "
                f"2·N²·C = {x.macs - proj:,}")
    return ""


def compare(g: Graph, m: Measured, fields: dict[str, FieldResult],
            saved: dict[str, int] | None = None) -> Verification:
    """Every layer's analytic numbers against the measured ones, in graph order. `saved`: the
    bytes autograd kept per layer in one training forward (batch 1, float32, CPU), measured;
    the analytic side is core.memory's model (each storage charged to the first layer that
    keeps it)."""
    kept = {} if saved is None else \
        {x.name: x.saved_bytes for x in memory(g, MemorySetup()).layers}
    unknown = rf_unknown(g)
    rows = []
    for x in g.layers:
        shape, params, macs = (m.shapes.get(x.name), m.params.get(x.name), m.macs.get(x.name))
        rows.append(VerifyRow(
            x, Check(x.out_shape, shape, None if shape is None else shape == x.out_shape),
            Check(x.params, params, None if params is None else params == x.params),
            Check(x.macs, macs, None if macs is None else macs == x.macs),
            fvcore_check(x, m), tuple(m.torch_skipped.get(x.name, [])),
            rf_check(x, fields.get(x.name), why_unknown(g, x.name) if x.name in unknown else ""),
            attention_shortfall(x, macs, tuple(m.torch_skipped.get(x.name, []))),
            Check(None, None, None) if saved is None else
            Check(kept[x.name], saved.get(x.name, 0), kept[x.name] == saved.get(x.name, 0))))
    return Verification(g, rows)
