"""Lowering a YAML spec tree into the engine's graph, layer by layer.

Item forms (docs/spec.md has the full story):
  relu                                   a kind (or a block) with no arguments
  {conv: {out: 64, k: 3}, name: stem}    a kind with arguments, optional name
  {linear: 1000}                         a kind's primary argument
  {basic: {out: 128, stride: 2}}         a block use
  {seq: [...]}                           a named group
  {residual: [...]} / {residual: {body: [...], shortcut: auto|identity|optional|[...]}}
  {concat|add|mul: [[...], [...]]}       parallel paths joined; [] is the identity path
  any item may carry `repeat: N` (copies named .0 .. .N-1, `$i` is the copy's index)
  any item may carry `if: COND` (true/false or an expression): the item is left out when false,
  as MobileNet's expansion conv is when the expansion ratio is 1

`$in` is the channel count entering the enclosing block (the network input's at the top level),
so a block can size itself from its input: an expansion `{conv: {out: "$in * 6", k: 1}}`, a
squeeze `max(1, $in // 4)`, a transition `$in // 2`. It is reserved: no block argument is `in`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnncalc.core.engine import Graph
from cnncalc.core.errors import ErrorList, LimitError, Loc, ShapeError, SpecError, did_you_mean
from cnncalc.core.layers.common import fmt_shape
from cnncalc.core.layers.registry import Kind, all_names, lookup
from cnncalc.core.text import numbered
from cnncalc.frontends.args import coerce
from cnncalc.frontends.expr import ExprError, evaluate, has_ref
from cnncalc.frontends.source import YNode

STRUCTURE = ("seq", "residual", "concat", "add", "mul")
META = ("name", "repeat", "if")
SHORTCUTS = ("auto", "identity", "optional")
INPUT_REF = "in"  # `$in`, the channels entering the enclosing block
MAX_REPEAT = 10_000
MAX_BLOCK_DEPTH = 32
MAX_LAYERS = 10_000  # ResNet-1001 has about 3,300; more is a runaway repeat
MAX_STEPS = 200_000  # items visited while expanding (each repeat copy, each skipped item, ...)


@dataclass
class Block:
    name: str
    args: dict[str, YNode | None]  # default value, or None when required
    body: YNode
    loc: Loc


@dataclass
class Scope:
    prefix: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    def auto(self, word: str) -> str:
        self.counts[word] = self.counts.get(word, 0) + 1
        return numbered(word, self.counts[word])

    def once(self, word: str) -> str:
        """`word` the first time, then word2, word3, ... (`core.text.numbered`)"""
        n = self.counts[word] = self.counts.get(word, 0) + 1
        return word if n == 1 else numbered(word, n)

    def full(self, name: str) -> str:
        return self.prefix + name

    def child(self, name: str) -> Scope:
        return Scope(self.prefix + name + ".")


def resolve(node: YNode, env: dict[str, Any]) -> Any:
    """A YNode's plain value with `$expressions` evaluated against the block arguments."""
    v = node.value
    if isinstance(v, str) and has_ref(v):
        try:
            return evaluate(v, env)
        except ExprError as e:
            raise SpecError(str(e), node.loc) from None
    if isinstance(v, list):
        return [resolve(x, env) for x in v]
    if isinstance(v, dict):
        return {k: resolve(x, env) for k, x in v.items()}
    return v


def _expr_cost(node: YNode) -> int:
    v = node.value
    if isinstance(v, str):
        return 1 + len(v) // 8 if has_ref(v) else 0
    if isinstance(v, list):
        return sum(_expr_cost(x) for x in v)
    if isinstance(v, dict):
        return sum(_expr_cost(x) for x in v.values())
    return 0


class Lowerer:
    def __init__(self, blocks: dict[str, Block], graph: Graph, errors: ErrorList | None = None):
        self.blocks = blocks
        self.g = graph
        self.stack: list[str] = []
        self.errors = errors  # when given, a bad item is recorded and skipped, not fatal
        self.steps = 0

    def step(self, node: YNode, cost: int = 1) -> None:
        """The work budget of expansion: every item visited costs one step, whether or not it
        makes a layer (an empty seq, an `if: false` item, a block whose body errs), so nested
        repeats and blocks are bounded by the work they ask for, not by the layers produced.
        An expression costs a step per 8 characters."""
        self.steps += cost
        if self.steps > MAX_STEPS:
            raise LimitError(f"spec expands to more than {MAX_STEPS:,} items", node.loc,
                             "nested repeats or blocks multiply; lower a repeat count")

    def resolve(self, node: YNode, env: dict[str, Any]) -> Any:
        """`resolve`, its expressions paid for from the work budget first."""
        cost = _expr_cost(node)
        if cost:
            self.step(node, cost)
        return resolve(node, env)

    # Sequences and items -----------------------------------------------------------------

    def seq(self, node: YNode, cur: str, scope: Scope, env: dict[str, Any]) -> str:
        items = node.value if node.is_seq else [node]
        for item in items:
            if self.errors is None:
                cur = self.item(item, cur, scope, env)
                continue
            try:
                cur = self.item(item, cur, scope, env)
            except LimitError:
                raise
            except ShapeError:
                # after a skipped item, shapes downstream are not the spec's: report what we have
                if self.errors.errors:
                    raise self.errors.error() from None
                raise
            except SpecError as e:
                self.errors.add(e)  # independent of the items after it: skip it and go on
        return cur

    def item(self, node: YNode, cur: str, scope: Scope, env: dict[str, Any]) -> str:
        self.step(node)
        head, value, meta = self.split(node, env)
        if "if" in meta and not self.condition(meta["if"], env):
            return cur
        name = self.name(meta.get("name"), env)
        if "repeat" not in meta:
            return self.one(head, value, node, cur, scope, env, name)
        n = self.resolve(meta["repeat"], env)
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_REPEAT:
            raise SpecError(f"repeat must be an integer from 0 to {MAX_REPEAT:,}, got {n!r}",
                            meta["repeat"].loc)
        inner = scope.child(name or scope.auto(head))
        for i in range(n):
            self.step(node)
            cur = self.one(head, value, node, cur, inner, {**env, "i": i}, str(i))
        return cur

    def condition(self, node: YNode, env: dict[str, Any]) -> bool:
        value = self.resolve(node, env)
        if not isinstance(value, bool):
            raise SpecError(f"'if' takes true, false or a condition such as \"$t != 1\", "
                            f"got {value!r}", node.loc)
        return value

    def split(self, node: YNode, env: dict[str, Any]) -> tuple[str, YNode | None, dict[str, YNode]]:
        """An item's head (kind, block or structure word), its value, and its meta keys."""
        if isinstance(node.value, str):
            head = self.resolve(node, env) if has_ref(node.value) else node.value
            if not isinstance(head, str):
                raise SpecError(f"expected a layer kind, got {head!r}", node.loc)
            return head, None, {}
        if not node.is_map:
            raise SpecError("expected a layer: a kind like 'relu' or a mapping like "
                            f"{{conv: {{out: 64, k: 3}}}}, got {node.plain()!r}", node.loc)
        heads = [k for k in node.value if k not in META]
        if len(heads) != 1:
            what = "no layer kind" if not heads else "several layer kinds: " + ", ".join(heads)
            raise SpecError(f"a layer item needs exactly one kind key, found {what}", node.loc)
        meta = {k: v for k, v in node.value.items() if k in META}
        return heads[0], node.value[heads[0]], meta

    def name(self, node: YNode | None, env: dict[str, Any]) -> str | None:
        if node is None:
            return None
        name = self.resolve(node, env)
        if not isinstance(name, (str, int)) or isinstance(name, bool) or not str(name) or \
                not str(name).replace("_", "").replace("-", "").isalnum():
            raise SpecError(f"a layer name is letters, digits, _ and -, got {name!r}", node.loc)
        if str(name) == "input":
            raise SpecError("'input' is reserved for the network's input", node.loc)
        return str(name)

    def one(self, head: str, value: YNode | None, node: YNode, cur: str, scope: Scope,
            env: dict[str, Any], name: str | None) -> str:
        if len(self.g.layers) > MAX_LAYERS:
            raise LimitError(f"spec expands to more than {MAX_LAYERS:,} layers", node.loc,
                             "lower a repeat count")
        if head == "seq":
            if value is None or not value.is_seq:
                raise SpecError("seq takes a list of layers", node.loc)
            return self.seq(value, cur, scope.child(name or scope.auto("seq")), env)
        if head == "residual":
            return self.residual(value, node, cur, scope, env, name)
        if head in ("concat", "add", "mul"):
            return self.branches(head, value, node, cur, scope, env, name)
        if head in self.blocks:
            return self.block(self.blocks[head], value, node, cur, scope, env, name)
        kind = lookup(head)
        if kind is None:
            choices = [*all_names(), *self.blocks, *STRUCTURE]
            raise SpecError(f"unknown layer kind {head!r}", node.loc, did_you_mean(head, choices)
                            or "the kinds are in docs/spec.md and `cnncalc schema`; a block must "
                               "be defined under 'blocks'")
        return self.layer(kind, value, node, cur, scope, env, name, head)

    # Layers ------------------------------------------------------------------------------

    def layer(self, kind: Kind, value: YNode | None, node: YNode, cur: str, scope: Scope,
              env: dict[str, Any], name: str | None, written: str | None = None) -> str:
        """One layer; `written`: the kind's name as the spec wrote it (an alias that names a
        rank, conv1d or maxpool3d, goes to the engine, which checks the input's rank)."""
        full = scope.full(name or scope.auto(kind.name))
        given: dict[str, tuple[Any, Loc]] = {}
        if value is None or value.value is None:
            pass
        elif value.is_map:
            given = {k: (self.resolve(v, env), v.loc) for k, v in value.value.items()}
        elif kind.primary:
            given = {kind.primary: (self.resolve(value, env), value.loc)}
        else:
            raise SpecError(f"{kind.name} takes its arguments as a mapping, e.g. "
                            f"{{{kind.name}: {{...}}}}", value.loc)
        args = coerce(kind, given, node.loc, full, value.keylocs if value is not None else None)
        expand = kind.expand
        if not expand:
            ranked = written if written and written[-2:] in ("1d", "2d", "3d") else None
            return self.add(full, ranked or kind.name, args, (cur,), node.loc)
        for suffix, sub, sub_args in expand(args, self.g.shape(cur)):
            sub_kind = lookup(sub)
            assert sub_kind is not None
            sub_given = {k: (v, node.loc) for k, v in sub_args.items()}
            sub_name = f"{full}.{suffix}" if suffix else full
            cur = self.add(sub_name, sub, coerce(sub_kind, sub_given, node.loc, sub_name),
                           (cur,), node.loc)
        return cur

    def add(self, name: str, kind: str, args: dict[str, Any], inputs: tuple[str, ...] | list[str],
            loc: Loc) -> str:
        if name in self.g.nodes:
            raise SpecError(f"two layers are named {name!r}", loc, "give one a different name")
        return self.g.add(name, kind, args, tuple(inputs), loc).name

    # Structure ---------------------------------------------------------------------------

    def residual(self, value: YNode | None, node: YNode, cur: str, scope: Scope,
                 env: dict[str, Any], name: str | None) -> str:
        body, shortcut = value, None
        if value is not None and value.is_map:
            extra = set(value.value) - {"body", "shortcut"}
            if extra or "body" not in value.value:
                bad = sorted(extra)[0] if extra else "body"
                raise SpecError(f"residual takes 'body' and 'shortcut', not {bad!r}"
                                if extra else "residual needs a 'body' list", node.loc,
                                did_you_mean(bad, ["body", "shortcut"]) if extra else None)
            body, shortcut = value.value["body"], value.value.get("shortcut")
        if body is None or not body.is_seq:
            raise SpecError("residual takes a list of layers (its body)", node.loc)
        inner = scope.child(name) if name else scope
        out = self.seq(body, cur, inner, env)
        mode = "auto" if shortcut is None else (
            self.resolve(shortcut, env) if not shortcut.is_seq else "path")
        if mode not in (*SHORTCUTS, "path"):
            raise SpecError(f"shortcut must be one of {', '.join(SHORTCUTS)} or a list of layers, "
                            f"got {mode!r}", shortcut.loc if shortcut else node.loc)
        same = self.g.shape(cur) == self.g.shape(out)
        if mode == "optional" and not same:
            return out
        side = cur
        if mode == "path":
            assert shortcut is not None
            side = self.seq(shortcut, cur, inner.child(inner.once("shortcut")), env)
        elif mode == "auto" and not same:
            side = self.projection(cur, out, inner, node.loc)
        return self.add(inner.full(inner.auto("add")), "add", {}, (out, side), node.loc)

    def projection(self, cur: str, out: str, scope: Scope, loc: Loc) -> str:
        """The 'auto' shortcut when shapes differ: 1×1 conv (stride = size ratio) + batchnorm."""
        (_, *hw0), (c1, *hw1) = self.g.shape(cur), self.g.shape(out)
        name = scope.full(scope.once("shortcut"))
        # a 1×1 conv with stride s maps n pixels to ⌈n/s⌉
        maps = len(hw0) == len(hw1) >= 1  # C×L, C×H×W or C×T×H×W, the same on both sides
        stride = [next((s for s in range(1, a + 1) if -(-a // s) == b), 0) if maps
                  else 0 for a, b in zip(hw0, hw1)]
        if not maps or 0 in stride:
            raise ShapeError(name, f"an auto shortcut cannot project {fmt_shape(self.g.shape(cur))}"
                             f" onto {fmt_shape(self.g.shape(out))}", loc,
                             "write the shortcut's layers yourself")
        conv = lookup("conv")
        bn = lookup("bn")
        assert conv and bn
        args = coerce(conv, {"out": (c1, loc), "kernel_size": (1, loc),
                             "stride": (stride, loc), "bias": (False, loc)}, loc, name)
        side = self.add(f"{name}.conv", "conv", args, (cur,), loc)
        return self.add(f"{name}.bn", "bn", coerce(bn, {}, loc, name), (side,), loc)

    def branches(self, head: str, value: YNode | None, node: YNode, cur: str, scope: Scope,
                 env: dict[str, Any], name: str | None) -> str:
        if value is not None and value.is_seq:
            paths: list[tuple[str | None, YNode]] = [(None, p) for p in value.value]
        elif value is not None and value.is_map:
            paths = list(value.value.items())
        else:
            raise SpecError(f"{head} takes a list of paths, e.g. {head}: [[...], [...]]", node.loc)
        if len(paths) < 2:
            raise SpecError(f"{head} joins two or more paths, got {len(paths)}", node.loc)
        inner = scope.child(name) if name else scope
        real = [p for _, p in paths if not (p.is_seq and not p.value)]
        transparent = len(real) == 1 and not value.is_map
        outs = []
        for pname, path in paths:
            if path.is_seq and not path.value:
                outs.append(cur)  # [] is the identity path
                continue
            sub = inner if transparent else inner.child(pname or inner.auto("branch"))
            outs.append(self.seq(path, cur, sub, env))
        return self.add(inner.full(inner.auto(head)), head, {}, outs, node.loc)

    def block(self, b: Block, value: YNode | None, node: YNode, cur: str, scope: Scope,
              env: dict[str, Any], name: str | None) -> str:
        if b.name in self.stack:
            cycle = " → ".join([*self.stack[self.stack.index(b.name):], b.name])
            raise SpecError(f"block {b.name!r} uses itself ({cycle})", node.loc)
        if len(self.stack) >= MAX_BLOCK_DEPTH:
            raise LimitError(f"blocks nest deeper than {MAX_BLOCK_DEPTH}", node.loc)
        given: dict[str, tuple[Any, Loc]] = {}
        if value is not None and value.is_map:
            given = {k: (self.resolve(v, env), v.loc) for k, v in value.value.items()}
        elif value is not None and value.value is not None:
            if not b.args:
                raise SpecError(f"block {b.name!r} takes no arguments", value.loc)
            given = {next(iter(b.args)): (self.resolve(value, env), value.loc)}
        for key, (_, loc) in given.items():
            if key not in b.args:
                raise SpecError(f"block {b.name!r} has no argument {key!r}; it takes "
                                + (", ".join(b.args) or "none"), loc, did_you_mean(key, b.args))
        benv: dict[str, Any] = {INPUT_REF: self.g.shape(cur)[0]}  # $in: channels entering the block
        for arg, default in b.args.items():
            if arg in given:
                benv[arg] = given[arg][0]
            elif default is None:
                raise SpecError(f"block {b.name!r} needs argument {arg!r}", node.loc)
            else:
                benv[arg] = self.resolve(default, benv)
        self.stack.append(b.name)
        try:
            return self.seq(b.body, cur, scope.child(name or scope.auto(b.name)), benv)
        finally:
            self.stack.pop()
