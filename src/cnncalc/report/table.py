"""The one table writer: a boxed table for the terminal that never cuts a number, and the
Markdown, CSV and JSON every command shares. Standard library only (no rich).

NB (the terminal rule, stated once): numbers, shapes and marks are never truncated. A table
wider than the terminal first wraps its prose and layer-name columns, then leaves out the least
important columns (one line says which), and when even the essential columns do not fit, prints
one block per row (the stacked layout). With no width (stdout is not a terminal and COLUMNS is
unset) the full table is printed. No line ends in a space.
"""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cnncalc.core.text import Escaped, json_safe
from cnncalc.report import terminal
from cnncalc.report.markdown import md_table

BOLD, RESET = "\x1b[1m", "\x1b[0m"


@dataclass(frozen=True)
class Col:
    """A column: its header, alignment, how readily it is left out and how it may wrap.

    drop: 0 = never left out (names, shapes, numbers, marks); the highest goes first.
    wrap: "" = never wrapped; "words" = prose; "name" = a layer name, broken after a dot.
    """

    header: str
    right: bool = False
    drop: int = 0
    wrap: str = ""


@dataclass
class Table:
    title: str
    cols: list[Col]
    rows: list[list[str]]
    strong: list[bool] = field(default_factory=list)  # rows to emphasise (bold on a terminal)


def wrap(text: str, width: int | None) -> list[str]:
    """Prose wrapped at `width` (not at all with None), never inside a word."""
    if terminal.ascii_only():  # wrapped as it will be written: "…" is "..."
        text = text.translate(terminal.ASCII)
    if width is None:
        return [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for para in text.split("\n"):
        out += textwrap.wrap(para, max(width, 1), break_on_hyphens=False,
                             break_long_words=False) or [""]
    return out


def _name_lines(text: str, width: int) -> list[str]:
    """A layer name broken after its dots, a part longer than the column cut in pieces."""
    parts = [p for seg in re.findall(r"[^.]+\.?|\.", text)
             for p in (seg[i:i + width] for i in range(0, len(seg), width))]
    lines = [""]
    for p in parts:
        if lines[-1] and len(lines[-1]) + len(p) > width:
            lines.append("")
        lines[-1] += p
    return lines


def cell_lines(text: str, col: Col, width: int) -> list[str]:
    if len(text) <= width or not col.wrap:
        return [text]
    return _name_lines(text, width) if col.wrap == "name" else wrap(text, width)


def min_width(col: Col, cells: Iterable[str]) -> int:
    """The narrowest a column may get: its longest word for prose, a few characters for a name,
    the whole cell otherwise."""
    cells = list(cells)
    natural = max([len(col.header), *map(len, cells)])
    if col.wrap == "words":
        words = [len(w) for c in cells for w in c.split()]
        return max([len(col.header), *words]) if words else len(col.header)
    if col.wrap == "name":
        return min(natural, max(len(col.header), 8))
    return natural


def _outer(widths: Sequence[int]) -> int:
    return sum(widths) + 3 * len(widths) + 1


def fit(t: Table, width: int | None) -> tuple[list[int], list[int]] | None:
    """(kept column indices, their widths) for a box table within `width`, or None when even
    the columns that are never left out do not fit."""
    keep = list(range(len(t.cols)))
    while True:
        cols = [t.cols[i] for i in keep]
        cells = [[r[i] for r in t.rows] for i in keep]
        natural = [max([len(c.header), *map(len, cs)]) for c, cs in zip(cols, cells)]
        if width is None or _outer(natural) <= width:
            return keep, natural
        least = [min_width(c, cs) for c, cs in zip(cols, cells)]
        if _outer(least) <= width:
            spare = width - _outer(least)
            widths = list(least)
            for j in sorted(range(len(cols)), key=lambda j: cols[j].wrap != "name"):
                give = min(spare, natural[j] - least[j])
                widths[j] += give
                spare -= give
            return keep, widths
        droppable = [i for i in keep if t.cols[i].drop]
        if not droppable:
            return None
        keep.remove(max(droppable, key=lambda i: (t.cols[i].drop, i)))


def box(t: Table, keep: list[int], widths: list[int], colour: bool) -> list[str]:
    """rich's HEAVY_HEAD box, one space of padding, numbers right-aligned."""
    cols = [t.cols[i] for i in keep]

    def line(cells: Sequence[str], sep: str, strong: bool = False) -> list[str]:
        split = [cell_lines(c, col, w) for c, col, w in zip(cells, cols, widths)]
        out = []
        for k in range(max(map(len, split))):
            parts = [(s[k] if k < len(s) else "") for s in split]
            text = sep + sep.join(" " + (p.rjust(w) if col.right else p.ljust(w)) + " "
                                  for p, w, col in zip(parts, widths, cols)) + sep
            out.append(BOLD + text + RESET if strong and colour else text)
        return out

    bars = ["━" * (w + 2) for w in widths]
    lines = ["┏" + "┳".join(bars) + "┓", *line([c.header for c in cols], "┃"),
             "┡" + "╇".join(bars) + "┩"]
    for n, r in enumerate(t.rows):
        lines += line([r[i] for i in keep], "│", n < len(t.strong) and t.strong[n])
    return lines + ["└" + "┴".join("─" * (w + 2) for w in widths) + "┘"]


def stacked(t: Table, width: int) -> list[str]:
    """One block per row: the first cell, then 'Header value' pairs wrapped at the width,
    never inside a value; a prose value too long for a line wrapped at its words, on lines
    of its own."""
    out: list[str] = []
    sep = " | " if terminal.ascii_only() else " · "  # in ASCII "·" is a product, "*"
    for r in t.rows:
        out += _name_lines(r[0], width)
        line = " "
        for c, v in zip(t.cols[1:], r[1:]):
            if not v.strip():
                continue
            item = f"{c.header} {v}" if c.header else v
            if c.wrap == "words" and len(item) + 2 > width:
                out += [line.rstrip()] if len(line) > 1 else []
                out += ["  " + x for x in wrap(item, width - 2)]
                line = " "
                continue
            if len(line) > 1 and len(line) + 3 + len(item) > width:
                out.append(line.rstrip())
                line = " "
            line += (sep if len(line) > 1 else " ") + item
        if len(line) > 1:
            out.append(line.rstrip())
    return out


def text_table(t: Table, width: int | None, colour: bool = False) -> list[str]:
    """The table's lines at `width` (None: its natural width), title wrapped to the width."""
    if terminal.ascii_only():  # laid out in the ASCII stand-ins (✓ is "ok"), not swapped after
        a = terminal.ASCII
        t = Table(t.title.translate(a), [replace(c, header=c.header.translate(a)) for c in t.cols],
                  [[x.translate(a) for x in r] for r in t.rows], t.strong)
    lines = wrap(t.title, width) if t.title else []
    fitted = fit(t, width)
    if fitted is None:
        assert width is not None
        lines += stacked(t, width)
        lines += wrap(f"(one block per row: the table is wider than {width} columns; "
                      "--format csv or a wider terminal shows it as a table)", width)
        return lines
    keep, widths = fitted
    lines += box(t, keep, widths, colour)
    left = [t.cols[i].header for i in range(len(t.cols)) if i not in keep]
    if left:
        lines += wrap(f"columns left out at {width} columns: {', '.join(left)} "
                      "(--format csv or a wider terminal shows them)", width)
    return lines


def total_lines(rows: Sequence[tuple[str, str]], width: int | None) -> list[str]:
    """'Label  value' lines, the values aligned; a line too wide for the terminal puts its
    value under its label."""
    pad = max(len(k) for k, _ in rows)
    out: list[str] = []
    for k, v in rows:
        line = f"{k:<{pad}}  {v}"
        out += [line] if width is None or len(line) <= width else \
            [*wrap(k, width), f"  {v}"]
    return out


def markdown(t: Table, names: bool = True) -> list[str]:
    """A pipe table; with `names`, the first column in backticks (every command does)."""
    rows = [[f"`{r[0]}`" if names and r[0] else r[0], *r[1:]] for r in t.rows]
    return md_table([c.header for c in t.cols], rows, [c.right for c in t.cols])


# The machine formats --------------------------------------------------------------------------

def dumps(obj: Any) -> Escaped:
    """The one JSON encoding: UTF-8 text (ensure_ascii=False), objects indented, and each record
    of a list on one line (fast on 10,000 layers, still readable and diff-able). Control
    characters in strings are JSON escapes (`json_safe`): the text is valid JSON that is safe on
    a terminal as it is, so `emit` writes it untouched."""
    return Escaped(_enc(obj, ""))


# one encoder, not one per value; the records are trees we build (no cycles to look for)
_ENCODE = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def _JSON(obj: Any) -> str:
    return json_safe(_ENCODE(obj))


def _enc(obj: Any, indent: str) -> str:
    inner = indent + "  "
    if isinstance(obj, Mapping) and obj:
        items = [f"{inner}{_JSON(str(k))}: {_enc(v, inner)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(obj, list) and any(isinstance(x, Mapping | list) for x in obj):
        return "[\n" + ",\n".join(inner + _JSON(x) for x in obj) + "\n" + indent + "]"
    return _JSON(obj)


SHAPE_KEYS = ("shape", "input")
# per-axis values (a field's rf_size, rf_min_jump, ...; the ERF's centre, σ and sizes): one
# column per axis, by the input's rank
FIELD_KEYS = ("_size", "_jump", "_start", "_global_axes", "_centre", "mean", "sigma",
              "_closed_form", "_1sigma", "_2sigma", "_over_rf")
AXIS_SUFFIXES = {1: ("_l",), 3: ("_t", "_h", "_w")}
# mappings whose keys differ from record to record (a layer's arguments): one cell, their JSON,
# so that a CSV's header never depends on the values
OPAQUE_KEYS = ("args",)


def flat(record: Mapping[str, Any], prefix: str = "", shape: bool = False) -> dict[str, Any]:
    """A JSON record as one CSV row: nested keys joined with '_', [h, w] pairs as _h and _w,
    a field's per-axis values of a 1-D or 3-D input as _l or _t, _h, _w, shapes (and every
    value under a shape's key: out_shape_analytic) as 64x112x112 (ASCII x), a layer's `args`
    as one cell of JSON. A null stays one null key: a CSV takes its columns from a record of
    the command and the input's rank (`csv_text(keys=...)`), where it is empty."""
    out: dict[str, Any] = {}
    for k, v in record.items():
        key = f"{prefix}{k}"
        is_shape = shape or key.endswith(SHAPE_KEYS)
        if isinstance(v, Mapping) and k in OPAQUE_KEYS:
            out[key] = json.dumps(v, ensure_ascii=False, separators=(",", ":"))
        elif isinstance(v, Mapping):
            out.update(flat(v, key + "_", is_shape))
        elif isinstance(v, list | tuple) and v and all(isinstance(x, str) for x in v):
            out[key] = ";".join(v)
        elif isinstance(v, list | tuple) and (is_shape or not v):
            out[key] = "x".join(map(str, v)) if all(isinstance(x, int) for x in v) else \
                None if all(x is None for x in v) else json.dumps(v, ensure_ascii=False)
        elif isinstance(v, list | tuple) and len(v) in AXIS_SUFFIXES and key.endswith(FIELD_KEYS):
            out.update(zip((key + s for s in AXIS_SUFFIXES[len(v)]), v))
        elif isinstance(v, list | tuple) and len(v) != 2:
            out[key] = json.dumps(v, ensure_ascii=False)
        elif isinstance(v, list | tuple):
            out[key + "_h"], out[key + "_w"] = v
        else:
            out[key] = v
    return out


def columns(*templates: Mapping[str, Any]) -> list[str]:
    """A CSV's header: the flattened keys of records of the command's shape with every value
    present (a field of the input's rank where a row may hold null), several ranks together
    (the zoo's) each quantity's axes side by side."""
    return _axes_together(list(dict.fromkeys(k for t in templates for k in flat(t))))


_AXIS_ORDER = {"_l": 0, "_t": 1, "_h": 2, "_w": 3}


def _axes_together(keys: list[str]) -> list[str]:
    """Records of several ranks in one CSV (the zoo): each quantity's axis columns side by side
    in the order l, t, h, w, where its first axis column stood (rf_size_t, rf_size_h,
    rf_size_w, then rf_jump_…); records of one rank keep their own order."""
    def base(k: str) -> str | None:
        return k[:-2] if k[-2:] in _AXIS_ORDER else None
    groups: dict[str, list[str]] = {}
    for k in keys:
        b = base(k)
        if b is not None:
            groups.setdefault(b, []).append(k)
    out: list[str] = []
    for k in keys:
        b = base(k)
        if b is None:
            out.append(k)
        elif groups[b][0] == k:
            out += sorted(groups[b], key=lambda x: _AXIS_ORDER[x[-2:]])
    return out


def csv_cell(v: Any) -> str:
    """Numbers as numbers, empty for none, true/false."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def csv_text(records: Iterable[Mapping[str, Any]], keys: Sequence[str] | None = None) -> str:
    """CSV whose header is the flattened JSON field names (snake_case): `keys` when given (a
    command's fixed columns, `columns`), else every key the records have. A value the header
    has no column for is a bug, not something to drop."""
    rows = [flat(r) for r in records]
    if keys is None:
        keys = _axes_together(list(dict.fromkeys(k for r in rows for k in r)))
    else:
        known = set(keys)
        lost = {k for r in rows for k, v in r.items() if v is not None and k not in known}
        assert not lost, f"CSV values without a column: {sorted(lost)}"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(keys)
    for r in rows:
        w.writerow([csv_cell(r.get(k)) for k in keys])
    return buf.getvalue()
