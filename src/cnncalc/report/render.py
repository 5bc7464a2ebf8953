"""Rendering `shapes` and `rf` as a table (report/table.py: never cut), Markdown, CSV or JSON.

JSON and CSV carry every layer whatever the depth (--depth collapses the table and Markdown
only); CSV is the JSON's layer records flattened (report/table.py `flat`), under a header that
depends on the input's rank only (rows.layer_columns): the same for `shapes` and `rf`. After an
unmapped op the fields are unknown: `?` in the table, null in JSON, empty in CSV.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from cnncalc.core.engine import Graph
from cnncalc.report import table, terminal
from cnncalc.report.markdown import md_table
from cnncalc.report.rows import (
    RF_LINE,
    Row,
    convention_line,
    graph_json,
    human,
    human_bytes,
    layer_columns,
    pair_str,
    rows,
    shape_str,
    size_str,
)
from cnncalc.report.table import Col

FORMATS = ("table", "md", "json", "csv")
UNKNOWN = "?"

Column = tuple[Col, Callable[[Row], str]]


def _grid(r: Row, axis_attr: str) -> str:
    """Jump or start of the unit grid: the local field's when the largest is global (a
    squeeze-and-excitation path), '–' when every path is global; '?' when unknown."""
    if not r.rf_known:
        return UNKNOWN
    f = r.field if not r.field.is_global else r.field_min
    if f.is_global:
        return "–"
    return pair_str(*(getattr(ax, axis_attr) for ax in f.axes()))


def _size(r: Row, smallest: bool = False) -> str:
    return size_str(r.field_min if smallest else r.field) if r.rf_known else UNKNOWN


def _kind(r: Row) -> str:
    return f"{r.layers} layers" if r.grouped else r.kind


def shapes_columns(batch: int, all_ops: bool) -> list[Column]:
    cols: list[Column] = [
        (Col("Layer", wrap="name"), lambda r: r.name),
        (Col("Kind", drop=1), _kind),
        (Col("Output"), lambda r: shape_str(r.out_shape)),
        (Col("Params", right=True), lambda r: f"{r.params:,}"),
        (Col("MACs", right=True), lambda r: f"{r.macs:,}"),
    ]
    if all_ops:
        cols.append((Col("Other ops", right=True, drop=3), lambda r: f"{r.other_ops:,}"))
    cols += [(Col("RF", right=True), _size),
             (Col("Jump", right=True, drop=2), lambda r: _grid(r, "jump"))]
    return cols


def rf_columns() -> list[Column]:
    return [
        (Col("Layer", wrap="name"), lambda r: r.name),
        (Col("Kind", drop=1), _kind),
        (Col("Output", drop=2), lambda r: shape_str(r.out_shape)),
        (Col("RF", right=True), _size),
        (Col("Jump", right=True), lambda r: _grid(r, "jump")),
        (Col("Start", right=True, drop=4), lambda r: _grid(r, "start")),
        (Col("RF min", right=True, drop=3), lambda r: _size(r, smallest=True)),
        (Col("Aligned"), lambda r: UNKNOWN if not r.rf_known else "yes" if r.aligned else "NO"),
    ]


def exact_and_short(n: int) -> str:
    """'25,557,032 (25.56M)'; below a thousand the short form says nothing more: '224'."""
    return f"{n:,}" if abs(n) < 1000 else f"{n:,} ({human(n)})"


def totals_lines(g: Graph) -> list[tuple[str, str]]:
    t = g.totals()
    return [
        ("Params", exact_and_short(t.params)),
        ("MACs", exact_and_short(t.macs)),
        ("FLOPs", exact_and_short(t.flops)),
        ("Activation memory", f"{human_bytes(t.activation_bytes)} (float32, batch {g.batch})"),
        ("Parameter memory", f"{human_bytes(t.param_bytes)} (float32)"),
    ]


RF_UNKNOWN = "the RF columns of that row and of every row it feeds are unknown: ? here, null in " \
    "JSON"


def partial_lines(g: Graph, unknown: str = RF_UNKNOWN) -> list[str]:
    """For a traced model: the ops no layer kind describes (their MACs are not counted), and
    notes such as parameters forward never uses. `unknown` words how the output shows the
    fields it cannot know."""
    out = [f"PARTIAL: {p}" for p in g.partial]
    if out:
        out.insert(0, f"PARTIAL analysis: {len(out)} op(s) of the model are not mapped; their "
                      "MACs are not counted and the totals are lower bounds")
    first = next((x.name for x in g.layers if x.kind == "unmapped"), None)
    if first is not None:
        op = g.unmapped[0].op if g.unmapped else ""
        out.insert(1, f"PARTIAL: receptive fields are not computed from the first unmapped op "
                      f"on ({op + ', ' if op else ''}row {first}): {unknown}")
    return out + [f"note: {n}" for n in g.notes]


def partial_json(g: Graph) -> dict[str, list[str]]:
    """JSON's `partial` (what a traced model leaves unmapped) and `notes`, when there are any."""
    if not (g.partial or g.notes):
        return {}
    return {"partial": [str(p) for p in g.partial], "notes": [str(n) for n in g.notes]}


def partial_status(g: Graph) -> str:
    """' (PARTIAL: …)' for a title, or ''."""
    return f" (PARTIAL: {len(g.unmapped)} op(s) unmapped, fields after them unknown: ?)" \
        if g.unmapped else " (PARTIAL)" if g.partial else ""


def title(g: Graph) -> str:
    return f"{g.name}: input {shape_str(g.input_shape, g.batch)}{partial_status(g)}"


def build(g: Graph, cols: Sequence[Column], rs: list[Row]) -> table.Table:
    return table.Table(title(g), [c for c, _ in cols], [[cell(r) for _, cell in cols] for r in rs],
                       [r.grouped for r in rs])


def render(g: Graph, cols: Sequence[Column], format: str, depth: int | None = None,
           totals: bool = True, width: int | None | bool = True) -> str:
    """A table (at the terminal's width: `width=True`), Markdown, CSV or JSON."""
    if format == "json":  # every layer, whatever the depth
        return table.dumps({**graph_json(g), **partial_json(g)})
    if format == "csv":  # every layer too: the JSON's layer records flattened
        for line in partial_lines(g):  # CSV has no place for it: say it on stderr
            sys.stderr.write(line + "\n")
        return table.csv_text(graph_json(g)["layers"], layer_columns(g.rank))
    rs = rows(g, depth)
    if format == "md":
        return markdown(g, cols, rs, totals)
    w = terminal.width() if width is True else (width or None)
    return text(g, cols, rs, totals, w, terminal.colour() if width is True else False)


def markdown(g: Graph, cols: Sequence[Column], rs: list[Row], totals: bool) -> str:
    lines = [f"**{title(g)}**", "", *table.markdown(build(g, cols, rs))]
    if totals:
        lines += ["", *md_table(["Total", ""], totals_lines(g), [False, True])]
    lines += ["", f"_{convention_line(g) if totals else RF_LINE}._"]
    lines += [f"- warning: {w.message}" for w in g.warnings()]
    lines += [f"- {x}" for x in partial_lines(g)]
    return "\n".join(lines) + "\n"


def text(g: Graph, cols: Sequence[Column], rs: list[Row], totals: bool, width: int | None,
         colour: bool = False) -> str:
    lines = table.text_table(build(g, cols, rs), width, colour)
    if totals:
        lines += table.total_lines(totals_lines(g), width)
    lines += table.wrap(convention_line(g) if totals else RF_LINE, width)
    for w in g.warnings():
        lines += table.wrap(f"warning: {w.message}", width)
    for line in partial_lines(g):
        lines += table.wrap(line, width)
    return "\n".join(x.rstrip() for x in lines) + "\n"
