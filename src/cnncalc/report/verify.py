"""Rendering `cnncalc verify`: each analytic number beside its measured twin, and the verdict
decided by `core.checks` (this module words it). Rows that disagree come first.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cnncalc.core.checks import Check, FvcoreCheck, RfCheck, Verification, VerifyRow
from cnncalc.core.measured import LADDER, MAX_PERIOD, MEMORY, FieldResult
from cnncalc.core.rf import Field, num
from cnncalc.report import table, terminal
from cnncalc.report.render import partial_json, partial_lines, partial_status
from cnncalc.report.rows import field_json, null_field, pair_str, shape_str, size_str
from cnncalc.report.table import Col

FORMATS = ("table", "md", "json", "csv")
FVCORE_LINE = ("MACs measured = FlopCounterMode / 2; fvcore counts one per multiply-add, adds "
               "batchnorm, norms, adaptive pooling and upsampling, skips add and max pool")
UNMEASURED_TEXT = {  # why a field was not measured, by FieldResult status (core.measured)
    "no-spatial": "no spatial output",
    "too-large": f"field too large for a {LADDER[-1]}×{LADDER[-1]} input",
    "period": f"fields repeating over more than {MAX_PERIOD} units",
    "border": "field touches the border",
    "nonfinite": "the gradient overflowed",
    "memory": f"field needs an input whose activations exceed {MEMORY // 2**30} GiB",
}


def fvcore_note(c: FvcoreCheck) -> str:
    if c.value is None:
        return c.error
    notes = [f"fvcore counts {', '.join(f'{op} {n:,}' for op, n in c.counted)}"] \
        if c.counted else []
    if c.skipped:
        notes.append(f"fvcore skips {', '.join(c.skipped)}")
    if not c.ok:
        notes.insert(0, f"fvcore's conv/linear count {c.mac_part:,} differs")
    return "; ".join(notes)


def rf_text(f: Field) -> str:
    if f.is_global:
        return "global"
    return f"{size_str(f)} j{pair_str(*(ax.jump for ax in f.axes()))}"


def rf_measured(c: RfCheck) -> str | None:
    """The measured field as the table shows it; None when not measured."""
    r = c.measured
    if r is None or c.unmeasured:
        return None
    if r.status == "empty":
        return "none"
    assert r.size is not None
    if r.status == "global":
        return "global" if c.ok else f"{_dims(r.size)} pixels"
    if r.status == "clipped":
        return f"{_dims(r.size)} pixels"
    assert r.jump is not None
    size = str(r.size[0]) if len(set(r.size)) == 1 else _dims(r.size)
    return f"{size} j{pair_str(*r.jump)}"


def _dims(v: tuple[int, ...]) -> str:
    return "×".join(map(str, v))


def rf_note(row: VerifyRow, machine: bool = False) -> str:
    """The field check's note; `machine` (JSON, CSV) leaves out what the record's fields say
    (the input it was measured at, why not: `rf.measured.input`, `.status`)."""
    c, r = row.rf, row.rf.measured
    if c.unknown:
        return f"analytic field unknown: {c.unknown}"
    if r is None:
        return ""
    if c.unmeasured:
        return "" if machine else f"{UNMEASURED_TEXT[c.unmeasured]}: not measured"
    assert r.input is not None
    at = _dims(r.input)
    notes = [f"rf at {at}"]
    if r.status == "empty":
        notes.append("no input pixel reaches this unit (a zero gradient everywhere)")
        return "; ".join(notes[machine:])
    if c.resized:
        notes[0] += f" (engine there: {rf_text(c.analytic)})"
        if machine:
            notes[0] = f"the engine's field at {at}: {rf_text(c.analytic)}"
    elif machine:
        notes = []
    if r.status == "global":
        assert r.size is not None
        if not r.covers_input:
            notes.append(f"{_dims(r.size)} of the {at} pixels reach it"
                         + (" (the engine's floor-drop warning)" if r.floor_drop else ""))
        if not c.ok and r.expected is not None:
            (a, b), (c0, d) = r.expected
            notes.append(f"expected rows {a}–{b}, columns {c0}–{d} to reach it")
    elif r.status == "clipped" and r.span is not None and r.expected is not None:
        notes.append("per unit, clipped to the input" + ("" if c.ok else (
            f": measured rows {r.span[0][0]}–{r.span[0][1]}, columns {r.span[1][0]}–"
            f"{r.span[1][1]}; the engine's {r.expected[0][0]}–{r.expected[0][1]}, "
            f"{r.expected[1][0]}–{r.expected[1][1]}")))
    elif not r.whole:
        notes.append("the engine's size is a fractional extent (jump below one pixel): "
                     "jump compared, size shown")
    return "; ".join(notes)


def ordered(rows: list[VerifyRow]) -> list[VerifyRow]:
    """Disagreeing rows first, each group in graph order."""
    return [r for r in rows if not r.agrees] + [r for r in rows if r.agrees]


def mark(ok: bool | None) -> str:
    return "✓" if ok else ("–" if ok is None else "✗")


def notes(r: VerifyRow) -> str:
    both = ", ".join(r.torch_skipped)
    if r.both_skip:
        fv = fvcore_note(replace(r.fvcore, skipped=()))
        parts = [rf_note(r), fv, f"both counters skip {both}"]
    else:
        parts = [rf_note(r), fvcore_note(r.fvcore),
                 f"FlopCounterMode skips {both}" if both else ""]
    if r.saved.ok is False:
        parts.append(f"saved for backward {r.saved.analytic:,} B ≠ measured {r.saved.measured:,} B")
    return "; ".join(p for p in [*parts, r.shortfall] if p)


def macs_mark(r: VerifyRow) -> str:
    """~ for FlopCounterMode's known shortfall (the note says why)."""
    return "~" if r.shortfall else mark(r.macs.ok)


def saved_line(v: Verification) -> str | None:
    """The memory check in one line, when it was measured."""
    c = v.saved
    if c.measured is None:
        return None
    verdict = "= measured ✓" if c.ok else f"≠ measured {c.measured:,} B ✗"
    return (f"Saved for backward (one training forward, batch 1, float32, CPU; "
            f"cnncalc memory): analytic {c.analytic:,} B {verdict}")


def rf_cells(r: VerifyRow) -> Check:
    """The field check in words: analytic and measured as the table shows them; the analytic
    side ? where it is unknown (after an unmapped op)."""
    return Check("?" if r.rf.unknown else rf_text(r.rf.analytic), rf_measured(r.rf), r.rf.ok)


HEADERS = ("Layer", "Kind", "Shape", "torch", "", "Params", "torch", "", "MACs",
           "FlopCounterMode/2", "", "fvcore", "", "RF", "measured", "", "Notes")
RIGHT = {5, 6, 8, 9, 11}


def cells(r: VerifyRow) -> list[str]:
    m, rf = r.shape.measured, rf_cells(r)
    return [r.layer.name, r.layer.kind, shape_str(r.shape.analytic),
            shape_str(m) if m is not None else "missing", mark(r.shape.ok),
            f"{r.params.analytic:,}", _count(r.params.measured), mark(r.params.ok),
            f"{r.macs.analytic:,}", _count(r.macs.measured), macs_mark(r),
            f"{r.fvcore.value:,}" if r.fvcore.value is not None else "–", mark(r.fvcore.ok),
            rf.analytic, rf.measured or "–", mark(rf.ok), notes(r)]


def _count(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def summary(v: Verification) -> str:
    """The title: the verdict and what it covers; PARTIAL and the fields not known after an
    unmapped op, which nothing was compared with."""
    n = len(v.rows)
    verdict = "all agree" if v.agrees else f"{v.disagreements} of {n} layers disagree"
    unknown = f", unknown on {v.rf_unknown}" if v.rf_unknown else ""
    return (f"{v.graph.name}{partial_status(v.graph)}: {verdict} (shapes, params, MACs on {n} "
            f"layers; receptive field measured on {v.rf_measured}{unknown})")


def legend(v: Verification) -> str:
    unknown = " ? analytic field unknown (after an unmapped op: PARTIAL)." if v.rf_unknown else ""
    return f"{LEGEND}{unknown} {FVCORE_LINE}."


def render(v: Verification, format: str, device: str, width: int | None | bool = True) -> str:
    """The verification as a table (at the terminal's width: `width=True`), Markdown, CSV or
    JSON. CSV is the JSON's layer records flattened (report/table.py `flat`)."""
    rows = ordered(v.rows)
    if format == "json":
        return table.dumps(to_json(v, rows, device))
    if format == "csv":
        return table.csv_text(to_json(v, rows, device)["layers"], csv_columns(v.graph.rank))
    if format == "md":
        t = table.Table(summary(v), [Col(h or "ok", right=i in RIGHT)
                                     for i, h in enumerate(HEADERS)], [cells(r) for r in rows])
        lines = [f"**{summary(v)}**", "", *table.markdown(t)]
        saved = saved_line(v)
        lines += ["", saved] if saved else []
        lines += ["", f"_{legend(v)}_"]
        lines += [f"- {x}" for x in partial_lines(v.graph)]
        return "\n".join(lines) + "\n"
    w = terminal.width() if width is True else (width or None)
    t = table.Table(summary(v), COMPACT, [compact_cells(r) for r in rows],
                    [not r.agrees for r in rows])
    lines = table.text_table(t, w, terminal.colour() if width is True else False)
    saved = saved_line(v)
    lines += table.wrap(saved, w) if saved else []
    lines += table.wrap(legend(v), w)
    for line in partial_lines(v.graph):
        lines += table.wrap(line, w)
    return "\n".join(lines) + "\n"


def pair_cell(c: Check, text: Any = str) -> str:
    """'64×56×56 ✓' when both agree; 'analytic ≠ measured ✗' when not; 'analytic –' unmeasured."""
    if c.measured is None:
        return f"{text(c.analytic)} –"
    if c.ok:
        return f"{text(c.analytic)} ✓"
    return f"{text(c.analytic)} ≠ {text(c.measured)} ✗"


def macs_cell(r: VerifyRow, text: Any) -> str:
    if r.shortfall:
        return f"{text(r.macs.analytic)} ≠ {text(r.macs.measured)} ~"
    return pair_cell(r.macs, text)


COMPACT = [Col("Layer", wrap="name"), Col("Kind", drop=1), Col("Shape"),
           Col("Params", right=True), Col("MACs", right=True), Col("fvcore", right=True),
           Col("RF"), Col("Notes", wrap="words", drop=2)]
LEGEND = ("✓ analytic = measured; ≠ … ✗ they differ; ≠ … ~ FlopCounterMode's known shortfall "
          "(attention: Notes say why); – not measured; fvcore ✓: its "
          "conv/linear part = the analytic MACs (what else it counts is in Notes), n/a: fvcore "
          "not run.")


def compact_cells(r: VerifyRow) -> list[str]:
    """The terminal table: one column per check, analytic and measured in one cell."""
    def comma(n: int) -> str:
        return f"{n:,}"

    fv = f"{r.fvcore.value:,} {mark(r.fvcore.ok)}" if r.fvcore.value is not None else "n/a"
    return [r.layer.name, r.layer.kind, pair_cell(r.shape, shape_str),
            pair_cell(r.params, comma), macs_cell(r, comma), fv, rf_cell(r), notes(r)]


def rf_cell(r: VerifyRow) -> str:
    """The compact RF cell: ? alone where the engine has no field (nothing compared, no mark),
    with what was measured beside it if anything was."""
    c = rf_cells(r)
    if not r.rf.unknown:
        return pair_cell(c)
    return "?" if c.measured is None else f"? (measured {c.measured})"


def csv_columns(rank: int) -> list[str]:
    """The CSV header on an input of `rank` spatial axes: to_json's layer record with every
    value present (a null field or measurement is the same columns, empty)."""
    f, none, check = null_field(rank), [None] * rank, {"analytic": None, "measured": None,
                                                       "ok": None}
    return table.columns({
        "name": None, "kind": None, "agrees": None, "in_shape": [],
        "out_shape": {"analytic": [], "measured": [], "ok": None}, "params": check,
        "macs": {**check, "shortfall": None}, "fvcore": {"value": None, "ok": None, "note": None},
        "flop_counter_skipped": [],
        "rf": {"analytic": f, "measured": {"status": None, "input": [], "size": none,
                                           "jump": none, "global": None},
               "ok": None, "note": None},
        "saved_bytes": check})


def check_json(c: Check) -> dict[str, Any]:
    return {"analytic": c.analytic, "measured": c.measured, "ok": c.ok}


def measured_json(r: FieldResult | None) -> dict[str, Any] | None:
    """The measured field, null when the layer was not selected. `status` (an enum word, see
    docs/verify.md): ok (measured: `size` and, for a local field, `jump`), clipped (compared per
    unit, clipped to the input), empty (no input pixel reaches the unit) or why it was not
    measured (UNMEASURED); `global`: every input pixel reaches the unit (null when not
    measured), as the analytic field's `global`."""
    if r is None:
        return None
    measured = r.status in ("ok", "global", "clipped")
    return {"status": "ok" if r.status == "global" else r.status,
            "input": list(r.input) if r.input and (measured or r.status == "empty") else None,
            "size": list(r.size) if measured and r.size else None,
            "jump": [num(j) for j in r.jump] if measured and r.jump else None,
            "global": bool(r.covers_input) if r.status == "global" else
            False if measured else None}


def to_json(v: Verification, rows: list[VerifyRow], device: str) -> dict[str, Any]:
    g = v.graph
    return {
        "spec": g.name, "input": list(g.input_shape), "device": device,
        "agree": v.agrees, "disagreements": v.disagreements,
        "saved_bytes": check_json(v.saved),
        "layers": [{
            "name": r.layer.name, "kind": r.layer.kind, "agrees": r.agrees,
            "in_shape": list(r.layer.in_shapes[0]),
            "out_shape": {"analytic": list(r.shape.analytic),
                          "measured": list(r.shape.measured) if r.shape.measured else None,
                          "ok": r.shape.ok},
            "params": check_json(r.params),
            "macs": {**check_json(r.macs), "shortfall": r.shortfall or None},
            "fvcore": {"value": r.fvcore.value, "ok": r.fvcore.ok,
                       "note": fvcore_note(r.fvcore)},
            "flop_counter_skipped": list(r.torch_skipped),
            "rf": {"analytic": None if r.rf.unknown else field_json(r.layer.rf.max),
                   "measured": measured_json(r.rf.measured), "ok": r.rf.ok,
                   "note": rf_note(r, machine=True) or None},
            "saved_bytes": check_json(r.saved),
        } for r in rows],
        **partial_json(g),
    }
