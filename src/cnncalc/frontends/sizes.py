"""Input sizes written on the command line (`--range 32..1024`, `64..512x64..512:32`) and a
YAML spec lowered at any size (for core/sizes.py's scan)."""

from __future__ import annotations

import re
from collections.abc import Callable

from cnncalc.core.engine import Graph
from cnncalc.core.errors import CnncalcError
from cnncalc.core.sizes import MAX_SIZES
from cnncalc.frontends.load import MAX_INPUT, Spec
from cnncalc.frontends.lower import INPUT_REF, Lowerer, Scope

_RANGE = re.compile(r"(\d+)(?:\.\.(\d+))?(?::(\d+))?\Z")
SYNTAX = "write LO..HI (square sizes), LO..HI:STEP, or HxW ranges like 64..512x64..256:32"


def parse_range(text: str) -> list[tuple[int, int]]:
    """'32..1024' -> square sizes 32…1024; 'A..BxC..D' (each with an optional ':STEP') -> the
    grid of H in A..B and W in C..D. At most MAX_SIZES sizes."""
    parts = re.split(r"[x×]", text.strip().lower())
    if not 1 <= len(parts) <= 2:
        raise CnncalcError(f"bad --range {text!r}: {SYNTAX}")
    axes = [_axis(p, text) for p in parts]
    count = len(axes[0]) * (len(axes[-1]) if len(axes) == 2 else 1)
    if count > MAX_SIZES:
        raise CnncalcError(f"--range {text} gives {count:,} sizes; at most {MAX_SIZES:,} are "
                           "scanned", hint="narrow it or give a step, e.g. 32..1024:8")
    if len(axes) == 1:
        return [(n, n) for n in axes[0]]
    return [(h, w) for h in axes[0] for w in axes[1]]


def _axis(part: str, text: str) -> range:
    m = _RANGE.match(part.strip())
    if not m:
        raise CnncalcError(f"bad --range {text!r}: {SYNTAX}")
    lo = int(m[1])
    hi = int(m[2]) if m[2] else lo
    step = int(m[3]) if m[3] else 1
    if not 1 <= lo <= hi <= MAX_INPUT or step < 1:
        raise CnncalcError(f"bad --range {text!r}: sizes run from 1 to {MAX_INPUT:,}, low to "
                           "high, with a step of at least 1")
    return range(lo, hi + 1, step)


def lowering(spec: Spec) -> Callable[[Graph], None]:
    """A function that lowers the spec into a given graph (at that graph's input size)."""
    def lower(g: Graph) -> None:
        g.source, g.info = spec.path, spec.info
        Lowerer(spec.blocks, g).seq(spec.layers, "input", Scope(), {INPUT_REF: g.input_shape[0]})
    return lower
