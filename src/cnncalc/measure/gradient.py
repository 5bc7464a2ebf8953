"""The gradient of one unit with respect to the input: the measurement behind both the
receptive field by gradient support (`verify`) and the effective receptive field (`erf`).

A unit's field is where the gradient of that unit w.r.t. the input is non-zero; with every weight
positive, activations linear and max pools averaged (`build_module(graph, linear=True)` plus
`averaging_weights`), nothing cancels and the support is exactly the theoretical field.
"""

from __future__ import annotations

from typing import Any

from cnncalc.core.optional import require_torch
from cnncalc.measure.build import GraphNet


def centre(n: int, offset: int = 0) -> int:
    """Index of the centre unit of an axis of n units (the upper-left one of the middle pair
    when n is even), moved by offset."""
    return (n - 1) // 2 + offset


def unit_gradient(net: GraphNet, layer: str, x: Any, offset: tuple[int, ...] = (0, 0)) -> Any:
    """d(sum over channels of layer's centre unit)/d(input), one map per sample: N×C_in×H×W
    (N×C_in×L, N×C_in×T×H×W).

    Each sample's unit depends only on that sample, so one backward pass over the batch gives every
    sample's gradient at once. The unit is the centre of the layer's map moved by offset (on the
    last axes).
    """
    torch = require_torch()
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = net.run(x, until=layer)[layer]
        if out.dim() != x.dim():
            raise ValueError(f"layer {layer} has no spatial extent (output {tuple(out.shape)})")
        sizes = out.shape[2:]
        shift = (0,) * (len(sizes) - len(offset)) + tuple(offset)[-len(sizes):]
        unit = tuple(centre(n, o) for n, o in zip(sizes, shift))
        index = (slice(None), slice(None), *unit)
        (grad,) = torch.autograd.grad(out[index].sum(), x)
    return grad


def averaging_weights(net: Any) -> Any:
    """Conv and linear weights 1/fan-in (averaging kernels: positive, so nothing cancels, and the
    mass is kept, so nothing overflows), every other parameter 1, biases 0. In place."""
    torch = require_torch()
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif p.dim() >= 2:
                p.fill_(1.0 / (p.numel() // p.shape[0]))
            else:
                p.fill_(1.0)
    return net


def constant_weights(net: Any, value: float) -> Any:
    """Every weight `value`, biases 0 (Luo's all-ones kernels for value 1). In place."""
    torch = require_torch()
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.zero_() if name.endswith("bias") else p.fill_(value)
    return net
