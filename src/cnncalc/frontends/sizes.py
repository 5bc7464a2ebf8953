"""Input sizes written on the command line (`--range 32..1024`, `64..512x64..512:32`) and a
YAML spec lowered at any size (for core/sizes.py's scan)."""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction

from cnncalc.core.design import Reach
from cnncalc.core.engine import Graph
from cnncalc.core.errors import CnncalcError
from cnncalc.core.rf import fmt_num
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


def stack_to_target(stack: str, target: int, input: str | None) -> Reach:
    """How many copies of a `--stack` reach a `target` field: doubling, then bisection
    (at most MAX_ITEMS items in all)."""
    from cnncalc.core.design import reach
    from cnncalc.frontends.stack import MAX_ITEMS, build_items, parse_stack, stack_input

    shape = stack_input(stack, input)
    items = parse_stack(stack, shape[0])
    cap = MAX_ITEMS // max(1, len(items))

    def at(k: int) -> Reach:
        g = build_items(shape, [*items] * k, stack)
        r = reach(g, target)
        return Reach(r.name, target, g.layers[-1].name if r.layer else None, r.field, r.largest,
                     k)

    lo, hi, k = 0, None, 1
    while hi is None:
        r = at(k)
        if r.layer is not None:
            hi = k
        elif k >= cap or (k > 1 and r.largest == at(k // 2).largest):
            assert r.largest is not None  # a stack has no unmapped op: every field is known
            why = "does not grow" if k < cap else f"needs more than {cap * len(items):,} layers"
            raise CnncalcError(f"repeating {stack!r} never reaches a {target} field: it {why} "
                               f"(reaches {fmt_num(r.largest[0])} with {k * len(items):,} "
                               "layers)")
        else:
            lo, k = k, min(2 * k, cap)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if at(mid).layer is not None else (mid, hi)
    best = at(hi)
    prev = at(hi - 1).largest if hi > 1 else (Fraction(1), Fraction(1))
    return Reach(best.name, target, best.layer, best.field, best.largest, hi, hi * len(items), prev)
