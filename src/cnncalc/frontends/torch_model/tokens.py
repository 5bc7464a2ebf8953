"""The token ops of a traced Transformer (torchvision's VisionTransformer) onto the token kinds:
`x.reshape(n, C, H·W)` or `x.flatten(2)` -> to_tokens, `torch.cat([class_token, x], dim=tokens)`
-> class_token, `x + pos_embedding` -> pos_embed, `nn.MultiheadAttention(x, x, x)` ->
attention, `x[:, 0]` -> take_token.

Tokens are C×N in the engine; a traced value keeps its layout in `Val.perm` (batch 0, channels 1,
tokens 2), so B×N×C tokens (batch_first) are perm (0, 2, 1)."""

from __future__ import annotations

import operator
from typing import Any

from cnncalc.frontends.torch_model.ops import (
    FromParams,
    OpMapper,
    Tupled,
    Val,
    _op_name,
    torch,
)

nn = torch.nn


def to_tokens(mp: OpMapper, node: Any, x: Val, out: tuple[int, ...]) -> Any:
    """N×C×H×W viewed as N×C×(H·W)."""
    shape = mp.g.shape(x.src)
    if len(shape) == 3 and x.perm == (0, 1, 2, 3) and tuple(out[1:]) == (shape[0],
                                                                          shape[1] * shape[2]):
        return mp.add(node, "to_tokens", {}, [x], perm=(0, 1, 2))
    return None


def class_token(mp: OpMapper, node: Any, parts: list[Any], dim: int) -> Any:
    """torch.cat([token.expand(n, -1, -1), x], dim=the token axis), token one C-vector."""
    if len(parts) != 2 or not isinstance(parts[1], Val) or len(parts[1].perm) != 3:
        return None
    x = parts[1]
    names = _param_names(parts[0])
    c = mp.g.shape(x.src)[0]
    if len(names) != 1 or x.perm[dim % 3] != 2:
        return None
    p = mp.gm.get_parameter(next(iter(names)))
    if p.numel() != c:
        return None
    out = mp.add(node, "class_token", {}, [x])
    mp.settle(node, out.src, [p])
    return out


def pos_embed(mp: OpMapper, node: Any, x: Val, other: Any) -> Any:
    """x + a learned tensor of one value per token and channel."""
    names = _param_names(other)
    if len(x.perm) != 3 or len(names) != 1:
        return None
    p = mp.gm.get_parameter(next(iter(names)))
    c, n = mp.g.shape(x.src)
    if p.numel() != c * n:
        return None
    out = mp.add(node, "pos_embed", {}, [x])
    mp.settle(node, out.src, [p])
    return out


def take_token(mp: OpMapper, node: Any, x: Val) -> Any:
    """x[:, i] (or x[:, :, i] on C×N tokens): token i."""
    index = node.args[1]
    if len(x.perm) != 3 or not isinstance(index, tuple):
        return None
    full = slice(None, None, None)
    ints = [a for a, i in enumerate(index) if isinstance(i, int)]
    if len(ints) != 1 or any(i != full for a, i in enumerate(index) if a != ints[0]) or \
            x.perm[ints[0]] != 2:
        return None
    n = mp.g.shape(x.src)[1]
    i = index[ints[0]] % n
    return mp.add(node, "take_token", {"index": i}, [x], perm=(0, 1))


def attention(mp: OpMapper, node: Any, m: Any) -> Any:
    """nn.MultiheadAttention(x, x, x): self-attention over the tokens."""
    qkv = [node.args[i] if len(node.args) > i else node.kwargs.get(k)
           for i, k in enumerate(("query", "key", "value"))]
    x = mp.vals.get(qkv[0])
    tokens_last = (0, 2, 1) if m.batch_first else (2, 0, 1)
    plain = m._qkv_same_embed_dim and m.bias_k is None and not m.add_zero_attn and \
        (m.in_proj_bias is None) == (m.out_proj.bias is None)
    if len({id(a) for a in qkv}) != 1 or not isinstance(x, Val) or x.perm != tokens_last or \
            not plain:
        return mp.unmapped(node, "module MultiheadAttention (only self-attention, q = k = v, "
                                 "on tokens with plain projections maps)")
    out = mp.add(node, "attention", {"heads": m.num_heads, "bias": m.in_proj_bias is not None},
                 [x], word="attention", check=False)
    mp.settle(node, out.src, list(m.parameters()))
    return Tupled((out, None))


def sdpa_attention(mp: OpMapper, node: Any, m: Any, x: Any) -> Any:
    """A module of qkv linear, F.scaled_dot_product_attention and proj linear (timm's
    Attention) on B×N×C tokens: self-attention."""
    if (m.qkv.bias is None) != (m.proj.bias is None):
        return mp.unmapped(node, f"module {type(m).__name__} (scaled-dot-product attention with "
                                 "a bias on only one of qkv and proj)")
    if not isinstance(x, Val) or x.perm != (0, 2, 1):
        return mp.unmapped(node, f"module {type(m).__name__} (scaled-dot-product attention "
                                 "maps on B×N×C tokens)")
    out = mp.add(node, "attention", {"heads": m.num_heads, "bias": m.qkv.bias is not None},
                 [x], word="attention")
    mp.settle(node, out.src, list(m.parameters()))
    return out


def getitem(mp: OpMapper, node: Any, x: Any) -> Any:
    if isinstance(x, Val):
        mapped = take_token(mp, node, x)
        if mapped is not None:
            return mapped
    return mp.unmapped(node, _op_name(node))


def _param_names(v: Any) -> frozenset[str]:
    if isinstance(v, FromParams):
        return v.names
    if isinstance(v, tuple) and len(v) == 2 and v[0] == "param":
        return frozenset({v[1]})
    return frozenset()


GETITEM = operator.getitem
