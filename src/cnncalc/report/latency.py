"""Rendering `cnncalc latency`: a rich table, Markdown, CSV or JSON from a LatencyResult.

No torch here: the result is plain dataclasses (imported for type checking only).
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from cnncalc.core.timed import BatchResult, LatencyResult, LayerTime
from cnncalc.report.markdown import md_table
from cnncalc.report.rows import CONVENTIONS, human, human_bytes, shape_str
from cnncalc.report.terminal import captured

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


def _ranked(rk: dict[str, int], x: LayerTime) -> bool:
    return x.name in rk


def _ranked_style(rk: dict[str, int], x: LayerTime) -> str | None:
    return "bold red" if x.name in rk else None


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

Column = tuple[str, Callable[[Any], str], bool]  # header, cell, right-aligned


def batch_columns(r: LatencyResult) -> list[Column]:
    return [
        ("Batch", lambda b: str(b.batch), True),
        ("MACs", lambda b: human(b.macs), True),
        ("Median ms", lambda b: ms(b.stats.median), True),
        ("p10–p90 ms", lambda b: f"{ms(b.stats.p10)}–{ms(b.stats.p90)}", True),
        ("Images/s", lambda b: rate(b.throughput), True),
        ("GMAC/s", lambda b: rate(b.gmacs_per_s), True),
        ("% of peak", lambda b: pct(b.fraction_of_peak(r.peak)), True),
    ]


def layer_columns(b: BatchResult, rk: dict[str, int]) -> list[Column]:
    total = sum(x.seconds for x in b.layers) or 1.0
    return [
        ("Layer", lambda x: x.name, False),
        ("Kind", lambda x: x.kind, False),
        ("Output", lambda x: shape_str(x.out_shape), False),
        ("Time ms", lambda x: ms(x.seconds), True),
        ("% time", lambda x: pct(x.seconds / total), True),
        ("Slow", lambda x: f"#{rk[x.name]}" if x.name in rk else "", True),
        ("MACs", lambda x: human(x.macs), True),
        ("GMAC/s", lambda x: rate(x.gmacs_per_s), True),
        ("Bytes", lambda x: human_bytes(x.bytes), True),
        ("FLOP/B", lambda x: f"{x.intensity:.1f}", True),
        ("Bound", lambda x: x.bound or "–", False),
    ]


def header_lines(r: LatencyResult) -> list[str]:
    e, p = r.environment, r.peak
    flags = [e["dtype"], f"{e['threads']} threads"]
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
    """One row per batch; with --per-layer, one row per layer and batch instead."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if any(b.layers for b in r.batches):
        w.writerow(["batch", "name", "kind", "out_shape", "time_ms", "time_fraction",
                    "slow_rank", "macs", "gmacs_per_s", "bytes", "intensity", "bound"])
        for b in r.batches:
            for x in batch_json(b, r)["layers"]:
                w.writerow([b.batch, x["name"], x["kind"], "x".join(map(str, x["out_shape"])),
                            f"{x['time_ms']:.6g}", f"{x['time_fraction']:.4g}",
                            x["slow_rank"] or "", x["macs"], f"{x['gmacs_per_s']:.6g}",
                            x["bytes"], f"{x['intensity']:.4g}", x["bound"] or ""])
        return buf.getvalue()
    w.writerow(["batch", "macs", "median_ms", "p10_ms", "p90_ms", "iqr_ms", "throughput",
                "gmacs_per_s", "fraction_of_peak"])
    for b in r.batches:
        j = batch_json(b, r)
        t = j["latency_ms"]
        frac = j["fraction_of_peak"]
        w.writerow([b.batch, b.macs, f"{t['median']:.6g}", f"{t['p10']:.6g}",
                    f"{t['p90']:.6g}", f"{t['iqr']:.6g}", f"{b.throughput:.6g}",
                    f"{b.gmacs_per_s:.6g}", "" if frac is None else f"{frac:.4g}"])
    return buf.getvalue()


def column_md(cols: Sequence[Column], items: Sequence[Any],
              bold: Callable[[Any], bool] = lambda _: False) -> list[str]:
    rows = ([f"**{x}**" if x and bold(it) else x for x in (c[1](it) for c in cols)]
            for it in items)
    return md_table([c[0] for c in cols], rows, [c[2] for c in cols])


def markdown(r: LatencyResult) -> str:
    head = header_lines(r)
    lines = [f"**{head[0]}**", "", *(f"{x}  " for x in head[1:]), ""]
    lines += column_md(batch_columns(r), r.batches)
    for b in (b for b in r.batches if b.layers):
        rk = ranks(b.layers)
        lines += ["", layers_line(b) + ":", ""]
        lines += column_md(layer_columns(b, rk), b.layers, functools.partial(_ranked, rk))
    lines += ["", f"_{NOTE_LINE}._"]
    return "\n".join(lines) + "\n"


def render(r: LatencyResult, format: str) -> str:
    """A rich table (at the terminal's width), Markdown, CSV or JSON."""
    if format == "json":
        return json.dumps(result_json(r), indent=2)
    if format == "csv":
        return csv_text(r)
    if format == "md":
        return markdown(r)
    return captured(lambda console: draw(console, r))


def draw(console: Any, r: LatencyResult) -> None:
    from rich.table import Table

    head = header_lines(r)

    def table(title: str, cols: Sequence[Column], items: Sequence[Any],
              style: Callable[[Any], str | None] = lambda _: None) -> None:
        t = Table(title=title, title_justify="left")
        for name, _, right in cols:
            t.add_column(name, justify="right" if right else "left", no_wrap=True)
        for it in items:
            t.add_row(*(c[1](it) for c in cols), style=style(it))
        console.print(t)

    table(head[0], batch_columns(r), r.batches)
    for line in head[1:]:
        console.print(line, highlight=False)
    for b in (b for b in r.batches if b.layers):
        rk = ranks(b.layers)
        table(layers_line(b), layer_columns(b, rk), b.layers,
              functools.partial(_ranked_style, rk))
    console.print(f"[dim]{NOTE_LINE}[/dim]", highlight=False)
