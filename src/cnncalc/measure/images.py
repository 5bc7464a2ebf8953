"""`erf --images DIR|GLOB`: real images as the ERF's inputs (Luo et al.; RepLKNet's `erf/`).

Each image is read with Pillow (an optional dependency: `pip install 'cnncalc[images]'`),
converted to RGB (or grey for one channel), resized so that it covers the input (bicubic, the
shorter side to the input's) and centre-cropped to H×W, scaled to [0, 1] and normalised per
channel: ImageNet's mean and std by default for three channels, the values given, or none.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cnncalc.core.errors import CnncalcError
from cnncalc.core.optional import require_torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


def image_paths(where: str) -> list[Path]:
    """The image files in a folder (sorted), or those a glob pattern matches."""
    folder = Path(where)
    if folder.is_dir():
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in EXTENSIONS)
    else:
        found = sorted(Path(p) for p in glob.glob(where) if Path(p).is_file())
    if not found:
        raise CnncalcError(f"no images in {where!r} (a folder of {', '.join(EXTENSIONS)} "
                           "files, or a glob pattern)")
    return found


def parse_values(text: str | Sequence[float] | None, channels: int, what: str
                 ) -> tuple[float, ...] | None:
    """'0.485,0.456,0.406' (one per channel, or one for all), 'none', or None (ImageNet's for
    three channels)."""
    if text is None:
        if channels != 3:
            raise CnncalcError(f"ImageNet's --{what} is for 3 channels, the input has "
                               f"{channels}: give --{what} or --{what} none")
        return IMAGENET_MEAN if what == "mean" else IMAGENET_STD
    if isinstance(text, str):
        if text.strip().lower() == "none":
            return None
        try:
            values = tuple(float(v) for v in text.split(","))
        except ValueError:
            values = ()
    else:
        values = tuple(float(v) for v in text)
    if len(values) == 1:
        values = values * channels
    if len(values) != channels or (what == "std" and min(values) <= 0):
        raise CnncalcError(f"bad --{what} {text!r}: {channels} numbers separated by commas"
                           + (", each positive" if what == "std" else "") + ", or none")
    return values


def load_images(paths: Sequence[Path], shape: tuple[int, ...],
                mean: tuple[float, ...] | None, std: tuple[float, ...] | None) -> Any:
    """N×C×H×W float32: each image resized to cover H×W, centre-cropped, normalised."""
    torch = require_torch()
    try:
        from PIL import Image
    except ImportError:
        raise CnncalcError("--images needs Pillow: pip install 'cnncalc[images]'") from None
    if len(shape) != 3:
        raise CnncalcError(f"--images reads pictures: the input must be C×H×W, not "
                           f"{'×'.join(map(str, shape))}")
    c, h, w = shape
    if c not in (1, 3):
        raise CnncalcError(f"--images gives 1 or 3 channels; the input has {c}")
    out = []
    for path in paths:
        try:
            with Image.open(path) as img:
                img = img.convert("RGB" if c == 3 else "L")
                scale = max(h / img.height, w / img.width)
                size = (max(w, round(img.width * scale)), max(h, round(img.height * scale)))
                img = img.resize(size, Image.Resampling.BICUBIC)
                left, top = (size[0] - w) // 2, (size[1] - h) // 2
                img = img.crop((left, top, left + w, top + h))
                data = bytearray(img.tobytes())
        except OSError as e:
            raise CnncalcError(f"cannot read image {path}: {e}") from None
        x = torch.frombuffer(data, dtype=torch.uint8).view(h, w, c).permute(2, 0, 1)
        out.append(x.float() / 255)
    x = torch.stack(out)
    if mean is not None:
        x = x - torch.tensor(mean).view(1, c, 1, 1)
    if std is not None:
        x = x / torch.tensor(std).view(1, c, 1, 1)
    return x
