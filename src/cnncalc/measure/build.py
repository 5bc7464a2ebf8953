"""Build the engine's graph as a torch `nn.Module`, one submodule per layer, named like the layer.

`build_module(graph)` returns a `GraphNet` whose submodule `layer3.2.conv1` is the layer of that
name (`net.get_submodule(name)`), so hooks, per-layer parameter counts and timings line up with
the engine's rows. Each layer is built from its kind's `Torch` description in the registry (the
same one `export --to torch` writes as source). This module imports torch when it is imported:
callers outside `measure` import it inside a function, never at module level.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.errors import BackendError
from cnncalc.core.layers.common import explicit_pads, per_axis, torch_pad
from cnncalc.core.layers.elementwise import split_sizes
from cnncalc.core.layers.registry import Kind, lookup
from cnncalc.core.optional import require_torch
from cnncalc.measure.windows import PatchMerge, WindowAttention

torch = require_torch()
nn = torch.nn
F = torch.nn.functional
Module: Any = nn.Module  # torch is untyped here: its classes are Any to mypy


# Modules for the kinds torch has no single module for -------------------------------------

@functools.cache
def channels_last(cls: Any) -> Any:
    """`cls` (nn.Linear, nn.LayerNorm: modules of the last axis) acting on the channels of an
    N×C×H×W map at every position; on an N×F vector it is `cls` itself. Same parameters."""

    def forward(self: Any, x: Any) -> Any:
        if x.dim() == 2:
            return cls.forward(self, x)
        return cls.forward(self, x.movedim(1, -1)).movedim(-1, 1)

    return type(f"Channel{cls.__name__}", (cls,), {"forward": forward, "__module__": __name__})


ChannelLinear = channels_last(nn.Linear)  # ConvNeXt's pointwise MLP
ChannelLayerNorm = channels_last(nn.LayerNorm)  # ConvNeXt's LayerNorm2d


class Scale(Module):
    """Learnable per-channel scale gamma·x (ConvNeXt's layer scale)."""

    def __init__(self, channels: int, axes: int, init: float = 1e-6):
        super().__init__()
        shape = (channels, *[1] * axes)  # C×1×1 on a map, C×1 on tokens, C on a vector
        self.gamma = nn.Parameter(torch.full(shape, float(init)))

    def forward(self, x: Any) -> Any:
        return x * self.gamma


class DropPath(Module):
    """Stochastic depth: drops whole samples in training, identity in eval."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = p

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device) >= self.p
        return x * keep / (1.0 - self.p)


class Split(Module):
    """One part of a channel split."""

    def __init__(self, sizes: list[int], index: int, by_sizes: bool = False):
        super().__init__()
        self.sizes, self.index = sizes, index
        self.by_sizes = by_sizes  # the spec gave `sizes` (even ones too): read back as it said

    def forward(self, x: Any) -> Any:
        return torch.split(x, self.sizes, dim=1)[self.index]


class ChannelShuffle(Module):
    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: Any) -> Any:
        n, c, *rest = x.shape
        return x.view(n, self.groups, c // self.groups, *rest).transpose(1, 2).reshape(x.shape)


class ToTokens(Module):
    """N×C×H×W -> N×C×(H·W): tokens, channels first."""

    def forward(self, x: Any) -> Any:
        return x.flatten(2)


class ClassToken(Module):
    """A learned class token before the tokens (torchvision's ViT `class_token`)."""

    def __init__(self, channels: int):
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, channels, 1))

    def forward(self, x: Any) -> Any:
        return torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=2)


class PosEmbed(Module):
    """A learned position embedding added to the tokens."""

    def __init__(self, channels: int, tokens: int):
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(1, channels, tokens))

    def forward(self, x: Any) -> Any:
        return x + self.pos


class TakeToken(Module):
    def __init__(self, index: int):
        super().__init__()
        self.index = index

    def forward(self, x: Any) -> Any:
        return x[:, :, self.index]


class SelfAttention(Module):
    """Multi-head self-attention on N×C×T tokens, the matmuls written out (so that
    FlopCounterMode sees Q·Kᵀ and A·V on every device); the parameters of
    nn.MultiheadAttention, in its order."""

    def __init__(self, channels: int, heads: int, bias: bool = True):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(channels, 3 * channels, bias=bias)
        self.proj = nn.Linear(channels, channels, bias=bias)

    def forward(self, x: Any) -> Any:
        b, c, n = x.shape
        h = self.heads
        qkv = self.qkv(x.transpose(1, 2)).reshape(b, n, 3, h, c // h)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).contiguous()  # one copy kept at any batch
        a = ((q * (c // h) ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        return self.proj((a @ v).transpose(1, 2).reshape(b, n, c)).transpose(1, 2)


class Add(Module):
    def forward(self, *xs: Any) -> Any:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Mul(Module):
    def forward(self, *xs: Any) -> Any:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Mean(Module):
    """The mean of the branches, broadcasting. With positive values it has the gradient support
    of both a sum and a product, without their growth: the field measurement's join."""

    def forward(self, *xs: Any) -> Any:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out / len(xs)


class DilatedMean(Module):
    """A dilated max pool linearised: the mean of its dilated window (nn.AvgPool{d}d has no
    dilation), padded with zeros on the leading side and as far as ceil_mode reaches on the
    trailing one, cut to the pool's output size. Any number of spatial axes."""

    def __init__(self, args: dict[str, Any], in_shape: tuple[int, ...], out: tuple[int, ...]):
        super().__init__()
        r = len(out) - 1
        self.k, self.s = per_axis(args["kernel_size"], r), per_axis(args["stride"], r)
        self.d, self.out = per_axis(args["dilation"], r), out[1:]
        self.lo = [lo for lo, _ in (explicit_pads(args, r) or
                                    tuple((p, p) for p in per_axis(args["padding"], r)))]

    def forward(self, x: Any) -> Any:
        r = len(self.k)
        extra = [max(0, (self.out[a] - 1) * self.s[a] + self.d[a] * (self.k[a] - 1) + 1
                     - x.shape[2 + a] - self.lo[a]) for a in range(r)]
        x = F.pad(x, torch_pad(tuple(zip(self.lo, extra))))
        n = 1
        for k in self.k:
            n *= k
        w = torch.full((x.shape[1], 1, *self.k), 1.0 / n, dtype=x.dtype, device=x.device)
        conv = getattr(F, f"conv{r}d")
        y = conv(x, w, stride=self.s, dilation=self.d, groups=x.shape[1])
        cut = (slice(None), slice(None), *(slice(0, m) for m in self.out))
        return y[cut]


class Concat(Module):
    def forward(self, *xs: Any) -> Any:
        return torch.cat(xs, dim=1)


# Building a layer from its kind's Torch description ----------------------------------------

Builder = Callable[[dict[str, Any], list[tuple[int, ...]], tuple[int, ...]], Any]

# The ops of Torch(op=...): cnncalc's own modules (export writes the same ops as forward code)
OPS: dict[str, Callable[[Layer], Any]] = {
    "sum": lambda x: Add(),
    "product": lambda x: Mul(),
    "cat": lambda x: Concat(),
    "split": lambda x: Split(split_sizes(x.args, x.in_shapes[0][0]), x.args["index"],
                             x.args["sizes"] is not None),
    "scale": lambda x: Scale(x.in_shapes[0][0], len(x.in_shapes[0]) - 1, x.args["init"]),
    "shuffle": lambda x: ChannelShuffle(x.args["groups"]),
    "drop_path": lambda x: DropPath(x.args["p"]),
    "to_tokens": lambda x: ToTokens(),
    "class_token": lambda x: ClassToken(x.in_shapes[0][0]),
    "pos_embed": lambda x: PosEmbed(*x.in_shapes[0]),
    "take_token": lambda x: TakeToken(x.args["index"]),
    "attention": lambda x: SelfAttention(x.in_shapes[0][0], x.args["heads"], x.args["bias"]),
    "window_attention": lambda x: WindowAttention(x.in_shapes[0][0], x.args["heads"],
                                                  x.args["window"], x.args["shift"],
                                                  x.args["bias"]),
    "patch_merge": lambda x: PatchMerge(x.in_shapes[0][0]),
}


def construct(kind: Kind, layer: Layer) -> Any:
    """The module of `kind`'s Torch description, with the layer's arguments."""
    t = kind.torch
    assert t is not None
    if t.op is not None:
        return OPS[t.op](layer)
    cls = getattr(nn, t.module_name(layer.in_shapes[0]))
    if t.channels_last:
        cls = channels_last(cls)
    arguments = t.arguments(layer.args, layer.in_shapes[0])
    m = cls(*(a.value for a in arguments if a.name is None),
            **{a.name: a.value for a in arguments if a.name is not None})
    pads = explicit_pads(layer.args, len(layer.in_shapes[0]) - 1) if kind.window else None
    if pads is None:
        return m
    # (leading, trailing) pairs or 'causal': an explicit pad, then the layer pads nothing;
    # a max pool's padding never wins the max (−inf), as torch's own padding
    fill = float("-inf") if kind.name == "maxpool" else 0.0
    pad = getattr(nn, f"ConstantPad{len(pads)}d")(torch_pad(pads), fill)
    return nn.Sequential(pad, m)


def build_layer(layer: Layer, linear: bool = False,
                overrides: dict[str, Builder] | None = None) -> Any:
    """One layer's module. With linear=True (theory's setting for receptive fields) each kind
    becomes what its `linearised` says: activations and the normalisations that are not affine
    at inference (layer and group norm) the identity, max pools average pools of the same
    geometry, Swin's windowed attention uniform over each window's allowed tokens (softmax
    gone), patch merging without its layernorm. Batchnorm in eval mode is already affine per
    position."""
    if overrides and layer.kind in overrides:
        return overrides[layer.kind](layer.args, layer.in_shapes, layer.out_shape)
    kind = lookup(layer.kind)
    if kind is None or kind.torch is None:
        raise BackendError(f"layer {layer.name}: the torch backend cannot build kind "
                           f"{layer.kind!r}")
    if linear and kind.linearised == "identity":
        return nn.Identity()
    if linear and kind.name == "window_attention":  # uniform weights over the allowed tokens
        a = layer.args
        return WindowAttention(layer.in_shapes[0][0], a["heads"], a["window"], a["shift"],
                               a["bias"], uniform=True)
    if linear and kind.name == "patch_merge":  # its layernorm(4C) as the identity
        merge = PatchMerge(layer.in_shapes[0][0])
        merge.norm = nn.Identity()
        return merge
    if linear and kind.name == "maxpool" and _mean_by_conv(layer):
        return DilatedMean(layer.args, layer.in_shapes[0], layer.out_shape)
    if linear and kind.linearised is not None:
        kind = lookup(kind.linearised)
        assert kind is not None
    return construct(kind, layer)


def _mean_by_conv(layer: Layer) -> bool:
    """A max pool whose linearised average torch's AvgPool cannot be: dilated (AvgPool has no
    dilation), or 3-D on an axis shorter than the window (avg_pool3d refuses it)."""
    rank = len(layer.out_shape) - 1
    k = per_axis(layer.args["kernel_size"], rank)
    short = rank == 3 and any(n < x for n, x in zip(layer.in_shapes[0][1:], k))
    return short or set(per_axis(layer.args["dilation"], rank)) != {1}


class GraphNet(Module):
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
