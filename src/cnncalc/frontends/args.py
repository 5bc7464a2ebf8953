"""Checking and normalising a layer's arguments against its kind's `Arg` list."""

from __future__ import annotations

import math
import re
from typing import Any

from cnncalc.core.errors import Loc, SpecError, did_you_mean
from cnncalc.core.layers.registry import Arg, Args, Kind

MAX_DIM = 1_000_000  # no kernel, stride, channel count or size is larger than this

_EXPECT = {
    "int": "a positive integer",
    "nonneg": "a non-negative integer",
    "pair": "a positive integer or one per spatial axis ([h, w])",
    "pair0": "a non-negative integer or one per spatial axis ([h, w])",
    "size": "a positive integer or one per spatial axis ([h, w])",
    "padding": "a non-negative integer, one per spatial axis ([h, w]), (leading, trailing) "
               "pairs per axis ([[1, 1], [2, 0]]), 'same', 'valid' or 'causal'",
    "pads": "a non-negative integer, one per spatial axis ([h, w]), (leading, trailing) "
            "pairs per axis ([[1, 1], [2, 0]]) or 'causal'",
    "bool": "true or false",
    "float": "a number",
    "ints": "a list of positive integers",
}


def _is_int(v: Any, low: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and low <= v <= MAX_DIM


def _check(arg: Arg, v: Any) -> Any:
    """The normalised value, or raise ValueError with what is wrong."""
    t = arg.type
    if v is None and not arg.required and arg.default is None:
        return None
    if t in ("int", "nonneg") and _is_int(v, 1 if t == "int" else 0):
        return v
    if t in ("pair", "pair0", "size", "padding", "pads"):
        low = 0 if t in ("pair0", "padding", "pads") else 1
        if (t == "padding" and v in ("same", "valid", "causal")) or (t == "pads" and
                                                                    v == "causal"):
            return v
        if _is_int(v, low):
            return v
        if isinstance(v, list) and 1 <= len(v) <= 3 and all(_is_int(x, low) for x in v):
            # one value on every axis is that value (k: [3, 3] is k: 3, as torch's (3, 3) is),
            # whatever the length; other lists keep one value per axis, and the rank is
            # checked against the input's
            return v[0] if len(set(v)) == 1 else tuple(v)
        if t in ("padding", "pads") and isinstance(v, list) and 1 <= len(v) <= 3 and all(
                isinstance(x, list) and len(x) == 2 and all(_is_int(y, 0) for y in x)
                for x in v):
            pairs = tuple((x[0], x[1]) for x in v)
            if all(lo == hi for lo, hi in pairs):  # symmetric after all: one value per axis,
                return _check(arg, [lo for lo, _ in pairs])  # as a list of them reads
            return pairs
    if t == "bool" and isinstance(v, bool):
        return v
    if t == "float" and isinstance(v, (int, float)) and not isinstance(v, bool):
        if arg.name == "value" and v == -math.inf:
            return -math.inf  # a pad before a max pool: torch's own padding never wins the max
        lo, hi, open_lo = FLOAT_RANGES.get(arg.name, FLOAT_DEFAULT)
        if math.isfinite(v) and (lo < v if open_lo else lo <= v) and v <= hi:
            return float(v)
        bottom = f"above {lo:g}" if open_lo else f"from {lo:g}"
        raise ValueError(f"expected a number {bottom} to {hi:g}, got {v!r}")
    if t == "choice" and v in arg.choices:
        return v
    if t == "ints" and isinstance(v, list) and v and all(_is_int(x, 1) for x in v):
        return list(v)
    expect = _EXPECT.get(t) or "one of " + ", ".join(repr(c) for c in arg.choices)
    hint = _hint(v, t)
    raise ValueError(f"expected {expect}, got {v!r}" + (f" ({hint})" if hint else ""))


# Every float argument has a finite range, by name (p of dropout, eps of a norm, ...); others
# are within ±1e6. (lo, hi, lo excluded)
FLOAT_RANGES: dict[str, tuple[float, float, bool]] = {
    "p": (0.0, 1.0, False), "eps": (0.0, 1.0, True), "momentum": (0.0, 1.0, False),
}
FLOAT_DEFAULT = (-1e6, 1e6, False)

_YAML11_BOOLS = ("yes", "no", "on", "off", "y", "n")
_RADIX = re.compile(r"[-+]?0[xob][0-9a-f_]+\Z|[-+]?[0-9][0-9_]*\Z", re.IGNORECASE)


def _hint(v: Any, t: str) -> str:
    """Why a value that looks right is refused, and what to write instead.

    YAML 1.1 reads `yes`/`on` as true and `0x10` as 16, `1e3` is a float; a spec means what it
    says, so only decimal integers are integers and only true/false are booleans."""
    numeric = t not in ("bool", "float", "choice")
    if isinstance(v, float) and v.is_integer() and numeric:
        return f"write {int(v)}; in an expression use // for integer division"
    if isinstance(v, int) and not isinstance(v, bool) and v > MAX_DIM:
        return f"at most {MAX_DIM:,}"
    if isinstance(v, bool) and numeric:
        return "a boolean is not a number"
    if isinstance(v, str) and v.lower() in _YAML11_BOOLS:
        return "booleans are written true or false" if t == "bool" else \
            "YAML 1.1 reads this as a boolean; cnncalc reads it as text"
    if isinstance(v, str) and _RADIX.match(v.strip()) and numeric:
        try:
            return f"write decimal {int(v.replace('_', ''), 0):,}".replace(",", "")
        except ValueError:
            return "write a plain decimal integer"
    return ""


def coerce(kind: Kind, given: dict[str, tuple[Any, Loc]], where: Loc, layer: str,
           keylocs: dict[str, Loc] | None = None) -> Args:
    """Map aliases to canonical names, check every value, fill defaults.

    `given` maps each written key to (value, position of the value); `keylocs` gives the
    position of each key, for errors about the key itself."""
    if not given and kind.name in _DEFAULTS:  # a bare `relu` or `bn`: most layers of a net
        return dict(_DEFAULTS[kind.name])
    out: Args = {}
    for key, (value, loc) in given.items():
        arg = kind.arg(key)
        if arg is None:
            allowed = ", ".join(a.name for a in kind.args) or "no arguments"
            hint = did_you_mean(key, [n for a in kind.args for n in (a.name, *a.aliases)])
            raise SpecError(f"{kind.name} {layer}: unknown argument {key!r}; allowed: {allowed}",
                            (keylocs or {}).get(key, loc), hint)
        if arg.name in out:
            raise SpecError(f"{kind.name} {layer}: {arg.name!r} given twice", loc)
        try:
            out[arg.name] = _check(arg, value)
        except ValueError as e:
            raise SpecError(f"{kind.name} {layer}: {arg.name} {e}", loc) from None
    for arg in kind.args:
        if arg.name not in out:
            if arg.required:
                raise SpecError(f"{kind.name} {layer}: missing required argument {arg.name!r}",
                                where)
            out[arg.name] = arg.default
    out = kind.normalize(out) if kind.normalize else out
    if not given:
        _DEFAULTS[kind.name] = dict(out)
    return out


_DEFAULTS: dict[str, Args] = {}  # per kind, its arguments when none is given (a copy each time)
