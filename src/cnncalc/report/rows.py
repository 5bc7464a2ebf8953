"""Plain rows from the engine's layers: the JSON contract, and grouping by depth.

JSON (a stable contract, reused by every command):
  {"spec", "input", "batch", "conventions", "layers": [...], "totals": {...}, "warnings": [...]}
Each layer: name, kind, inputs, in_shape, out_shape (no batch), params, buffers, macs, flops,
other_ops, activations, rf {size, jump, start, global, global_axes} (the largest field over
paths: what a unit depends on; size, jump, start and global_axes hold one value per
spatial axis of the input: [L], [H, W] or [T, H, W]), rf_local (the same over the paths
that carry the map, gates left out: the RF column), rf_min (the smallest), aligned, args.
After an op no kind maps (a PARTIAL trace) the fields it feeds are unknown: rf, rf_local,
rf_min and aligned are null there.

CSV (`shapes` and `rf` alike) is these layer records flattened (report/table.py `flat`), one
row per layer whatever --depth: its header (`layer_columns`) depends on the input's rank only,
a null field being the same per-axis columns, empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.partial import rf_unknown
from cnncalc.core.rf import Field, fmt_num, numbers
from cnncalc.report import table

CONVENTIONS = {
    "params": "learnable parameters, sum(p.numel() for p in module.parameters())",
    "macs": "multiply-accumulates of conv, transposed conv and linear layers, bias excluded "
            "(torchvision's convention; = torch FlopCounterMode / 2)",
    "flops": "2 × MACs",
    "other_ops": "everything else, one op per elementwise operation (bias, norm, activation, "
                 "pooling window, add, multiply)",
    "memory": "float32: 4 bytes per parameter and per value of every layer output",
}
CONVENTION_LINE = ("MACs = conv/linear multiply-accumulates without bias (= FlopCounterMode/2); "
                   "FLOPs = 2 × MACs; params = learnable parameters")
ATTENTION_MACS = {
    "all": "attention: the Q, K, V and output projections plus Q·Kᵀ and A·V (2·N²·C; in "
           "M×M windows 2·N·M²·C)",
    "projections": "attention: the Q, K, V and output projections only; Q·Kᵀ and A·V left out "
                   "(--attention-macs projections)",
}
RF_LINE = ("RF per axis: r ← r + (k−1)·d·j, j ← j·s, start ← start + ((k−1)·d/2 − p)·j "
           "(after upsampling: the largest field over units, j their mean step); "
           "RF = union over paths, RF min = smallest; start = centre of the first unit's field")


def convention_line(g: Graph) -> str:
    """The line under a table of MACs: the convention, and attention's when it is not the
    default."""
    if g.attention_macs == "all":
        return CONVENTION_LINE
    return f"{CONVENTION_LINE}; {ATTENTION_MACS[g.attention_macs]}"


def field_json(f: Field) -> dict[str, Any]:
    """Per axis lists, in the input's order ([L], [H, W], [T, H, W])."""
    lat = f.lattice
    if len(lat) > 1 and lat[0] is lat[-1] and lat[0] is lat[1]:  # one axis object on every axis
        size, jump, start = ([x] * len(lat) for x in numbers(lat[0]))
    else:
        size, jump, start = (list(x) for x in zip(*map(numbers, lat)))
    return {"size": size, "jump": jump, "start": start,
            "global": f.is_global, "global_axes": list(f.glob)}


def null_field(rank: int) -> dict[str, Any]:
    """field_json's keys, every value unknown: a null field's CSV columns (empty)."""
    none = [None] * rank
    return {"size": none, "jump": none, "start": none, "global": None, "global_axes": none}


def layer_template(rank: int) -> dict[str, Any]:
    """layer_json's keys with every value present and unknown (a field of `rank` axes)."""
    f = null_field(rank)
    return {"name": None, "kind": None, "inputs": [], "in_shape": [], "out_shape": [],
            "params": None, "buffers": None, "macs": None, "flops": None, "other_ops": None,
            "activations": None, "rf": f, "rf_local": f, "rf_min": f, "aligned": None,
            "args": {}}


def layer_columns(rank: int) -> list[str]:
    """The CSV header of `shapes` and `rf` on an input of `rank` spatial axes."""
    return table.columns(layer_template(rank))


def _cached_field(f: Field, cache: dict[int, dict[str, Any]] | None) -> dict[str, Any]:
    """field_json, once per Field object (a norm or an activation passes its input's on)."""
    if cache is None:
        return field_json(f)
    if id(f) not in cache:
        cache[id(f)] = field_json(f)
    return cache[id(f)]


def layer_json(x: Layer, batch: int = 1, rf_known: bool = True,
               cache: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "name": x.name, "kind": x.kind, "inputs": list(x.inputs),
        "in_shape": list(x.in_shapes[0]), "out_shape": list(x.out_shape),
        "params": x.params, "buffers": x.buffers, "macs": x.macs * batch,
        "flops": 2 * x.macs * batch, "other_ops": x.other_ops * batch,
        "activations": x.activations * batch,
        "rf": _cached_field(x.rf.max, cache) if rf_known else None,
        "rf_local": _cached_field(x.rf.shown, cache) if rf_known else None,
        "rf_min": _cached_field(x.rf.min, cache) if rf_known else None,
        "aligned": x.rf.aligned if rf_known else None,
        "args": {k: list(v) if isinstance(v, tuple) else v for k, v in x.args.items()},
    }


def graph_json(g: Graph) -> dict[str, Any]:
    t = g.totals()
    unknown = rf_unknown(g)
    cache: dict[int, dict[str, Any]] = {}  # the graph keeps every Field alive meanwhile
    return {
        "spec": g.name, "input": list(g.input_shape), "batch": g.batch,
        "conventions": {**CONVENTIONS, "attention_macs": ATTENTION_MACS[g.attention_macs]},
        "layers": [layer_json(x, g.batch, x.name not in unknown, cache) for x in g.layers],
        "totals": {"params": t.params, "buffers": t.buffers, "macs": t.macs, "flops": t.flops,
                   "other_ops": t.other_ops, "activations": t.activations,
                   "activation_bytes": t.activation_bytes, "param_bytes": t.param_bytes},
        "warnings": [{"code": w.code, "layer": w.layer, "message": w.message}
                     for w in g.warnings()],
    }


@dataclass
class Row:
    """One table row: a layer, or a group of layers collapsed to a depth."""

    name: str
    kind: str
    depth: int
    out_shape: tuple[int, ...]
    params: int
    macs: int
    other_ops: int
    field: Field
    field_min: Field
    aligned: bool
    layers: int = 1  # how many layers a group row sums
    grouped: bool = False
    rf_known: bool = True  # False after an unmapped op (core.partial)


def rows(g: Graph, depth: int | None = None) -> list[Row]:
    """Layers as rows; with `depth`, layers below that depth are summed into their ancestor."""
    out: list[Row] = []
    unknown = rf_unknown(g)
    for x in g.layers:
        parts = x.name.split(".")
        if depth is not None and len(parts) > depth + 1:
            group = ".".join(parts[: depth + 1])
            if out and out[-1].name == group and out[-1].grouped:
                r = out[-1]
                r.params += x.params
                r.macs += x.macs * g.batch
                r.other_ops += x.other_ops * g.batch
                r.out_shape, r.field, r.field_min = x.out_shape, x.rf.shown, x.rf.min
                r.aligned = r.aligned and x.rf.aligned
                r.rf_known = x.name not in unknown
                r.layers += 1
                continue
            out.append(Row(group, "group", depth, x.out_shape, x.params, x.macs * g.batch,
                           x.other_ops * g.batch, x.rf.shown, x.rf.min, x.rf.aligned,
                           grouped=True, rf_known=x.name not in unknown))
            continue
        out.append(Row(x.name, x.kind, x.depth, x.out_shape, x.params, x.macs * g.batch,
                       x.other_ops * g.batch, x.rf.shown, x.rf.min, x.rf.aligned,
                       rf_known=x.name not in unknown))
    return out


def shape_str(shape: tuple[int, ...], batch: int | None = None) -> str:
    dims = ([batch] if batch else []) + list(shape)
    return "×".join(str(d) for d in dims)


def size_str(f: Field) -> str:
    """'15' for a square (cubic, 1-D) field, '15×13' or '3×7×7' otherwise; 'global' when every
    input pixel reaches, 'global×3' when they all do along one axis only."""
    sizes = ["global" if g else fmt_num(ax.size) for g, ax in zip(f.glob, f.axes())]
    return sizes[0] if len(set(sizes)) == 1 else "×".join(sizes)


def pair_str(*values: Any) -> str:
    """One number when every axis has it, else one per axis joined by ×."""
    return fmt_num(values[0]) if len(set(values)) == 1 else "×".join(map(fmt_num, values))


def human(n: float, unit: str = "") -> str:
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= div:
            return f"{n / div:.2f}{suffix}{unit}"
    return f"{n:g}{unit}"


def human_bytes(n: int) -> str:
    for div, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= div:
            return f"{n / div:.2f} {suffix}"
    return f"{n} B"
