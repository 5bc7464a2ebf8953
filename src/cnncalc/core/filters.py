"""Convolution and pooling on a small matrix, by hand: the arithmetic behind `cnncalc apply`.

Cross-correlation, as every framework computes it (the kernel is not flipped; `flip=True` gives
the textbook convolution). The caller takes the output size from the engine (a one-layer graph),
so the size formula lives in one place; this module only slides the window. Padding is zeros for
conv and average pooling (counted in the average, torch's count_include_pad), and is skipped by
max pooling. Pure Python on nested lists (exact: ints and Fractions stay exact), standard library
only; reading files and the numpy path for large arrays are in frontends/arrays.py.
"""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

from cnncalc.core.engine import Graph
from cnncalc.core.errors import CnncalcError, did_you_mean

Number = int | float | Fraction
Matrix = list[list[Number]]
MAX_INLINE = 100_000  # characters of an inline matrix
MAX_PIXELS = 50_000_000
SMALL = 10_000  # arrays up to this many values are computed exactly, in pure Python
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm")

_BOX = Fraction(1, 9)
_GAUSS = Fraction(1, 16)
KERNELS: dict[str, tuple[str, Matrix]] = {
    "identity": ("leaves the input as it is", [[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "vertical": ("vertical edges (bright left, dark right)", [[1, 0, -1]] * 3),
    "horizontal": ("horizontal edges (bright top, dark bottom)",
                   [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
    "sobel_x": ("Sobel, horizontal gradient (vertical edges)",
                [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": ("Sobel, vertical gradient (horizontal edges)",
                [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "laplacian": ("Laplacian, 8-neighbour (edges in every direction)",
                  [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "laplacian4": ("Laplacian, 4-neighbour", [[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "blur": ("box blur, the mean of 3×3", [[_BOX] * 3 for _ in range(3)]),
    "gaussian": ("Gaussian blur 3×3 (1 2 1 / 2 4 2 / 1 2 1, over 16)",
                 [[_GAUSS * v for v in row] for row in ([1, 2, 1], [2, 4, 2], [1, 2, 1])]),
    "sharpen": ("sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
}


# Reading ------------------------------------------------------------------------------------

def check_matrix(value: Any, what: str) -> Matrix:
    """A non-empty rectangular list of rows of numbers; a flat list is one row."""
    if isinstance(value, list) and value and not any(isinstance(r, list) for r in value):
        value = [value]
    ok = isinstance(value, list) and value and all(isinstance(r, list) and r for r in value)
    if not ok or len({len(r) for r in value}) != 1:
        raise CnncalcError(f"{what} must be a rectangular matrix like [[1, 2], [3, 4]]")
    for row in value:
        for v in row:
            if isinstance(v, bool) or not isinstance(v, (int, float, Fraction)) or \
                    (isinstance(v, float) and not math.isfinite(v)):
                raise CnncalcError(f"{what} holds {v!r}; only finite numbers are allowed")
    return cast(Matrix, value)


def parse_matrix(text: str, what: str) -> Matrix:
    """An inline matrix: JSON, or a Python literal read with ast.literal_eval (never eval).
    Its nesting is measured before parsing (a matrix has rows of numbers: depth 2)."""
    if len(text) > MAX_INLINE:
        raise CnncalcError(f"{what} is longer than {MAX_INLINE:,} characters; use a file")
    depth = deepest = 0
    for c in text:
        if c in "[(":
            depth += 1
            deepest = max(deepest, depth)
        elif c in ")]":
            depth -= 1
    if deepest > 2:
        raise CnncalcError(f"{what} nests {deepest:,} levels; a matrix has rows of numbers, "
                           "like [[1, 2], [3, 4]]")
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise CnncalcError(f"cannot read {what} {text[:40]!r}: write it like "
                               "[[1, 2, 3], [4, 5, 6]]") from None
    if isinstance(value, tuple):
        value = [list(r) if isinstance(r, tuple) else r for r in value]
    return check_matrix(value, what)


def kernel_arg(text: str) -> Matrix:
    """A kernel by name (see KERNELS) or inline."""
    name = text.strip().lower()
    if name in KERNELS:
        return KERNELS[name][1]
    if name[:1] in "[(":
        return parse_matrix(text, "the kernel")
    hint = did_you_mean(name, KERNELS) or "names: " + ", ".join(KERNELS)
    raise CnncalcError(f"unknown kernel {text!r}; give a name or a matrix like "
                       "[[1, 0, -1], [1, 0, -1], [1, 0, -1]]", hint=hint)


def dims(x: Any) -> tuple[int, int]:
    return (len(x), len(x[0])) if isinstance(x, list) else (int(x.shape[0]), int(x.shape[1]))


# Sliding ------------------------------------------------------------------------------------

def _item(v: Any) -> Number:
    return cast(Number, v.item() if hasattr(v, "item") else v)


def window(x: Any, i: int, j: int, k: tuple[int, int], s: tuple[int, int],
           lead: tuple[int, int]) -> list[list[Number | None]]:
    """The input values under output (i, j); None where the window lies on padding."""
    h, w = dims(x)
    out: list[list[Number | None]] = []
    for t in range(k[0]):
        r = i * s[0] - lead[0] + t
        out.append([_item(x[r][c]) if 0 <= r < h and 0 <= c < w else None
                    for c in (j * s[1] - lead[1] + u for u in range(k[1]))])
    return out


def reduce(op: str, win: list[list[Number | None]], kernel: Matrix | None) -> Number:
    """conv: Σ value·weight (padding is 0); max over real values; avg over the whole window."""
    if op == "conv":
        assert kernel is not None
        return sum((v * kv for row, krow in zip(win, kernel, strict=True)
                    for v, kv in zip(row, krow, strict=True) if v is not None), start=0)
    values = [v for row in win for v in row if v is not None]
    if op == "max":
        return max(values)
    total, n = sum(values, start=0), len(win) * len(win[0])
    if isinstance(total, int) or isinstance(total, Fraction):
        q = Fraction(total, n)
        return int(q) if q.denominator == 1 else q
    return total / n


def flipped(kernel: Matrix) -> Matrix:
    """Rotate by 180°: the textbook convolution's kernel."""
    return [list(reversed(row)) for row in reversed(kernel)]


def run(x: Any, op: str, kernel: Matrix | None, k: tuple[int, int], s: tuple[int, int],
        lead: tuple[int, int], out: tuple[int, int]) -> Any:
    """Slide the window over x; `out` (rows, columns) and `lead` (leading padding) come from
    the engine. Exact: ints and Fractions stay exact (pure Python); frontends/arrays.py has
    the numpy path for large arrays."""
    x = to_lists(x)
    result = [[reduce(op, window(x, i, j, k, s, lead), kernel) for j in range(out[1])]
              for i in range(out[0])]
    for i, row in enumerate(result):
        for j, v in enumerate(row):
            if isinstance(v, float) and not math.isfinite(v):
                raise CnncalcError(f"the output overflows float64 at cell {i},{j}")
    return result


def to_lists(m: Any) -> Matrix:
    return m if isinstance(m, list) else m.tolist()


@dataclass(frozen=True)
class Cell:
    """One output cell worked out by hand: the window it reads (None on padding) and where the
    window's top-left lies in the input."""

    i: int
    j: int
    window: list[list[Any]]
    value: Any
    top_left: tuple[int, int]


@dataclass(frozen=True)
class Applied:
    graph: Graph  # the one layer (cnncalc.core.engine)
    op: str  # conv, max or avg
    matrix: Any  # the input, nested lists or a numpy array
    kernel: Any  # conv: the weights (flipped when asked); None for pools
    kernel_name: str | None  # a named kernel (sobel_x, ...)
    output: Any
    cell: Cell | None
    flipped: bool
