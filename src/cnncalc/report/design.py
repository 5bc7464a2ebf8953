"""`cnncalc sizes`, `rf --target` and `cnncalc check` as plain text (wrapped at the terminal's
width, formulas before their + signs), Markdown, JSON or CSV; `--png` with matplotlib (imported
here only, when asked). Computes nothing: the records come from core/design.py and
core/budget.py.

CSV (report/answer.py's rule): sizes gives its table's rows (JSON's `table`), check its limits
(JSON's `limits`), rf --target, a one-line answer, one row of its JSON's fields."""

from __future__ import annotations

from typing import Any

from cnncalc.core.budget import Verdict
from cnncalc.core.design import Reach, SizesResult, describe
from cnncalc.core.errors import CnncalcError
from cnncalc.core.rf import fmt_num, num
from cnncalc.core.sizes import Outcome
from cnncalc.report.answer import Table, formula, hang, text_table
from cnncalc.report.markdown import md_table
from cnncalc.report.rows import human_bytes
from cnncalc.report.table import csv_text, dumps

FORMATS = ("table", "md", "json", "csv")
Lines = list[tuple[str, str]]  # (the lead, the text that wraps after it)
BYTES = 4  # float32, as the engine's memory totals
SETS = (("runs", "runs"), ("exact", "no floor drops pixels"), ("joins", "joins line up"))


def _width(width: int | None | bool) -> int | None:
    from cnncalc.report import terminal
    return terminal.width() if width is True else (width or None)


def _wrap(lines: Lines, width: int | None) -> list[str]:
    return [x for lead, text in lines for x in hang(lead, text, width)]


def _plain(lines: Lines) -> list[str]:
    return [(lead + text).replace("\xa0", " ") for lead, text in lines]


def render(result: SizesResult, format: str, width: int | None | bool = True) -> str:
    """`width`: True for the terminal's (report/terminal.py), None for none (piped)."""
    if format == "table":
        out = _text(result, _width(width))
    else:
        out = {"md": _markdown, "json": _json, "csv": _csv}[format](result)
    return out if out.endswith("\n") else out + "\n"


def _size(o: Outcome | tuple[int, int]) -> str:
    h, w = (o.h, o.w) if isinstance(o, Outcome) else o
    return f"{h}×{w}"


def _which(r: SizesResult, which: str) -> str:
    found = r.values(which)
    if r.square:
        words = describe([o.h for o in found], r.hi[0])
    else:
        hs = sorted({o.h for o in found})
        ws = sorted({o.w for o in found})
        product = len(found) == len(hs) * len(ws)
        words = (f"H: {describe(hs, r.hi[0])}; W: {describe(ws, r.hi[1])}" if product and found
                 else f"{len(found)} of the H×W pairs" if found else "none")
    return f"{words} ({len(found):,} of {len(r.scan.outcomes):,})"


def _label(text: str) -> str:
    return f"  {text + ':':<23}"


def _lines(r: SizesResult) -> Lines:
    span = f"{r.lo[0]}..{r.hi[0]}" if r.square else \
        f"{r.lo[0]}..{r.hi[0]} × {r.lo[1]}..{r.hi[1]}"
    lines = [("", f"{r.name}: input sizes {span}{' (H = W)' if r.square else ''}, "
                  f"{r.input_shape[0]} channels, {len(r.scan.outcomes):,} sizes through the "
                  "engine")]
    for which, label in SETS:
        lines.append((_label(label), _which(r, which)))
    small = r.smallest
    lines.append((_label("smallest that runs"), _size(small) if small else "none"))
    joins = r.values("join")
    if joins:
        lines.append((_label("fail at a join"), f"{len(joins):,} sizes: the paths joined there "
                      f"differ in size and would need cropping (first: {_size(joins[0])}, "
                      f"{joins[0].layer})"))
    for note in r.offsets:
        lines.append((_label("grid offset"), f"{note} (at every size: it comes from kernels, "
                      "strides and paddings)"))
    other = [o for o in r.scan.outcomes if not o.runs and not o.at_join]
    if other:
        lines.append((_label("fail elsewhere"), f"{len(other):,} sizes (largest: "
                      f"{_size(other[-1])}: {other[-1].error})"))
    return lines


def _cost_lines(r: SizesResult) -> Lines:
    c = r.costs
    lines = [("", "cost as a function of the input H×W (batch 1; MACs: multiply-accumulates):")]
    lines.append(("  params      = ", f"{c.params:,} (constant)") if c.params is not None
                 else ("  params      ", "depend on the input size (a flatten feeds a linear "
                                         "layer)"))
    if c.macs is None or c.activations is None:
        lines.append(("  ", f"no closed form for MACs and activations: {c.why_not}; the table "
                            "below is exact"))
        return lines
    lines.append(("  MACs        = ", formula(c.macs.text())))
    lines.append(("  activations = ", f"{formula(c.activations.text())} values "
                                      f"(memory: {BYTES} bytes each, float32)"))
    checked = c.macs.checked
    wrong = sorted(set(c.macs.wrong) | set(c.activations.wrong))
    lines.append(("  ", f"exact at every one of the {checked:,} sizes that run in the range"
                  if not wrong else
                  f"exact at {checked - len(wrong):,} of {checked:,} sizes that run; not at "
                  + ", ".join(map(_size, wrong[:8])) + (" …" if len(wrong) > 8 else "")
                  + " (their layers differ)"))
    return lines


def _table(r: SizesResult) -> Table:
    base = r.rows[0].macs if r.rows and r.rows[0].runs else 0
    rows = []
    for o, b in zip(r.rows, r.borders):
        if not o.runs:
            rows.append([_size(o), "–", "–", "–", "–", o.error or ""])
            continue
        rel = f"{o.macs / base:.2f}×" if base else "–"
        edge = f"{b.layer} ({b.count} layers)" if b.layer else "none"
        rows.append([_size(o), f"{o.params:,}", f"{o.macs:,}", rel,
                     human_bytes(o.activations * BYTES), edge])
    return Table(["input", "params", "MACs", "vs first", "activation memory",
                  "first border layer"], rows, [False, True, True, True, True, False])


def _tile_lines(r: SizesResult) -> Lines:
    t = r.tile
    if t is None:
        return []
    def both(p: tuple[Any, Any]) -> str:
        return fmt_num(p[0]) if p[0] == p[1] else f"{fmt_num(p[0])}×{fmt_num(p[1])}"
    lines = [("", f"tiling with {t.tile}×{t.tile} tiles (every unit of {t.layer} with its full "
                  "field):"),
             ("  ", f"field {both(t.field)} pixels, jump {both(t.jump)}: {both(t.units)} units "
                    "per tile see their whole field"),
             ("  ", f"step {both(t.step)} pixels between tiles, overlap {both(t.overlap)} "
                    "pixels")]
    if not t.runs:
        lines.append(("  note: ", f"{t.tile}×{t.tile} itself does not run through the network; "
                                  "pick a tile among the sizes that run"))
    return lines


def _border_note() -> str:
    return ("border layers: from the first layer whose receptive field is larger than the "
            "input, units see padding (Richter et al., Receptive Field Analysis)")


def _text(r: SizesResult, width: int | None = None) -> str:
    lines = _wrap(_lines(r), width) + [""] + _wrap(_cost_lines(r), width) + [""]
    lines += text_table(_table(r), "  ", width) + hang("  ", _border_note(), width)
    tile = _wrap(_tile_lines(r), width)
    return "\n".join(lines + ([""] + tile if tile else []))


def _markdown(r: SizesResult) -> str:
    head, *rest = _plain(_lines(r))
    lines = [f"**{head}**", "", *(f"- {x.strip()}" for x in rest), ""]
    cost = _plain(_cost_lines(r))
    lines += [f"**{cost[0]}**", "", "```text", *(x.strip() for x in cost[1:]), "```", ""]
    t = _table(r)
    lines += md_table(t.headers, t.rows, t.right) + ["", _border_note()]
    tile = _plain(_tile_lines(r))
    if tile:
        lines += ["", f"**{tile[0]}**", "", *(f"- {x.strip()}" for x in tile[1:])]
    return "\n".join(lines)


def _csv(r: SizesResult) -> str:
    """The table's rows, as JSON's `table` records."""
    return csv_text(data(r)["table"])


def _formula(f: Any) -> Any:
    if f is None:
        return None
    return {"text": f.text(), "checked": f.checked, "wrong": [list(x) for x in f.wrong],
            "terms": [{"coef": t.coef, "h": t.h.text("H") if t.h else None,
                       "w": t.w.text("W") if t.w else None} for t in f.terms]}


def data(r: SizesResult) -> dict[str, Any]:
    def sizes(which: str) -> list[Any]:
        found = r.values(which)
        return [o.h for o in found] if r.square else [[o.h, o.w] for o in found]
    small = r.smallest
    out: dict[str, Any] = {
        "spec": r.name, "channels": r.input_shape[0], "range": {"lo": list(r.lo),
                                                                "hi": list(r.hi)},
        "square": r.square, "scanned": len(r.scan.outcomes),
        "runs": sizes("runs"), "no_floor_drops": sizes("exact"), "joins_line_up": sizes("joins"),
        "fails_at_join": sizes("join"), "grid_offsets": r.offsets,
        "smallest": [small.h, small.w] if small else None,
        "step": describe([o.h for o in r.values("runs")], r.hi[0]) if r.square else None,
        "params": r.costs.params, "macs": _formula(r.costs.macs),
        "activations": _formula(r.costs.activations), "why_no_formula": r.costs.why_not or None,
        "table": [{"input": [o.h, o.w], "runs": o.runs, "error": o.error, "params": o.params,
                   "macs": o.macs, "activation_bytes": o.activations * BYTES,
                   "border_layer": b.layer, "border_layers": b.count}
                  for o, b in zip(r.rows, r.borders)],
    }
    t = r.tile
    if t is not None:
        out["tile"] = {"tile": t.tile, "layer": t.layer, "field": [num(x) for x in t.field],
                       "jump": [num(x) for x in t.jump], "units": list(t.units),
                       "step": [num(x) for x in t.step], "overlap": [num(x) for x in t.overlap],
                       "runs": t.runs}
    return out


def _json(r: SizesResult) -> str:
    return dumps(data(r))


def png(r: SizesResult, path: str) -> str:
    """MACs and activation memory against the input size, over the sizes that run."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CnncalcError("--png needs matplotlib (pip install matplotlib)") from None
    running = r.scan.running
    xs = [o.h if r.square else o.h * o.w for o in running]
    fig, left = plt.subplots(figsize=(7, 4))
    left.plot(xs, [o.macs / 1e9 for o in running], ".", color="C0", label="GMACs")
    left.set_xlabel("input size H = W" if r.square else "input pixels H·W")
    left.set_ylabel("GMACs", color="C0")
    right = left.twinx()
    right.plot(xs, [o.activations * BYTES / 2**20 for o in running], ".", color="C1")
    right.set_ylabel("activation memory (MiB)", color="C1")
    left.set_title(f"{r.name}: cost against input size")
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as e:
        raise CnncalcError(f"cannot write {path}: {e}") from None
    finally:
        plt.close(fig)
    return f"wrote {path}"


# rf --target --------------------------------------------------------------------------------

def _pair(p: tuple[Any, ...] | None) -> str:
    """One number when every axis has it, else one per axis."""
    if p is None:
        return "–"
    return fmt_num(p[0]) if len(set(p)) == 1 else "×".join(map(fmt_num, p))


def reach_data(r: Reach) -> dict[str, Any]:
    return {"spec": r.name, "target": r.target, "layer": r.layer, "stage": r.stage,
            "field": [num(x) for x in r.field] if r.field else None,
            "largest": [num(x) for x in r.largest] if r.largest else None,
            "repeats": r.repeats, "layers": r.layers,
            "before": [num(x) for x in r.before] if r.before else None,
            **({"unknown": list(r.unknown)} if r.unknown else {}),
            **({"partial": list(r.partial)} if r.partial else {})}


def render_reach(r: Reach, format: str, width: int | None | bool = True) -> str:
    if format == "json":
        return dumps(reach_data(r))
    if format == "csv":  # a one-line answer: one row of its JSON's fields
        return csv_text([reach_data(r)])
    lines: list[tuple[str, str]]
    if r.repeats is not None:
        copies = "" if r.layers == r.repeats else f" ({r.repeats} copies of the stack)"
        lines = [("", f"{r.name}: {r.layers} layers{copies} reach a {r.target} receptive "
                      f"field: {_pair(r.field)}"),
                 ("  ", f"one copy fewer gives {_pair(r.before)}")]
    elif r.layer is None and r.unknown:
        best = f"; the largest known is {_pair(r.best[1])} at {r.best[0]}" if r.best else ""
        lines = [("", f"{r.name}: no layer whose field is known reaches a {r.target} "
                      f"receptive field{best}")]
    elif r.layer is None:
        assert r.largest is not None
        lines = [("", f"{r.name}: no layer reaches a {r.target} receptive field; the largest "
                      f"is {_pair(r.largest)} at the output")]
    else:
        first = f"the first layer whose field is known to reach {r.target} is" if r.unknown \
            else f"the receptive field first reaches {r.target} at"
        lines = [("", f"{r.name}: {first} {r.layer} (stage {r.stage}): {_pair(r.field)}"),
                 ("  ", f"the output's field: {_pair(r.largest) if r.largest else 'unknown'}")]
    if r.unknown:
        lines.append(("  ", f"PARTIAL: the fields of {', '.join(r.unknown)} are unknown "
                            f"({r.why}); only known fields are counted"))
    if format == "md":
        head, *rest = _plain(lines)
        return "\n".join([f"**{head}**", "", *(f"- {x.strip()}" for x in rest)]) + "\n"
    return "\n".join(_wrap(lines, _width(width))) + "\n"


# check ----------------------------------------------------------------------------------------

MARKS = {True: "ok  ", False: "OVER", None: "?   "}


def render_check(v: Verdict, format: str, width: int | None | bool = True) -> str:
    if format == "json":
        return dumps(v.data())
    if format == "csv":  # one row per limit, as JSON's `limits` records
        return csv_text(v.data()["limits"])
    verdict = {True: "within budget", False: "OVER BUDGET",
               None: "NOT JUDGED (a limit cannot be checked)"}[v.ok]
    lines = [("", f"{v.name}: input {'×'.join(map(str, v.input_shape))}, batch {v.batch}: "
                  f"{verdict}")]
    for x in v.limits:
        lines.append((f"  {MARKS[x.ok]} ", x.line()))
    if format == "md":
        head, *rest = _plain(lines)
        return "\n".join([f"**{head}**", "", *(f"- {x.strip()}" for x in rest)]) + "\n"
    return "\n".join(_wrap(lines, _width(width))) + "\n"

