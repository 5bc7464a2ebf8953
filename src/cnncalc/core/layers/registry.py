"""One registry of layer kinds: each kind's arguments and its shape, params, MACs and RF formulas.

Adding a kind means one `register(Kind(...))` call next to its formulas, and one builder in the
torch backend (a test fails when a kind has no builder). Registering a name twice raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from cnncalc.core.rf import Field

Shape = tuple[int, ...]
Args = dict[str, Any]

REQUIRED = object()


@dataclass(frozen=True)
class Arg:
    """One argument of a kind. `type` is one of:
    int (>= 1), nonneg (>= 0), pair (int or [h, w], >= 1), pair0 (>= 0), padding (pair0, 'same'
    or 'valid'), bool, float, choice, size (int or [h, w] >= 1), ints (list of ints >= 1)."""

    name: str
    type: str
    default: Any = REQUIRED
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def _zero(args: Args, ins: list[Shape], out: Shape) -> int:
    return 0


def _same_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    return f


@dataclass(frozen=True)
class Kind:
    """A layer kind: its arguments and its formulas, side by side.

    out_shape(args, in_shapes) -> out shape, raising ValueError with a message on bad shapes.
    params / buffers / macs / other_ops (args, in_shapes, out_shape) -> int.
    field(args, in_shapes, out_shape, field) -> field (the RF recurrence for one path).
    """

    name: str
    doc: str
    out_shape: Callable[[Args, list[Shape]], Shape]
    args: tuple[Arg, ...] = ()
    params: Callable[[Args, list[Shape], Shape], int] = _zero
    buffers: Callable[[Args, list[Shape], Shape], int] = _zero
    macs: Callable[[Args, list[Shape], Shape], int] = _zero
    other_ops: Callable[[Args, list[Shape], Shape], int] = _zero
    field: Callable[[Args, list[Shape], Shape, Field], Field] = _same_field
    aliases: tuple[str, ...] = ()
    primary: str | None = None  # the argument a scalar fills: `{linear: 1000}`
    join: bool = False  # takes two or more inputs
    category: str = "other"
    normalize: Callable[[Args], Args] | None = None  # derived defaults, e.g. stride = kernel
    extra: dict[str, Any] = dc_field(default_factory=dict)

    def arg(self, name: str) -> Arg | None:
        for a in self.args:
            if a.name == name or name in a.aliases:
                return a
        return None


KINDS: dict[str, Kind] = {}
ALIASES: dict[str, str] = {}


def register(kind: Kind) -> Kind:
    for name in (kind.name, *kind.aliases):
        if name in KINDS or name in ALIASES:
            raise RuntimeError(f"layer kind {name!r} registered twice")
    KINDS[kind.name] = kind
    for alias in kind.aliases:
        ALIASES[alias] = kind.name
    return kind


def lookup(name: str) -> Kind | None:
    _load()
    return KINDS.get(ALIASES.get(name, name))


def all_kinds() -> dict[str, Kind]:
    _load()
    return KINDS


def all_names() -> list[str]:
    _load()
    return [*KINDS, *ALIASES]


def _load() -> None:
    if not KINDS:
        from cnncalc.core.layers import kinds  # noqa: F401  (registers everything)
