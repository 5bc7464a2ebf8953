"""Rendering `cnncalc latency`: a table, Markdown, CSV or JSON from a LatencyResult.

No torch here: the result is plain dataclasses (imported for type checking only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from cnncalc.core.timed import BatchResult, LatencyResult, LayerTime
from cnncalc.report import table, terminal
from cnncalc.report.rows import CONVENTIONS, human_bytes, shape_str
from cnncalc.report.table import Col

FORMATS = ("table", "md", "json", "csv")
TOP = 5  # slowest layers highlighted

LATENCY_CONVENTIONS = {
    "latency": "seconds per forward pass under torch.inference_mode: warm-up, then blocks of "
               "calls, one per-call time per block; median and p10/p25/p75/p90 over blocks",
    "throughput": "batch ÷ median latency, images per second",
    "gmacs_per_s": "analytic MACs of the batch ÷ median latency ÷ 1e9",
    "fraction_of_peak": "2 × MACs ÷ median ÷ peak FLOP/s (peak: CPU matmul measured, GPU "
                        "datasheet, or --peak-gflops)",
    "bytes": "per layer: (inputs + output + params + buffers) × bytes per value, each read or "
             "written once",
    "intensity": "per layer: FLOPs (2 × MACs) ÷ bytes; below the ridge (peak ÷ bandwidth) a "
                 "layer is memory-bound",
    "per_layer_time": "median over passes of the eager module, hooks synchronising around "
                      "each layer",
}
NOTE_LINE = ("median over timed blocks after warm-up; GMAC/s from analytic MACs (conv/linear, "
             "no bias); % of peak = 2·MACs/median ÷ peak FLOP/s")


def ms(seconds: float) -> str:
    v = seconds * 1e3
    return f"{v:.2f}" if v >= 10 else f"{v:.3f}"


def rate(v: float) -> str:
    return f"{v:,.1f}" if v >= 10 else f"{v:.3f}"


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


# JSON ------------------------------------------------------------------------------------

def layer_json(x: LayerTime, total: float, rank: int | None) -> dict[str, Any]:
    return {"name": x.name, "kind": x.kind, "in_shape": list(x.in_shape),
            "out_shape": list(x.out_shape), "params": x.params, "macs": x.macs,
            "flops": x.flops, "time_ms": x.seconds * 1e3,
            "time_fraction": x.seconds / total if total else 0.0,
            "gmacs_per_s": x.gmacs_per_s, "bytes": x.bytes, "intensity": x.intensity,
            "bound": x.bound, "slow_rank": rank}


def ranks(layers: Sequence[LayerTime], top: int = TOP) -> dict[str, int]:
    """Layer name -> 1 for the slowest, 2 for the next, ..., for the `top` slowest."""
    slow = sorted(layers, key=lambda x: -x.seconds)[:top]
    return {x.name: i + 1 for i, x in enumerate(slow)}


def batch_json(b: BatchResult, r: LatencyResult) -> dict[str, Any]:
    s = b.stats
    total = sum(x.seconds for x in b.layers)
    rk = ranks(b.layers)
    return {
        "batch": b.batch, "macs": b.macs, "flops": 2 * b.macs,
        "latency_ms": {"median": s.median * 1e3, "p10": s.p10 * 1e3, "p25": s.p25 * 1e3,
                       "p75": s.p75 * 1e3, "p90": s.p90 * 1e3, "iqr": s.iqr * 1e3,
                       "mean": s.mean * 1e3, "min": s.min * 1e3},
        "blocks": s.blocks, "calls": s.calls,
        "throughput": b.throughput, "gmacs_per_s": b.gmacs_per_s,
        "fraction_of_peak": b.fraction_of_peak(r.peak),
        "layers_total_ms": total * 1e3 if b.layers else None,
        "layers": [layer_json(x, total, rk.get(x.name)) for x in b.layers],
    }


def result_json(r: LatencyResult) -> dict[str, Any]:
    p = r.peak
    return {
        "spec": r.spec, "input": list(r.input_shape), "environment": r.environment,
        "setup": asdict(r.setup),
        "peak": {"gflops": p.gflops, "source": p.source, "bandwidth_gbs": p.bandwidth_gbs,
                 "bandwidth_source": p.bandwidth_source or None,
                 "ridge_flops_per_byte": p.ridge},
        "conventions": {"macs": CONVENTIONS["macs"], "flops": CONVENTIONS["flops"],
                        **LATENCY_CONVENTIONS},
        "batches": [batch_json(b, r) for b in r.batches],
        "error": r.error,
    }


# Columns shared by table, Markdown and CSV -------------------------------------------------

Column = tuple[Col, Any]  # the column, the cell of an item


def batch_columns(r: LatencyResult) -> list[Column]:
    return [
        (Col("Batch", right=True), lambda b: str(b.batch)),
        (Col("MACs", right=True), lambda b: f"{b.macs:,}"),
        (Col("Median ms", right=True), lambda b: ms(b.stats.median)),
        (Col("p10–p90 ms", right=True), lambda b: f"{ms(b.stats.p10)}–{ms(b.stats.p90)}"),
        (Col("Images/s", right=True), lambda b: rate(b.throughput)),
        (Col("GMAC/s", right=True), lambda b: rate(b.gmacs_per_s)),
        (Col("% of peak", right=True), lambda b: pct(b.fraction_of_peak(r.peak))),
    ]


def layer_columns(b: BatchResult, rk: dict[str, int]) -> list[Column]:
    total = sum(x.seconds for x in b.layers) or 1.0
    return [
        (Col("Layer", wrap="name"), lambda x: x.name),
        (Col("Kind", drop=1), lambda x: x.kind),
        (Col("Output"), lambda x: shape_str(x.out_shape)),
        (Col("Time ms", right=True), lambda x: ms(x.seconds)),
        (Col("% time", right=True), lambda x: pct(x.seconds / total)),
        (Col("Slow", right=True), lambda x: f"#{rk[x.name]}" if x.name in rk else ""),
        (Col("MACs", right=True), lambda x: f"{x.macs:,}"),
        (Col("GMAC/s", right=True), lambda x: rate(x.gmacs_per_s)),
        (Col("Bytes", right=True, drop=3), lambda x: human_bytes(x.bytes)),
        (Col("FLOP/B", right=True, drop=2), lambda x: f"{x.intensity:.1f}"),
        (Col("Bound"), lambda x: x.bound or "–"),
    ]


def header_lines(r: LatencyResult) -> list[str]:
    e, p = r.environment, r.peak
    threads = e["threads"]
    flags = [e["dtype"], f"{threads} thread{'s' if threads != 1 else ''}"]
    flags += ["channels-last"] * bool(e["channels_last"]) + ["compiled"] * bool(e["compile"])
    lines = [f"{r.spec}: input {shape_str(r.input_shape)} on {e['device']} "
             f"({e['device_name']}), {', '.join(flags)}, torch {e['torch']}"]
    peak = "unknown" if p.gflops is None else f"{p.gflops:,.1f} GFLOP/s"
    lines.append(f"Peak: {peak} ({p.source})")
    if p.bandwidth_gbs:
        ridge = f"; ridge {p.ridge:.1f} FLOP/B" if p.ridge else ""
        lines.append(f"Bandwidth: {p.bandwidth_gbs:,.1f} GB/s ({p.bandwidth_source}){ridge}")
    load, cores = e.get("load_average_1min"), e.get("cpu_count")
    if e["device"] == "cpu" and load is not None and cores and load >= cores:
        lines.append(f"Warning: load average {load:.2f} on {cores} cores when measuring began: "
                     "other processes share the CPU and may perturb these numbers")
    return lines


def layers_line(b: BatchResult) -> str:
    total = sum(x.seconds for x in b.layers)
    return (f"Batch {b.batch}, per layer: layers sum to {ms(total)} ms against "
            f"{ms(b.stats.median)} ms for the whole pass (each layer timed with "
            f"synchronised hooks on the eager module)")


# Text formats ----------------------------------------------------------------------------

def csv_text(r: LatencyResult) -> str:
    """One row per batch (the JSON's batch records without their layers); with --per-layer,
    one row per layer and batch (the JSON's layer records, with their batch)."""
    batches = [batch_json(b, r) for b in r.batches]
    if any(b["layers"] for b in batches):
        return table.csv_text({"batch": b["batch"], **x} for b in batches for x in b["layers"])
    return table.csv_text({k: v for k, v in b.items() if k != "layers"} for b in batches)


def items_table(title: str, cols: Sequence[Column], items: Sequence[Any],
                strong: Sequence[bool] = ()) -> table.Table:
    return table.Table(title, [c for c, _ in cols], [[cell(it) for _, cell in cols]
                                                    for it in items], list(strong))


def bold_md(t: table.Table) -> list[str]:
    """Markdown, layer names in backticks, the slowest layers in bold."""
    names = t.cols[0].wrap == "name"
    rows = [[f"**{x}**" if x and s else x
             for x in ([f"`{r[0]}`", *r[1:]] if names else r)]
            for r, s in zip(t.rows, t.strong or [False] * len(t.rows))]
    return table.markdown(table.Table(t.title, t.cols, rows), names=False)


def tables(r: LatencyResult) -> list[tuple[table.Table, str]]:
    """The batch table, then per batch its layers' table with the line above it."""
    out = [(items_table(header_lines(r)[0], batch_columns(r), r.batches), "")]
    for b in (b for b in r.batches if b.layers):
        rk = ranks(b.layers)
        out.append((items_table(layers_line(b), layer_columns(b, rk), b.layers,
                                [x.name in rk for x in b.layers]), layers_line(b)))
    return out


def markdown(r: LatencyResult) -> str:
    head = header_lines(r)
    lines = [f"**{head[0]}**", "", *(f"{x}  " for x in head[1:]), ""]
    for t, line in tables(r):
        if line:
            lines += ["", line + ":", ""]
        lines += bold_md(t)
    lines += ["", f"_{NOTE_LINE}._"]
    return "\n".join(lines) + "\n"


def render(r: LatencyResult, format: str, width: int | None | bool = True) -> str:
    """A table (at the terminal's width: `width=True`), Markdown, CSV or JSON."""
    if format == "json":
        return table.dumps(result_json(r))
    if format == "csv":
        return csv_text(r)
    if format == "md":
        return markdown(r)
    w = terminal.width() if width is True else (width or None)
    colour = terminal.colour() if width is True else False
    lines: list[str] = []
    for n, (t, _) in enumerate(tables(r)):
        lines += table.text_table(t, w, colour)
        if n == 0:
            for line in header_lines(r)[1:]:
                lines += table.wrap(line, w)
    lines += table.wrap(NOTE_LINE, w)
    return "\n".join(lines) + "\n"
