"""`cnncalc apply`'s files and large arrays: reading a CSV, a .npy file or an image into a matrix,
the numpy path for large arrays, and the PNG it writes. numpy and Pillow are imported here, when
a file needs them (core/filters.py, the arithmetic, stays on the standard library).

Every file is read through `source.read_user_file` (what it is and how big, before reading); an
array's size is known before it is allocated (a .npy header is read first); numbers stay exact
or are refused: integer arrays are computed in int64 only when no sum can overflow, uint64
values above int64's range are refused, and a float result must be finite.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from cnncalc.core import filters
from cnncalc.core.errors import CnncalcError, LimitError
from cnncalc.core.filters import IMAGE_SUFFIXES, MAX_PIXELS, Matrix, check_matrix
from cnncalc.frontends.source import read_user_file

MAX_CSV_BYTES = 10_000_000  # a CSV matrix
MAX_IMAGE_BYTES = 100_000_000  # an image file, before it is decoded
MAX_NPY_BYTES = 8 * MAX_PIXELS + 4096  # a .npy file: MAX_PIXELS float64 values and a header


def load_input(arg: str) -> Any:
    """An inline matrix, a CSV file, a .npy file or an image (grayscale): a Matrix or an array."""
    if arg.lstrip()[:1] in "[(":
        return filters.parse_matrix(arg, "the input")
    path = Path(arg)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _npy(path)
    if suffix in IMAGE_SUFFIXES:
        return _image(path)
    return _csv(path)


def _csv(path: Path) -> Matrix:
    text = read_user_file(path, "matrix file (.csv, .npy or an image)", MAX_CSV_BYTES)
    assert isinstance(text, str)
    rows: Matrix = []
    for line, row in enumerate(csv.reader(io.StringIO(text, newline="")), 1):
        cells = [c.strip() for c in row if c.strip()]
        if not cells:
            continue
        try:
            rows.append([_number(c) for c in cells])
        except ValueError:
            raise CnncalcError(f"{path}:{line}: not a number in {row[:8]!r}") from None
        if len(rows) * len(rows[0]) > MAX_PIXELS:
            raise LimitError(f"{path} holds more than {MAX_PIXELS:,} values")
    return check_matrix(rows, str(path))


def _number(cell: str) -> int | float:
    digits = cell.lstrip("+-")
    if digits.isascii() and digits.isdigit():
        if len(digits) > 18:
            raise ValueError(cell)
        return int(cell)
    value = float(cell) if cell.isascii() else math.nan
    if not math.isfinite(value):
        raise ValueError(cell)
    return value


def _npy(path: Path) -> Any:
    np = _numpy("reading .npy files")
    data = read_user_file(path, ".npy file", MAX_NPY_BYTES, binary=True)
    assert isinstance(data, bytes)
    f = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(f)
        shape, _, dtype = (np.lib.format.read_array_header_1_0(f) if version == (1, 0)
                           else np.lib.format.read_array_header_2_0(f))
    except (ValueError, OSError) as e:
        raise CnncalcError(f"cannot read {path}: {e}") from None
    count = math.prod(shape)
    if count > MAX_PIXELS:
        raise LimitError(f"{path}: its header says {'×'.join(map(str, shape))} = {count:,} "
                         f"values, more than {MAX_PIXELS:,}")
    if dtype.kind not in "iuf" or dtype.hasobject:
        raise CnncalcError(f"{path}: expected an array of numbers, got {dtype}")
    if len(data) - f.tell() < count * dtype.itemsize:
        raise CnncalcError(f"{path}: the file is shorter than its header says")
    try:
        a = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as e:
        raise CnncalcError(f"cannot read {path}: {e}") from None
    if a.ndim == 3 and 1 in (a.shape[0], a.shape[-1]):
        a = a.reshape(a.shape[1:] if a.shape[0] == 1 else a.shape[:-1])
    if a.ndim != 2 or a.size == 0:
        raise CnncalcError(f"{path}: expected a 2-D array of numbers, got shape "
                           f"{tuple(a.shape)} of {a.dtype}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise CnncalcError(f"{path}: the array holds NaN or infinity")
    if a.dtype.kind == "u" and a.dtype.itemsize == 8 and a.size and int(a.max()) >= 2**63:
        raise CnncalcError(f"{path}: values up to {int(a.max()):,} do not fit a signed 64-bit "
                           "integer; cnncalc keeps integers exact")
    return a.astype(np.int64 if a.dtype.kind in "iu" else np.float64)


def _image(path: Path) -> Any:
    np = _numpy("reading images")
    try:
        from PIL import Image
    except ImportError:
        raise CnncalcError("reading images needs Pillow: pip install pillow") from None
    data = read_user_file(path, "image", MAX_IMAGE_BYTES, binary=True)
    assert isinstance(data, bytes)
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_PIXELS:
                raise LimitError(f"{path}: {im.width}×{im.height} is more than "
                                 f"{MAX_PIXELS:,} pixels")
            return np.asarray(im.convert("L"), dtype=np.int64)
    except (OSError, Image.DecompressionBombError) as e:
        raise CnncalcError(f"cannot read the image {path}: {e}") from None


def _numpy(what: str) -> Any:
    try:
        import numpy
    except ImportError:
        raise CnncalcError(f"{what} needs numpy: pip install numpy") from None
    return numpy


def run(x: Any, op: str, kernel: Matrix | None, k: tuple[int, int], s: tuple[int, int],
        lead: tuple[int, int], out: tuple[int, int]) -> Any:
    """The one place apply computes: small inputs exactly in pure Python (core/filters.run),
    large arrays with numpy, exact for integers or refused, finite for floats."""
    if isinstance(x, list) or x.size <= filters.SMALL:
        return filters.run(x, op, kernel, k, s, lead, out)
    if op == "conv" and x.dtype.kind == "i" and not _int64_safe(x, kernel):
        work = out[0] * out[1] * k[0] * k[1]
        if work > MAX_EXACT_WORK:
            raise CnncalcError(f"integers this large ({int(abs(x).max()):,}) would overflow "
                               f"64 bits, and the exact path visits at most {MAX_EXACT_WORK:,} "
                               f"values ({work:,} here); scale the input down")
        return filters.run(x, op, kernel, k, s, lead, out)
    return run_numpy(x, op, kernel, k, s, lead, out)


MAX_EXACT_WORK = 5_000_000  # window cells the exact pure-Python path visits for a large array


def _int64_safe(x: Any, kernel: Matrix | None) -> bool:
    """No conv sum of x can overflow int64: max|x| · Σ|kernel| < 2**63 (integer kernel)."""
    if kernel is None or not all(isinstance(v, int) for row in kernel for v in row):
        return False
    return int(abs(x).max()) * sum(abs(int(v)) for row in kernel for v in row) < 2**63


def run_numpy(x: Any, op: str, kernel: Matrix | None, k: tuple[int, int], s: tuple[int, int],
              lead: tuple[int, int], out: tuple[int, int]) -> Any:
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    h, w = x.shape
    trail = [max(0, (out[a] - 1) * s[a] + k[a] - lead[a] - n) for a, n in enumerate((h, w))]
    exact = x.dtype.kind == "i" and (op == "max" or (op == "conv" and _int64_safe(x, kernel)))
    dtype = np.int64 if exact else np.float64
    fill = (np.iinfo(np.int64).min if exact else -np.inf) if op == "max" else 0
    xp = np.pad(x.astype(dtype), ((lead[0], trail[0]), (lead[1], trail[1])),
                constant_values=fill)
    views = sliding_window_view(xp, k)[:: s[0], :: s[1]][: out[0], : out[1]]
    if op == "conv":
        assert kernel is not None
        result = np.einsum("ijkl,kl->ij", views, np.array(kernel, dtype=dtype))
    elif op == "max":
        result = views.max(axis=(2, 3))
    else:
        result = views.mean(axis=(2, 3))
    if result.dtype.kind == "f" and not np.isfinite(result).all():
        i, j = (int(v) for v in np.argwhere(~np.isfinite(result))[0])
        raise CnncalcError(f"the output overflows float64 at cell {i},{j}")
    return result


def png_bytes(m: Any) -> tuple[bytes, str, tuple[int, int]]:
    """The output as an 8-bit grayscale PNG: its bytes, how values were mapped to 0..255, and
    its size (width, height)."""
    np = _numpy("writing images")
    try:
        from PIL import Image
    except ImportError:
        raise CnncalcError("writing images needs Pillow: pip install pillow") from None
    a = np.array([[float(v) for v in row] for row in filters.to_lists(m)], dtype=np.float64)
    if not np.isfinite(a).all():
        raise CnncalcError("the output holds numbers beyond float64; no image written")
    lo, hi = float(a.min()), float(a.max())
    if lo >= 0 and hi <= 255:
        how = "values written as they are (all within 0..255)"
    else:
        a = (a - lo) * (255 / (hi - lo)) if hi > lo else np.zeros_like(a)
        how = f"values rescaled linearly from {lo:g}..{hi:g} to 0..255"
    buf = io.BytesIO()
    Image.fromarray(np.rint(a).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue(), how, (a.shape[1], a.shape[0])
