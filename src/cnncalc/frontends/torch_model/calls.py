"""Functional and tensor-method nodes (`F.relu`, `torch.cat`, `+`, `*`, `x.mean((2, 3))`,
`.view(n, -1)`, `chunk`, `permute`, ...) onto layer kinds; the counterpart of fx_ops' modules."""

from __future__ import annotations

from typing import Any

from cnncalc.frontends.torch_model import tokens
from cnncalc.frontends.torch_model.ops import (
    FromParams,
    Grouped,
    OpMapper,
    Parts,
    Val,
    _op_name,
    torch,
)
from cnncalc.frontends.torch_model.table import (
    ACT_FUNCS,
    ACT_METHODS,
    ADD,
    LAYOUT,
    LINEAR_MODES,
    MUL,
    PASS,
    SCALAR_ONLY,
    SPLITS,
    pad_pairs,
    split_args,
)

F = torch.nn.functional


def _arg(node: Any, i: int, key: str, default: Any = None) -> Any:
    if len(node.args) > i:
        return node.args[i]
    return node.kwargs.get(key, default)


def _dim(d: int, rank: int) -> int:
    return d + rank if d < 0 else d


def call(mp: OpMapper, node: Any) -> Any:
    """The Val (or Parts) for a call_function / call_method node, or an unmapped row."""
    t = node.target
    x = mp.vals.get(node.args[0]) if node.args else None
    if t in ACT_FUNCS or (node.op == "call_method" and t in ACT_METHODS):
        kind = ACT_FUNCS[t] if node.op == "call_function" else ACT_METHODS[t]
        args = {}
        if kind == "leaky_relu":
            args = {"negative_slope": float(_arg(node, 1, "negative_slope", 0.01))}
        return mp.add(node, kind, args, [x])  # type: ignore[list-item]  # x: the input's Val
    if t in ADD or t in MUL:
        return _arith(mp, node, "add" if t in ADD else "mul")
    if t in SCALAR_ONLY:
        return _scalar(mp, node)
    if t in PASS or (node.op == "call_method" and t in PASS):
        return x
    if t in LAYOUT or t is torch.permute or t is torch.movedim or t is torch.transpose:
        return _layout(mp, node, x)
    if t in (torch.cat, torch.concat):
        return _cat(mp, node)
    if t in SPLITS:
        return _split(mp, node, x)
    if t is __import__("operator").getitem and isinstance(x, Parts):
        return mp.add(node, "split", split_args(x.sizes, node.args[1]),
                      [Val(x.src, x.perm)], word="split")
    if t is tokens.GETITEM:
        return tokens.getitem(mp, node, x)
    if t in (torch.flatten, "flatten", "view", "reshape", torch.reshape):
        return _reshape(mp, node, x)
    if t in ("mean", torch.mean):
        return _mean(mp, node, x)
    if t in (F.linear, F.layer_norm) and isinstance(x, Val):
        return _channel_last(mp, node, x)
    if t in (F.conv1d, F.conv2d, F.conv3d) and isinstance(x, Val) and \
            x.perm == tuple(range(len(x.perm))):
        return _conv2d(mp, node, x)
    if t is F.scaled_dot_product_attention:  # outside a module of qkv, SDPA, proj (table.py)
        return mp.unmapped(node, f"{_op_name(node)} (outside a module holding its qkv and proj "
                                 "linears; its Q·Kᵀ and A·V are not counted)")
    if t is torch.roll:  # a shift written by hand: only torchvision's Swin modules map
        return mp.unmapped(node, f"{_op_name(node)} (a cyclic shift outside torchvision's "
                                 "ShiftedWindowAttention)")
    if getattr(t, "__name__", "") == "stochastic_depth":  # torchvision.ops, fx-wrapped
        return mp.add(node, "droppath", {"p": float(_arg(node, 1, "p", 0.0))}, [x])  # type: ignore
    fn = _FUNCTIONAL.get(t)
    if fn is not None and isinstance(x, Val) and x.perm == tuple(range(len(x.perm))):
        return fn(mp, node, x)
    return mp.unmapped(node, _op_name(node))


def _arith(mp: OpMapper, node: Any, kind: str) -> Any:
    a, b = (mp.vals.get(v) if not isinstance(v, (int, float)) else None for v in node.args[:2])
    if isinstance(a, Val) and isinstance(b, Val):
        if kind == "add" and a.perm != b.perm:
            return mp.unmapped(node, _op_name(node) + " of tensors in different layouts")
        return mp.add(node, kind, {}, [a, b])
    tensor, other = (a, b) if isinstance(a, Val) else (b, a)
    if kind == "add" and isinstance(tensor, Val) and len(tensor.perm) == 3:
        mapped = tokens.pos_embed(mp, node, tensor, other)
        if mapped is not None:
            return mapped
    if kind == "mul" and isinstance(tensor, Val) and isinstance(other, tuple) and \
            other[0] == "param":
        return _scale(mp, node, tensor, other[1])
    if other is None or isinstance(other, (int, float)):
        return tensor  # scalar arithmetic (x + 3, x * 0.5): no layer, no MACs
    return mp.unmapped(node, _op_name(node))


def _scalar(mp: OpMapper, node: Any) -> Any:
    vals = [mp.vals.get(v) for v in node.args if not isinstance(v, (int, float))]
    tensors = [v for v in vals if isinstance(v, Val)]
    if len(tensors) == 1 and len(vals) == 1:
        return tensors[0]
    return mp.unmapped(node, _op_name(node))


def _scale(mp: OpMapper, node: Any, x: Val, target: str) -> Any:
    """x * gamma with one learnable gamma per channel (shaped to broadcast along the channel
    axis of x, as C, C×1×1 or 1×C×1×1): layer scale."""
    p = mp.gm.get_parameter(target) if mp.is_param(target) else None
    c = mp.g.shape(x.src)[0]
    if p is not None and p.numel() == c:
        axis = p.dim() - len(x.perm) + x.perm.index(1)  # x's channel axis, right-aligned
        if 0 <= axis < p.dim() and p.shape[axis] == c:
            out = mp.add(node, "scale", {}, [x])
            mp.settle(node, out.src, [p])
            return out
    return mp.unmapped(node, f"{_op_name(node)} by {target}")


def _layout(mp: OpMapper, node: Any, x: Any) -> Any:
    t = node.target
    if isinstance(x, Grouped) and t in ("transpose", torch.transpose) and \
            {_dim(_arg(node, 1, "dim0"), 5), _dim(_arg(node, 2, "dim1"), 5)} == {1, 2}:
        return Grouped(x.src, x.groups, not x.swapped)
    if not isinstance(x, Val):
        return mp.unmapped(node, _op_name(node))
    rank = len(x.perm)
    rest = [a for a in node.args[1:]]
    if t in ("permute", torch.permute):
        dims = rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest
        dims = dims or node.kwargs.get("dims")
        return Val(x.src, tuple(x.perm[_dim(d, rank)] for d in dims))
    a = _dim(_arg(node, 1, "dim0" if "transpose" in str(t) else "source"), rank)
    b = _dim(_arg(node, 2, "dim1" if "transpose" in str(t) else "destination"), rank)
    perm = list(x.perm)
    if t in ("transpose", torch.transpose):
        perm[a], perm[b] = perm[b], perm[a]
    else:
        perm.insert(b, perm.pop(a))
    return Val(x.src, tuple(perm))


def _cat(mp: OpMapper, node: Any) -> Any:
    parts = [mp.vals.get(v) for v in node.args[0]]
    if len(parts) == 1 and isinstance(parts[0], Val):
        return parts[0]  # a one-element cat is a copy (densenet's first dense layer), on any dim
    dim = _arg(node, 1, "dim", 0)
    mapped = tokens.class_token(mp, node, parts, dim)
    if mapped is not None:
        return mapped
    if not all(isinstance(p, Val) for p in parts):
        return mp.unmapped(node, _op_name(node))
    perm = parts[0].perm  # type: ignore[union-attr]
    if any(p.perm != perm for p in parts) or perm[_dim(dim, len(perm))] != 1:  # type: ignore
        return mp.unmapped(node, f"{_op_name(node)} on dim {dim} (concat joins channels)")
    return mp.add(node, "concat", {}, parts)  # type: ignore[arg-type]


def _split(mp: OpMapper, node: Any, x: Any) -> Any:
    if not isinstance(x, Val):
        return mp.unmapped(node, _op_name(node))
    chunked = node.target in (torch.chunk, "chunk")
    how = _arg(node, 1, "chunks" if chunked else "split_size_or_sections")
    if how is None:
        how = node.kwargs.get("split_size")
    dim = _dim(_arg(node, 2, "dim", 0), len(x.perm))
    if x.perm[dim] != 1:
        return mp.unmapped(node, f"{_op_name(node)} on dim {dim} (only channel splits map)")
    c = mp.g.shape(x.src)[0]
    if isinstance(how, int):
        size = -(-c // how) if chunked else how
        sizes = [size] * (c // size) + ([c % size] if c % size else [])
    else:
        sizes = list(how)
    return Parts(x.src, x.perm, tuple(sizes))


def _reshape(mp: OpMapper, node: Any, x: Any) -> Any:
    out = mp.shape(node)
    if isinstance(x, Grouped) or (isinstance(x, Val) and out is not None and len(out) == 5):
        return _shuffle(mp, node, x, out)
    if not isinstance(x, Val):
        return mp.unmapped(node, _op_name(node))
    src = mp.g.shape(x.src)
    if out is not None and tuple(out[1:]) == src and x.perm == tuple(range(len(x.perm))):
        return x  # a reshape to the same shape
    n = 1
    for d in src:
        n *= d
    if out is not None and len(out) == 3 and len(src) == 3:
        mapped = tokens.to_tokens(mp, node, x, out)
        if mapped is not None:
            return mapped
    if out is not None and len(out) == 2 and out[1] == n:
        if len(src) == 1:
            return Val(x.src, (0, 1))
        return mp.add(node, "flatten", {}, [x], perm=(0, 1))
    return mp.unmapped(node, f"{_op_name(node)} to {tuple(out or ())}")


def _shuffle(mp: OpMapper, node: Any, x: Any, out: Any) -> Any:
    """ShuffleNet's channel shuffle: view N×C×H×W as N×g×(C/g)×H×W, transpose(1, 2), view
    back as N×C×H×W."""
    if isinstance(x, Val):
        c, *hw = mp.g.shape(x.src)
        if x.perm == (0, 1, 2, 3) and len(hw) == 2 and out[1] * out[2] == c and \
                list(out[3:]) == hw:
            return Grouped(x.src, out[1])
    elif out is not None and len(out) == 4 and tuple(out[1:]) == mp.g.shape(x.src):
        if not x.swapped:
            return Val(x.src, (0, 1, 2, 3))  # viewed and viewed back: nothing happened
        return mp.add(node, "shuffle", {"groups": x.groups}, [Val(x.src, (0, 1, 2, 3))])
    return mp.unmapped(node, f"{_op_name(node)} to {tuple(out or ())}")


def _mean(mp: OpMapper, node: Any, x: Any) -> Any:
    if not isinstance(x, Val) or len(x.perm) != 4:
        return mp.unmapped(node, _op_name(node))
    dims = _arg(node, 1, "dim")
    dims = [dims] if isinstance(dims, int) else list(dims or [])
    keep = bool(_arg(node, 2, "keepdim", False))
    if sorted(x.perm[_dim(d, 4)] for d in dims) != [2, 3]:
        return mp.unmapped(node, f"{_op_name(node)} over dims {dims} (only spatial means map)")
    pooled = mp.add(node, "gap", {}, [x], word="mean", perm=(0, 1, 2, 3), check=keep)
    if keep:
        return pooled
    return mp.add(node, "flatten", {}, [pooled], word="flatten", perm=(0, 1))


def _pool(kind: str) -> Any:
    def fn(mp: OpMapper, node: Any, x: Val) -> Any:
        k = _arg(node, 1, "kernel_size")
        s = _arg(node, 2, "stride") or k
        args = {"kernel_size": _pl(k), "stride": _pl(s),
                "padding": _pl(_arg(node, 3, "padding", 0))}
        if kind == "maxpool":
            args["dilation"] = _pl(_arg(node, 4, "dilation", 1))
            args["ceil_mode"] = bool(_arg(node, 5, "ceil_mode", False))
        else:
            args["ceil_mode"] = bool(_arg(node, 4, "ceil_mode", False))
            args["count_include_pad"] = bool(_arg(node, 5, "count_include_pad", True))
        return mp.add(node, kind, args, [x])
    return fn


def _adaptive(kind: str) -> Any:
    def fn(mp: OpMapper, node: Any, x: Val) -> Any:
        size = _pl(_arg(node, 1, "output_size"))
        if kind == "adaptive_avgpool" and (size == 1 or (isinstance(size, list)
                                                         and set(size) == {1})):
            return mp.add(node, "gap", {}, [x])
        return mp.add(node, kind, {"size": size}, [x])
    return fn


def _pl(v: Any) -> Any:
    return list(v) if isinstance(v, (list, tuple)) else v


def _param(mp: OpMapper, arg: Any) -> tuple[bool, Any]:
    """A weight or bias argument as (ok, the parameter it counts): a parameter as it is, or a
    tensor computed from exactly one parameter of the same shape (a weight-standardised conv's
    `standardize(self.weight)`); (True, None) when there is none."""
    if arg is None:
        return True, None
    v = mp.vals.get(arg)
    if isinstance(v, tuple) and v[0] == "param" and mp.is_param(v[1]):
        return True, mp.gm.get_parameter(v[1])
    if isinstance(v, FromParams) and len(v.names) == 1:
        p = mp.gm.get_parameter(next(iter(v.names)))
        if tuple(p.shape) == mp.shape(arg):
            return True, p
    return False, None


def _channel_last(mp: OpMapper, node: Any, x: Val) -> Any:
    """F.linear / F.layer_norm with module parameters, acting on the channels."""
    linear = node.target is F.linear
    (ok_w, p), (ok_b, b) = (_param(mp, _arg(node, i, key)) for i, key in (
        (1 if linear else 2, "weight"), (2 if linear else 3, "bias")))
    if x.perm[-1] != 1 or p is None or not (ok_w and ok_b):
        return mp.unmapped(node, f"{_op_name(node)} on a non-channel axis or without a weight")
    if linear:
        out = mp.add(node, "linear", {"out": p.shape[0], "bias": b is not None}, [x])
    else:
        out = mp.add(node, "layernorm", {"eps": float(_arg(node, 4, "eps", 1e-5))}, [x])
    mp.settle(node, out.src, [t for t in (p, b) if t is not None])
    return out


def _conv2d(mp: OpMapper, node: Any, x: Val) -> Any:
    """F.conv2d with a module's weight (and bias), as they are or computed from one parameter
    each (a weight-standardised conv counts the parameter it standardises)."""
    (ok_w, weight), (ok_b, b) = (_param(mp, _arg(node, i, key)) for i, key in ((1, "weight"),
                                                                              (2, "bias")))
    if weight is None or not (ok_w and ok_b):
        return mp.unmapped(node, f"{_op_name(node)} with a weight computed from several tensors")
    args = {"out": weight.shape[0], "kernel_size": list(weight.shape[2:]),
            "stride": _pl(_arg(node, 3, "stride", 1)), "padding": _pl(_arg(node, 4, "padding", 0)),
            "dilation": _pl(_arg(node, 5, "dilation", 1)), "groups": _arg(node, 6, "groups", 1),
            "bias": b is not None}
    out = mp.add(node, "conv", args, [x])
    mp.settle(node, out.src, [t for t in (weight, b) if t is not None])
    return out


def _interpolate(mp: OpMapper, node: Any, x: Val) -> Any:
    scale = _arg(node, 2, "scale_factor")
    mode = _arg(node, 3, "mode", "nearest")
    vals = list(scale) if isinstance(scale, (list, tuple)) else [scale]
    if None in vals or not all(float(v).is_integer() for v in vals) or \
            mode not in ("nearest", *LINEAR_MODES):
        return mp.unmapped(node, f"{_op_name(node)} (size=, mode {mode!r} or a fractional scale)")
    corners = bool(_arg(node, 4, "align_corners", False))
    factor = [int(v) for v in vals] if isinstance(scale, (list, tuple)) else int(vals[0])
    return mp.add(node, "upsample", {"scale_factor": factor,
                                     "mode": LINEAR_MODES.get(mode, mode),
                                     "align_corners": corners}, [x])


def _pad(mp: OpMapper, node: Any, x: Val) -> Any:
    """F.pad(x, (last_lo, last_hi, ...), 'constant', value) on spatial axes: the pad kind."""
    flat, mode = _arg(node, 1, "pad"), _arg(node, 2, "mode", "constant")
    value = _arg(node, 3, "value", None)
    rank = len(x.perm) - 2
    if mode != "constant" or not isinstance(flat, (list, tuple)) or len(flat) != 2 * rank or \
            any(not isinstance(v, int) or v < 0 for v in flat):
        return mp.unmapped(node, f"{_op_name(node)} (mode {mode!r} or padding {flat} that is "
                                 "not (leading, trailing) per spatial axis)")
    return mp.add(node, "pad", {"padding": pad_pairs(flat), "value": float(value or 0.0)}, [x])


_FUNCTIONAL = {
    **{getattr(F, f"max_pool{r}d"): _pool("maxpool") for r in (1, 2, 3)},
    **{getattr(F, f"avg_pool{r}d"): _pool("avgpool") for r in (1, 2, 3)},
    **{getattr(F, f"adaptive_avg_pool{r}d"): _adaptive("adaptive_avgpool") for r in (1, 2, 3)},
    **{getattr(F, f"adaptive_max_pool{r}d"): _adaptive("adaptive_maxpool") for r in (1, 2, 3)},
    F.pad: _pad,
    F.interpolate: _interpolate,
    F.dropout: lambda mp, node, x: mp.add(node, "dropout", {"p": float(_arg(node, 1, "p", 0.5))},
                                          [x]),
}
