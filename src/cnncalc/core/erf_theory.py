"""The closed-form effective receptive field of the linear network with uniform kernels.

NB (the derivation, also in docs/erf.md). With linear activations and every weight of a conv the
same positive value, the gradient of a unit with respect to the input is a non-negative measure
over input pixels: the convolution of the layers' kernels, each drawn on the input grid. Seen as
a distribution of an offset, a uniform k-tap kernel with dilation d at jump J (the distance in
input pixels between units of the layer's input) adds an independent offset uniform on
{0, d·J, …, (k−1)·d·J}, whose variance is J²·d²·(k²−1)/12; variances of independent offsets add,
so along a chain

    σ² = Σ_l J_l² · d_l² · (k_l² − 1) / 12        (per axis)

and by the central limit theorem the map tends to a Gaussian of that σ (Luo et al. 2016).
Average pooling (and max pooling, which the linear build turns into an average) is a uniform
kernel with weight 1/k². A residual add sums two measures: the result is the *mixture* of the
paths' distributions with weights equal to their masses (total gradient), so its variance is

    σ² = Σ_i w_i·(σ_i² + μ_i²) / Σ w_i − μ²,   μ = Σ w_i·μ_i / Σ w_i

with μ_i the centre of each path's field. Masses depend on the weights: `--init uniform` gives
each conv the weight 1/fan_in (an averaging kernel, mass preserved, so an identity shortcut and a
branch weigh about the same; batchnorm with its default statistics scales by 1/√(1 + eps));
`--init constant` gives every weight the same value c, so a conv multiplies the mass by c·fan_in
and long branches outweigh shortcuts.

We track, per channel of every tensor, the mass and, per axis, the mean and variance of the field
of the tensor's unit 0 — concatenation, channel splits and shuffles, grouped convs and residuals
all follow from sums of measures. Kinds that are not linear shift-invariant maps (multiply,
layer norm, upsampling, transposed convs, global pooling) have no closed form here. Standard
library only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.errors import CnncalcError
from cnncalc.core.layers.common import all_pads, kernel, per_axis
from cnncalc.core.layers.registry import all_kinds

UNIFORM = None  # a conv's weight is 1/fan_in; otherwise the float is every weight's value


class NoClosedForm(CnncalcError):
    """The graph has a layer the closed form cannot follow."""


@dataclass(frozen=True)
class Spread:
    """A non-negative measure over input pixels: mass, and per spatial axis (L; H, W; T, H, W)
    mean and variance."""

    mass: float
    mean: tuple[float, ...]
    var: tuple[float, ...]

    def scaled(self, factor: float) -> Spread:
        return Spread(self.mass * factor, self.mean, self.var)

    def shifted(self, mean: tuple[float, ...], var: tuple[float, ...],
                factor: float = 1.0) -> Spread:
        """Convolved with an independent offset of this mean and variance; mass × factor."""
        return Spread(self.mass * factor, tuple(a + b for a, b in zip(self.mean, mean)),
                      tuple(a + b for a, b in zip(self.var, var)))

    @property
    def sigma(self) -> tuple[float, ...]:
        return tuple(v ** 0.5 for v in self.var)


def mixture(parts: list[Spread]) -> Spread:
    """The sum of measures: masses add, means and variances mix with the masses as weights."""
    total = sum(p.mass for p in parts)
    if total <= 0:
        raise NoClosedForm("a sum of paths without weight")
    axes = []
    for a in range(len(parts[0].mean)):
        mu = sum(p.mass * p.mean[a] for p in parts) / total
        second = sum(p.mass * (p.var[a] + p.mean[a] ** 2) for p in parts) / total
        axes.append((mu, max(second - mu * mu, 0.0)))
    return Spread(total, tuple(m for m, _ in axes), tuple(v for _, v in axes))


def window(k: int, d: int, s: int, lo: int, jump: float) -> tuple[float, float]:
    """Mean (for unit 0) and variance of the offset a uniform k-tap window adds, in pixels."""
    return ((d * (k - 1) / 2 - lo) * jump, jump * jump * d * d * (k * k - 1) / 12)


Channels = list[Spread]
Jump = tuple[float, ...]  # per spatial axis
Rule = Callable[[Layer, list[Channels], Jump, "float | None"], Channels]


def _windowed(layer: Layer, ins: list[Channels], jump: Jump,
              factor: float) -> Channels:
    """Each channel convolved with the layer's window (per-channel: pools, depthwise parts)."""
    a, rank = layer.args, len(jump)
    k, s, d = kernel(a, rank)
    p = all_pads(a, rank)
    off = [window(k[x], d[x], s[x], p[x][0], jump[x]) for x in range(rank)]
    mean, var = tuple(m for m, _ in off), tuple(v for _, v in off)
    return [c.shifted(mean, var, factor) for c in ins[0]]


def _pad(layer: Layer, ins: list[Channels], jump: Jump, value: float | None) -> Channels:
    """A shift by the leading padding (the padded values are constants)."""
    p = all_pads(layer.args, len(jump))
    mean = tuple(-lo * j for (lo, _), j in zip(p, jump))
    return [c.shifted(mean, (0.0,) * len(jump)) for c in ins[0]]


def _conv(layer: Layer, ins: list[Channels], jump: Jump,
          value: float | None) -> Channels:
    a = layer.args
    groups, out = a["groups"], layer.out_shape[0]
    c_in = len(ins[0])
    taps = math.prod(per_axis(a["kernel_size"], len(jump)))
    fan_in = c_in // groups * taps
    v = 1.0 / fan_in if value is UNIFORM else value
    per_group = c_in // groups
    result: Channels = []
    for g in range(groups):
        summed = mixture(ins[0][g * per_group:(g + 1) * per_group])
        one = _windowed(layer, [[summed]], jump, v * taps)[0]
        result += [one] * (out // groups)
    return result


def _linear(layer: Layer, ins: list[Channels], jump: Jump,
            value: float | None) -> Channels:
    c_in = len(ins[0])
    v = 1.0 / c_in if value is UNIFORM else value
    return [mixture(ins[0]).scaled(v * c_in)] * layer.out_shape[0]


def _adaptive_avg(layer: Layer, ins: list[Channels], jump: Jump,
                  value: float | None) -> Channels:
    n, o = layer.in_shapes[0][1:], layer.out_shape[1:]
    if any(a % b for a, b in zip(n, o)) or set(o) == {1}:
        raise NoClosedForm(f"layer {layer.name}: adaptive pooling {'×'.join(map(str, n))} → "
                           f"{'×'.join(map(str, o))} has uneven windows")
    k = [a // b for a, b in zip(n, o)]
    off = [window(k[x], 1, k[x], 0, jump[x]) for x in range(len(k))]
    return [c.shifted(tuple(m for m, _ in off), tuple(v for _, v in off)) for c in ins[0]]


def _bn(layer: Layer, ins: list[Channels], jump: Jump,
        value: float | None) -> Channels:
    w = 1.0 if value is UNIFORM or not layer.args["affine"] else value
    return [c.scaled(w / (1.0 + layer.args["eps"]) ** 0.5) for c in ins[0]]


def _scale(layer: Layer, ins: list[Channels], jump: Jump,
           value: float | None) -> Channels:
    return [c.scaled(1.0 if value is UNIFORM else value) for c in ins[0]]


def _add(layer: Layer, ins: list[Channels], jump: Jump,
         value: float | None) -> Channels:
    return [mixture(list(cs)) for cs in zip(*ins)]


def _concat(layer: Layer, ins: list[Channels], jump: Jump,
            value: float | None) -> Channels:
    return [c for part in ins for c in part]


def _split(layer: Layer, ins: list[Channels], jump: Jump,
           value: float | None) -> Channels:
    a, c = layer.args, len(ins[0])
    sizes = a["sizes"] or [c // a["parts"]] * a["parts"]
    start = sum(sizes[:a["index"]])
    return ins[0][start:start + sizes[a["index"]]]


def _shuffle(layer: Layer, ins: list[Channels], jump: Jump,
             value: float | None) -> Channels:
    g, c = layer.args["groups"], len(ins[0])
    per = c // g  # torch's view(g, c/g).transpose: output j·g + i is input i·per + j
    return [ins[0][i * per + j] for j in range(per) for i in range(g)]


def _same(layer: Layer, ins: list[Channels], jump: Jump,
          value: float | None) -> Channels:
    return ins[0]


ACTIVATIONS = tuple(k for k, kind in all_kinds().items() if kind.category == "activation")

RULES: dict[str, Rule] = {
    "conv": _conv,
    "linear": _linear,
    "maxpool": lambda x, ins, j, v: _windowed(x, ins, j, 1.0),
    "avgpool": lambda x, ins, j, v: _windowed(x, ins, j, 1.0),
    "adaptive_avgpool": _adaptive_avg,
    "adaptive_maxpool": _adaptive_avg,
    "bn": _bn,
    "scale": _scale,
    "add": _add,
    "concat": _concat,
    "split": _split,
    "shuffle": _shuffle,
    "pad": _pad,
    **{k: _same for k in ("identity", "dropout", "droppath", *ACTIVATIONS)},
}
# The kinds with no closed form, declared (a test checks every kind is in RULES or here): not a
# linear shift-invariant map of the input, or one whose output grid is not the input's.
NO_CLOSED_FORM = frozenset({"convT", "upsample", "gap", "flatten", "mul", "layernorm", "groupnorm",
                            "to_tokens", "class_token", "pos_embed", "take_token", "attention",
                            "window_attention", "patch_merge"})


def _jump(g: Graph, name: str) -> Jump:
    f = g.nodes[name].rf.max
    return tuple(float(ax.jump) for ax in f.axes())


def ancestors(g: Graph, layer: str) -> set[str]:
    """The layer and every layer it reads, directly or not."""
    seen, todo = set(), [layer]
    while todo:
        name = todo.pop()
        if name in seen or name == "input":
            continue
        seen.add(name)
        todo += g.nodes[name].inputs
    return seen


def spread(g: Graph, layer: str, value: float | None = UNIFORM) -> Spread:
    """The closed-form measure of the layer's unit 0, summed over the layer's channels; with
    `value` None each conv weighs 1/fan_in, else every weight is `value` (module docstring)."""
    need = ancestors(g, layer)
    zero = (0.0,) * (len(g.input_shape) - 1)
    env: dict[str, Channels] = {"input": [Spread(1.0, zero, zero)] * g.input_shape[0]}
    for x in g.layers:
        if x.name not in need:
            continue
        rule = RULES.get(x.kind)  # None: NO_CLOSED_FORM, or an unmapped op of a traced model
        if rule is None or (x.kind == "linear" and len(x.in_shapes[0]) != len(g.input_shape)):
            raise NoClosedForm(f"no closed form through layer {x.name} ({x.kind}): it is not a "
                               "linear shift-invariant map of the input")
        env[x.name] = rule(x, [env[i] for i in x.inputs], _jump(g, x.inputs[0]), value)
    return mixture(env[layer])
