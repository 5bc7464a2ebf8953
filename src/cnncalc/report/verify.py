"""`cnncalc verify` rows: each analytic number beside its measured twin, and the verdict.

Checks per layer: output shape, params and MACs (torch FlopCounterMode / 2) must equal the
engine's; the receptive field measured by gradient support must equal the engine's largest field
(size and jump, or "global"). fvcore is shown beside with the reason for any difference: its
conv/linear part must equal our MACs, and what it adds (batchnorm, adaptive pooling, norms,
upsampling) or skips (add, max pool, activations) is named. Rows that disagree come first.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.rf import Field, fmt, num
from cnncalc.measure.counts import Measured
from cnncalc.measure.field import FieldResult
from cnncalc.report.markdown import md_table
from cnncalc.report.rows import field_json, shape_str, size_str

FORMATS = ("table", "md", "json", "csv")
MAC_OPS = frozenset({"conv", "linear", "matmul", "addmm", "einsum", "bmm"})
FVCORE_LINE = ("MACs measured = FlopCounterMode / 2; fvcore counts one per multiply-add, adds "
               "batchnorm, norms, adaptive pooling and upsampling, skips add and max pool")
STATUS_TEXT = {
    "no-spatial": "no spatial output: not measured",
    "too-large": "field too large for a 2048×2048 input: not measured",
    "period": "fields repeating over more than 16 units: not measured",
    "border": "field touches the border: not measured",
    "nonfinite": "the gradient overflowed: not measured",
    "memory": "field needs an input whose activations exceed 8 GiB: not measured",
}


@dataclass
class Check:
    analytic: Any
    measured: Any
    ok: bool | None  # None: not measured


@dataclass
class VerifyRow:
    layer: Layer
    shape: Check
    params: Check
    macs: Check
    fvcore: int | None
    fvcore_ok: bool | None  # fvcore's conv/linear part equals our MACs
    fvcore_note: str
    torch_skipped: list[str]
    rf: Check
    rf_note: str
    field: FieldResult | None = None

    @property
    def agrees(self) -> bool:
        checks = (self.shape.ok, self.params.ok, self.macs.ok, self.rf.ok, self.fvcore_ok)
        return all(c is not False for c in checks)


def fvcore_check(x: Layer, m: Measured) -> tuple[int | None, bool | None, str]:
    if m.fvcore is None:
        return None, None, m.fvcore_error or "fvcore not run"
    counted = m.fvcore_counted.get(x.name, {})
    mac_part = sum(n for op, n in counted.items() if op in MAC_OPS)
    extra = [f"{op} {n:,}" for op, n in sorted(counted.items()) if op not in MAC_OPS]
    notes = [f"fvcore counts {', '.join(extra)}"] if extra else []
    if m.fvcore_skipped.get(x.name):
        notes.append(f"fvcore skips {', '.join(m.fvcore_skipped[x.name])}")
    ok = mac_part == x.macs
    if not ok:
        notes.insert(0, f"fvcore's conv/linear count {mac_part:,} differs")
    return m.fvcore[x.name], ok, "; ".join(notes)


def rf_text(f: Field) -> str:
    if f.is_global:
        return "global"
    jump = fmt(f.h.jump) if f.h.jump == f.w.jump else f"{fmt(f.h.jump)}×{fmt(f.w.jump)}"
    return f"{size_str(f)} j{jump}"


def rf_check(x: Layer, r: FieldResult | None) -> tuple[Check, str]:
    analytic = rf_text(x.rf.max)  # type: ignore[union-attr]
    if r is None:
        return Check(analytic, None, None), ""
    if r.status in STATUS_TEXT:
        return Check(analytic, None, None), STATUS_TEXT[r.status]
    f = r.analytic
    assert f is not None and r.input is not None
    at = f"{r.input[0]}×{r.input[1]}"
    notes = [f"rf at {at}"]
    if r.status == "empty":
        notes.append("no input pixel reaches this unit (a zero gradient everywhere)")
        return Check(rf_text(f), "none", False), "; ".join(notes)
    assert r.size is not None
    if rf_text(f) != analytic:
        notes[0] += f" (engine there: {rf_text(f)})"
        analytic = rf_text(f)
    if r.status == "global":
        measured = "global" if r.agrees else f"{r.size[0]}×{r.size[1]} pixels"
        if not r.covers_input:
            notes.append(f"{r.size[0]}×{r.size[1]} of the {at} pixels reach it"
                         + (" (the engine's floor-drop warning)" if r.floor_drop else ""))
        if not r.agrees and r.expected is not None:
            (a, b), (c, d) = r.expected
            notes.append(f"expected rows {a}–{b}, columns {c}–{d} to reach it")
    else:
        assert r.jump is not None
        size = str(r.size[0]) if r.size[0] == r.size[1] else f"{r.size[0]}×{r.size[1]}"
        jump = (fmt(r.jump[0]) if r.jump[0] == r.jump[1]
                else f"{fmt(r.jump[0])}×{fmt(r.jump[1])}")
        measured = f"{size} j{jump}"
        if not r.whole:
            notes.append("the engine's size is a fractional extent (jump below one pixel): "
                         "jump compared, size shown")
    return Check(analytic, measured, r.agrees), "; ".join(notes)


def verify_rows(g: Graph, m: Measured, fields: dict[str, FieldResult]) -> list[VerifyRow]:
    """Rows in graph order."""
    out = []
    for x in g.layers:
        shape = m.shapes.get(x.name)
        fv, fv_ok, fv_note = fvcore_check(x, m)
        rf, rf_note = rf_check(x, fields.get(x.name))
        out.append(VerifyRow(
            x, Check(x.out_shape, shape, shape == x.out_shape),
            Check(x.params, m.params[x.name], m.params[x.name] == x.params),
            Check(x.macs, m.macs[x.name], m.macs[x.name] == x.macs),
            fv, fv_ok, fv_note, m.torch_skipped.get(x.name, []), rf, rf_note,
            fields.get(x.name)))
    return out


def ordered(rows: list[VerifyRow]) -> list[VerifyRow]:
    """Disagreeing rows first, each group in graph order."""
    return [r for r in rows if not r.agrees] + [r for r in rows if r.agrees]


def mark(ok: bool | None) -> str:
    return "✓" if ok else ("–" if ok is None else "✗")


def notes(r: VerifyRow) -> str:
    both = ", ".join(r.torch_skipped)
    fv = r.fvcore_note
    if both and fv.endswith(f"fvcore skips {both}"):
        fv = fv[: -len(f"fvcore skips {both}")].rstrip("; ")
        parts = [r.rf_note, fv, f"both counters skip {both}"]
    else:
        parts = [r.rf_note, fv, f"FlopCounterMode skips {both}" if both else ""]
    return "; ".join(p for p in parts if p)


HEADERS = ("Layer", "Kind", "Shape", "torch", "", "Params", "torch", "", "MACs",
           "FlopCounterMode/2", "", "fvcore", "", "RF", "measured", "", "Notes")
RIGHT = {5, 6, 8, 9, 11}


def cells(r: VerifyRow) -> list[str]:
    m = r.shape.measured
    return [r.layer.name, r.layer.kind, shape_str(r.shape.analytic),
            shape_str(m) if m is not None else "missing", mark(r.shape.ok),
            f"{r.params.analytic:,}", f"{r.params.measured:,}", mark(r.params.ok),
            f"{r.macs.analytic:,}", f"{r.macs.measured:,}", mark(r.macs.ok),
            f"{r.fvcore:,}" if r.fvcore is not None else "–", mark(r.fvcore_ok),
            r.rf.analytic, r.rf.measured or "–", mark(r.rf.ok), notes(r)]


def summary(g: Graph, rows: list[VerifyRow]) -> str:
    bad = sum(not r.agrees for r in rows)
    measured = sum(r.rf.ok is not None for r in rows)
    verdict = "all agree" if not bad else f"{bad} of {len(rows)} layers disagree"
    return (f"{g.name}: {verdict} (shapes, params, MACs on {len(rows)} layers; receptive field "
            f"measured on {measured})")


def render(g: Graph, rows: list[VerifyRow], fmt_: str, device: str) -> str | None:
    """Markdown, CSV or JSON as text; None for 'table' (printed with rich by `print_table`)."""
    rows = ordered(rows)
    if fmt_ == "json":
        return json.dumps(to_json(g, rows, device), indent=2)
    if fmt_ == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["layer", "kind", "shape", "shape_torch", "shape_ok", "params", "params_torch",
                    "params_ok", "macs", "macs_torch", "macs_ok", "fvcore", "fvcore_ok", "rf",
                    "rf_measured", "rf_ok", "notes"])
        for r in rows:
            w.writerow([c.replace(",", "") if i in RIGHT else c
                        for i, c in enumerate(cells(r))])
        return buf.getvalue()
    if fmt_ == "md":
        lines = [f"**{summary(g, rows)}**", "",
                 *md_table([h or "ok" for h in HEADERS], map(cells, rows),
                           [i in RIGHT for i in range(len(HEADERS))])]
        return "\n".join(lines + ["", f"_{FVCORE_LINE}._"]) + "\n"
    return None


def pair_cell(c: Check, text: Any = str) -> str:
    """'64×56×56 ✓' when both agree; 'analytic ≠ measured ✗' when not; 'analytic –' unmeasured."""
    if c.measured is None:
        return f"{text(c.analytic)} –"
    if c.ok:
        return f"{text(c.analytic)} ✓"
    return f"{text(c.analytic)} ≠ {text(c.measured)} ✗"


COMPACT = ("Layer", "Kind", "Shape", "Params", "MACs", "fvcore", "RF", "Notes")


def compact_cells(r: VerifyRow) -> list[str]:
    """The terminal table: one column per check, analytic and measured in one cell."""
    def comma(n: int) -> str:
        return f"{n:,}"

    fv = f"{r.fvcore:,} {mark(r.fvcore_ok)}" if r.fvcore is not None else "–"
    return [r.layer.name, r.layer.kind, pair_cell(r.shape, shape_str),
            pair_cell(r.params, comma), pair_cell(r.macs, comma), fv, pair_cell(r.rf),
            notes(r)]


def print_table(g: Graph, rows: list[VerifyRow], console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=summary(g, rows), title_justify="left")
    for i, h in enumerate(COMPACT):
        table.add_column(h, justify="right" if 3 <= i <= 5 else "left",
                         no_wrap=i < len(COMPACT) - 1, overflow="fold")
    for r in ordered(rows):
        table.add_row(*compact_cells(r), style=None if r.agrees else "bold red")
    console.print(table)
    console.print(f"[dim]✓ analytic = measured; ≠ … ✗ differs; – not measured. "
                  f"{FVCORE_LINE}.[/dim]", highlight=False)


def check_json(c: Check) -> dict[str, Any]:
    return {"analytic": c.analytic, "measured": c.measured, "ok": c.ok}


def measured_json(r: FieldResult | None) -> dict[str, Any] | None:
    if r is None or r.status not in ("ok", "global") or r.input is None:
        return None if r is None else {"status": r.status, **(
            {"input": list(r.input)} if r.status == "empty" and r.input else {})}
    return {"status": r.status, "input": list(r.input),
            "size": list(r.size) if r.size else None,
            "jump": [num(j) for j in r.jump] if r.jump else None,
            "global": bool(r.covers_input) if r.status == "global" else False}


def to_json(g: Graph, rows: list[VerifyRow], device: str) -> dict[str, Any]:
    return {
        "spec": g.name, "input": list(g.input_shape), "device": device,
        "agree": all(r.agrees for r in rows),
        "disagreements": sum(not r.agrees for r in rows),
        "layers": [{
            "name": r.layer.name, "kind": r.layer.kind, "agrees": r.agrees,
            "in_shape": list(r.layer.in_shapes[0]),
            "out_shape": {"analytic": list(r.shape.analytic),
                          "measured": list(r.shape.measured) if r.shape.measured else None,
                          "ok": r.shape.ok},
            "params": check_json(r.params), "macs": check_json(r.macs),
            "fvcore": {"value": r.fvcore, "ok": r.fvcore_ok, "note": r.fvcore_note},
            "flop_counter_skipped": r.torch_skipped,
            "rf": {"analytic": field_json(r.layer.rf.max),  # type: ignore[union-attr]
                   "measured": measured_json(r.field), "ok": r.rf.ok, "note": r.rf_note},
        } for r in rows],
    }

