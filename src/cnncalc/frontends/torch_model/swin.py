"""torchvision's Swin blocks (v1) read whole by the fx import: a `ShiftedWindowAttention` ->
window_attention, a `PatchMerging` -> patch_merge, on B×H×W×C maps (channels last, perm
(0, 2, 3, 1)). torchvision wraps their functions (`shifted_window_attention`,
`_patch_merging_pad`) with torch.fx.wrap, so a trace that looked inside would see one opaque
call; the modules are recognised by class name and the attributes torchvision gives them (a
plain copy of the classes reads the same). Swin v2's classes (a continuous position bias,
cosine attention) are other names and stay unmapped."""

from __future__ import annotations

from typing import Any

from cnncalc.frontends.torch_model.ops import OpMapper, Val

CHANNELS_LAST = (0, 2, 3, 1)


def kind_args(m: Any) -> tuple[str, dict[str, Any]] | str:
    """(kind, args), or why the module does not map."""
    if type(m).__name__ == "PatchMerging":
        if m.reduction.bias is not None or m.reduction.in_features != 4 * m.dim or \
                type(m.norm).__name__ != "LayerNorm":
            return "PatchMerging with other than layernorm(4C) and a bias-free linear"
        return "patch_merge", {}
    (wh, ww), (sh, sw) = m.window_size, m.shift_size
    if wh != ww or sh != sw:
        return f"ShiftedWindowAttention with a non-square window or shift ({wh}×{ww}, {sh}×{sw})"
    if (m.qkv.bias is None) != (m.proj.bias is None):
        return "ShiftedWindowAttention with a bias on only one of qkv and proj"
    return "window_attention", {"heads": m.num_heads, "window": wh, "shift": sh,
                                "bias": m.qkv.bias is not None}


def swin_module(mp: OpMapper, node: Any, m: Any, x: Any) -> Any:
    name = type(m).__name__
    mapped = kind_args(m)
    if isinstance(mapped, str):
        return mp.unmapped(node, f"module {mapped}")
    if not isinstance(x, Val) or x.perm != CHANNELS_LAST:
        return mp.unmapped(node, f"module {name} (only on B×H×W×C maps, as torchvision's Swin)")
    kind, args = mapped
    out = mp.add(node, kind, args, [x])
    mp.settle(node, out.src, list(m.parameters()))
    return out
