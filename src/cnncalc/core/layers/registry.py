"""One registry of layer kinds: each kind's arguments, its shape, params, MACs and RF formulas,
and its torch side, declared once, side by side.

Adding a kind means one `register(Kind(...))` call next to its formulas, with a `Torch`
description that both the torch builder (measure/build.py) and `export --to torch`
(report/export_torch.py) read; docs/adding-a-kind.md walks through it. Registering a name twice
raises.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cnncalc.core.layers.saved import Saved, never_a_view, undeclared
from cnncalc.core.rf import Field

Shape = tuple[int, ...]
Args = dict[str, Any]

REQUIRED: Any = object()


@dataclass(frozen=True)
class Arg:
    """One argument of a kind. `type` is one of:
    int (>= 1), nonneg (>= 0), pair (int or one per spatial axis, [h, w], >= 1), pair0 (>= 0),
    pads (pair0, (leading, trailing) pairs per axis or 'causal'), padding (pads, 'same' or
    'valid'), bool, float, choice, size (int or one per axis >= 1), ints (list of ints >= 1).
    A per-axis list of 1 or 3 values stays a tuple; its length is checked against the input's
    rank when the layer is computed (`common.per_axis`)."""

    name: str
    type: str
    default: Any = REQUIRED
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class TorchArg:
    """One constructor argument: positional when `name` is None. A keyword equal to its `default`
    is left out of exported source (torch's own default, or the one torch derives, such as a
    pool's stride = its kernel); one without a default is always written."""

    name: str | None
    value: Any
    default: Any = REQUIRED


OPS = ("sum", "product", "cat", "split", "scale", "shuffle", "drop_path", "to_tokens",
       "class_token", "pos_embed", "take_token", "attention", "window_attention", "patch_merge")


@dataclass(frozen=True)
class Torch:
    """A kind's torch side, declared once.

    module: a class of `torch.nn`; `{d}` stands for the number of spatial axes (`Conv{d}d`, at
    least 1, so `BatchNorm{d}d` on a vector is BatchNorm1d). arguments(args, in_shape) -> its
    constructor's arguments, in order.
    channels_last: the module acts on the last axis (nn.Linear, nn.LayerNorm); on a C×H×W map it
    runs on the channels at every position.
    op: instead of a torch.nn module, one of OPS: an operation written in forward (`a + b`,
    `torch.cat`, ...) or a module of cnncalc's own; the builder and the export each render every
    op (a test checks both do).
    """

    module: str | None = None
    arguments: Callable[[Args, Shape], list[TorchArg]] = lambda args, shape: []
    channels_last: bool = False
    op: str | None = None

    def __post_init__(self) -> None:
        if (self.module is None) == (self.op is None):
            raise RuntimeError("a Torch description names a module or an op, not both")
        if self.op is not None and self.op not in OPS:
            raise RuntimeError(f"unknown torch op {self.op!r}; known: {', '.join(OPS)}")

    def module_name(self, in_shape: Shape) -> str:
        assert self.module is not None
        return self.module.format(d=max(1, len(in_shape) - 1))


def _zero(args: Args, ins: list[Shape], out: Shape) -> int:
    return 0


def _same_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    return f


@dataclass(frozen=True)
class Kind:
    """A layer kind: its arguments and its formulas, side by side.

    out_shape(args, in_shapes) -> out shape, raising ValueError with a message on bad shapes.
    params / buffers / macs / other_ops (args, in_shapes, out_shape) -> int.
    matmuls (args, in_shapes, out_shape) -> the part of macs that multiplies two activations
    (attention's Q·Kᵀ and A·V), which `--attention-macs projections` leaves out.
    rf(args, in_shapes, out_shape, field) -> field (the RF recurrence for one path).
    saved(args, in_shapes, out_shape) -> the tensors autograd keeps for backward (layers/saved.py).
    view(args) -> True when the output is a view of input 0 (no memory of its own).
    """

    name: str
    doc: str
    out_shape: Callable[[Args, list[Shape]], Shape]
    args: tuple[Arg, ...] = ()
    params: Callable[[Args, list[Shape], Shape], int] = _zero
    buffers: Callable[[Args, list[Shape], Shape], int] = _zero
    macs: Callable[[Args, list[Shape], Shape], int] = _zero
    matmuls: Callable[[Args, list[Shape], Shape], int] = _zero
    other_ops: Callable[[Args, list[Shape], Shape], int] = _zero
    rf: Callable[[Args, list[Shape], Shape, Field], Field] = _same_field
    aliases: tuple[str, ...] = ()
    primary: str | None = None  # the argument a scalar fills: `{linear: 1000}`
    join: bool = False  # takes two or more inputs
    category: str = "other"
    normalize: Callable[[Args], Args] | None = None  # derived defaults, e.g. stride = kernel
    torch: Torch | None = None  # None only for macros, which expand before the engine
    window: bool = False  # a sliding window (conv, max/avg pool): the output-size formula applies
    resamples: bool = False  # the output grid is not a strided subset of the input's
    linearised: str | None = None  # in linear mode (theory's RF setting): "identity" or a kind
    expand: Callable[[Args, Shape], list[tuple[str, str, Args]]] | None = None  # macros only
    saved: Callable[[Args, list[Shape], Shape], tuple[Saved, ...]] = undeclared
    view: Callable[[Args], bool] = never_a_view

    def arg(self, name: str) -> Arg | None:
        for a in self.args:
            if a.name == name or name in a.aliases:
                return a
        return None


KINDS: dict[str, Kind] = {}
ALIASES: dict[str, str] = {}
ORIGIN: dict[str, str] = {}  # kind -> the module that registered it (see _load)


def register(kind: Kind) -> Kind:
    if (kind.torch is None) != (kind.category == "macro"):
        raise RuntimeError(f"layer kind {kind.name!r}: every kind but a macro declares its torch "
                           "side (torch=Torch(...))")
    for name in (kind.name, *kind.aliases):
        if name in KINDS or name in ALIASES:
            raise RuntimeError(f"layer kind {name!r} registered twice")
    KINDS[kind.name] = kind
    ORIGIN[kind.name] = sys._getframe(1).f_globals.get("__name__", "")
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
    # not `if not KINDS`: importing one module of kinds first (measure/build imports
    # elementwise) fills KINDS partly, and the others would never register; and the order is
    # kinds.py's whatever was imported first (the schema and `cnncalc schema` list it)
    if "cnncalc.core.layers.kinds" in sys.modules:
        return
    from types import ModuleType

    from cnncalc.core.layers import kinds

    rank = {m.__name__: i for i, m in enumerate(v for v in vars(kinds).values()
                                                 if isinstance(v, ModuleType))}
    ordered = sorted(KINDS.items(), key=lambda kv: rank.get(ORIGIN[kv[0]], len(rank)))
    KINDS.clear()
    KINDS.update(ordered)
    aliases = sorted(ALIASES.items(), key=lambda kv: rank.get(ORIGIN[kv[1]], len(rank)))
    ALIASES.clear()
    ALIASES.update(aliases)
