"""Rendering `shapes` and `rf` as a rich table, Markdown, CSV or JSON (rich imported here only)."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from cnncalc.core.engine import Graph
from cnncalc.report.markdown import md_table
from cnncalc.report.rows import (
    CONVENTION_LINE,
    RF_LINE,
    Row,
    graph_json,
    human,
    human_bytes,
    pair_str,
    rows,
    shape_str,
    size_str,
)
from cnncalc.report.terminal import captured

FORMATS = ("table", "md", "json", "csv")

Column = tuple[str, Callable[[Row], str], bool]  # header, cell, right-aligned


def _grid(r: Row, axis_attr: str) -> str:
    """Jump or start of the unit grid: the local field's when the largest is global (a
    squeeze-and-excitation path), '–' when every path is global."""
    f = r.field if not r.field.is_global else r.field_min
    if f.is_global:
        return "–"
    return pair_str(getattr(f.h, axis_attr), getattr(f.w, axis_attr))


def shapes_columns(batch: int, all_ops: bool) -> list[Column]:
    cols: list[Column] = [
        ("Layer", lambda r: r.name, False),
        ("Kind", lambda r: r.kind if not r.grouped else f"{r.layers} layers", False),
        ("Output", lambda r: shape_str(r.out_shape), False),
        ("Params", lambda r: f"{r.params:,}", True),
        ("MACs", lambda r: f"{r.macs:,}", True),
    ]
    if all_ops:
        cols.append(("Other ops", lambda r: f"{r.other_ops:,}", True))
    cols += [("RF", lambda r: size_str(r.field), True), ("Jump", lambda r: _grid(r, "jump"), True)]
    return cols


def rf_columns() -> list[Column]:
    return [
        ("Layer", lambda r: r.name, False),
        ("Kind", lambda r: r.kind, False),
        ("Output", lambda r: shape_str(r.out_shape), False),
        ("RF", lambda r: size_str(r.field), True),
        ("Jump", lambda r: _grid(r, "jump"), True),
        ("Start", lambda r: _grid(r, "start"), True),
        ("RF min", lambda r: size_str(r.field_min), True),
        ("Aligned", lambda r: "yes" if r.aligned else "NO", False),
    ]


def totals_lines(g: Graph) -> list[tuple[str, str]]:
    t = g.totals()
    return [
        ("Params", f"{t.params:,} ({human(t.params)})"),
        ("MACs", f"{t.macs:,} ({human(t.macs)})"),
        ("FLOPs", f"{t.flops:,} ({human(t.flops)})"),
        ("Activation memory", f"{human_bytes(t.activation_bytes)} (float32, batch {g.batch})"),
        ("Parameter memory", f"{human_bytes(t.param_bytes)} (float32)"),
    ]


def partial_lines(g: Graph) -> list[str]:
    """For a traced model: the ops no layer kind describes (their MACs are not counted), and
    notes such as parameters forward never uses."""
    out = [f"PARTIAL: {p}" for p in g.partial]
    if out:
        out.insert(0, f"PARTIAL analysis: {len(out)} op(s) of the model are not mapped; their "
                      "MACs are not counted and the totals are lower bounds")
    first = next((x.name for x in g.layers if x.kind == "unmapped"), None)
    if first is not None:
        op = g.unmapped[0].op if g.unmapped else ""
        out.insert(1, f"PARTIAL: receptive fields are not computed from the first unmapped op "
                      f"on ({op + ', ' if op else ''}row {first}): the RF columns of that row "
                      "and of every row it feeds are placeholders, not results")
    return out + [f"note: {n}" for n in g.notes]


def title(g: Graph) -> str:
    return f"{g.name}: input {shape_str(g.input_shape, g.batch)}"


def render(g: Graph, cols: Sequence[Column], format: str, depth: int | None = None,
           totals: bool = True) -> str:
    """A rich table (at the terminal's width), Markdown, CSV or JSON."""
    rs = rows(g, depth)
    if format == "json":
        data = graph_json(g)
        if g.partial or g.notes:
            data["partial"] = [str(p) for p in g.partial]
            data["notes"] = [str(n) for n in g.notes]
        return json.dumps(data, indent=2)
    if format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([c[0] for c in cols])
        for r in rs:
            cells = [c[1](r).strip() for c in cols]
            w.writerow([x.replace(",", "") if c[2] else x for x, c in zip(cells, cols)])
        for line in partial_lines(g):  # CSV has no place for it: say it on stderr
            sys.stderr.write(line + "\n")
        return buf.getvalue()
    if format == "md":
        return markdown(g, cols, rs, totals)
    return captured(lambda console: draw(console, g, cols, rs, totals))


def markdown(g: Graph, cols: Sequence[Column], rs: list[Row], totals: bool) -> str:
    cells = [[f"`{r.name}`", *(c[1](r).strip() for c in cols[1:])] for r in rs]
    lines = [f"**{title(g)}**", "", *md_table([c[0] for c in cols], cells, [c[2] for c in cols])]
    if totals:
        lines += ["", *md_table(["Total", ""], totals_lines(g), [False, True])]
    lines += ["", f"_{CONVENTION_LINE if totals else RF_LINE}._"]
    lines += [f"- warning: {w.message}" for w in g.warnings()]
    lines += [f"- {x}" for x in partial_lines(g)]
    return "\n".join(lines) + "\n"


def draw(console: Any, g: Graph, cols: Sequence[Column], rs: list[Row], totals: bool) -> None:
    from rich.table import Table

    table = Table(title=title(g), title_justify="left")
    for header, _, right in cols:
        table.add_column(header, justify="right" if right else "left", no_wrap=True)
    for r in rs:
        table.add_row(*(c[1](r) for c in cols), style="bold" if r.grouped else None)
    console.print(table)
    if totals:
        width = max(len(k) for k, _ in totals_lines(g))
        for k, v in totals_lines(g):
            console.print(f"{k:<{width}}  {v}", highlight=False)
    console.print(f"[dim]{CONVENTION_LINE if totals else RF_LINE}[/dim]", highlight=False)
    for w in g.warnings():
        console.print(f"[yellow]warning:[/yellow] {w.message}", highlight=False)
    for line in partial_lines(g):
        console.print(line, style="bold red" if line.startswith("PARTIAL") else None,
                      highlight=False, markup=False)
