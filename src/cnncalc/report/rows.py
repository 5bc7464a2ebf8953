"""Plain rows from the engine's layers: the JSON contract, and grouping by depth.

JSON (a stable contract, reused by every command):
  {"spec", "input", "batch", "conventions", "layers": [...], "totals": {...}, "warnings": [...]}
Each layer: name, kind, inputs, in_shape, out_shape (no batch), params, buffers, macs, flops,
other_ops, activations, rf {size, jump, start, global, global_axes} (the largest field over
paths: what a unit depends on), rf_local (the same over the paths that carry the map, gates
left out: the RF column), rf_min (the smallest), aligned, args.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.rf import Field, fmt_num, num

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
RF_LINE = ("RF per axis: r ← r + (k−1)·d·j, j ← j·s, start ← start + ((k−1)·d/2 − p)·j "
           "(after upsampling: the largest field over units, j their mean step); "
           "RF = union over paths, RF min = smallest; start = centre of the first unit's field")


def field_json(f: Field) -> dict[str, Any]:
    return {"size": [num(f.h.size), num(f.w.size)], "jump": [num(f.h.jump), num(f.w.jump)],
            "start": [num(f.h.start), num(f.w.start)], "global": f.is_global,
            "global_axes": list(f.glob)}


def layer_json(x: Layer, batch: int = 1) -> dict[str, Any]:
    return {
        "name": x.name, "kind": x.kind, "inputs": list(x.inputs),
        "in_shape": list(x.in_shapes[0]), "out_shape": list(x.out_shape),
        "params": x.params, "buffers": x.buffers, "macs": x.macs * batch,
        "flops": 2 * x.macs * batch, "other_ops": x.other_ops * batch,
        "activations": x.activations * batch,
        "rf": field_json(x.rf.max), "rf_local": field_json(x.rf.shown),
        "rf_min": field_json(x.rf.min), "aligned": x.rf.aligned,
        "args": {k: list(v) if isinstance(v, tuple) else v for k, v in x.args.items()},
    }


def graph_json(g: Graph) -> dict[str, Any]:
    t = g.totals()
    return {
        "spec": g.name, "input": list(g.input_shape), "batch": g.batch,
        "conventions": CONVENTIONS,
        "layers": [layer_json(x, g.batch) for x in g.layers],
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


def rows(g: Graph, depth: int | None = None) -> list[Row]:
    """Layers as rows; with `depth`, layers below that depth are summed into their ancestor."""
    out: list[Row] = []
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
                r.layers += 1
                continue
            out.append(Row(group, "group", depth, x.out_shape, x.params, x.macs * g.batch,
                           x.other_ops * g.batch, x.rf.shown, x.rf.min, x.rf.aligned,
                           grouped=True))
            continue
        out.append(Row(x.name, x.kind, x.depth, x.out_shape, x.params, x.macs * g.batch,
                       x.other_ops * g.batch, x.rf.shown, x.rf.min, x.rf.aligned))
    return out


def shape_str(shape: tuple[int, ...], batch: int | None = None) -> str:
    dims = ([batch] if batch else []) + list(shape)
    return "×".join(str(d) for d in dims)


def size_str(f: Field) -> str:
    """'15' for a square field, '15×13' otherwise; 'global' when every input pixel reaches,
    'global×3' when they all do along one axis only."""
    h, w = ("global" if g else fmt_num(ax.size) for g, ax in zip(f.glob, f.axes()))
    return h if h == w else f"{h}×{w}"


def pair_str(a: Any, b: Any) -> str:
    return fmt_num(a) if a == b else f"{fmt_num(a)}×{fmt_num(b)}"


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
