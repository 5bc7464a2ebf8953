"""Which input sizes a network takes, from the engine, fast enough to scan a thousand of them.

Lowering a spec is the slow part (expressions, blocks, argument checks), so a size is lowered
once and its layers are kept as a *program*: each layer's kind, arguments and inputs. Another size
replays the program, calling only the kinds' shape, params and MACs formulas. The replay is exact
because the lowering reads the shapes it builds at a few places only (`Recorder.shape` notes every
read): the channels entering a block (`$in`) or a macro, whether a residual's two ends have the
same shape, and the stride of an `auto` shortcut's projection. A size whose reads give the same
answers as the recorded size (`decisions`) lowers to the same layers; any other size is lowered
afresh and its program kept too. The receptive fields do not depend on the input size (their
lattices come from kernels, strides and paddings) except through adaptive pooling; a program
with adaptive pooling to more than 1×1 is lowered afresh at every size. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.errors import CnncalcError, Loc, ShapeError
from cnncalc.core.layers.common import fmt_shape, numel, pair
from cnncalc.core.layers.registry import Args, Kind, Shape, lookup
from cnncalc.core.rf import RF

MAX_SIZES = 10_000  # sizes one scan looks at, at most
_NO_RF = RF.input(1, 1)


class Recorder(Graph):
    """A graph that notes every shape the lowering reads, and every layer it tries to add."""

    queries: list[tuple[int, str]]  # (layers added before the read, the node read)
    attempted: tuple[str, str, Args, tuple[str, ...], Loc | None] | None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.queries = []
        self.attempted = None

    def shape(self, name: str) -> Shape:
        self.queries.append((len(self.layers), name))
        return super().shape(name)

    def add(self, name: str, kind_name: str, args: Args, inputs: tuple[str, ...] | list[str],
            loc: Loc | None = None) -> Layer:
        self.attempted = (name, kind_name, args, tuple(inputs), loc)
        layer = super().add(name, kind_name, args, inputs, loc)
        self.attempted = None
        return layer


Lower = Callable[[Recorder], None]  # lowers the spec into the graph given, raising ShapeError


@dataclass(frozen=True)
class Step:
    name: str
    kind: Kind
    args: Args
    inputs: tuple[int, ...]  # node indices: 0 is the input, i + 1 the i-th step
    loc: Loc | None


@dataclass(frozen=True)
class Outcome:
    """One input size: whether it runs (else the first layer error) and what it costs."""

    h: int
    w: int
    error: str | None = None
    layer: str | None = None  # the layer that fails
    at_join: bool = False  # it fails where paths join (a U-Net concat that would need cropping)
    params: int = 0
    macs: int = 0
    activations: int = 0  # values held by all layer outputs, batch 1
    drops: tuple[str, ...] = ()  # layers whose floor drops input pixels
    aligned: bool = True  # every join's paths have the same jump and centre

    @property
    def runs(self) -> bool:
        return self.error is None

    @property
    def exact(self) -> bool:
        return self.runs and not self.drops


@dataclass
class Program:
    """The layers one lowering built, and what it read to build them."""

    steps: list[Step]
    queries: list[tuple[int, int]]  # (steps added before the read, node index read)
    shapes: list[Shape]  # node shapes at the recorded size
    graph: Graph  # the engine's graph at the recorded size (fields, lints)
    complete: bool  # False: it stopped at the last step (which failed there)
    rf_by_size: bool  # adaptive pooling to more than 1×1: fields depend on the size

    def key(self, shapes: list[Shape], upto: int | None = None) -> tuple[Any, ...]:
        return decisions(self.queries, shapes, upto)


def decisions(queries: list[tuple[int, int]], shapes: list[Shape],
              upto: int | None = None) -> tuple[Any, ...]:
    """What the lowering derived from the shapes it read (reads made before `upto` steps):
    channels and rank of each, and of each consecutive pair whether they are equal and the
    stride an `auto` shortcut would project with (frontends/lower.py `projection` reads the pair
    that `residual` has just compared)."""
    out: list[Any] = []
    for i, (pos, node) in enumerate(queries):
        if upto is not None and pos > upto:
            break
        s = shapes[node]
        out.append((s[0], len(s)))
        if i:
            prev = shapes[queries[i - 1][1]]
            again = i >= 3 and queries[i - 3][1] == queries[i - 1][1] \
                and queries[i - 2][1] == node  # a pair read twice: the projection's reads
            out.append((prev == s, _projection(prev, s) if again else ()))
    return tuple(out)


def _projection(a: Shape, b: Shape) -> tuple[int, ...]:
    """Per axis the smallest stride s with ⌈a/s⌉ = b, 0 when none (a 1×1 conv's rule)."""
    if len(a) != 3 or len(b) != 3:
        return ()
    out = []
    for n, m in zip(a[1:], b[1:]):
        s = -(-n // m) if m >= 1 else 0
        out.append(s if s and -(-n // s) == m else 0)
    return tuple(out)


def record(g: Recorder, error: ShapeError | None) -> Program:
    index = {"input": 0, **{x.name: i + 1 for i, x in enumerate(g.layers)}}
    steps = [_step(x.name, x.kind, x.args, x.inputs, x.loc, index) for x in g.layers]
    complete = error is None
    if g.attempted is not None and all(i in index for i in g.attempted[3]):
        name, kind, args, inputs, loc = g.attempted
        steps.append(_step(name, kind, args, inputs, loc, index))
    elif not complete:
        steps = []  # the lowering itself refused (not a layer): never replayed
    shapes = [g.input_shape, *(x.out_shape for x in g.layers)]
    queries = [(pos, index[name]) for pos, name in g.queries]
    by_size = any(st.kind.name.startswith("adaptive") and pair(st.args["size"]) != (1, 1)
                  for st in steps)
    return Program(steps, queries, shapes, g, complete, by_size)


def _step(name: str, kind_name: str, args: Args, inputs: tuple[str, ...], loc: Loc | None,
          index: dict[str, int]) -> Step:
    kind = lookup(kind_name)
    assert kind is not None
    return Step(name, kind, args, tuple(index[i] for i in inputs), loc)


Detail = list[tuple[Step, list[Shape], Shape, int]]  # per step: inputs, output, MACs


def replay(prog: Program, h: int, w: int, detail: Detail | None = None) -> Outcome | None:
    """The outcome at H×W if the program is the one the lowering would build there, else None;
    `detail` receives every step's shapes and MACs."""
    shapes: list[Shape] = [(prog.shapes[0][0], h, w)]
    params = macs = acts = 0
    drops: list[str] = []
    scratch = Graph((1, 1, 1))
    for i, st in enumerate(prog.steps):
        ins = [shapes[j] for j in st.inputs]
        msg = None
        try:
            out = st.kind.out_shape(st.args, ins)
            if any(d < 1 for d in out):
                msg = f"{st.kind.name} gives an empty output {fmt_shape(out)}"
        except ValueError as e:
            msg = f"{st.kind.name} on {fmt_shape(ins[0])}: {e}"
        if msg is not None:
            if prog.key(shapes, i) != prog.key(prog.shapes, i):
                return None
            return Outcome(h, w, str(ShapeError(st.name, msg, st.loc)), st.name, st.kind.join)
        shapes.append(out)
        params += st.kind.params(st.args, ins, out)
        m = st.kind.macs(st.args, ins, out)
        macs += m
        if detail is not None:
            detail.append((st, ins, out, m))
        acts += numel(out)
        if st.kind.window:
            layer = Layer(st.name, st.kind.name, st.args, (), ins, out, _NO_RF)
            scratch._floor_lint(st.kind, layer)
            if scratch.floor_warnings:
                drops.append(st.name)
                scratch.floor_warnings.clear()
    if not prog.complete or prog.key(shapes) != prog.key(prog.shapes):
        return None
    return Outcome(h, w, None, None, False, params, macs, acts, tuple(drops), _aligned(prog.graph))


def _aligned(g: Graph) -> bool:
    return not any(x.code == "misaligned" for x in g.warnings())


def lower_at(lower: Lower, shape: Shape, name: str) -> tuple[Outcome, Program]:
    """Lower the spec afresh at one size (the engine in full)."""
    g = Recorder(shape, name)
    try:
        lower(g)
    except ShapeError as e:
        return Outcome(shape[1], shape[2], str(e), e.layer, _at_join(g)), record(g, e)
    t = g.totals()
    drops = tuple(dict.fromkeys(x.layer for x in g.floor_warnings))
    out = Outcome(shape[1], shape[2], None, None, False, t.params, t.macs, t.activations, drops,
                  _aligned(g))
    return out, record(g, None)


def _at_join(g: Recorder) -> bool:
    if g.attempted is None:
        return False
    kind = lookup(g.attempted[1])
    return kind is not None and kind.join


@dataclass
class Scan:
    """Outcomes over the sizes scanned, in order, and how they were found."""

    name: str
    channels: int
    outcomes: list[Outcome]
    programs: list[Program] = field(default_factory=list)
    lowered: int = 0  # sizes lowered in full (the others replayed a program)

    @property
    def running(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.runs]


def scan(lower: Lower, name: str, channels: int, sizes: Iterable[tuple[int, int]],
         replayable: bool = True) -> Scan:
    """Every size through the engine: replayed where a kept program applies, else lowered."""
    sizes = list(sizes)
    if len(sizes) > MAX_SIZES:
        raise CnncalcError(f"{len(sizes):,} sizes to scan; at most {MAX_SIZES:,} are scanned",
                           hint="narrow the range or give it a step, e.g. 32..1024:8")
    result = Scan(name, channels, [])
    for h, w in sizes:
        outcome = None
        if replayable:
            for prog in result.programs:
                if prog.rf_by_size or not prog.steps:
                    continue
                outcome = replay(prog, h, w)
                if outcome is not None:
                    break
        if outcome is None:
            outcome, prog = lower_at(lower, (channels, h, w), name)
            result.lowered += 1
            if replayable:
                result.programs.insert(0, prog)
        result.outcomes.append(outcome)
    return result


def program_at(result: Scan, lower: Lower, shape: Shape) -> tuple[Outcome, Program]:
    """The outcome at one size and the program that gives it (kept, or lowered afresh)."""
    for prog in result.programs:
        if prog.complete and not prog.rf_by_size:
            out = replay(prog, shape[1], shape[2])
            if out is not None:
                return out, prog
    return lower_at(lower, shape, result.name)
