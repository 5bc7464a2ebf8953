"""`cnncalc apply`'s rules: a matrix, a kernel (a name or a matrix), an op and its geometry into
the one-layer graph (so the output size comes from the engine), and the output computed by
`core.filters`; with a cell, the window it reads and its value, for the worked step."""

from __future__ import annotations

from typing import Any

from cnncalc.core import filters
from cnncalc.core.errors import CnncalcError
from cnncalc.core.filters import Applied, Cell
from cnncalc.core.layers.common import pads, pair
from cnncalc.core.text import is_count
from cnncalc.frontends import arrays
from cnncalc.frontends.stack import one_layer, pair_value

OPS = {"conv": "conv", "max": "maxpool", "avg": "avgpool"}  # --op -> layer kind
MAX_WORK = {"list": 1_000_000, "array": 200_000_000}  # window cells visited, exact / numpy


def check_work(x: Any, out: tuple[int, ...], k: tuple[int, int]) -> None:
    """Refuse a run that would take minutes (a huge padding on a small matrix)."""
    work = out[0] * out[1] * k[0] * k[1]
    limit = MAX_WORK["list" if isinstance(x, list) else "array"]
    if work > limit:
        raise CnncalcError(f"the output is {out[0]}×{out[1]} cells of {k[0]}×{k[1]} windows: "
                           f"{work:,} values to visit, more than the {limit:,} apply computes; "
                           "lower the padding or the kernel size")


def parse_cell(text: str, shape: tuple[int, ...]) -> tuple[int, int]:
    parts = text.replace(" ", "").split(",")
    if len(parts) != 2 or not all(is_count(p) for p in parts):
        raise CnncalcError(f"--at takes a cell as i,j (0-based), got {text!r}")
    i, j = int(parts[0]), int(parts[1])
    if i >= shape[0] or j >= shape[1]:
        raise CnncalcError(f"--at {i},{j} is outside the {shape[0]}×{shape[1]} output")
    return i, j


def layer_args(op: str, kernel: str | None, stride: str | None, padding: str, flip: bool
               ) -> tuple[dict[str, Any], Any, str | None]:
    """The layer's arguments, the conv's weights and the kernel's name. Defaults: stride 1 for
    a conv, the window for pools; a 2×2 window."""
    args: dict[str, Any] = {"padding": pair_value(padding, "padding", ("same", "valid"))}
    if op != "conv":
        args.update(kernel_size=pair_value(kernel or "2", "window size"),
                    stride=pair_value(stride, "stride") if stride else None)
        return args, None, None
    if kernel is None:
        raise CnncalcError("give the kernel with -k: a name such as sobel_x, or a matrix")
    weights = filters.kernel_arg(kernel)
    weights = filters.flipped(weights) if flip else weights
    name = kernel.strip().lower() if kernel.strip().lower() in filters.KERNELS else None
    args.update(out=1, kernel_size=list(filters.dims(weights)), bias=False,
                stride=pair_value(stride or "1", "stride"))
    return args, weights, name


def apply(matrix: str, kernel: str | None = None, op: str = "conv", stride: str | None = None,
          padding: str = "0", at: str | None = None, flip: bool = False) -> Applied:
    """Run a conv or a pooling on a matrix (text, .csv, .npy or an image)."""
    if op not in OPS:
        raise CnncalcError(f"unknown --op {op!r}; choose conv, max or avg")
    x = arrays.load_input(matrix)
    h, w = filters.dims(x)
    args, weights, name = layer_args(op, kernel, stride, padding, flip)
    g = one_layer(OPS[op], (1, h, w), args, op)
    layer = g.layers[0]
    k, s = pair(layer.args["kernel_size"]), pair(layer.args["stride"])
    lead = (pads(layer.args, 0)[0], pads(layer.args, 1)[0])
    out = (layer.out_shape[1], layer.out_shape[2])
    check_work(x, out, k)
    result = arrays.run(x, op, weights, k, s, lead, out)
    cell = None
    if at is not None:
        i, j = parse_cell(at, layer.out_shape[1:])
        value = filters.to_lists(result)[i][j] if isinstance(result, list) else result[i][j].item()
        cell = Cell(i, j, filters.window(x, i, j, k, s, lead), value,
                    (i * s[0] - lead[0], j * s[1] - lead[1]))
    return Applied(g, op, x, weights, name, result, cell, flip)
