"""Token-level kinds (ViT): patches to tokens, the class token, the learned position embedding,
multi-head self-attention and taking one token.

NB (the token convention, stated once; docs/conventions.md says the same): a sequence of N
tokens of C features is the shape C×N, channels first like a map, so that `linear`,
`layernorm`, the activations and the joins act on tokens unchanged (on the channel axis at
every position). `to_tokens` keeps the grid of the map it flattens for the receptive field.
Attention MACs = the projections (Q, K, V and the output: 4·N·C²) + Q·Kᵀ (N²·C) + A·V (N²·C),
bias excluded; softmax and the 1/√d scale are other ops. Global attention makes every token see
every token, so every unit after it sees the whole input: its field is global.
"""

from __future__ import annotations

from cnncalc.core.layers.common import fmt_shape, numel
from cnncalc.core.layers.registry import Arg, Args, Kind, Shape, Torch, register
from cnncalc.core.layers.saved import Saved, always_a_view, nothing
from cnncalc.core.rf import Field


def tokens_in(ins: list[Shape], what: str) -> tuple[int, int]:
    if len(ins[0]) != 2:
        raise ValueError(f"{what} needs C×N tokens, got {fmt_shape(ins[0])} (use to_tokens "
                         "after the patch embedding)")
    return ins[0][0], ins[0][1]


def to_tokens_shape(args: Args, ins: list[Shape]) -> Shape:
    if len(ins[0]) not in (3, 4):
        raise ValueError(f"to_tokens needs a C×H×W map (or C×T×H×W), got {fmt_shape(ins[0])}")
    return (ins[0][0], numel(ins[0][1:]))


register(Kind(
    "to_tokens",
    "a C×H×W map as C×N tokens, N = H·W (T·H·W; x.flatten(2)); the field keeps the grid",
    to_tokens_shape, aliases=("tokens",), category="reshape", saved=nothing,
    view=always_a_view, torch=Torch(op="to_tokens"),
))


def class_token_shape(args: Args, ins: list[Shape]) -> Shape:
    c, n = tokens_in(ins, "class_token")
    return (c, n + 1)


register(Kind(
    "class_token", "a learned class token put before the tokens: C×N -> C×(N+1), C params",
    class_token_shape, params=lambda a, i, o: i[0][0], aliases=("cls_token",),
    category="token", saved=nothing, torch=Torch(op="class_token"),
))


def pos_embed_shape(args: Args, ins: list[Shape]) -> Shape:
    tokens_in(ins, "pos_embed")
    return ins[0]


register(Kind(
    "pos_embed", "a learned position embedding added to the tokens: C·N params",
    pos_embed_shape, params=lambda a, i, o: numel(i[0]), other_ops=lambda a, i, o: numel(o),
    aliases=("position_embedding",), category="token", saved=nothing,
    torch=Torch(op="pos_embed"),
))


def take_token_shape(args: Args, ins: list[Shape]) -> Shape:
    c, n = tokens_in(ins, "take_token")
    if args["index"] >= n:
        raise ValueError(f"token {args['index']} is outside 0..{n - 1}")
    return (c,)


register(Kind(
    "take_token", "one token as a vector of C features (the class token: index 0)",
    take_token_shape, args=(Arg("index", "nonneg", 0, doc="which token"),),
    aliases=("cls_pool",), primary="index", category="reshape", saved=nothing,
    view=always_a_view, torch=Torch(op="take_token"),
))


def attention_shape(args: Args, ins: list[Shape]) -> Shape:
    c, _ = tokens_in(ins, "attention")
    if c % args["heads"]:
        raise ValueError(f"dim {c} is not divisible by heads {args['heads']}")
    return ins[0]


def attention_params(args: Args, ins: list[Shape], out: Shape) -> int:
    c = ins[0][0]  # Q, K, V and output projections, C×C each, and their biases
    return 4 * c * c + (4 * c if args["bias"] else 0)


def attention_matmuls(args: Args, ins: list[Shape], out: Shape) -> int:
    c, n = ins[0]
    scores = n * n * c  # Q·Kᵀ: heads · N · N · (C/heads)
    mix = n * n * c  # A·V: heads · N · (C/heads) · N
    return scores + mix


def attention_macs(args: Args, ins: list[Shape], out: Shape) -> int:
    c, n = ins[0]
    projections = 4 * n * c * c  # Q, K, V (3·N·C²) and the output projection (N·C²)
    return projections + attention_matmuls(args, ins, out)


def attention_ops(args: Args, ins: list[Shape], out: Shape) -> int:
    c, n = ins[0]  # the 1/√d scale, softmax (one op per score), biases
    heads: int = args["heads"]
    return n * c + heads * n * n + (4 * n * c if args["bias"] else 0)


def attention_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    c, n = ins[0]
    h = args["heads"]
    # one contiguous copy of q, k and v (whose k and v the matmuls read): at batch 1 torch would
    # otherwise keep views of the projection's output, at larger batches copies of k and v
    return (Saved("input", "input", nhwc=True), Saved("tensor", "q·scale", numel=n * c),
            Saved("tensor", "q, k, v", numel=3 * n * c),
            Saved("tensor", "softmax", numel=h * n * n),
            Saved("tensor", "heads merged", numel=n * c))


def attention_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    return f.globalize()  # every token reads every token: global


register(Kind(
    "attention", "multi-head self-attention over C×N tokens (nn.MultiheadAttention, q = k = v)",
    attention_shape,
    args=(Arg("heads", "int", aliases=("num_heads",), doc="attention heads"),
          Arg("bias", "bool", True, aliases=("qkv_bias",),
              doc="biases of the Q, K, V and output projections")),
    params=attention_params, macs=attention_macs, matmuls=attention_matmuls,
    other_ops=attention_ops, rf=attention_field,
    saved=attention_saved, aliases=("mhsa", "self_attention"), primary="heads",
    category="attention", torch=Torch(op="attention"),
))
