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

import re
from dataclasses import dataclass
from typing import Any

from cnncalc.core.engine import Graph
from cnncalc.core.layers.registry import Shape, lookup
from cnncalc.core.rf import RF, Field, join
from cnncalc.report import table, terminal
from cnncalc.report.rows import (
    ATTENTION_MACS,
    CONVENTION_LINE,
    CONVENTIONS,
    field_json,
    null_field,
    shape_str,
    size_str,
)
from cnncalc.report.table import Col

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
    return [r.name, str(r.year or ""), shape_str(r.input), f"{r.params:,}", f"{r.macs:,}",
            size_str(r.rf) if r.rf else "-", r.idea]


COLS = [Col("Model"), Col("Year", right=True, drop=1), Col("Input", drop=2),
        Col("Params", right=True), Col("MACs", right=True), Col("RF", right=True),
        Col("Key idea", wrap="words", drop=3)]


TEMPLATE: dict[str, Any] = {"name": None, "year": None, "paper": None, "idea": None,
                            "input": [], "params": None, "macs": None, "flops": None}
# the zoo's CSV header: nets of 1, 2 and 3 spatial axes in one file, every axis column always
COLUMNS = table.columns(*({**TEMPLATE, "rf": null_field(n)} for n in (1, 2, 3)))


def row_json(r: ZooRow) -> dict[str, Any]:
    return {"name": r.name, "year": r.year, "paper": r.paper, "idea": r.idea,
            "input": list(r.input), "params": r.params, "macs": r.macs, "flops": 2 * r.macs,
            "rf": field_json(r.rf) if r.rf else None}


def render(rows: list[ZooRow], format: str, width: int | None | bool = True,
           attention_macs: str = "all") -> str:
    """A table (at the terminal's width: `width=True`), Markdown, CSV or JSON; attention's
    MACs counted as `attention_macs` says (rows.ATTENTION_MACS)."""
    line = CONVENTION_LINE if attention_macs == "all" else \
        f"{CONVENTION_LINE}; {ATTENTION_MACS[attention_macs]}"
    if format == "json":
        conventions = {**{k: CONVENTIONS[k] for k in ("params", "macs", "flops")}, "rf": RF_NOTE,
                       "attention_macs": ATTENTION_MACS[attention_macs]}
        return table.dumps({"conventions": conventions, "models": [row_json(r) for r in rows]})
    if format == "csv":
        return table.csv_text(map(row_json, rows), COLUMNS)
    t = table.Table("cnncalc zoo", COLS, [_cells(r) for r in rows])
    if format == "md":
        lines = table.markdown(t)
        lines += ["", f"_{line}; batch 1. {RF_NOTE}._"]
        return "\n".join(lines) + "\n"
    w = terminal.width() if width is True else (width or None)
    lines = table.text_table(t, w)
    lines += table.wrap(f"{line}; batch 1.\n{RF_NOTE}.", w)
    return "\n".join(lines) + "\n"
