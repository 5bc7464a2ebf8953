"""Measuring the effective receptive field (Luo et al. 2016; the protocol of RepLKNet's `erf/`).

The gradient of the chosen layer's centre unit (summed over its channels) with respect to the
input, over N random inputs, aggregated per pixel: |g| (default) or the positive part max(g, 0)
(what RepLKNet did), summed over input channels and averaged over samples. The samples are
independent, so a chunk of them goes through one forward and one backward pass
(`unit_gradient`); chunks bound the memory. The model is in eval mode.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from cnncalc.core.engine import Graph
from cnncalc.core.erf_theory import UNIFORM, NoClosedForm, Spread, spread
from cnncalc.core.errors import BackendError, CnncalcError, did_you_mean
from cnncalc.core.measured import THRESHOLDS, Area, Erf, ErfSeries
from cnncalc.core.optional import require_torch
from cnncalc.core.partial import rf_unknown, unmapped_sources
from cnncalc.core.rf import num
from cnncalc.measure.build import GraphNet
from cnncalc.measure.device import out_of_memory, reserve, synchronize
from cnncalc.measure.gradient import (
    averaging_weights,
    centre,
    constant_weights,
    unit_gradient,
)

INITS = ("default", "uniform", "constant")
AGGREGATES = ("abs", "positive")
INPUTS = ("randn", "ones")
CONSTANT = 1.0  # --init constant: every weight (Luo's all-ones kernels)
MEMORY_BUDGET = 2 << 30  # bytes a chunk may use on CPU, estimated from the engine's activations

Progress = Callable[[int, int], None]



def default_layer(g: Graph) -> str:
    """The last layer whose output still has spatial extent (more than one unit)."""
    for x in reversed(g.layers):
        if len(x.out_shape) == len(g.input_shape) and math.prod(x.out_shape[1:]) > 1:
            return x.name
    raise CnncalcError(f"{g.name} has no layer with spatial extent")


def check_layer(g: Graph, name: str) -> None:
    x = g.nodes.get(name)
    if x is None or name == "input":
        raise CnncalcError(f"no layer named {name!r} in {g.name}",
                           hint=did_you_mean(name, [y.name for y in g.layers]))
    if len(x.out_shape) != len(g.input_shape):
        raise CnncalcError(f"layer {name} has no spatial extent (output {x.out_shape}); "
                           "pick a layer with a map (C×L, C×H×W or C×T×H×W)")


def init_weights(net: GraphNet, mode: str) -> GraphNet:
    """default: torch's initialisation. uniform: each conv/linear weight 1/fan_in (an averaging
    kernel), norms the identity, biases zero. constant: every weight CONSTANT, biases zero."""
    if mode not in INITS:
        raise CnncalcError(f"unknown init {mode!r}; choose one of {', '.join(INITS)}")
    if mode == "uniform":
        return averaging_weights(net)
    return net if mode == "default" else constant_weights(net, CONSTANT)


def own_weights(net: Any, init: str | None, linear: bool, seed: int) -> Any:
    """A given net with its own weights, or a copy re-initialised as `init` asks (`default`:
    each submodule's `reset_parameters`, seeded)."""
    import copy

    if linear:
        raise CnncalcError("--linear rebuilds the network from its graph: it cannot keep a "
                           "module's own weights (drop --linear, or measure the spec)")
    if init is None:
        return net
    if init not in INITS:
        raise CnncalcError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    net = copy.deepcopy(net)
    if init == "default":
        torch = require_torch()
        torch.manual_seed(seed)
        for sub in net.modules():
            if sub is not net and hasattr(sub, "reset_parameters"):
                sub.reset_parameters()
        return net
    return init_weights(net, init)


def auto_chunk(g: Graph, samples: int, device: Any) -> int:
    """Samples per pass so that activations (forward kept for backward, about 3× the outputs)
    fit MEMORY_BUDGET on CPU or half the free memory of a GPU."""
    per_sample = max(3 * g.totals().activation_bytes, 1)
    budget = MEMORY_BUDGET
    if getattr(device, "type", "cpu") == "cuda":
        free, _ = require_torch().cuda.mem_get_info(device)
        budget = free // 2
    return max(1, min(samples, budget // per_sample))


def gradient_map(net: GraphNet, layer: str, shape: tuple[int, ...], samples: int,
                 chunk: int, device: Any, seed: int = 0, aggregate: str = "abs",
                 inputs: str = "randn", dtype: Any = None,
                 progress: Progress | None = None, images: Any = None) -> Any:
    """The aggregated gradient map (L, H×W or T×H×W) float64 on the CPU, averaged over
    `samples` inputs.

    Inputs are drawn one sample at a time from a seeded CPU generator, so the map does not
    depend on the chunk size or the device; or they are `images` (N×C×H×W, `samples` = N)."""
    torch = require_torch()
    if aggregate not in AGGREGATES:
        raise CnncalcError(f"unknown aggregate {aggregate!r}; choose abs or positive")
    dtype = dtype or torch.float32
    gen = torch.Generator().manual_seed(seed)
    net = net.to(device=device, dtype=dtype)
    total = torch.zeros(shape[1:], dtype=torch.float64, device=device)
    done = 0
    while done < samples:
        n = min(chunk, samples - done)
        if images is not None:
            x = images[done:done + n].to(dtype)
        elif inputs == "randn":
            x = torch.stack([torch.randn(shape, generator=gen, dtype=dtype) for _ in range(n)])
        else:
            x = torch.ones((n, *shape), dtype=dtype)
        with out_of_memory(f"at a chunk of {n} samples (try --chunk {max(n // 2, 1)})"):
            grad = unit_gradient(net, layer, x.to(device))
        part = grad.abs() if aggregate == "abs" else grad.clamp(min=0)
        total += part.sum(dim=(0, 1), dtype=torch.float64)
        done += n
        if progress:
            progress(done, samples)
    m = (total / samples).cpu()
    if not bool(torch.isfinite(m).all()):
        raise BackendError("the gradient overflowed; use --init uniform (averaging kernels)")
    if float(m.sum()) <= 0:
        raise BackendError(f"the gradient of {layer}'s centre unit is zero for every sample (a "
                           "dead ReLU?); try another --seed, more --samples or more channels")
    return m


def moments(m: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and σ per axis of the map normalised to a distribution (the Gaussian fit by
    moments: exact for the uniform-linear case, no iterations, no starting guess); any number
    of axes."""
    torch = require_torch()
    p = m / m.sum()
    out = []
    for axis in range(p.dim()):
        others = tuple(d for d in range(p.dim()) if d != axis)
        marginal = p.sum(dim=others) if others else p
        i = torch.arange(marginal.numel(), dtype=torch.float64)
        mu = float((marginal * i).sum())
        out.append((mu, float((marginal * (i - mu) ** 2).sum()) ** 0.5))
    return tuple(mu for mu, _ in out), tuple(s for _, s in out)


def areas(m: Any, c: tuple[int, ...]) -> list[Area]:
    """For each t in THRESHOLDS, the smallest square (an interval on one axis, a cube on
    three) centred on pixel c holding a share t of the map's total; None when it would leave
    the input first (or the map is zero, as log10(1 + x) of a map below 1e-16 is in float64)."""
    if m.dim() != 2:
        return _boxes(m, c)
    torch = require_torch()
    h, w = m.shape
    cum = torch.zeros(h + 1, w + 1, dtype=torch.float64)
    cum[1:, 1:] = m.cumsum(0).cumsum(1)
    total = float(cum[-1, -1])
    reach = min(c[0], c[1], h - 1 - c[0], w - 1 - c[1]) if total > 0 else -1
    shares = []
    for r in range(reach + 1):
        a, b, y, x = c[0] - r, c[0] + r + 1, c[1] - r, c[1] + r + 1
        shares.append(float(cum[b, x] - cum[a, x] - cum[b, y] + cum[a, y]) / total)
    out = []
    for t in THRESHOLDS:
        reached = next((r for r, s in enumerate(shares) if s >= t - 1e-12), None)
        side = None if reached is None else 2 * reached + 1
        out.append(Area(t, side, None if side is None else side * side / (h * w)))
    return out


def _boxes(m: Any, c: tuple[int, ...]) -> list[Area]:
    """`areas` on 1 or 3 axes: the share inside each centred box, summed directly."""
    total = float(m.sum())
    reach = min(min(x, n - 1 - x) for x, n in zip(c, m.shape)) if total > 0 else -1
    shares = [float(m[tuple(slice(x - r, x + r + 1) for x in c)].sum()) / total
              for r in range(reach + 1)]
    out = []
    for t in THRESHOLDS:
        reached = next((r for r, s in enumerate(shares) if s >= t - 1e-12), None)
        side = None if reached is None else 2 * reached + 1
        out.append(Area(t, side, None if side is None else side ** m.dim() / m.numel()))
    return out


def field_box(g: Graph, layer: str
              ) -> tuple[tuple[float, ...], tuple[float, ...], bool] | None:
    """Size and centre (input pixels) of the theoretical field of the layer's centre unit, and
    whether it reaches past the input; None when the field is unknown: the layer reads an op no
    layer kind maps (a PARTIAL trace), as `rf` shows `?` there."""
    if layer in rf_unknown(g):
        return None
    x = g.nodes[layer]
    f = x.rf.shown  # the field `rf` reports: a gate's global reach is not a box
    size: list[float] = []
    mid: list[float] = []
    clipped = False
    for axis, ax in enumerate(f.axes()):
        b = ax.bounds(centre(x.out_shape[1 + axis]))
        lo, hi = b if b else (0, -1)  # a unit that reads nothing
        clipped |= lo < 0 or hi > g.input_shape[1 + axis] - 1
        size.append(num(Fraction(hi - lo + 1)))  # whole pixels as an int, as `rf` prints them
        mid.append(float(lo + hi) / 2)
    return tuple(size), tuple(mid), clipped


def check_memory(g: Graph, device: Any, init: str | None) -> None:
    """Refuse a map whose forward and backward would not fit (float64 with --init constant)."""
    reserve(g, 1, device, "the ERF", backward=True, itemsize=8 if init == "constant" else 4)


def closed_form(g: Graph, layer: str, init: str) -> tuple[Spread | None, str]:
    """The closed-form measure of the centre unit, or None and why not."""
    try:
        s = spread(g, layer, CONSTANT if init == "constant" else UNIFORM)
    except NoClosedForm as e:
        return None, str(e)
    note = {"default": "closed form for uniform kernels; measured with torch's random init",
            "weights": "closed form for uniform kernels; measured with the module's own "
                       "weights"}.get(init, "")
    return s, note


def measure_erf(g: Graph, layer: str | None = None, samples: int = 32, init: str | None = None,
                linear: bool = False, seed: int = 0, device: Any = "cpu",
                chunk: int | None = None, aggregate: str = "abs", inputs: str = "randn",
                progress: Progress | None = None, net: Any = None, images: Any = None
                ) -> Erf:
    """Measure the ERF of `net` (the user's own module, `measure.module.ModuleNet`, or a spec's
    net with loaded weights; by default the spec's net built with torch's initialisation) and
    put the theory beside it. With a `net`, its own weights are measured ("weights") unless
    `init` asks for others, which are set on a copy. `images` (N×C×H×W, `measure.images`)
    replace the random inputs: the average is over the N images."""
    torch = require_torch()
    layer = layer or default_layer(g)
    check_layer(g, layer)
    if inputs not in INPUTS and images is None:
        raise CnncalcError(f"unknown inputs {inputs!r}; choose randn or ones")
    if images is not None:
        samples, inputs = len(images), "images"
    dev = torch.device(device) if isinstance(device, str) else device
    check_memory(g, dev, init)
    torch.manual_seed(seed)
    if net is None:
        from cnncalc.measure.build import build_module

        init = init or "default"
        with out_of_memory("building the network"):
            net = init_weights(build_module(g, linear), init)
    else:
        net = own_weights(net, init, linear, seed)
        init = init or "weights"
    chunk = chunk or auto_chunk(g, samples, dev)
    dtype = torch.float64 if init == "constant" else torch.float32
    if init == "weights":
        dtype = next((p.dtype for p in net.parameters()), torch.float32)
    t0 = time.perf_counter()
    m = gradient_map(net, layer, g.input_shape, samples, chunk, dev, seed, aggregate, inputs,
                     dtype, progress, images)
    synchronize(dev)
    seconds = time.perf_counter() - t0
    mean, sigma = moments(m)
    size, mid, clipped = field_box(g, layer) or (None, None, None)
    theory, note = closed_form(g, layer, init)
    # the squares are centred on the theoretical field's centre, else on the measured one
    c = tuple(min(max(round(x), 0), n - 1) for x, n in zip(mid or mean, m.shape))
    return Erf(g.name, layer, g.input_shape, samples, init, linear, aggregate, inputs, str(dev),
               seconds, size, mid, clipped, mean, sigma, theory, note, areas(m, c),
               areas(torch.log10(1 + m), c), picture(m, c), tuple(map(str, g.partial)),
               tuple(unmapped_sources(g, layer)) if size is None else ())


def picture(m: Any, c: tuple[int, ...]) -> list[list[float]]:
    """The map as rows: a 2-D map itself; a 1-D one as one row (the curve); a 3-D one as its
    centre frame (the H×W slice through the field's centre)."""
    if m.dim() == 1:
        return [m.tolist()]
    return list(m.tolist() if m.dim() == 2 else m[c[0]].tolist())


DEPTHS = "5,10,20,40"  # --stack's default depths: Luo's figure 1


def check_request(spec: str | None, stack: str | None, depths: str | None, relu: bool,
                  png: str | None) -> None:
    """The rules of `cnncalc erf`'s options: a spec or a stack, not both; --depths and --relu
    only with a stack; a figure (--png) only of one map."""
    if (spec is None) == (stack is None):
        raise CnncalcError("give a spec (file or zoo name) or --stack 3x3, not both"
                           if spec else "give a spec (file or zoo name) or --stack 3x3")
    if stack is None and (depths or relu):
        raise CnncalcError("--depths and --relu go with --stack")
    if stack is not None and png:
        raise CnncalcError("--png draws one map: give a spec, not --stack")


def parse_depths(text: str | None) -> list[int]:
    """'5,10,20,40' (the default when None) -> [5, 10, 20, 40]: positive integers."""
    text = text or DEPTHS
    try:
        depths = [int(d) for d in text.split(",")]
    except ValueError:
        depths = []
    if not depths or min(depths) < 1:
        raise CnncalcError(f"bad --depths {text!r}: write depths like 5,10,20,40")
    return depths


def power_law(depths: list[int], sigmas: list[float]) -> float:
    """The exponent a of σ ∝ nᵃ, least squares on log σ against log n (Luo: a = 1/2)."""
    xs, ys = [math.log(n) for n in depths], [math.log(s) for s in sigmas]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    if den == 0:
        raise CnncalcError("a fitted exponent needs two or more different depths")
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den


def growth_factor(depths: list[int], sigmas: list[float]) -> float:
    """The factor f of σ ∝ fⁿ, least squares on log σ against n (a strided stack: f → the
    stride as n grows)."""
    xs, ys = [float(n) for n in depths], [math.log(s) for s in sigmas]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    if den == 0:
        raise CnncalcError("a fitted factor needs two or more different depths")
    return math.exp(sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den)


def jump_factor(g: Graph, layer: str, depth: int) -> float:
    """What each of the `depth` repetitions of a stack's item multiplies the jump by, read off
    the measured layer's field: jump^(1/depth) on the axis that grows most."""
    jump = max(float(ax.jump) for ax in g.nodes[layer].rf.max.axes())
    return round(jump ** (1 / depth), 9) if jump > 0 else 1.0


def check_stack_memory(graphs: list[Graph], depths: list[int], device: Any,
                       init: str | None) -> None:
    """Refuse, before measuring any depth, a series one of whose depths would not fit, naming
    the depths that do (the input of a stack grows with its field: a strided stack's grows
    exponentially)."""
    torch = require_torch()
    dev = torch.device(device) if isinstance(device, str) else device
    fits: list[int] = []
    failed: tuple[int, BackendError] | None = None
    for g, n in zip(graphs, depths):
        try:
            check_memory(g, dev, init)
            fits.append(n)
        except BackendError as error:
            failed = failed or (n, error)
    if failed:
        n, e = failed
        hint = (f"give --depths {','.join(map(str, fits))}, the depths that fit, or smaller ones"
                if fits else "give smaller --depths, e.g. --depths 2,3,4")
        raise BackendError(f"depth {n}: {e.message}", hint=hint) from None


def stack_series(graphs: list[Graph], depths: list[int], **options: Any) -> ErfSeries:
    """Measure each depth's graph; how the measured and closed-form σ grow with depth (None
    with fewer than two depths): a power of the depth for a stride-1 item, a factor a layer
    for an item whose strides multiply the jump."""
    check_stack_memory(graphs, depths, options.get("device", "cpu"), options.get("init"))
    series = [measure_erf(g, **options) for g in graphs]
    deepest = max(range(len(depths)), key=depths.__getitem__)
    step = jump_factor(graphs[deepest], series[deepest].layer, depths[deepest])
    if len(set(depths)) < 2:
        return ErfSeries(series, None, None, step)
    theory = [e.theory_sigma for e in series]
    fit = power_law if step == 1 else growth_factor
    measured = fit(depths, [max(e.sigma) for e in series])
    fitted = fit(depths, [max(t) for t in theory if t]) if all(theory) else None
    if step == 1:
        return ErfSeries(series, measured, fitted, step)
    return ErfSeries(series, None, None, step, measured, fitted)
