"""Specs written in Python: the YAML vocabulary one to one, as functions. Standard library only.

A `.py` spec file builds its network with these functions (loops, helpers and arithmetic are
plain Python) and exposes it as a module-level `SPEC`:

    from cnncalc.spec.python import net, conv, bn, relu, residual, gap, flatten, linear

    def basic(out, stride=1):                      # a block is a plain function
        return residual(conv(out, 3, s=stride, p=1, bias=False), bn(), relu(),
                        conv(out, 3, p=1, bias=False), bn())

    SPEC = net("tiny", "3x32x32", [conv(16, 3, p=1), bn(), relu(),
                                   *[basic(16) for _ in range(2)], gap(), flatten(), linear(10)])

Every layer kind of the registry is a function of the same name (`conv`, `maxpool`, `linear`, ...,
aliases too): positional arguments fill the kind's arguments in order, keywords use the YAML names
and aliases (`k`, `s`, `p`, ...). Every item takes `name=` and `repeat=` as in YAML. Structure:
`seq(*items)`, `residual(*body, shortcut=...)`, `concat(*paths)` / `add` / `mul` (a path is a list
of items, `[]` the identity; keyword paths are named), and `@block` for a function whose items may
use `"$in"` (the channels entering the block) and are named like a YAML block's. Values may be
YAML expressions such as `"$in * 4"`.

The items become the same tree a YAML file gives (positions point at the Python lines), so the
argument checks, names and numbers are exactly the YAML ones.
"""

from __future__ import annotations

import functools
import itertools
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnncalc.core.errors import LimitError, Loc, SpecError, did_you_mean
from cnncalc.core.layers.registry import Shape, all_names, lookup
from cnncalc.frontends.lower import Block
from cnncalc.frontends.source import MAX_DEPTH, MAX_DIGITS, MAX_NODES, YNode

_HERE = str(Path(__file__).resolve())
_OWN = ["Item", "Net", "add", "block", "concat", "layer", "mul", "net", "residual", "seq"]
_uses = itertools.count(1)


def _caller() -> Loc:
    """file:line of the spec line that made the item (the first frame outside this module)."""
    f = sys._getframe(1)
    while f is not None and str(Path(f.f_code.co_filename).resolve()) == _HERE:
        f = f.f_back  # type: ignore[assignment]
    return Loc(f.f_code.co_filename, f.f_lineno, 1) if f is not None else Loc("<python>", 1, 1)


@dataclass
class Item:
    """One spec item: a head (kind, structure word or block) with its value and meta keys."""

    head: str
    value: Any
    loc: Loc
    name: str | None = None
    repeat: Any = None
    block: Block | None = None  # for @block uses: the block this item names
    body: list[Item] = field(default_factory=list)  # and that block's items


@dataclass
class Net:
    """A whole spec: what `SPEC` holds."""

    name: str
    input: Shape
    layers: list[Item]
    info: dict[str, Any] = field(default_factory=dict)
    loc: Loc = field(default_factory=lambda: Loc("<python>", 1, 1))


def _meta(item: Item, name: Any, repeat: Any) -> Item:
    item.name = None if name is None else str(name)
    item.repeat = repeat
    return item


def layer(kind: str, *args: Any, name: Any = None, repeat: Any = None, **kwargs: Any) -> Item:
    """A layer of `kind`: positional arguments in the kind's order, keywords by name or alias."""
    loc = _caller()
    k = lookup(kind)
    if k is None:
        raise SpecError(f"unknown layer kind {kind!r}", loc, did_you_mean(kind, all_names()))
    if len(args) > len(k.args):
        raise SpecError(f"{k.name} takes at most {len(k.args)} positional arguments "
                        f"({', '.join(a.name for a in k.args) or 'none'}), got {len(args)}", loc)
    value = dict(kwargs)
    for arg, v in zip(k.args, args):
        if arg.name in value or any(a in value for a in arg.aliases):
            raise SpecError(f"{k.name}: {arg.name!r} given twice", loc)
        value[arg.name] = v
    return _meta(Item(kind, value or None, loc), name, repeat)


def _path(p: Any, loc: Loc) -> list[Item]:
    items = [p] if isinstance(p, Item) else p
    if not isinstance(items, (list, tuple)) or not all(isinstance(x, Item) for x in items):
        raise SpecError("a path is a list of items, e.g. [conv(64, 1), relu()]", loc)
    return list(items)


def seq(*items: Item | list[Item], name: Any = None, repeat: Any = None) -> Item:
    """A group of items (a named scope). Lists inside are spliced in."""
    loc = _caller()
    flat = [x for i in items for x in (_path(i, loc))]
    return _meta(Item("seq", flat, loc), name, repeat)


def residual(*body: Item | list[Item], shortcut: Any = None, name: Any = None,
             repeat: Any = None) -> Item:
    """body + shortcut: shortcut 'auto' (default), 'identity', 'optional' or a list of items."""
    loc = _caller()
    flat = [x for i in body for x in _path(i, loc)]
    value: Any = flat
    if shortcut is not None:
        value = {"body": flat, "shortcut": shortcut if isinstance(shortcut, str)
                 else _path(shortcut, loc)}
    return _meta(Item("residual", value, loc), name, repeat)


def _join(head: str) -> Callable[..., Item]:
    def join(*paths: Any, name: Any = None, repeat: Any = None, **named: Any) -> Item:
        loc = _caller()
        if paths and named:
            raise SpecError(f"{head} takes its paths all as a list or all by name", loc)
        value: Any = ({k: _path(p, loc) for k, p in named.items()} if named
                      else [_path(p, loc) for p in paths])
        return _meta(Item(head, value, loc), name, repeat)
    join.__name__ = join.__qualname__ = head
    join.__doc__ = f"Parallel paths from the same input, joined by {head}."
    return join


concat, add, mul = _join("concat"), _join("add"), _join("mul")


def block(fn: Callable[..., Any]) -> Callable[..., Item]:
    """A function used like a YAML block: its layers are named `fn1.conv1` (or by `name=`),
    and `"$in"` in them is the channel count entering the block."""
    @functools.wraps(fn)
    def use(*args: Any, name: Any = None, repeat: Any = None, **kwargs: Any) -> Item:
        loc = _caller()
        body = _path(fn(*args, **kwargs), loc)
        key = f"{fn.__name__}#{next(_uses)}"
        b = Block(fn.__name__, {}, _tree(body), loc)
        return _meta(Item(key, None, loc, block=b, body=body), name, repeat)
    return use


def net(name: str, input: str | Shape, layers: list[Item] | Item,
        info: dict[str, Any] | None = None) -> Net:
    """The spec: a name, an input ('3x224x224' or (3, 224, 224)) and a list of items."""
    from cnncalc.frontends.load import line_of_text, parse_input

    loc = _caller()
    if not isinstance(name, str):
        raise SpecError(f"the name is a line of text, got {name!r}", loc)
    line_of_text("name", name, loc)
    shape = parse_input(input, None, loc) if isinstance(input, str) else tuple(input)
    if len(shape) != 3 or not all(isinstance(d, int) and d >= 1 for d in shape):
        raise SpecError(f"input is 'CxHxW' or (C, H, W), got {input!r}", loc)
    items = _path(layers, loc)
    if not items:
        raise SpecError("a spec needs at least one layer", loc)
    return Net(name, shape, items, dict(info or {}), loc)


# Conversion to the YAML tree the lowerer reads --------------------------------------------

def _node(value: Any, loc: Loc) -> YNode:
    if isinstance(value, Item):
        return _item_node(value)
    if isinstance(value, dict):
        return YNode({str(k): _node(v, loc) for k, v in value.items()}, loc,
                     keylocs=dict.fromkeys(map(str, value), loc))
    if isinstance(value, (list, tuple)):
        return YNode([_node(v, loc) for v in value], loc)
    return YNode(value, loc)


def _item_node(item: Item) -> YNode:
    if item.value is None and item.name is None and item.repeat is None:
        return YNode(item.head, item.loc)
    body: dict[str, Any] = {item.head: item.value}
    if item.name is not None:
        body["name"] = item.name
    if item.repeat is not None:
        body["repeat"] = item.repeat
    node = _node(body, item.loc)
    node.value[item.head] = _node(item.value, item.loc)
    return node


def _check(items: Any, loc: Loc) -> None:
    """The bounds a YAML spec has, for a Python one, checked without recursion before the
    (recursive) conversion: nesting depth, number of values, and plain values only (numbers as
    the YAML reader allows them, text, booleans, None)."""
    stack: list[tuple[Any, int]] = [(items, 0)]
    count = 0
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise LimitError(f"spec has more than {MAX_NODES:,} values", loc)
        if depth > MAX_DEPTH:
            raise LimitError(f"spec is nested deeper than {MAX_DEPTH} levels", loc)
        if isinstance(value, Item):
            stack += [(value.value, depth + 1), (value.body, depth + 1),
                      (value.repeat, depth + 1)]
        elif isinstance(value, dict):
            stack += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, (list, tuple)):
            stack += [(v, depth + 1) for v in value]
        elif isinstance(value, bool) or value is None or isinstance(value, str):
            continue
        elif isinstance(value, int):
            if abs(value) >= 10**MAX_DIGITS:
                raise SpecError(f"number longer than {MAX_DIGITS} digits", loc)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise SpecError(f"{value} is not a finite number", loc)
        else:
            raise SpecError(f"a spec holds numbers, text, booleans and lists, got "
                            f"{type(value).__name__}", loc)


def _tree(items: list[Item]) -> YNode:
    _check(items, items[0].loc if items else Loc("<python>", 1, 1))
    return YNode([_item_node(x) for x in items], items[0].loc if items else Loc("<python>", 1, 1))


def _blocks(items: Any, out: dict[str, Block]) -> dict[str, Block]:
    """Every @block use reachable from `items`, keyed as the items name them."""
    if isinstance(items, Item):
        if items.block is not None:
            out[items.head] = items.block
            _blocks(items.body, out)
        _blocks(items.value, out)
    elif isinstance(items, dict):
        for v in items.values():
            _blocks(v, out)
    elif isinstance(items, (list, tuple)):
        for v in items:
            _blocks(v, out)
    return out


def to_spec(n: Net, path: str) -> Any:
    """The `Spec` the YAML loader would have made (blocks, items with positions)."""
    from cnncalc.frontends.load import Spec

    _check(n.layers, n.loc)
    return Spec(n.name, n.input, _tree(n.layers), _blocks(n.layers, {}), {**n.info}, path)


def __getattr__(name: str) -> Callable[..., Item]:
    """`conv`, `bn`, `relu`, ...: every registered kind (and alias) is a function."""
    if name.startswith("_") or lookup(name) is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return functools.partial(layer, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *all_names()})


__all__ = sorted({*_OWN, *(n for n in all_names() if n.isidentifier())})  # `import *` too
