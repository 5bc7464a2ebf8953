"""Rendering `cnncalc memory`: per layer and in total, as a plain table, Markdown, CSV or JSON.

No torch here: the result is plain dataclasses from core/memory.py.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from cnncalc.core.memory import NOT_MODELLED, LayerMemory, MemoryResult
from cnncalc.report.markdown import md_table
from cnncalc.report.rows import human_bytes, shape_str
from cnncalc.report.table import dumps

FORMATS = ("table", "md", "json", "csv")

MEMORY_CONVENTIONS = {
    "saved_bytes": "per layer: the storages autograd keeps for backward that this layer is the "
                   "first to keep (its input, its output, statistics, indices, masks, copies), "
                   "each storage counted once; parameters and buffers excluded",
    "out_bytes": "the layer output's own storage (0 for a view of its input)",
    "live_bytes": "activations live while the layer runs without autograd (input included)",
    "optimizer_bytes": "sgd 0, momentum 1×, adam/adamw 2× the parameter bytes",
    "peak_train_bytes": "params + grads + optimizer + buffers + max(forward peak, saved + "
                        "largest backward transient)",
    "peak_infer_bytes": "params + buffers + the largest set of live activations",
}
NOTE_LINE = ("saved = what autograd keeps for backward, each storage once (torch 2.13 CPU "
             "rules); not modelled: allocator rounding and caching, cuDNN workspaces, the "
             "CUDA context")

Column = tuple[str, Callable[[LayerMemory], str], bool]

COLUMNS: list[Column] = [
    ("Layer", lambda x: x.name, False),
    ("Kind", lambda x: x.kind, False),
    ("Output", lambda x: shape_str(x.out_shape), False),
    ("Out bytes", lambda x: human_bytes(x.out_bytes), True),
    ("Saved bytes", lambda x: human_bytes(x.saved_bytes), True),
    ("Live (infer)", lambda x: human_bytes(x.live_bytes), True),
    ("Saved tensors", lambda x: "; ".join(x.saved) or "–", False),
]


def title(r: MemoryResult) -> str:
    s = r.setup
    dtype = f"{s.dtype} amp" if s.amp else s.dtype
    ckpt = ", checkpoint stages" if s.checkpoint == "stages" else ""
    return (f"{r.spec}: input {shape_str(r.input_shape, s.batch)}, {s.mode}, {dtype}, "
            f"{s.optimizer}{ckpt}")


def totals(r: MemoryResult) -> list[tuple[str, int | None, str]]:
    """(name, bytes, note) in the order printed; bytes None for a line that is text only."""
    train = r.setup.mode == "train"
    lines: list[tuple[str, int | None, str]] = [
        ("params_bytes", r.params_bytes, f"{r.params:,} parameters"),
        ("buffers_bytes", r.buffers_bytes, ""),
    ]
    if train:
        lines += [
            ("grads_bytes", r.grads_bytes, ""),
            ("optimizer_bytes", r.optimizer_bytes, r.setup.optimizer),
            ("activations_saved_bytes", r.activations_saved_bytes,
             "checkpointed stage inputs" if r.setup.checkpoint == "stages" else ""),
            ("backward_transient_bytes", r.backward_transient_bytes, ""),
        ]
        if r.setup.checkpoint == "stages":
            lines.append(("recompute_bytes", r.recompute_bytes, "largest stage, recomputed"))
        lines.append(("peak_train_bytes", r.peak_train_bytes, ""))
    lines.append(("peak_infer_bytes", r.peak_infer_bytes, ""))
    if r.max_batch is not None and r.fit_bytes is not None:
        lines.append(("max_batch", None, f"{r.max_batch:,} fits in {human_bytes(r.fit_bytes)} "
                                         f"({r.setup.mode})"))
    return lines


def measured_lines(r: MemoryResult) -> list[tuple[str, str]]:
    m = r.measured
    if m is None:
        return []
    diff = r.activations_saved_bytes - m.saved_bytes if r.setup.checkpoint == "none" else None
    out = [("saved, measured (CPU float32)", f"{m.saved_bytes:,} B; analytic "
            + ("differs by checkpointing" if diff is None else
               "equal" if diff == 0 else f"{diff:+,} B"))]
    if m.optimizer_bytes is not None:
        extra = f" (of which {m.optimizer_step_bytes:,} B step counters)" \
            if m.optimizer_step_bytes else ""
        out.append(("optimizer, measured", f"{m.optimizer_bytes:,} B{extra}"))
    for what, value, model in (("train", m.peak_train_bytes, r.peak_train_bytes),
                               ("infer", m.peak_infer_bytes, r.peak_infer_bytes)):
        if value is not None:
            out.append((f"peak {what}, measured ({m.device})",
                        f"{human_bytes(value)}; analytic {human_bytes(model)} "
                        f"({model - value:+,} B)"))
    return out


def _mismatched(r: MemoryResult) -> list[str]:
    m = r.measured
    if m is None or r.setup.checkpoint != "none":
        return []
    got = m.saved_per_layer
    return [f"{x.name}: analytic {x.saved_bytes:,} B, measured {got.get(x.name, 0):,} B"
            for x in r.layers if x.saved_bytes != got.get(x.name, 0)]


def result_json(r: MemoryResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "spec": r.spec, "input": list(r.input_shape), "setup": asdict(r.setup),
        "conventions": MEMORY_CONVENTIONS, "not_modelled": list(NOT_MODELLED),
        "layers": [{"name": x.name, "kind": x.kind, "out_shape": list(x.out_shape),
                    "out_bytes": x.out_bytes, "saved_bytes": x.saved_bytes,
                    "saved": list(x.saved), "live_bytes": x.live_bytes} for x in r.layers],
        "totals": {name: value for name, value, _ in totals(r) if value is not None},
        "notes": r.notes,
    }
    data["totals"]["params"] = r.params
    if r.max_batch is not None:
        data["totals"]["max_batch"] = r.max_batch
        data["totals"]["fit_bytes"] = r.fit_bytes
    if r.measured is not None:
        data["measured"] = asdict(r.measured)
        data["measured"]["mismatched_layers"] = _mismatched(r)
    return data


def csv_text(r: MemoryResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    measured = r.measured is not None
    w.writerow(["name", "kind", "out_shape", "out_bytes", "saved_bytes", "live_bytes", "saved",
                *(["measured_saved_bytes"] if measured else [])])
    for x in r.layers:
        extra = [r.measured.saved_per_layer.get(x.name, 0)] if r.measured is not None else []
        w.writerow([x.name, x.kind, "x".join(map(str, x.out_shape)), x.out_bytes,
                    x.saved_bytes, x.live_bytes, "; ".join(x.saved), *extra])
    return buf.getvalue()


def total_cells(r: MemoryResult) -> list[tuple[str, str]]:
    cells = [(name, (f"{value:,} ({human_bytes(value)})" if value is not None else "")
              + (f" {note}" if note and value is not None else note))
             for name, value, note in totals(r)]
    return cells + measured_lines(r)


def footer(r: MemoryResult) -> list[str]:
    return [*r.notes, *(f"MISMATCH {line}" for line in _mismatched(r))]


def markdown(r: MemoryResult) -> str:
    lines = [f"**{title(r)}**", ""]
    lines += md_table([c[0] for c in COLUMNS], ([c[1](x) for c in COLUMNS] for x in r.layers),
                      [c[2] for c in COLUMNS])
    lines += ["", *md_table(["Total", ""], total_cells(r), [False, True])]
    lines += ["", f"_{NOTE_LINE}._", *(f"- {x}" for x in footer(r))]
    return "\n".join(lines) + "\n"


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                right: Sequence[bool]) -> list[str]:
    """Columns padded with two spaces between them: a simple table, no box drawing."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(n) if r else c.ljust(n)
                         for c, n, r in zip(cells, widths, right)).rstrip()

    return [line(headers), "  ".join("-" * n for n in widths), *(line(row) for row in rows)]


def text(r: MemoryResult) -> str:
    rows = [[c[1](x) for c in COLUMNS] for x in r.layers]
    lines = [title(r), *plain_table([c[0] for c in COLUMNS], rows, [c[2] for c in COLUMNS]), ""]
    cells = total_cells(r)
    width = max(len(k) for k, _ in cells)
    lines += [f"{k:<{width}}  {v}" for k, v in cells]
    lines += [NOTE_LINE, *footer(r)]
    return "\n".join(lines) + "\n"


def render(r: MemoryResult, format: str) -> str:
    """A plain text table, Markdown, CSV or JSON."""
    if format == "json":
        return dumps(result_json(r))
    if format == "csv":
        return csv_text(r)
    if format == "md":
        return markdown(r)
    return text(r)
