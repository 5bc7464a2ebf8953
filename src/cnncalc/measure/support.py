"""Receptive fields measured by gradient support.

The net is built linear (`build_module(graph, linear=True)`: activations and norms become
identities, max pools average pools of the same geometry), every conv and linear weight is set to
1/fan-in (an average: positive, so nothing cancels, and no value overflows), biases to zero, adds
and multiplies become means of their inputs (with positive values a·b, a + b and their mean have
the same gradient support; a product of squeeze-and-excitation paths would overflow), and it runs
in float64 on an all-ones input. The support of the gradient of a unit with respect to the
input is then exactly that unit's theoretical field, provided the field does not touch the border.

Cost: one forward and one backward per measured layer, at an input just large enough for the
field. Each layer is measured at the smallest size of a ladder (the spec's input, 32, 64, …, 2048)
at which the layers it depends on are valid and its units' fields lie inside the input (a field
that still touches the border is measured again at the next size), so early layers are measured
on small inputs. A field depends on the input size only through adaptive pooling; the analytic
field it is compared with is the engine's at that same size.

Units: one backward per unit (i + k, j + k), k = 0..q, after one forward, where (i, j) is the
unit whose field is centred nearest the middle of the input (or the next one that has a field:
after a transposed conv with k < s some units read nothing, and their support must be empty) and
q the period of the layer's fields in units, from the engine's exact lattice of fields (1 for
plain strided stacks; upsampling and adaptive pooling make it larger, see `Axis.q`). The
size is the largest support over one period (units 0..q−1), matching the engine's "largest over
units"; the jump is the shift of the support from unit 0 to unit q, divided by q. A global field
is measured at the spec's own input (on C×N tokens after attention: the last token alone): its
support must span exactly the input pixels that reach the layer (`reach`): usually every pixel;
fewer when a floor drops the last rows or columns (squeezenet's conv1 never reads pixel 223).

A unit the engine gives a field but whose gradient is zero everywhere (no input pixel reaches it)
is a measured disagreement (status "empty"), never a field touching the border.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.errors import CnncalcError
from cnncalc.core.layers.registry import lookup
from cnncalc.core.measured import LADDER, MAX_PERIOD, MEMORY, FieldResult, Span
from cnncalc.core.optional import require_torch
from cnncalc.core.rf import Axis, Field
from cnncalc.measure.build import Mean, build_module
from cnncalc.measure.gradient import averaging_weights, centre


def select(g: Graph, how: str) -> list[str]:
    """The layers whose field is measured. 'stages': the last layer of each top-level group
    (every layer of a flat spec) and every layer that resamples (transposed conv, upsample,
    adaptive pooling); 'all': every layer; 'none': no layer."""
    if how == "all":
        return [x.name for x in g.layers]
    if how == "none":
        return []
    last = {x.name.split(".")[0]: x.name for x in g.layers}
    def resamples(x: Layer) -> bool:
        kind = lookup(x.kind)  # None for an unmapped op of a traced model
        return kind is not None and kind.resamples

    return [x.name for x in g.layers if x.name in last.values() or resamples(x)]


Sizes = tuple[int, ...]  # the spatial sizes of an input: (L,), (H, W) or (T, H, W)


def none(rank: int) -> Span:
    """The empty span on every axis."""
    return ((0, -1),) * rank


def lattice_span(f: Field, hw: Sizes) -> Span:
    """Per axis, the union (first, last pixel) of the fields of every unit of the map `f`
    belongs to (`f.grid` units; one for a global field, whose bounds are already the union),
    clipped to the input. The lattice ignores padding: a unit at the border may be given pixels
    that only padding reaches, which `reach` corrects."""
    out = []
    for ax, units, n in zip(f.axes(), f.grid, hw):
        q = ax.q
        firsts = [b for b in map(ax.bounds, range(min(q, units))) if b is not None]
        lasts = [b for b in map(ax.bounds, range(max(0, units - q), units)) if b is not None]
        if not firsts or not lasts:
            out.append((0, -1))
            continue
        lo = max(0, math.ceil(min(b[0] for b in firsts)))
        hi = min(n - 1, math.floor(max(b[1] for b in lasts)))
        out.append((lo, hi) if lo <= hi else (0, -1))
    return tuple(out)


def reach(g: Graph) -> dict[str, Span]:
    """Per layer, the first and last input row and column that reach any of its units. A layer
    is reached by what reaches its inputs (their union), cut to the union of its own units'
    fields: a floor that drops the last rows of a map (squeezenet's conv1, k3 s2 on 224, never
    reads pixel 223) cuts every layer after it, while padding that makes the lattice reach past
    the map adds nothing."""
    sizes = g.input_shape[1:]
    rank = len(sizes)
    out: dict[str, Span] = {"input": tuple((0, n - 1) for n in sizes)}
    for x in g.layers:
        ups = [out[i] for i in x.inputs if i in out and not empty_span(out[i])]
        if not ups:
            out[x.name] = none(rank)
            continue
        span = [(min(u[a][0] for u in ups), max(u[a][1] for u in ups)) for a in range(rank)]
        own = lattice_span(x.rf.max, sizes)
        span = [(max(s[0], o[0]), min(s[1], o[1])) for s, o in zip(span, own)]
        out[x.name] = tuple(span) if all(lo <= hi for lo, hi in span) else none(rank)
    return out


def empty_span(s: Span) -> bool:
    return any(hi < lo for lo, hi in s)


def ancestors(g: Graph, names: list[str]) -> set[str]:
    todo, seen = list(names), set()
    while todo:
        n = todo.pop()
        if n in seen or n == "input":
            continue
        seen.add(n)
        todo.extend(g.nodes[n].inputs)
    return seen


def graph_at(g: Graph, hw: Sizes, only: set[str] | None = None) -> Graph:
    """The same layers on an input of these spatial sizes; layers whose shapes fail there (or
    outside `only`) are left out, and so is everything that depends on them."""
    out = Graph((g.input_shape[0], *hw), g.name)
    for x in g.layers:
        if (only is not None and x.name not in only) or any(i not in out.nodes for i in x.inputs):
            continue
        try:
            out.add(x.name, x.kind, x.args, x.inputs)
        except CnncalcError:
            continue
    return out


def period(g: Graph, name: str) -> int:
    """Units measured past the first: one period on every axis."""
    f = g.nodes[name].rf.max
    return math.lcm(*(ax.q for ax in f.axes()))


def first_unit(ax: Axis, n: int, units: int, q: int) -> int:
    """The unit whose field (with the next q) is centred nearest the middle of n input pixels;
    the next one that has a field, when it has none (a transposed conv with k < s)."""
    if ax.period == 0:  # a constant axis: every unit has the same field
        return max(0, (units - 1) // 2)
    ideal = ((Fraction(n - 1, 2) - ax.start) / ax.jump) - Fraction(q, 2)
    u = max(0, min(units - 1 - q, round(ideal)))
    while ax.bounds(u) is None:
        u += 1
    return u


def units_at(x: Layer, hw: Sizes, q: int) -> tuple[int, ...]:
    f = x.rf.max
    return tuple(first_unit(ax, n, units, q) for ax, n, units in
                 zip(f.axes(), hw, x.out_shape[1:]))


def fits(x: Layer, hw: Sizes, q: int) -> bool:
    """The fields of the measured units lie inside the input, one pixel from the border."""
    f = x.rf.max
    for ax, n, units, u in zip(f.axes(), hw, x.out_shape[1:], units_at(x, hw, q)):
        if u + q >= units:
            return False
        bs = [b for b in map(ax.bounds, range(u, u + q + 1)) if b is not None]
        if min(b[0] for b in bs) < 1 or max(b[1] for b in bs) > n - 2:
            return False
    return True


def plan(g: Graph, names: list[str], above: int = 0
         ) -> tuple[dict[Sizes, list[str]], dict[str, FieldResult]]:
    """Which input size each layer is measured at (larger than `above` pixels a side, after a
    field touched the border); and the layers that cannot be measured."""
    own, maps = g.input_shape[1:], len(g.input_shape)
    ladder = {own, *((n,) * len(own) for n in LADDER)}
    sizes = [s for s in sorted(ladder, key=max) if min(s) > above]
    pending, where = list(names), {}
    skipped: dict[str, FieldResult] = {}
    for x in (g.nodes[n] for n in names):
        f = x.rf.max
        if not above and (f.is_global or (clipped(f) and len(x.out_shape) == maps)):
            where[x.name] = own
            pending.remove(x.name)
        elif len(x.out_shape) != maps:
            skipped[x.name] = FieldResult("no-spatial", analytic=f)
            pending.remove(x.name)
        elif period(g, x.name) > MAX_PERIOD:
            skipped[x.name] = FieldResult("period", analytic=f)
            pending.remove(x.name)
    for hw in sizes:
        if not pending:
            break
        at = graph_at(g, hw, ancestors(g, pending))
        for name in list(pending):
            if name in at.nodes and fits(at.nodes[name], hw, period(at, name)):
                pending.remove(name)
                if memory(at, name) > MEMORY:
                    skipped[name] = FieldResult("memory", input=hw)
                else:
                    where[name] = hw
    for name in pending:  # never inside the ladder: per unit at the spec's input, clipped
        if name in g.nodes and memory(g, name) <= MEMORY:
            where[name] = own
        else:
            skipped[name] = FieldResult("too-large")
    groups: dict[Sizes, list[str]] = {}
    for name in names:
        if name in where:
            groups.setdefault(where[name], []).append(name)
    return groups, skipped


def memory(g: Graph, name: str) -> int:
    """Bytes of float64 values the forward keeps for the backward: an estimate of two values
    (an output and a saved input) per output value of every layer it depends on."""
    values = sum(math.prod(g.nodes[a].out_shape) for a in ancestors(g, [name]))
    return values * 8 * 2


def support(grad: Any) -> Span:
    """Per spatial axis, the (first, last) index with a non-zero gradient, of one C×L, C×H×W or
    C×T×H×W map (rows and columns on 2-D)."""
    rank = grad.dim() - 1
    magnitude = grad.abs()
    out = []
    for a in range(rank):
        hit = (magnitude.sum(dim=tuple(d for d in range(rank + 1) if d != a + 1)) > 0)
        idx = hit.nonzero().flatten()
        if len(idx) == 0:
            return none(rank)
        out.append((int(idx.min()), int(idx.max())))
    return tuple(out)


def measure_group(g: Graph, hw: Sizes, names: list[str], device: Any
                  ) -> dict[str, FieldResult]:
    """One forward at H×W for the layers in `names`, then one backward per measured unit."""
    torch = require_torch()
    sub = graph_at(g, hw, ancestors(g, names))
    mean = {"add": lambda a, i, o: Mean(), "mul": lambda a, i, o: Mean()}
    net = averaging_weights(build_module(sub, linear=True, overrides=mean))
    net = net.to(device=device, dtype=torch.float64)
    x = torch.ones(1, *sub.input_shape, dtype=torch.float64, device=device, requires_grad=True)
    results, reached = {}, reach(sub)
    with torch.enable_grad():
        outs = net.run(x, keep=names)
        for name in names:
            layer = sub.nodes[name]
            f = layer.rf.max
            if len(layer.out_shape) == len(sub.input_shape) and not f.is_global and (
                    clipped(f) or not fits(layer, hw, period(sub, name))):
                results[name] = read_clipped(outs[name], x, layer, hw, reached[name])
                continue
            q = period(sub, name)
            grads = [torch.autograd.grad(u, x, retain_graph=True)[0][0]
                     for u in units(outs[name], layer, hw, q)]
            results[name] = read_field(torch.stack(grads), layer, hw, q,
                                       bool(sub.floor_warnings), reached.get(name))
    return results


def clipped(f: Field) -> bool:
    """A field measured unit by unit, clipped to the input: global along one axis only, or
    constant along one (a gate broadcast over the map, jump 0)."""
    return not f.is_global and any(g or ax.period == 0 for g, ax in zip(f.glob, f.axes()))


def clipped_span(layer: Layer, unit: tuple[int, ...], hw: Sizes, reached: Span) -> Span:
    """The engine's field of one unit, per axis clipped to the input and to the pixels that
    reach the layer at all (the lattice extends into the padding); an axis global for the
    layer spans what reaches it."""
    f = layer.rf.max
    out = []
    for a, (ax, i, n) in enumerate(zip(f.axes(), unit, hw)):
        lo_r, hi_r = reached[a]
        if f.glob[a]:
            out.append((lo_r, hi_r))
            continue
        b = ax.bounds(i)
        if b is None:
            return none(len(hw))
        lo, hi = max(0, math.ceil(b[0]), lo_r), min(n - 1, math.floor(b[1]), hi_r)
        if lo > hi:
            return none(len(hw))
        out.append((lo, hi))
    return tuple(out)


def inside(layer: Layer, unit: tuple[int, ...], hw: Sizes) -> bool:
    """The unit's field lies inside the input on every local axis: its clipped field is then
    exact. At the border it is the hull of what the unit reads, an upper bound: a dilated
    window whose outer tap falls in the padding reads fewer pixels than its hull."""
    f = layer.rf.max
    for a, (ax, i, n) in enumerate(zip(f.axes(), unit, hw)):
        b = ax.bounds(i)
        if not f.glob[a] and b is not None and (b[0] < 0 or b[1] > n - 1):
            return False
    return True


def span_agrees(measured: Span, want: Span, exact: bool) -> bool:
    """Equal when `exact`; else the measured support within the engine's (both empty or not)."""
    if exact or empty_span(measured) or empty_span(want):
        return measured == want
    return all(w[0] <= m[0] and m[1] <= w[1] for m, w in zip(measured, want))


def read_clipped(out: Any, x: Any, layer: Layer, hw: Sizes, reached: Span) -> FieldResult:
    """Corner, centre and last unit: each gradient support against `clipped_span`; the first
    that differs (else the centre) is the result."""
    torch = require_torch()
    grid = layer.out_shape[1:]
    picks = list(dict.fromkeys([tuple((n - 1) // 2 for n in grid), (0,) * len(grid),
                                tuple(n - 1 for n in grid)]))
    found = []
    for unit in picks:
        (grad,) = torch.autograd.grad(out[at(unit)].sum(), x, retain_graph=True)
        if not bool(grad.isfinite().all()):
            return FieldResult("nonfinite", hw, layer.rf.max)
        span = support(grad[0])
        span = none(len(grid)) if empty_span(span) else span
        found.append((span, clipped_span(layer, unit, hw, reached), inside(layer, unit, hw)))
    span, want, _ = next((x for x in found if not span_agrees(*x)), found[0])
    size = tuple(hi - lo + 1 for lo, hi in span)
    return FieldResult("clipped", hw, layer.rf.max, size, span=span,
                       expected=span if all(span_agrees(*x) for x in found) else want)


def units(out: Any, layer: Layer, hw: Sizes, q: int) -> list[Any]:
    """The measured units, each summed over channels: (i + k, j + k) for k = 0..q, (i, j) the
    unit centred nearest the middle of the input (per axis, on 1 or 3 axes too); a vector: all
    its features; a global field: the centre unit; C×N tokens with a global field (after
    attention): the last token alone, whose own patch lies in the input's corner, so that its
    support covering the input shows that this one token sees every patch."""
    f = layer.rf.max
    if out.dim() == 3 and f.is_global and len(hw) != 1:
        return [out[0, :, -1].sum()]
    if out.dim() != len(hw) + 2:
        return [out[0].sum()]
    if f.is_global:
        return [out[at(tuple(centre(n) for n in out.shape[2:]))].sum()]
    first = units_at(layer, hw, q)
    return [out[at(tuple(i + k for i in first))].sum() for k in range(q + 1)]


def at(unit: tuple[int, ...]) -> tuple[Any, ...]:
    """The index of one unit, every channel, of sample 0 of an N×C×… map."""
    return (0, slice(None), *unit)


def read_field(grad: Any, layer: Layer, hw: Sizes, q: int, floor_drop: bool = False,
               expected: Span | None = None) -> FieldResult:
    """The field read off the gradients (one C×H×W map per measured unit). `expected`: for a
    global field, the input pixels that reach the layer (`reach`); by default the union of the
    layer's units' fields clipped to the input."""
    f = layer.rf.max
    if not bool(grad.isfinite().all()):
        return FieldResult("nonfinite", hw, f)  # an overflow: never read as an empty support
    if f.is_global:
        want = expected if expected is not None else lattice_span(f, hw)
        span = support(grad[0])
        if empty_span(span) and not empty_span(want):
            return FieldResult("empty", hw, f)
        covered = bool((grad[0].abs().sum(dim=0) > 0).all())
        whole = tuple((0, n - 1) for n in hw)
        return FieldResult("global", hw, f, tuple(hi - lo + 1 for lo, hi in span),
                           covers_input=covered,
                           floor_drop=floor_drop and want != whole, span=span, expected=want)
    spans = [support(grad[k]) for k in range(q + 1)]
    first = units_at(layer, hw, q)
    empty = [any(ax.bounds(i + k) is None for ax, i in zip(f.axes(), first))
             for k in range(q + 1)]
    if any(empty_span(s) and not e for s, e in zip(spans, empty)):
        return FieldResult("empty", hw, f)  # the engine gives the unit a field; torch none
    if any(lo <= 0 or hi >= n - 1  # the border test, on the supports that are not empty
           for s in spans if not empty_span(s) for (lo, hi), n in zip(s, hw)):
        return FieldResult("border", hw, f)
    size = tuple(max(s[a][1] - s[a][0] + 1 for s in spans[:q]) for a in range(len(hw)))
    jump = tuple(Fraction(spans[q][a][0] - spans[0][a][0], q) for a in range(len(hw)))
    return FieldResult("ok", hw, f, size, jump)


def measure_fields(g: Graph, names: list[str], device: Any,
                   progress: Callable[[int, int], None] | None = None) -> dict[str, FieldResult]:
    """The measured field of each named layer (or why it was not measured); `progress(done,
    total)` after each group of layers measured together (a forward and a backward each)."""
    results: dict[str, FieldResult] = {}
    todo, above = list(names), 0
    while todo:
        groups, skipped = plan(g, todo, above)
        results.update(skipped)
        todo = []
        for hw, group in sorted(groups.items(), key=lambda kv: max(kv[0])):
            measured = measure_group(g, hw, group, device)
            results.update(measured)
            if progress is not None:
                progress(len([n for n in names if n in results]), len(names))
            todo += [n for n, r in measured.items() if r.status == "border"]
        above = max((min(hw) for hw, grp in groups.items() if set(grp) & set(todo)), default=0)
    return results
