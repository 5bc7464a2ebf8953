"""Swin's modules for the builder, compiled from the one source text that `export --to torch`
also writes (core/layers/window_source.py). Imports torch when imported (as build.py does)."""

from __future__ import annotations

from typing import Any

from cnncalc.core.layers.window_source import SOURCES
from cnncalc.core.optional import require_torch

torch = require_torch()


def _compile(kind: str) -> Any:
    name, text = SOURCES[kind]
    namespace: dict[str, Any] = {"torch": torch, "nn": torch.nn, "__name__": __name__}
    exec(compile(text, f"<cnncalc {name}>", "exec"), namespace)  # our own constant text
    return namespace[name]


WindowAttention: Any = _compile("window_attention")
PatchMerge: Any = _compile("patch_merge")
