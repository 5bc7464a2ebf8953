"""Build the engine's graph as a torch `nn.Module`, one submodule per layer, named like the layer.

`build_module(graph)` returns a `GraphNet` whose submodule `layer3.2.conv1` is the layer of that
name (`net.get_submodule(name)`), so hooks, per-layer parameter counts and timings line up with
the engine's rows. Every registry kind that reaches the engine has a builder in BUILDERS; a test
fails when one is missing. torch is imported by the caller through `require_torch()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.errors import BackendError
from cnncalc.core.layers.common import pair
from cnncalc.core.layers.registry import all_kinds


def require_torch() -> Any:
    """Import torch, or one clear line telling how to install it."""
    try:
        import torch
    except ImportError:
        raise BackendError("torch is not installed: pip install 'cnncalc[torch]'") from None
    return torch


torch = require_torch()
nn = torch.nn
F = torch.nn.functional


# Modules for the kinds torch has no single module for -------------------------------------

class ChannelLinear(nn.Linear):
    """nn.Linear on the channel axis of an N×C×H×W map (ConvNeXt's pointwise MLP)."""

    def forward(self, x: Any) -> Any:
        if x.dim() == 2:
            return super().forward(x)
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels at each position (ConvNeXt's LayerNorm2d)."""

    def forward(self, x: Any) -> Any:
        if x.dim() == 2:
            return super().forward(x)
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)


class Scale(nn.Module):
    """Learnable per-channel scale gamma·x (ConvNeXt's layer scale)."""

    def __init__(self, channels: int, spatial: bool, init: float = 1e-6):
        super().__init__()
        shape = (channels, 1, 1) if spatial else (channels,)
        self.gamma = nn.Parameter(torch.full(shape, float(init)))

    def forward(self, x: Any) -> Any:
        return x * self.gamma


class DropPath(nn.Module):
    """Stochastic depth: drops whole samples in training, identity in eval."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = p

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device) >= self.p
        return x * keep / (1.0 - self.p)


class Split(nn.Module):
    """One part of a channel split."""

    def __init__(self, sizes: list[int], index: int):
        super().__init__()
        self.sizes, self.index = sizes, index

    def forward(self, x: Any) -> Any:
        return torch.split(x, self.sizes, dim=1)[self.index]


class ChannelShuffle(nn.Module):
    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: Any) -> Any:
        n, c, h, w = x.shape
        return x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class Add(nn.Module):
    def forward(self, *xs: Any) -> Any:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Mul(nn.Module):
    def forward(self, *xs: Any) -> Any:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Mean(nn.Module):
    """The mean of the branches, broadcasting. With positive values it has the gradient support
    of both a sum and a product, without their growth: the field measurement's join."""

    def forward(self, *xs: Any) -> Any:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out / len(xs)


class Concat(nn.Module):
    def forward(self, *xs: Any) -> Any:
        return torch.cat(xs, dim=1)


# Builders: (args, in_shapes, out_shape) -> nn.Module ----------------------------------------

Builder = Callable[[dict[str, Any], list[tuple[int, ...]], tuple[int, ...]], Any]


def _padding(p: Any) -> Any:
    return p if isinstance(p, (int, str)) else tuple(p)


def _conv(a: dict[str, Any], ins: list[tuple[int, ...]], out: tuple[int, ...]) -> Any:
    return nn.Conv2d(ins[0][0], a["out"], pair(a["kernel_size"]), pair(a["stride"]),
                     _padding(a["padding"]), pair(a["dilation"]), a["groups"], a["bias"])


def _convt(a: dict[str, Any], ins: list[tuple[int, ...]], out: tuple[int, ...]) -> Any:
    return nn.ConvTranspose2d(ins[0][0], a["out"], pair(a["kernel_size"]), pair(a["stride"]),
                              pair(a["padding"]), pair(a["output_padding"]), a["groups"],
                              a["bias"], pair(a["dilation"]))


def _maxpool(a: dict[str, Any], ins: list[tuple[int, ...]], out: tuple[int, ...]) -> Any:
    return nn.MaxPool2d(pair(a["kernel_size"]), pair(a["stride"]), pair(a["padding"]),
                        pair(a["dilation"]), ceil_mode=a["ceil_mode"])


def _avgpool(a: dict[str, Any], ins: list[tuple[int, ...]], out: tuple[int, ...]) -> Any:
    return nn.AvgPool2d(pair(a["kernel_size"]), pair(a["stride"]), pair(a["padding"]),
                        ceil_mode=a["ceil_mode"], count_include_pad=a["count_include_pad"])


def _bn(a: dict[str, Any], ins: list[tuple[int, ...]], out: tuple[int, ...]) -> Any:
    cls = nn.BatchNorm2d if len(ins[0]) == 3 else nn.BatchNorm1d
    return cls(ins[0][0], eps=a["eps"], momentum=a["momentum"], affine=a["affine"])


def _upsample(a: dict[str, Any], ins: list[tuple[int, ...]], out: tuple[int, ...]) -> Any:
    sh, sw = pair(a["scale_factor"])
    bilinear = a["mode"] == "bilinear"
    return nn.Upsample(scale_factor=(float(sh), float(sw)), mode=a["mode"],
                       align_corners=False if bilinear else None)


def _split(a: dict[str, Any], ins: list[tuple[int, ...]], out: tuple[int, ...]) -> Any:
    c = ins[0][0]
    sizes = a["sizes"] or [c // a["parts"]] * a["parts"]
    return Split(list(sizes), a["index"])


def _simple(cls: Any) -> Builder:
    return lambda a, ins, out: cls()


BUILDERS: dict[str, Builder] = {
    "conv": _conv,
    "convT": _convt,
    "linear": lambda a, ins, out: ChannelLinear(ins[0][0], a["out"], a["bias"]),
    "maxpool": _maxpool,
    "avgpool": _avgpool,
    "adaptive_avgpool": lambda a, ins, out: nn.AdaptiveAvgPool2d(pair(a["size"])),
    "adaptive_maxpool": lambda a, ins, out: nn.AdaptiveMaxPool2d(pair(a["size"])),
    "gap": lambda a, ins, out: nn.AdaptiveAvgPool2d(1),
    "upsample": _upsample,
    "bn": _bn,
    "layernorm": lambda a, ins, out: ChannelLayerNorm(ins[0][0], a["eps"],
                                                      elementwise_affine=a["affine"]),
    "groupnorm": lambda a, ins, out: nn.GroupNorm(a["groups"], ins[0][0], a["eps"], a["affine"]),
    "scale": lambda a, ins, out: Scale(ins[0][0], len(ins[0]) == 3, a["init"]),
    **{name: _simple(getattr(nn, kind.extra["torch"])) for name, kind in all_kinds().items()
       if kind.category == "activation" and "torch" in kind.extra},
    "leaky_relu": lambda a, ins, out: nn.LeakyReLU(a["negative_slope"]),
    "dropout": lambda a, ins, out: nn.Dropout(a["p"]),
    "droppath": lambda a, ins, out: DropPath(a["p"]),
    "identity": _simple(nn.Identity),
    "flatten": _simple(nn.Flatten),
    "split": _split,
    "shuffle": lambda a, ins, out: ChannelShuffle(a["groups"]),
    "add": _simple(Add),
    "mul": _simple(Mul),
    "concat": _simple(Concat),
}

# With linear=True (theory's setting for receptive fields): activations and the normalisations
# that are not affine at inference (layer and group norm) become identities, and max pools become
# average pools of the same geometry. Batchnorm in eval mode is already affine per position.
ACTIVATION_KINDS = tuple(k for k, kind in all_kinds().items() if kind.category == "activation")


def build_layer(layer: Layer, linear: bool = False,
                overrides: dict[str, Builder] | None = None) -> Any:
    kind = layer.kind
    if overrides and kind in overrides:
        return overrides[kind](layer.args, layer.in_shapes, layer.out_shape)
    if linear and (kind in ACTIVATION_KINDS or kind in ("layernorm", "groupnorm")):
        return nn.Identity()
    if linear and kind == "maxpool":
        a = layer.args
        return nn.AvgPool2d(pair(a["kernel_size"]), pair(a["stride"]), pair(a["padding"]),
                            ceil_mode=a["ceil_mode"])
    if linear and kind == "adaptive_maxpool":
        return nn.AdaptiveAvgPool2d(pair(layer.args["size"]))
    builder = BUILDERS.get(kind)
    if builder is None:
        raise BackendError(f"layer {layer.name}: the torch backend cannot build kind {kind!r}")
    return builder(layer.args, layer.in_shapes, layer.out_shape)


class GraphNet(nn.Module):
    """The graph as a module. `forward(x)` returns the last layer's output; `run(x, keep,
    until)` returns the outputs named in `keep` (and stops after `until`)."""

    def __init__(self, graph: Graph, linear: bool = False,
                 overrides: dict[str, Builder] | None = None):
        super().__init__()
        self.order = [(x.name, x.inputs) for x in graph.layers]
        self.spec_name = graph.name
        self.input_shape = graph.input_shape
        for x in graph.layers:
            self._place(x.name, build_layer(x, linear, overrides))
        last_use: dict[str, int] = {}
        for i, (_, inputs) in enumerate(self.order):
            for name in inputs:
                last_use[name] = i
        self._last_use = last_use
        self._modules_by_name = {name: self.get_submodule(name) for name, _ in self.order}

    def _place(self, name: str, module: Any) -> None:
        *path, leaf = name.split(".")
        parent = self
        for part in path:
            child = parent._modules.get(part)
            if child is None:
                child = nn.Module()
                parent.add_module(part, child)
            elif not _is_container(child):
                raise BackendError(f"layer {name}: its parent {part!r} is itself a layer; "
                                   "rename one")
            parent = child
        if leaf in parent._modules:
            raise BackendError(f"layer {name}: a group of layers already has this name")
        parent.add_module(leaf, module)

    def layer(self, name: str) -> Any:
        return self._modules_by_name[name]

    def run(self, x: Any, keep: Iterable[str] = (), until: str | None = None) -> dict[str, Any]:
        keep = set(keep)
        env: dict[str, Any] = {"input": x}
        out: dict[str, Any] = {}
        for i, (name, inputs) in enumerate(self.order):
            env[name] = self._modules_by_name[name](*(env[n] for n in inputs))
            if name in keep:
                out[name] = env[name]
            for n in inputs:  # free what no later layer reads
                if self._last_use.get(n) == i and n not in keep:
                    env.pop(n, None)
            if name == until:
                out[name] = env[name]
                break
        if until is None and self.order:
            out.setdefault(self.order[-1][0], env[self.order[-1][0]])
        return out

    def forward(self, x: Any) -> Any:
        if not self.order:
            return x
        return self.run(x)[self.order[-1][0]]


def _is_container(m: Any) -> bool:
    return type(m) is nn.Module


def build_module(graph: Graph, linear: bool = False,
                 overrides: dict[str, Builder] | None = None) -> GraphNet:
    """The spec's network in torch, in eval mode, with torch's default initialisation.
    `overrides` maps a kind to another builder (the field measurement averages its joins)."""
    return GraphNet(graph, linear, overrides).eval()
