"""Swin's kinds: shifted-window multi-head self-attention and patch merging, on a C×H×W grid.

NB (the grid convention, stated once; docs/conventions.md says the same): Swin keeps its tokens
on their H×W grid, so they are a C×H×W map here, channels first like every map (torchvision's
B×H×W×C is the same tensor permuted); `layernorm` and `linear` on a map act on the channels at
every token, as Swin's LayerNorm and MLP do. `window_attention` cuts the grid, zero-padded to a
multiple of the window M, into M×M windows (after rolling it by −shift on both axes; no shift
along an axis that one window covers, as torchvision does) and runs multi-head self-attention in
each, with a learned relative-position bias ((2M−1)²·heads params) and, when shifted, the mask
that keeps tokens from attending across the roll's wrap-around.
MACs per window = 4·M²·C² (projections) + M⁴·C (Q·Kᵀ) + M⁴·C (A·V), over every window of the
padded grid: 4·Hp·Wp·C² + 2·Hp·Wp·M²·C, bias excluded (as `attention` counts).
Field: token o reads the tokens of its window. With the mask, a shifted partition is the
unshifted one moved by `shift` and cut at the grid's ends: windows [s + k·M, s + (k+1)·M) and
the pieces [0, s) and [Hp − M + s, Hp), never across the wrap — the periodic lattice of
`window_axis`, whose border units (like a padded conv's) are clipped to the grid.
"""

from __future__ import annotations

from collections.abc import Callable

from cnncalc.core.layers.common import fmt_shape, numel, spatial
from cnncalc.core.layers.registry import Arg, Args, Kind, Shape, Torch, register
from cnncalc.core.layers.saved import Saved, stats
from cnncalc.core.rf import Axis, Field


def padded(n: int, m: int) -> int:
    """Tokens along an axis once zero-padded to a multiple of the window."""
    return -(-n // m) * m


def shift_along(n: int, m: int, shift: int) -> int:
    """The roll along an axis of n tokens: none when one window covers the padded axis."""
    return shift if m < padded(n, m) else 0


def image(shape: Shape, what: str) -> tuple[int, int, int]:
    """C, H, W of a 2-D grid of tokens (Swin's kinds work on images only)."""
    c, sizes = spatial(shape, what)
    if len(sizes) != 2:
        raise ValueError(f"{what} needs a C×H×W input, got {fmt_shape(shape)} (a grid of "
                         "tokens: Swin's kinds work on images)")
    return c, sizes[0], sizes[1]


def window_shape(args: Args, ins: list[Shape]) -> Shape:
    c, _, _ = image(ins[0], "window_attention")
    if c % args["heads"]:
        raise ValueError(f"dim {c} is not divisible by heads {args['heads']}")
    if args["shift"] >= args["window"]:
        raise ValueError(f"shift {args['shift']} must be smaller than the window "
                         f"{args['window']}")
    return ins[0]


def window_params(args: Args, ins: list[Shape], out: Shape) -> int:
    c, m, heads = ins[0][0], int(args["window"]), int(args["heads"])
    table = (2 * m - 1) ** 2 * heads  # the relative-position bias, per head
    return 4 * c * c + (4 * c if args["bias"] else 0) + table


def window_buffers(args: Args, ins: list[Shape], out: Shape) -> int:
    m: int = args["window"]
    return m ** 4  # the relative-position index, one per pair of a window's tokens


def grid(args: Args, ins: list[Shape]) -> tuple[int, int, int, int]:
    """C, the padded tokens Hp·Wp, and M²."""
    c, h, w = ins[0]
    m = args["window"]
    return c, padded(h, m) * padded(w, m), m * m, m


def window_matmuls(args: Args, ins: list[Shape], out: Shape) -> int:
    c, tokens, mm, _ = grid(args, ins)
    return 2 * tokens * mm * c  # Q·Kᵀ and A·V: per window heads · M² · M² · C/heads each


def window_macs(args: Args, ins: list[Shape], out: Shape) -> int:
    c, tokens, _, _ = grid(args, ins)
    return 4 * tokens * c * c + window_matmuls(args, ins, out)  # Q, K, V, output projections


def window_ops(args: Args, ins: list[Shape], out: Shape) -> int:
    c, tokens, mm, m = grid(args, ins)  # the 1/√d scale, the bias table add, the mask add
    scores = int(args["heads"]) * tokens * mm  # (when rolled), softmax, the biases
    rolled = any(shift_along(n, m, args["shift"]) for n in ins[0][1:])
    adds = 2 + (1 if rolled else 0)
    return tokens * c + adds * scores + (4 * tokens * c if args["bias"] else 0)


def window_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    c, tokens, mm, _ = grid(args, ins)
    scores = int(args["heads"]) * tokens * mm
    # the windows (the qkv projection's input), q·scale, one contiguous copy of q, k and v
    # (whose k and v the matmuls read, at any batch), the softmax, the heads merged
    return (Saved("tensor", "windows", numel=tokens * c),
            Saved("tensor", "q·scale", numel=tokens * c),
            Saved("tensor", "q, k, v", numel=3 * tokens * c),
            Saved("tensor", "softmax", numel=scores),
            Saved("tensor", "heads merged", numel=tokens * c))


def window_axis(ax: Axis, n: int, m: int, shift: int) -> Axis:
    """One axis of n tokens through windows of m: output token o reads the tokens of its window.
    Unshifted windows are [k·m, (k+1)·m); shifted ones start at `shift` (the mask cuts the
    wrapped window into [0, shift) and [Hp − m + shift, Hp), each at a grid end, so the lattice
    of windows [shift + k·m, shift + (k+1)·m) clipped to the grid is exact); one window over
    the whole axis reads its n tokens."""
    if m >= padded(n, m):
        return ax.gather(lambda o: range(o // n * n, o // n * n + n), n, n, (1 - n, n - 1))
    s = shift_along(n, m, shift)

    def deps(o: int) -> range:
        first = (o - s) // m * m + s
        return range(first, first + m)
    return ax.gather(deps, m, m, (1 - m, m - 1))


def window_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    _, h, w = ins[0]
    m, shift = args["window"], args["shift"]
    if m >= padded(h, m) and m >= padded(w, m):
        # one window: every token reads every token, on a grid that stays H×W (hw unread: the
        # globalised field is already global along both axes)
        return f.globalize().broadcast(f.grid, (0, 0))
    return on_axes(f, lambda a, ax: window_axis(ax, (h, w)[a], m, shift), f.grid)


def on_axes(f: Field, fn: Callable[[int, Axis], Axis], grid: tuple[int, ...]) -> Field:
    """The field with axis a replaced by fn(a, axis a), on a map of `grid` units (the one place
    these kinds build a Field)."""
    return f.with_axes((fn(a, ax) for a, ax in enumerate(f.axes())), grid)


register(Kind(
    "window_attention", "shifted-window multi-head self-attention on a C×H×W grid of tokens, "
    "with a relative-position bias (Swin's ShiftedWindowAttention)",
    window_shape,
    args=(Arg("heads", "int", aliases=("num_heads",), doc="attention heads"),
          Arg("window", "int", 7, aliases=("window_size", "m"), doc="window size M (tokens)"),
          Arg("shift", "nonneg", 0, aliases=("shift_size",),
              doc="cyclic shift of the windows (Swin: M // 2 on every other block)"),
          Arg("bias", "bool", True, aliases=("qkv_bias",),
              doc="biases of the Q, K, V and output projections")),
    params=window_params, buffers=window_buffers, macs=window_macs, matmuls=window_matmuls,
    other_ops=window_ops,
    rf=window_field, saved=window_saved, aliases=("swin_attention", "wmsa"), primary="heads",
    category="attention", torch=Torch(op="window_attention"),
))


def merge_shape(args: Args, ins: list[Shape]) -> Shape:
    c, h, w = image(ins[0], "patch_merge")
    return (2 * c, -(-h // 2), -(-w // 2))


def merge_params(args: Args, ins: list[Shape], out: Shape) -> int:
    c = ins[0][0]
    return 2 * 4 * c + 4 * c * 2 * c  # layernorm(4C): γ, β; linear 4C -> 2C, no bias


def merge_macs(args: Args, ins: list[Shape], out: Shape) -> int:
    c = ins[0][0]
    return 4 * c * 2 * c * out[1] * out[2]


def merge_saved(args: Args, ins: list[Shape], out: Shape) -> tuple[Saved, ...]:
    positions = out[1] * out[2]  # the 2×2 neighbourhoods concatenated, normalised, then read
    c4 = 4 * ins[0][0] * positions
    return (Saved("tensor", "concat", numel=c4), stats("mean", positions),
            stats("rstd", positions), Saved("tensor", "normalised", numel=c4))


def merge_field(args: Args, ins: list[Shape], out: Shape, f: Field) -> Field:
    # each token reads its 2×2 neighbourhood: a 2×2 stride-2 window
    return on_axes(f, lambda a, ax: ax.window(2, 2, 0), (out[1], out[2]))


register(Kind(
    "patch_merge", "Swin's patch merging: each 2×2 neighbourhood's 4·C features concatenated, "
    "layernorm(4C), linear 4C -> 2C without bias: C×H×W -> 2C×⌈H/2⌉×⌈W/2⌉",
    merge_shape, params=merge_params, macs=merge_macs,
    other_ops=lambda a, i, o: 5 * 2 * numel(o), rf=merge_field, saved=merge_saved,
    aliases=("patch_merging",), category="token", torch=Torch(op="patch_merge"),
))
