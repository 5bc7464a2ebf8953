"""The zoo table: one row per shipped spec (year, input, params, MACs, final receptive field,
key idea), sorted into the lineage, and its renderings. Rich is imported in `draw` only.

NB (what "final RF" means, stated once): the theoretical receptive field of the network's last
spatial unit, the largest over the paths that keep spatial structure. For a classifier that is
the field just before the head's global pooling; for a dense predictor (U-Net) the output's.
Paths through a global pooling (the gate of squeeze-and-excitation) are left out of the
maximum: through them every unit trivially sees the whole image, which says nothing about the
spatial path.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from cnncalc.core.engine import Graph
from cnncalc.core.layers.registry import Shape, lookup
from cnncalc.core.rf import RF, Field, join
from cnncalc.report.markdown import md_table
from cnncalc.report.rows import CONVENTION_LINE, CONVENTIONS, field_json, human, shape_str, size_str
from cnncalc.report.terminal import captured

FORMATS = ("table", "md", "json", "csv")
RF_NOTE = ("RF = theoretical receptive field of the last spatial layer (before the head's global "
           "pooling), largest over paths, squeeze-and-excitation gates left out")


@dataclass(frozen=True)
class ZooRow:
    name: str
    year: int | None
    paper: str
    idea: str
    input: Shape
    params: int
    macs: int
    rf: Field | None  # None when no layer keeps spatial structure


def final_field(g: Graph) -> Field | None:
    """The largest field of the last non-global unit, over paths that are not global."""
    fields: dict[str, Field] = {"input": g.nodes["input"].rf.max}
    last = None
    for x in g.layers:
        kind = lookup(x.kind)
        assert kind is not None
        ins = [fields[i] for i in x.inputs]
        if kind.join:  # the engine's rule for joining fields, over the spatial paths only
            spatial = [f for f in ins if not f.is_global]
            f = join([RF(f, f) for f in spatial]).max if spatial else ins[0]
        else:
            f = kind.rf(x.args, x.in_shapes, x.out_shape, ins[0])
        fields[x.name] = f
        if not f.is_global:
            last = f
    return last


def zoo_row(g: Graph) -> ZooRow:
    info = g.info
    year = info.get("year")
    t = g.totals()
    return ZooRow(g.name, year if isinstance(year, int) else None, str(info.get("paper", "")),
                  str(info.get("idea", "")), g.input_shape, t.params, t.macs, final_field(g))


def _natural(name: str) -> list[Any]:
    """resnet18 < resnet34 < resnet101: digit runs compare as numbers."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def lineage(rows: list[ZooRow]) -> list[ZooRow]:
    """By year, then by name with numbers in order; specs without a year last."""
    return sorted(rows, key=lambda r: (r.year is None, r.year or 0, _natural(r.name)))


# Rendering -------------------------------------------------------------------------------

def _cells(r: ZooRow) -> list[str]:
    return [r.name, str(r.year or ""), shape_str(r.input), human(r.params), human(r.macs),
            size_str(r.rf) if r.rf else "-", r.idea]


HEADERS = ["Model", "Year", "Input", "Params", "MACs", "RF", "Key idea"]
RIGHT = {"Year", "Params", "MACs", "RF"}


def row_json(r: ZooRow) -> dict[str, Any]:
    return {"name": r.name, "year": r.year, "paper": r.paper, "idea": r.idea,
            "input": list(r.input), "params": r.params, "macs": r.macs, "flops": 2 * r.macs,
            "rf": field_json(r.rf) if r.rf else None}


def render(rows: list[ZooRow], format: str) -> str:
    """A rich table (at the terminal's width), Markdown, CSV or JSON."""
    if format == "json":
        conventions = {**{k: CONVENTIONS[k] for k in ("params", "macs", "flops")}, "rf": RF_NOTE}
        return json.dumps({"conventions": conventions, "models": [row_json(r) for r in rows]},
                          indent=2, ensure_ascii=False)
    if format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["name", "year", "input", "params", "macs", "rf", "idea"])
        for r in rows:
            w.writerow([r.name, r.year or "", shape_str(r.input), r.params, r.macs,
                        size_str(r.rf) if r.rf else "", r.idea])
        return buf.getvalue()
    if format == "md":
        cells = [[f"`{c[0]}`", *c[1:]] for c in map(_cells, rows)]
        lines = md_table(HEADERS, cells, [h in RIGHT for h in HEADERS])
        lines += ["", f"_{CONVENTION_LINE}; batch 1. {RF_NOTE}._"]
        return "\n".join(lines) + "\n"
    return captured(lambda console: draw(console, rows))


def draw(console: Any, rows: list[ZooRow]) -> None:
    from rich.table import Table

    table = Table(title="cnncalc zoo", title_justify="left", pad_edge=False)
    for h in HEADERS:
        table.add_column(h, justify="right" if h in RIGHT else "left",
                         no_wrap=h != "Key idea")
    for r in rows:
        table.add_row(*_cells(r))
    console.print(table)
    console.print(f"[dim]{CONVENTION_LINE}; batch 1.\n{RF_NOTE}.[/dim]", highlight=False)
