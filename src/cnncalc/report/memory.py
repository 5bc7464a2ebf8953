"""Rendering `cnncalc memory`: per layer and in total, as a table (report/table.py: never a
number cut), Markdown, CSV or JSON.

No torch here: the result is plain dataclasses from core/memory.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from cnncalc.core.memory import NOT_MODELLED, LayerMemory, MemoryResult, SavedTensor
from cnncalc.report import table, terminal
from cnncalc.report.markdown import md_table
from cnncalc.report.render import exact_and_short
from cnncalc.report.rows import human_bytes, shape_str
from cnncalc.report.table import Col

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

# the terminal table: names wrap, the breakdown goes first and Kind next when the terminal is
# narrow (report/table.py's rule); the byte counts are never left out
COLUMNS: list[tuple[Col, Callable[[LayerMemory], str]]] = [
    (Col("Layer", wrap="name"), lambda x: x.name),
    (Col("Kind", drop=1), lambda x: x.kind),
    (Col("Output"), lambda x: shape_str(x.out_shape)),
    (Col("Out bytes", right=True), lambda x: human_bytes(x.out_bytes)),
    (Col("Saved bytes", right=True), lambda x: human_bytes(x.saved_bytes)),
    (Col("Live (infer)", right=True), lambda x: human_bytes(x.live_bytes)),
    (Col("Saved tensors", wrap="words", drop=2), lambda x: saved_text(x.saved) or "–"),
]


def saved_text(saved: Sequence[SavedTensor]) -> str:
    """'input (conv1); mean float32 256 B': another value's tensor by its owner, a tensor of
    the layer's own with its dtype and bytes."""
    def one(s: SavedTensor) -> str:
        if s.of is None:
            return f"{s.what} {s.dtype} {s.bytes:,} B"
        owner = "the input" if s.of == "input" else s.of
        return f"{s.what} ({owner}{', kept already' if s.kept_already else ''})"
    return "; ".join(map(one, saved))


def title(r: MemoryResult) -> str:
    s = r.setup
    dtype = f"{s.dtype} amp" if s.amp else s.dtype
    ckpt = ", checkpoint stages" if s.checkpoint == "stages" else ""
    return (f"{r.spec}: input {shape_str(r.input_shape, s.batch)}, {s.mode}, {dtype}, "
            f"{s.optimizer}{ckpt}")


def totals(r: MemoryResult) -> list[tuple[str, str, int]]:
    """(JSON key, label, bytes) in the order printed."""
    s = r.setup
    out = [("params_bytes", "Parameter memory", r.params_bytes),
           ("buffers_bytes", "Buffers", r.buffers_bytes)]
    if s.mode == "train":
        ckpt = s.checkpoint == "stages"
        out += [("grads_bytes", "Gradients", r.grads_bytes),
                ("optimizer_bytes", f"Optimizer state ({s.optimizer})", r.optimizer_bytes),
                ("activations_saved_bytes", "Activations saved"
                 + (" (checkpointed stage inputs)" if ckpt else ""), r.activations_saved_bytes),
                ("backward_transient_bytes", "Backward transient", r.backward_transient_bytes)]
        if ckpt:
            out.append(("recompute_bytes", "Recomputed (largest stage)", r.recompute_bytes))
        out.append(("peak_train_bytes", "Peak, training", r.peak_train_bytes))
    return out + [("peak_infer_bytes", "Peak, inference", r.peak_infer_bytes)]


def bytes_cell(n: int) -> str:
    """'46,758,048 B (44.59 MiB)'; below a KiB the short form says nothing more: '256 B'."""
    return f"{n:,} B" if abs(n) < 1024 else f"{n:,} B ({human_bytes(n)})"


def diff_cell(n: int) -> str:
    return f"{n:+,} B" if n else "0 B"


def total_rows(r: MemoryResult) -> list[tuple[str, str]]:
    """The totals as (label, value): one value a cell, its qualifier in the label."""
    rows = [("Parameters", exact_and_short(r.params))]
    rows += [(label, bytes_cell(value)) for _, label, value in totals(r)]
    if r.max_batch is not None and r.fit_bytes is not None:
        rows += [("Memory budget (--fit)", bytes_cell(r.fit_bytes)),
                 (f"Largest batch that fits ({r.setup.mode})", f"{r.max_batch:,}")]
    return rows + measured_rows(r)


def measured_rows(r: MemoryResult) -> list[tuple[str, str]]:
    m = r.measured
    if m is None:
        return []
    ckpt = r.setup.checkpoint != "none"
    out = [("Saved, measured (CPU, float32" + (", no checkpointing)" if ckpt else ")"),
            bytes_cell(m.saved_bytes))]
    if not ckpt:
        out.append(("Saved, analytic - measured", diff_cell(r.activations_saved_bytes
                                                             - m.saved_bytes)))
    if m.optimizer_bytes is not None:
        out.append(("Optimizer state, measured", bytes_cell(m.optimizer_bytes)))
        if m.optimizer_step_bytes:
            out.append(("of which step counters", bytes_cell(m.optimizer_step_bytes)))
    for what, value, model in (("training", m.peak_train_bytes, r.peak_train_bytes),
                               ("inference", m.peak_infer_bytes, r.peak_infer_bytes)):
        if value is not None:
            out += [(f"Peak, {what}, measured ({m.device})", bytes_cell(value)),
                    (f"Peak, {what}, analytic - measured", diff_cell(model - value))]
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
                    "saved": [asdict(s) for s in x.saved], "live_bytes": x.live_bytes}
                   for x in r.layers],
        "totals": {key: value for key, _, value in totals(r)},
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
    """One row per layer: the JSON's layer records, `saved` as the names only (`;`-joined:
    input;mean;invstd), their bytes in `saved_bytes`."""
    measured = r.measured.saved_per_layer if r.measured is not None else None
    records = [{"name": x.name, "kind": x.kind, "out_shape": list(x.out_shape),
                "out_bytes": x.out_bytes, "saved_bytes": x.saved_bytes,
                "live_bytes": x.live_bytes, "saved": [s.what for s in x.saved],
                **({} if measured is None else
                   {"measured_saved_bytes": measured.get(x.name, 0)})} for x in r.layers]
    return table.csv_text(records)


def footer(r: MemoryResult) -> list[str]:
    return [*r.notes, *(f"MISMATCH {line}" for line in _mismatched(r))]


def layer_table(r: MemoryResult) -> table.Table:
    return table.Table(title(r), [c for c, _ in COLUMNS],
                       [[cell(x) for _, cell in COLUMNS] for x in r.layers])


def markdown(r: MemoryResult) -> str:
    lines = [f"**{title(r)}**", "", *table.markdown(layer_table(r))]
    lines += ["", *md_table(["Total", ""], total_rows(r), [False, True])]
    lines += ["", f"_{NOTE_LINE}._", *(f"- {x}" for x in footer(r))]
    return "\n".join(lines) + "\n"


def text(r: MemoryResult, width: int | None) -> str:
    lines = [*table.text_table(layer_table(r), width), "", *table.total_lines(total_rows(r), width)]
    for line in (NOTE_LINE, *footer(r)):
        lines += table.wrap(line, width)
    return "\n".join(lines) + "\n"


def render(r: MemoryResult, format: str, width: int | None | bool = True) -> str:
    """A table (at the terminal's width: `width=True`; None: whole), Markdown, CSV or JSON."""
    if format == "json":
        return table.dumps(result_json(r))
    if format == "csv":
        return csv_text(r)
    if format == "md":
        return markdown(r)
    return text(r, terminal.width() if width is True else (width or None))
