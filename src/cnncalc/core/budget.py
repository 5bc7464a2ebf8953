"""`cnncalc check`: a network against a budget (params, MACs, memory, receptive field).

NB: memory is the weights plus every layer output of one forward pass, float32, at the batch
given (the engine's `param_bytes + activation_bytes`): what inference holds at most without
freeing, and what training keeps for the backward pass. The receptive field is that of the last
layer whose field is local (a global pooling head sees the whole input by construction), the
smaller of its two axes. After an op no kind maps (a PARTIAL trace) that field may be unknown:
the limit is then not judged (value None, ok None), neither ok nor over. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cnncalc.core.engine import Graph
from cnncalc.core.errors import CnncalcError
from cnncalc.core.layers.common import fmt_shape
from cnncalc.core.layers.registry import Shape
from cnncalc.core.partial import rf_unknown, why_unknown

LIMITS = ("max_params", "max_macs", "max_memory", "min_rf")
COUNT = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
BYTES = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_AMOUNT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(?:e(\d+))?\s*([a-z]*)\Z")
MAX_AMOUNT = 10**18


def parse_amount(text: Any, limit: str) -> int:
    """'5M' -> 5,000,000; '1.5G'; '8GiB' -> 8·2^30 (memory); '224' (min_rf); an int as is."""
    if isinstance(text, bool) or not isinstance(text, (int, float, str)):
        raise CnncalcError(f"{limit}: expected a number like 5M, 1G or 8GiB, got {text!r}")
    if isinstance(text, (int, float)):
        value = text
    else:
        m = _AMOUNT.match(text.strip().lower().replace("_", "").replace(",", ""))
        units = BYTES if limit == "max_memory" else COUNT
        if not m or m[3] not in units:
            what = "8GiB, 512MB or 1e9" if limit == "max_memory" else "5M, 1.5G or 224"
            raise CnncalcError(f"{limit}: bad amount {text!r}; write a number like {what}")
        value = float(m[1]) * 10 ** int(m[2] or 0) * units[m[3]]
    if not 0 <= value <= MAX_AMOUNT or value != int(value):
        raise CnncalcError(f"{limit}: {text!r} is not a whole number from 0 to 10^18")
    return int(value)


@dataclass(frozen=True)
class Limit:
    name: str  # max_params, ...
    limit: int
    value: int | None  # None: unknown (a field after an unmapped op)
    where: str = ""  # the layer whose field is checked
    unknown: str = ""  # why the value is unknown

    @property
    def lower(self) -> bool:
        return self.name.startswith("min_")

    @property
    def ok(self) -> bool | None:
        """None: not judged (the value is unknown)."""
        if self.value is None:
            return None
        return self.value >= self.limit if self.lower else self.value <= self.limit

    @property
    def margin(self) -> int | None:
        """How far inside the limit (negative: over it)."""
        if self.value is None:
            return None
        return self.value - self.limit if self.lower else self.limit - self.value

    @property
    def what(self) -> str:
        return {"max_params": "params", "max_macs": "MACs", "max_memory": "memory (bytes)",
                "min_rf": "receptive field"}[self.name]

    def line(self) -> str:
        where = f" at {self.where}" if self.where else ""
        if self.value is None or self.margin is None:
            bound = "≥" if self.lower else "≤"
            return (f"{self.what}{where}: unknown ({self.unknown}): cannot be judged against "
                    f"{bound} {self.limit:,}")
        sign = ("≥" if self.ok else "<") if self.lower else ("≤" if self.ok else ">")
        share = f", {abs(self.margin) / self.limit:.1%}" if self.limit else ""
        how = "margin" if self.ok else ("short by" if self.lower else "over by")
        return (f"{self.what}{where}: {self.value:,} {sign} {self.limit:,} "
                f"({how} {abs(self.margin):,}{share})")


@dataclass(frozen=True)
class Verdict:
    name: str
    input_shape: Shape
    batch: int
    limits: tuple[Limit, ...]

    @property
    def ok(self) -> bool | None:
        """False: over a limit; None: none over, but a limit could not be judged."""
        oks = [x.ok for x in self.limits]
        return False if False in oks else None if None in oks else True

    @property
    def unjudged(self) -> list[Limit]:
        return [x for x in self.limits if x.ok is None]

    def data(self) -> dict[str, Any]:
        return {"spec": self.name, "input": list(self.input_shape), "batch": self.batch,
                "ok": self.ok,
                "limits": [{"limit": x.name, "what": x.what, "max" if not x.lower else "min":
                            x.limit, "value": x.value, "margin": x.margin, "ok": x.ok,
                            **({"layer": x.where} if x.where else {}),
                            **({"unknown": x.unknown} if x.unknown else {})}
                           for x in self.limits]}


def check(g: Graph, limits: dict[str, int]) -> Verdict:
    """The graph's numbers against each limit given, in LIMITS order."""
    unknown = set(limits) - set(LIMITS)
    if unknown:
        raise CnncalcError(f"unknown budget limit {sorted(unknown)[0]!r}; the limits are "
                           + ", ".join(LIMITS))
    if not limits:
        raise CnncalcError("no limits to check", hint="give --max-params, --max-macs, "
                           "--max-memory or --min-rf, or a budget: in the spec")
    t = g.totals()
    out = []
    for name in LIMITS:
        if name not in limits:
            continue
        if name == "min_rf":
            out.append(_field(g, limits[name]))
        else:
            value = {"max_params": t.params, "max_macs": t.macs,
                     "max_memory": t.param_bytes + t.activation_bytes}[name]
            out.append(Limit(name, limits[name], value))
    return Verdict(g.name, g.input_shape, g.batch, tuple(out))


def _field(g: Graph, limit: int) -> Limit:
    """min_rf at the last layer whose field is local; a layer whose field is unknown (after an
    unmapped op) may be local too, so when the last candidate is one, the value is unknown."""
    unknown = rf_unknown(g)
    local = [x for x in g.layers if x.name in unknown or not x.rf.max.is_global]
    if not local:
        raise CnncalcError(f"{g.name} ({fmt_shape(g.input_shape)}) has no layer with a local "
                           "receptive field for --min-rf")
    x = local[-1]
    if x.name in unknown:
        return Limit("min_rf", limit, None, x.name, why_unknown(g, x.name))
    return Limit("min_rf", limit, int(min(ax.size for ax in x.rf.max.axes())), x.name)
