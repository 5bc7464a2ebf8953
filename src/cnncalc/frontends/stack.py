"""Small networks written on the command line: one layer (`cnncalc conv`, `pool`, `dsconv`,
`fc-vs-conv`) or the `--stack` shorthand of `cnncalc rf`.

Both go through the spec front end (argument checks, macro expansion, layer names) into the
engine, so every number comes from the registry's formulas, exactly as for a YAML spec.

The stack shorthand is a comma-separated list of items, each

    [KIND][K | KhxKw | KtxKhxKw] [sN] [dN] [pN | psame | pvalid] [*N]

KIND is conv (the default; `k` also reads as conv: `k2`), max / maxpool / pool or avg / avgpool;
K the kernel size; s, d and p the stride, dilation and padding (N, HxW or TxHxW); `*N` repeats
the item N times. An item without a kernel continues the previous item's kind and kernel with
its own options, so "3x3 d1,d2,d4,d8" is four 3×3 convs with dilations 1, 2, 4 and 8. `...`
between two items continues a geometric sequence of one option up to the next item's value:
"d1,d2,d4,...,d512" is ten dilations (the ratio of the two values before it, else 2). Convs pad
d·(k−1)/2 unless told (the size holds at stride 1); pools pad 0 and default to stride = kernel,
as in torch. The word `causal` anywhere makes every conv pad d·(k−1) before and none after
(WaveNet, TCNs).

The stack's spatial axes: 3 when a value has three numbers (3x7x7), 1 when it is causal, else
2; its default input is 1x16000 (1-D), 1x224x224 (2-D) or 1x16x112x112 (3-D).
"""

from __future__ import annotations

import re
from typing import Any

from cnncalc.core.engine import Graph
from cnncalc.core.errors import CnncalcError, Loc, SpecError
from cnncalc.core.layers.registry import Shape
from cnncalc.core.text import is_count
from cnncalc.frontends.load import analyze, parse_input
from cnncalc.frontends.lower import Lowerer, Scope
from cnncalc.frontends.source import YNode

KIND_WORDS = {"conv": "conv", "k": "conv", "max": "maxpool", "maxpool": "maxpool",
              "pool": "maxpool", "avg": "avgpool", "avgpool": "avgpool"}
MAX_ITEMS = 1000
SOURCE = "--stack"
SYNTAX = "items look like '3x3', '3x3 s2', '3x3 d2*4', 'max2', 'avg3 s1 p1'"

_PAIR = r"\d+(?:[x×]\d+)?"
_PAIR = r"\d+(?:[x×]\d+){0,2}"
_HEAD = re.compile(rf"(?P<kind>[a-z]+)?(?P<k>{_PAIR})?\Z")
_OPTION = re.compile(rf"(?P<key>[sdp])(?P<value>{_PAIR}|same|valid)\Z")
_ONE = re.compile(r"(?P<key>[sd])(?P<value>\d+)\Z")
DEFAULT_INPUT = {1: "1x16000", 2: "224", 3: "1x16x112x112"}
_REPEAT = re.compile(r"\s*\*\s*(\d+)\s*\Z")

Item = tuple[str, dict[str, Any], Loc | None, str | None]  # kind, args, position, name


def pair_value(text: str, what: str, words: tuple[str, ...] = ()) -> Any:
    """'3' -> 3, '3x5' -> [3, 5], '3x7x7' -> [3, 7, 7] (one per spatial axis); 'same' /
    'valid' / 'causal' where `words` allows them."""
    t = text.strip().lower()
    if t in words:
        return t
    parts = re.split(r"[x×,]", t)
    if not 1 <= len(parts) <= 3 or not all(is_count(p) for p in parts):
        allowed = "N, HxW or TxHxW" + "".join(f" or {w}" for w in words)
        raise SpecError(f"bad {what} {text!r}: write {allowed}")
    nums = [int(p) for p in parts]
    return nums[0] if len(nums) == 1 else nums


def calc_shape(size: str, values: list[Any], axes: int | None) -> tuple[Shape, bool]:
    """The input of a one-layer calculator (`conv`, `pool`) and whether C was given.

    The number of spatial axes is `axes` when given, else 3 when a per-axis value has three
    numbers (`-k 3x7x7`), else 2. Then the size is one number per axis (TxHxW, HxW, L), the
    same with the channels first (CxTxHxW, CxHxW, CxL), or one number for every axis (224: a
    224×224 map; with --axes 1, 16000 samples)."""
    rank = axes or (3 if any(isinstance(v, list) and len(v) == 3 for v in values) else 2)
    for v in values:
        if isinstance(v, list) and len(v) != rank:
            raise SpecError(f"{'x'.join(map(str, v))} has {len(v)} values, the input "
                            f"{size!r} has {rank} spatial axes: give one number or {rank}")
    if rank == 2:
        return parse_size(size)
    parts = re.split(r"[x×,*]", size.strip())
    if len(parts) not in (1, rank, rank + 1):
        raise SpecError(f"bad input size {size!r}: {rank} spatial "
                        f"ax{'e' if rank > 1 else 'i'}s take one number, "
                        f"{'TxHxW or CxTxHxW' if rank == 3 else 'L or CxL'}")
    given = len(parts) == rank + 1
    sizes = parts * rank if len(parts) == 1 else parts
    return parse_input("x".join(sizes if given else ["1", *sizes]), None), given


def parse_size(text: str) -> tuple[Shape, bool]:
    """'224', '224x200' or '3x224x224' -> (C, H, W) and whether C was given (else C = 1)."""
    given = len(re.split(r"[x×,*]", text.strip())) == 3
    return parse_input(text, 1), given


def _node(value: Any, loc: Loc | None) -> YNode:
    if isinstance(value, dict):
        return YNode({k: _node(v, loc) for k, v in value.items()}, loc,  # type: ignore[arg-type]
                     keylocs=dict.fromkeys(value, loc))  # type: ignore[arg-type]
    if isinstance(value, (list, tuple)):
        return YNode([_node(v, loc) for v in value], loc)  # type: ignore[arg-type]
    return YNode(value, loc)  # type: ignore[arg-type]


def build_items(input_shape: Shape, items: list[Item], name: str = "net") -> Graph:
    """A sequential graph of layers written as (kind, args, position, name) items."""
    g = Graph(input_shape, name)
    lower, scope, cur = Lowerer({}, g), Scope(), "input"
    for kind, args, loc, layer_name in items:
        item = {kind: args, **({"name": layer_name} if layer_name else {})}
        cur = lower.item(_node(item, loc), cur, scope, {})
    return g


def one_layer(kind: str, input_shape: Shape, args: dict[str, Any], name: str) -> Graph:
    """A graph of one layer (or of a macro's expansion: sepconv gives name.dw and name.pw)."""
    return build_items(input_shape, [(kind, args, None, name)], name)


def stack_rank(text: str) -> int:
    """The stack's spatial axes (module docstring): 3, 1 (causal) or 2."""
    if re.search(r"\d+[x×]\d+[x×]\d+", text):
        return 3
    return 1 if re.search(r"\bcausal\b", text.lower()) else 2


def stack_input(text: str, input: str | None, channels: int = 1) -> Shape:
    """The input of a stack: `input` read with the stack's axes, or the default."""
    rank = stack_rank(text)
    return parse_input(input or DEFAULT_INPUT[rank], channels, rank=rank)


def _expand(raw: list[str]) -> list[str]:
    """Items with `...` replaced by the geometric run it stands for: d1,d2,d4,...,d512."""
    out: list[str] = []
    for i, item in enumerate(raw):
        if item.strip() != "...":
            out.append(item)
            continue
        before = [_ONE.match(t) for t in (out[-1].split()[-1:] if out else [])]
        after = [_ONE.match(t) for t in raw[i + 1].split()[:1]] if i + 1 < len(raw) else []
        if not before or not before[0] or not after or not after[0] or \
                before[0]["key"] != after[0]["key"]:
            raise SpecError("'...' continues one option between two items, e.g. "
                            "'d1,d2,d4,...,d512'", Loc(SOURCE, 1, 1))
        key, a, z = before[0]["key"], int(before[0]["value"]), int(after[0]["value"])
        prev = [_ONE.match(t) for t in (out[-2].split()[-1:] if len(out) > 1 else [])]
        ratio = int(prev[0]["value"]) if prev and prev[0] and prev[0]["key"] == key else 0
        ratio = a // ratio if ratio and a % ratio == 0 and a // ratio > 1 else 2
        run: list[str] = []
        v = a * ratio
        while v < z and len(run) < MAX_ITEMS:
            run.append(f"{key}{v}")
            v *= ratio
        if v != z:
            raise SpecError(f"'...' from {key}{a} by ×{ratio} does not reach {key}{z}",
                            Loc(SOURCE, 1, 1))
        out += run
    return out


def parse_stack(text: str, channels: int) -> list[Item]:
    """The shorthand (module docstring) as items; convs keep `channels` channels."""
    items: list[Item] = []
    prev: tuple[str, Any] | None = None
    causal = re.search(r"\bcausal\b", text.lower()) is not None
    text = re.sub(r"\bcausal\b", "", text, flags=re.IGNORECASE)
    col = 1
    for raw in _expand(text.split(",")):
        loc = Loc(SOURCE, 1, col + len(raw) - len(raw.lstrip()))
        col += len(raw) + 1
        body, times = raw.strip().lower(), 1
        m = _REPEAT.search(body)
        if m:
            body, times = body[: m.start()].strip(), int(m.group(1))
        tokens = body.split()
        if not tokens:
            raise SpecError("empty item in the stack", loc, SYNTAX)
        kind, kernel, tokens = _head(tokens, prev, loc)
        prev = (kind, kernel)
        args = _options(kind, kernel, tokens, channels, loc, causal)
        if len(items) + times > MAX_ITEMS:
            raise SpecError(f"a stack has at most {MAX_ITEMS} layers", loc)
        items += [(kind, args, loc, None)] * times
    return items


def _head(tokens: list[str], prev: tuple[str, Any] | None,
          loc: Loc) -> tuple[str, Any, list[str]]:
    m = _HEAD.match(tokens[0])
    if _OPTION.match(tokens[0]) or not m or not (m["kind"] or m["k"]):
        if prev is None:
            raise SpecError(f"the first item needs a kernel size, got {tokens[0]!r}", loc, SYNTAX)
        return prev[0], prev[1], tokens
    word = m["kind"] or "conv"
    if word not in KIND_WORDS:
        raise SpecError(f"unknown layer {word!r} in the stack; use conv, max or avg", loc, SYNTAX)
    kind = KIND_WORDS[word]
    if m["k"]:
        return kind, pair_value(m["k"], "kernel size"), tokens[1:]
    if prev is not None and prev[0] == kind:
        return kind, prev[1], tokens[1:]
    raise SpecError(f"{word} needs a window size, e.g. {word}2", loc, SYNTAX)


def _options(kind: str, kernel: Any, tokens: list[str], channels: int,
             loc: Loc, causal: bool = False) -> dict[str, Any]:
    names = {"s": "stride", "d": "dilation", "p": "padding"}
    args: dict[str, Any] = {"kernel_size": kernel}
    for tok in tokens:
        m = _OPTION.match(tok)
        if not m:
            raise SpecError(f"unknown option {tok!r} in the stack", loc, SYNTAX)
        key = names[m["key"]]
        if key in args:
            raise SpecError(f"{key} given twice in one item", loc)
        words = ("same", "valid") if key == "padding" else ()
        args[key] = pair_value(m["value"], key, words)
    if kind == "conv":
        args["out"] = channels
        if causal:
            if "padding" in args:
                raise SpecError("a causal stack pads its convs itself: leave out p", loc)
            args["padding"] = "causal"
        if "padding" not in args:  # keep the size at stride 1: d·(k−1)/2 on each side
            k, d = kernel, args.get("dilation", 1)
            n = max(len(v) if isinstance(v, list) else 2 for v in (k, d))
            k, d = ([v] * n if isinstance(v, int) else v for v in (k, d))
            args["padding"] = [dd * (kk - 1) // 2 for kk, dd in zip(k, d)]
    return args


STACK_CHANNELS = 4  # erf --stack: channels of every layer (a single channel's ReLU dies too easily)


def stack_graph(item: str, depth: int, input: str | None, relu: bool = False) -> Graph:
    """Luo's figure-1 net for `erf --stack`: `item` repeated `depth` times (the `rf --stack`
    shorthand), without biases, with a ReLU after each conv when `relu`, on `input` or on a
    square input a quarter wider than the field on each side; STACK_CHANNELS channels unless
    `input` says CxHxW."""
    text = f"{item}*{depth}"
    rank = stack_rank(text)
    if input:
        shape = parse_input(input, STACK_CHANNELS, rank=rank)
    else:
        probe = build_items((1, *(4096,) * rank), parse_stack(text, 1), text)
        size = int(max(ax.size for ax in probe.output.rf.max.axes()))
        side = size + 2 * max(4, size // 4)
        shape = (STACK_CHANNELS, *(side,) * rank)
    items = [(k, {**a, "bias": False} if k == "conv" else a, loc, name)
             for k, a, loc, name in parse_stack(text, shape[0])]  # Luo's stacks: no biases
    if relu:
        items = [y for x in items
                 for y in ([x, ("relu", {}, x[2], None)] if x[0] == "conv" else [x])]
    return build_items(shape, items, text + (" relu" if relu else ""))


def spec_or_stack(spec: str | None, stack: str | None, input: str | None,
                  args: list[str] | None = None) -> Graph:
    """`rf`'s source: a spec (file, zoo name, Python spec or model), or a `--stack` shorthand on
    `input` (1×224×224 unless given); exactly one of the two."""
    if (spec is None) == (stack is None):
        raise CnncalcError("give a spec (file or zoo name) or --stack, not both"
                           if spec else "give a spec (file or zoo name) or --stack '3x3*7'")
    if stack is not None:
        shape = stack_input(stack, input)
        return build_items(shape, parse_stack(stack, shape[0]), stack)
    assert spec is not None
    return analyze(spec, input, args=args)
