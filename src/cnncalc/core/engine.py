"""The engine: a graph of layers, each computed the moment it is added.

`Graph.add(name, kind, args, inputs)` computes the layer's output shape, learnable parameters,
buffers, MACs, other ops and receptive field from the registry's formulas, raising ShapeError
(naming the layer) when the shapes do not work out. Front ends (YAML, Python, torch.fx) all
build through it, so every number comes from one place. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnncalc.core import channels
from cnncalc.core.errors import CnncalcError, LimitError, Loc, ShapeError
from cnncalc.core.layers.common import AXES, all_pads, fmt_shape, numel, per_axis
from cnncalc.core.layers.registry import Args, Kind, Shape, lookup
from cnncalc.core.rf import MAX_RF_WORK, RF, Field, join, plain

BYTES_PER_VALUE = 4  # float32, for the memory totals
ATTENTION_MACS = ("all", "projections")  # what attention's MACs count (Graph.count_attention)
MAP_STATISTICS = frozenset({"groupnorm"})  # norms whose statistics span the whole map
WARN_ACTIVATION_BYTES = 16 * 2**30  # above this, the layer outputs of one pass get a warning


@dataclass
class Layer:
    name: str
    kind: str
    args: Args
    inputs: tuple[str, ...]
    in_shapes: list[Shape]
    out_shape: Shape
    rf: RF
    params: int = 0
    buffers: int = 0
    macs: int = 0
    other_ops: int = 0
    loc: Loc | None = None
    matmuls: int = 0  # the part of macs between two activations (attention's Q·Kᵀ and A·V)

    @property
    def activations(self) -> int:
        return numel(self.out_shape)

    @property
    def depth(self) -> int:
        return self.name.count(".")


@dataclass(frozen=True)
class Lint:
    """A warning about the network: printed after its table, listed in JSON's "warnings"."""

    code: str  # floor-drop, collapse, memory, rf-exceeds-input, misaligned, gate, norm-stats
    layer: str
    message: str


@dataclass(frozen=True)
class Partial:
    """Why the analysis of a traced model is partial (its totals are lower bounds): an op no
    layer kind maps (`op`), or a mapped row whose formula disagrees with the model (`mismatch`)."""

    where: str  # the module path (or fx node name) of the op
    source: str  # file:line of the call
    op: str = ""  # an unmapped op: "module PReLU", "torch.roll (why)"
    mismatch: str = ""  # "conv gives 4×8×8 but the model 4×9×9"

    def __str__(self) -> str:
        what = f"unmapped {self.op}" if self.op else self.mismatch
        return f"{what} at {self.where} ({self.source})"


@dataclass(frozen=True)
class Note:
    """Something about a traced model worth saying that changes no number's meaning."""

    code: str  # several-outputs, output-not-last, shared-params, unused-params
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Totals:
    params: int
    buffers: int
    macs: int
    flops: int
    other_ops: int
    activations: int  # values held by all layer outputs, whole batch
    activation_bytes: int
    param_bytes: int


@dataclass
class Graph:
    """Layers in the order they were added (a topological order)."""

    input_shape: Shape
    name: str = "net"
    batch: int = 1
    layers: list[Layer] = field(default_factory=list)
    nodes: dict[str, Layer] = field(default_factory=dict)
    floor_warnings: list[Lint] = field(default_factory=list)
    source: str | None = None  # the spec's file, or the traced model ('model.py:Net')
    info: dict[str, Any] = field(default_factory=dict)  # the spec's info: year, paper, idea
    partial: list[Partial] = field(default_factory=list)  # a traced model: what is not covered
    notes: list[Note] = field(default_factory=list)  # a traced model: what else to know
    attention_macs: str = "all"  # "projections": attention's MACs without Q·Kᵀ and A·V

    def __post_init__(self) -> None:
        if not 2 <= len(self.input_shape) <= 4:
            raise ShapeError("input", "the input is C×L, C×H×W or C×T×H×W (1 to 3 spatial "
                             f"axes), got {fmt_shape(self.input_shape)}")
        self.nodes["input"] = Layer("input", "input", {}, (), [], self.input_shape,
                                    rf=RF.input(*self.input_shape[1:]))

    @property
    def rank(self) -> int:
        """The number of spatial axes of the input: 1 (C×L), 2 (C×H×W) or 3 (C×T×H×W)."""
        return len(self.input_shape) - 1

    def add(self, name: str, kind_name: str, args: Args, inputs: tuple[str, ...] | list[str],
            loc: Loc | None = None) -> Layer:
        kind = lookup(kind_name)
        if kind is None or kind.category == "macro":
            raise ShapeError(name, f"unknown layer kind {kind_name!r}", loc)
        if name in self.nodes:
            raise ShapeError(name, "a layer with this name already exists", loc)
        ins = [self.nodes[i] for i in inputs]
        if kind.join and len(ins) < 2:
            raise ShapeError(name, f"{kind.name} needs two or more inputs", loc)
        if not kind.join and len(ins) != 1:
            raise ShapeError(name, f"{kind.name} takes one input, got {len(ins)}", loc)
        in_shapes = [n.out_shape for n in ins]
        if kind_name[-2:] in _RANKED:
            _check_rank(name, kind_name, _RANKED[kind_name[-2:]], in_shapes[0], loc)
        try:
            out = kind.out_shape(args, in_shapes)
        except ValueError as e:
            raise ShapeError(name, f"{kind.name} on {fmt_shape(in_shapes[0])}: {e}", loc) from None
        if out and min(out) < 1:
            raise ShapeError(name, f"{kind.name} gives an empty output {fmt_shape(out)}", loc)
        grid = out[1:] if len(out) == len(self.input_shape) else None
        hw = self.input_shape[1:]
        if kind.join:
            rf = join([n.rf for n in ins], grid, hw)
        else:
            rf = ins[0].rf.map(lambda f: kind.rf(args, in_shapes, out, f))
        if kind.name == "concat" or any(n.rf.parts for n in ins):
            rf = self._per_channel(kind, args, ins, out, rf, grid, hw)
        layer = Layer(name, kind.name, args, tuple(inputs), in_shapes, out, rf,
                      kind.params(args, in_shapes, out), kind.buffers(args, in_shapes, out),
                      kind.macs(args, in_shapes, out), kind.other_ops(args, in_shapes, out),
                      loc, kind.matmuls(args, in_shapes, out))
        if self.attention_macs == "projections":
            layer.macs -= layer.matmuls
        _check_magnitudes(layer, rf is not ins[0].rf)
        self._floor_lint(kind, layer)
        if not (_exact(rf.max) and _exact(rf.min)):
            self.floor_warnings.append(Lint(
                "rf-bound", name, f"{name}: the receptive field from here on is an upper bound "
                f"(its lattice would cost more than {MAX_RF_WORK:,} unit-taps to build)"))
        self.layers.append(layer)
        self.nodes[name] = layer
        return layer

    def _per_channel(self, kind: Kind, args: Args, ins: list[Layer], out: Shape, rf: RF,
                     grid: tuple[int, ...] | None, hw: tuple[int, ...]) -> RF:
        """Channel ranges keep their own fields (core/channels.py)."""
        c, cs = out[0], [n.out_shape[0] for n in ins]
        src = ins[0].rf
        if kind.name == "concat":
            return channels.whole(rf, tuple(s for n, x in zip(cs, ins)
                                            for s in channels.segments(x.rf, n)))
        if kind.name in ("add", "mul"):
            return channels.whole(rf, channels.joined([x.rf for x in ins], cs, c, grid, hw))
        if kind.name == "split":
            sizes = args["sizes"] or [cs[0] // args["parts"]] * args["parts"]
            start = sum(sizes[:args["index"]])
            return channels.selected(src.parts, start, start + c, grid, hw)
        if kind.name == "shuffle":
            return channels.whole(rf, channels.shuffled(src.parts, c, args["groups"]))
        depthwise = kind.name == "conv" and args["groups"] == cs[0] == c
        if kind.category in channels.PER_CHANNEL or depthwise:
            in_shapes = [x.out_shape for x in ins]
            return channels.whole(rf, channels.mapped(
                src.parts, lambda f: kind.rf(args, in_shapes, out, f)))
        return rf

    def count_attention(self, mode: str) -> Graph:
        """What attention's MACs count from now on, for every layer: "all" (the projections,
        Q·Kᵀ and A·V: the convention) or "projections" (the multiply-accumulates against a
        weight only, as tools that skip the matmuls between activations report)."""
        if mode not in ATTENTION_MACS:
            raise CnncalcError(f"unknown --attention-macs {mode!r}; choose one of "
                               f"{', '.join(ATTENTION_MACS)}")
        if mode != self.attention_macs:
            for x in self.layers:
                x.macs += x.matmuls if mode == "all" else -x.matmuls
            self.attention_macs = mode
        return self

    @property
    def unmapped(self) -> list[Partial]:
        """The ops no layer kind maps, in trace order."""
        return [p for p in self.partial if p.op]

    def shape(self, name: str) -> Shape:
        return self.nodes[name].out_shape

    @property
    def output(self) -> Layer:
        return self.layers[-1] if self.layers else self.nodes["input"]

    def totals(self) -> Totals:
        params = sum(x.params for x in self.layers)
        macs = sum(x.macs for x in self.layers) * self.batch
        acts = sum(x.activations for x in self.layers) * self.batch
        return Totals(params, sum(x.buffers for x in self.layers), macs, 2 * macs,
                      sum(x.other_ops for x in self.layers) * self.batch, acts,
                      acts * BYTES_PER_VALUE, params * BYTES_PER_VALUE)

    # Lints -------------------------------------------------------------------------------

    def _floor_lint(self, kind: Kind, layer: Layer) -> None:
        """A floor that drops real input pixels: (H + p_lo + p_hi − d·(k−1) − 1) mod s rows at
        the end are never covered; those beyond the trailing padding are real pixels."""
        a = layer.args
        if not kind.window or a.get("ceil_mode") or a.get("stride") == 1:
            return  # (stride 1 on every axis: every span is a multiple of it)
        rank = len(layer.in_shapes[0]) - 1
        k = per_axis(a["kernel_size"], rank)
        s, d = per_axis(a["stride"], rank), per_axis(a.get("dilation", 1), rank)
        p = all_pads(a, rank)
        lost = []
        for axis in range(rank):
            if d[axis] * (k[axis] - 1) + 1 < s[axis]:
                return  # a window smaller than its stride skips pixels everywhere, by design
            n = layer.in_shapes[0][1 + axis]
            lo, hi = p[axis]
            span = n + lo + hi - d[axis] * (k[axis] - 1) - 1
            lost.append((span % s[axis] - hi, n, lo, hi, span))
        if all(x[0] <= 0 for x in lost):
            return
        words = _AXIS_WORDS[len(lost)]
        what = [f"{x[0]} input {word}(s)" for x, word in zip(lost, words) if x[0] > 0]
        if what:
            why = "; ".join(dict.fromkeys(
                f"({n} + {lo} + {hi} − {d[axis]}·({k[axis]}−1) − 1) = {span} is not a multiple "
                f"of stride {s[axis]}" for axis, (m, n, lo, hi, span) in enumerate(lost) if m > 0))
            self.floor_warnings.append(Lint(
                "floor-drop", layer.name,
                f"{layer.name}: the floor drops the last {' and '.join(what)}: {why}"))

    def warnings(self) -> list[Lint]:
        out = list(self.floor_warnings)
        out += self._collapse_lint()
        out += self._memory_lint()
        out += self._rf_lint()
        out += self._gate_lint()
        out += self._norm_lint()
        out += [Lint("misaligned", x.name, f"{x.name}: the paths joined here are misaligned "
                        "(different jump or centre)")
                for x in self.layers if not x.rf.aligned
                and all(self.nodes[i].rf.aligned for i in x.inputs)]
        return out

    def _collapse_lint(self) -> list[Lint]:
        """A windowed layer that shrinks the map to 1×1 while a layer with a kernel larger than
        1 later reads that 1×1 map. Only the path that carries it counts: a gating branch (a
        squeeze-and-excitation's pool and 1×1 convs, broadcast back by a multiply) stops the
        walk where its output is broadcast to a larger map."""
        def windowed(x: Layer) -> bool:
            kind = lookup(x.kind)
            return kind is not None and kind.window

        rank = self.rank

        def one(shape: Shape) -> bool:
            return len(shape) == rank + 1 and all(n == 1 for n in shape[1:])

        readers: dict[str, list[Layer]] = {}  # built when a layer collapses the map
        for x in self.layers:
            if not (one(x.out_shape) and not one(x.in_shapes[0]) and windowed(x)):
                continue
            if not readers:
                for y in self.layers:
                    for i in dict.fromkeys(y.inputs):
                        readers.setdefault(i, []).append(y)
            later, seen, todo = [], {x.name}, [x]
            while todo:
                for y in readers.get(todo.pop(0).name, []):
                    if y.name in seen:
                        continue
                    seen.add(y.name)
                    if windowed(y) and set(per_axis(y.args["kernel_size"], rank)) != {1}:
                        later.append(y)
                    if one(y.out_shape):
                        todo.append(y)
            if later:
                later.sort(key=self.layers.index)
                return [Lint("collapse", x.name, (
                    f"{x.name}: the spatial size collapses to {'×'.join('1' * rank)} here, yet "
                    f"{len(later)} "
                    f"later layer(s) with kernels larger than 1 (first: {later[0].name}) see "
                    "mostly padding"))]
        return []

    def _memory_lint(self) -> list[Lint]:
        size = self.totals().activation_bytes
        if size <= WARN_ACTIVATION_BYTES:
            return []
        return [Lint("memory", self.output.name, (
            f"activations take {size:,} bytes ({size / 2**30:,.1f} GiB, float32, batch "
            f"{self.batch}): more than {WARN_ACTIVATION_BYTES // 2**30} GiB for one pass"))]

    def _gate_lint(self) -> list[Lint]:
        """Once: a gate (squeeze-and-excitation, attention) broadcast over the map widens what
        every unit depends on; the RF column shows the field of the path that carries the map."""
        for x in self.layers:
            if x.rf.local is not None:
                f = x.rf.max
                reach = ("the whole input" if f.is_global else
                         f"the whole input along {_AXIS_NAMES[f.rank][f.global_axes()[0]]}"
                         if f.global_axes()
                         else "a wider field")
                return [Lint("gate", x.name, (
                    f"{x.name}: a gate broadcast over the map here makes every later unit depend "
                    f"on {reach}; RF shows the field of the path that carries the map (JSON: "
                    "rf_local), the gate's reach is in JSON's rf"))]
        return []

    def _norm_lint(self) -> list[Lint]:
        """Once: a norm whose statistics span the map (GroupNorm). Fields follow the data path
        and count statistics as constants, as for BatchNorm in eval (docs/conventions.md)."""
        for x in self.layers:
            if x.kind in MAP_STATISTICS and len(x.out_shape) == len(self.input_shape) and any(
                    n != 1 for n in x.out_shape[1:]):
                return [Lint("norm-stats", x.name, (
                    f"{x.name}: {x.kind} normalises with statistics over the whole map: in torch "
                    "every later unit then depends on every input pixel; fields here follow the "
                    "data path, statistics counted as constants (see conventions)"))]
        return []

    def _rf_lint(self) -> list[Lint]:
        sizes = self.input_shape[1:]
        for x in self.layers:
            f = x.rf.shown
            over = [a for a, (ax, n) in enumerate(zip(f.axes(), sizes))
                    if not f.glob[a] and ax.period != 0 and ax.size > n]
            if over:
                field = "×".join(str(ax.size) for ax in f.axes())
                where = ""
                if len(over) < len(sizes):  # name the axes, when not all of them
                    names = _AXIS_NAMES[len(sizes)]
                    where = " along " + " and ".join(
                        f"{names[a]} ({f.axes()[a].size} > {sizes[a]})" for a in over)
                return [Lint("rf-exceeds-input", x.name, (
                    f"{x.name}: the receptive field ({field}) is larger than the "
                    f"{fmt_shape(sizes)} input{where} from this layer on"))]
        return []


_AXIS_WORDS = {1: ("sample",), 2: ("row", "column"), 3: ("frame", "row", "column")}
_AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("T", "H", "W")}
_RANKED = {"1d": 1, "2d": 2, "3d": 3}  # conv1d, maxpool3d, bn1d, ...: the alias names a rank


def _check_rank(name: str, written: str, rank: int, shape: Shape, loc: Loc | None) -> None:
    """An alias that names a rank (conv1d, maxpool3d) on an input of another rank is refused;
    bn1d/batchnorm1d also takes a vector (nn.BatchNorm1d does)."""
    have = len(shape) - 1
    if have == rank or (rank == 1 and have == 0 and written.startswith(("bn", "batchnorm"))):
        return
    raise ShapeError(name, f"{written} is for a {AXES[rank]} map ({rank} spatial "
                     f"ax{'e' if rank != 1 else 'i'}s), but its input is {fmt_shape(shape)}; "
                     f"write {written[:-2]}, which takes the input's rank", loc)


MAX_BITS = 128  # every number the engine keeps is below 2**128 (about 3.4e38)
_LIMIT = 1 << MAX_BITS
_SMALL = 1 << (MAX_BITS - 40)  # a bound or period below this keeps every derived number small


def _check_magnitudes(x: Layer, new_rf: bool = True) -> None:
    """Every number a layer records (its output dims, params, MACs, the numerators and
    denominators of its field) stays below 2**MAX_BITS, so printing or comparing it is cheap.
    Checked once, here, for every frontend; a field passed on unchanged (`new_rf` false: a norm,
    an activation) was checked where it was made."""
    rf = x.rf
    small = not new_rf or (_small(rf.max) and (rf.min is rf.max or _small(rf.min)))
    if small and x.params < _LIMIT and x.macs < _LIMIT and max(x.out_shape) < _LIMIT:
        return  # the common case, without the Fractions
    numbers: list[tuple[str, int]] = [("output size", d) for d in x.out_shape]
    numbers += [("parameter count", x.params), ("MAC count", x.macs)]
    fields = () if small else (rf.max, rf.min)
    for f in fields:
        for a in f.axes():
            for what, n in (("size", a.size), ("jump", a.jump), ("start", a.start)):
                numbers += [(f"receptive-field {what}", n.numerator),
                            (f"receptive-field {what}", n.denominator)]
    for what, v in numbers:
        if int(v).bit_length() > MAX_BITS:
            raise LimitError(f"layer {x.name}: its {what} exceeds 2**{MAX_BITS} (about 3.4e38); "
                             "cnncalc's numbers stop there", x.loc)


def _exact(f: Field) -> bool:
    for a in f.lattice:
        if not a.exact:
            return False
    return True


def _small(f: Field) -> bool:
    """Every bound and period of f is an int well below 2**MAX_BITS, so its sizes, jumps and
    starts (differences, halves and ratios of them by a period count, q < 2**16) are too:
    a start's numerator is at most about 2**(MAX_BITS - 40) · 2**17."""
    seen = None
    for a in f.lattice:
        if a is seen:
            continue  # a square field: one axis object on every axis
        seen = a
        b = plain(a)  # most axes: three ints
        if b is not None and -_SMALL < b[0] < _SMALL and -_SMALL < b[1] < _SMALL \
                and -_SMALL < b[2] < _SMALL:
            continue
        for v in (*a.lo, *a.hi, a.period):
            if v is not None and (type(v) is not int or v.bit_length() > MAX_BITS - 40):
                return False
        if a.q.bit_length() > 16:
            return False
    return True
