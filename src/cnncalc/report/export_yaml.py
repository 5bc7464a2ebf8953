"""The engine's graph written back as a YAML spec in our language: `graph_to_yaml(graph)`.

The graph is a list of layers with inputs; the spec language nests: sequences, and parallel paths
from one point joined by add / concat / mul. Each join's paths start at its inputs' nearest
common dominator (the last layer every path to the join passes through), so walking back from the
output along single inputs and dominators rebuilds the nesting. A graph that does not nest (a
layer feeding two different joins' paths) cannot be written and says so.

Names: layers whose name the spec would give anyway (`conv1`, `bn2`) are left unnamed; others get
`name:`; dotted names become named `seq` groups (`layer1.0.conv1` is conv1 in seq 0 in seq
layer1). Join layers take the spec's automatic names (`add1`), so a round trip keeps every
layer's kind, shape and numbers and most names. Arguments equal to their defaults are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.errors import CnncalcError
from cnncalc.core.layers.registry import REQUIRED, lookup
from cnncalc.core.text import numbered

SHORT = {"kernel_size": "k", "stride": "s", "padding": "p", "dilation": "d"}
_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")


@dataclass
class Node:
    """A layer to write, or a join with the paths that feed it."""

    layer: Layer
    paths: list[list[Node]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [self.layer.name, *(n for p in self.paths for x in p for n in x.names())]


def dominators(g: Graph) -> dict[str, str]:
    """The immediate dominator of every layer, the network input being the root."""
    idom: dict[str, str] = {"input": "input"}
    depth = {"input": 0}

    def meet(a: str, b: str) -> str:
        while a != b:
            if depth[a] < depth[b]:
                a, b = b, a
            a = idom[a]
        return a

    for x in g.layers:
        d = x.inputs[0]
        for other in x.inputs[1:]:
            d = meet(d, other)
        idom[x.name] = d
        depth[x.name] = depth[d] + 1
    return idom


def nest(g: Graph) -> list[Node]:
    """The layers on the way to the output as nested paths."""
    idom = dominators(g)
    seen: set[str] = set()

    def path(src: str, dst: str) -> list[Node]:
        out: list[Node] = []
        while dst != src:
            if dst in seen:
                raise CnncalcError(f"cannot write {g.name} as a spec: layer {dst} feeds "
                                   "paths that the spec language cannot nest")
            seen.add(dst)
            x = g.nodes[dst]
            if len(x.inputs) == 1:
                out.append(Node(x))
                dst = x.inputs[0]
            else:
                fork = idom[dst]
                out.append(Node(x, [path(fork, i) for i in x.inputs]))
                dst = fork
        return out[::-1]

    return path("input", g.output.name)


def layer_value(x: Layer) -> Any:
    """A layer's item value: None, the primary argument alone, or the arguments that differ
    from their defaults, with the short names (k, s, p, d)."""
    kind = lookup(x.kind)
    if kind is None or x.kind == "unmapped":
        raise CnncalcError(f"cannot write layer {x.name} as a spec: its op is unmapped")
    args: dict[str, Any] = {}
    for a in kind.args:
        v = x.args.get(a.name, a.default)
        v = list(v) if isinstance(v, tuple) else v
        default = a.default if a.default is not REQUIRED else object()
        if v == default or (a.name == "stride" and kind.normalize
                            and v == x.args.get("kernel_size")):
            continue
        args[SHORT.get(a.name, a.name)] = v
    if not args:
        return None
    if kind.primary and list(args) == [SHORT.get(kind.primary, kind.primary)]:
        return next(iter(args.values()))
    return args


class Flow(dict):
    """A mapping written on one line: `{conv: {out: 64, k: 3}, name: conv1}`."""


class Dumper(yaml.SafeDumper):
    pass


Dumper.add_representer(Flow, lambda d, data: d.represent_mapping(
    "tag:yaml.org,2002:map", data, flow_style=True))


class Writer:
    """Nodes to YAML-ready items, grouping dotted names into named seqs. Automatic names are
    counted per scope, as the spec's lowering counts them."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {}

    def auto(self, scope: str, word: str) -> str:
        counts = self.counts.setdefault(scope, {})
        return numbered(word, counts.get(word, 0) + 1)

    def take(self, scope: str, word: str) -> None:
        counts = self.counts.setdefault(scope, {})
        counts[word] = counts.get(word, 0) + 1

    def items(self, nodes: list[Node], scope: str, named: bool) -> list[Any]:
        out: list[Any] = []
        i = 0
        while i < len(nodes):
            group = self.group_of(nodes[i], scope) if named else None
            if group is None:
                out.append(self.item(nodes[i], scope, named))
                i += 1
                continue
            j = i
            while j < len(nodes) and self.group_of(nodes[j], scope) == group:
                j += 1
            out.append({"seq": self.items(nodes[i:j], f"{scope}{group}.", True), "name": group})
            i = j
        return out

    @staticmethod
    def group_of(node: Node, scope: str) -> str | None:
        """The first name part shared by every layer of the node, when all sit deeper."""
        heads = set()
        for name in node.names():
            if not name.startswith(scope) or "." not in name[len(scope):]:
                return None
            heads.add(name[len(scope):].split(".")[0])
        head = heads.pop() if len(heads) == 1 else None
        return head if head and _NAME.match(head) else None

    def item(self, node: Node, scope: str, named: bool) -> Any:
        x = node.layer
        if node.paths:
            value = self.paths(node, scope, named)
            self.take(scope, x.kind)
            return value
        value = layer_value(x)
        rel = x.name[len(scope):] if named and x.name.startswith(scope) else None
        if rel == self.auto(scope, x.kind) or rel is None or not _NAME.match(rel):
            self.take(scope, x.kind)
            return x.kind if value is None else Flow({x.kind: value})
        return Flow({x.kind: value if value is not None else Flow(), "name": rel})

    def paths(self, node: Node, scope: str, named: bool) -> Any:
        kind, paths = node.layer.kind, node.paths
        real = [p for p in paths if p]
        if kind == "add" and len(paths) == 2 and paths[0] and not paths[1]:
            return {"residual": {"body": self.items(paths[0], scope, named),
                                 "shortcut": "identity"}}
        if len(real) == 1:  # one path and identities: the path's layers sit in this scope
            return {kind: [self.items(p, scope, named) if p else [] for p in paths]}
        keys = [self.path_key(p, scope, i) if named else None for i, p in enumerate(paths)]
        keyed = None not in keys and len(set(keys)) == len(keys)
        side = named and all(self.group_of(n, scope) == "shortcut" for n in paths[1])
        if kind == "add" and len(paths) == 2 and (side or not keyed):
            # body in this scope, shortcut in 'shortcut.' (unless each path has a scope of
            # its own: `add: {x: [...], h: [...]}`, or a list's branch1, branch2)
            body = self.items(paths[0], scope, named)
            return {"residual": {"body": body, "shortcut": self.items(
                paths[1], f"{scope}shortcut.", side)}}
        if not keyed:
            keys = [f"branch{i + 1}" for i in range(len(paths))]
            named = False
        return {kind: {k: self.items(p, f"{scope}{k}.", named) for k, p in zip(keys, paths)}}

    def path_key(self, p: list[Node], scope: str, i: int) -> str | None:
        if not p:
            return f"identity{i + 1}"
        heads = {self.group_of(n, scope) for n in p}
        return heads.pop() if len(heads) == 1 else None


def graph_to_yaml(g: Graph) -> str:
    """The graph as spec text that `cnncalc` reads back to the same layers and numbers."""
    c, *sizes = g.input_shape
    nodes = nest(g)
    written = {n for node in nodes for n in node.names()}
    doc = {"name": _safe_name(g.name), "input": Flow(channels=c, size=sizes),
           "layers": Writer().items(nodes, "", True)}
    text = yaml.dump(doc, Dumper=Dumper, sort_keys=False, default_flow_style=False, width=100,
                     allow_unicode=True)
    source = g.source if g.source is not None else g.name
    head = _comment(f"{g.name}, written by cnncalc from {source}")
    dropped = [x.name for x in g.layers if x.name not in written]
    if dropped:
        head += _comment(f"left out (not on the way to the last layer): {', '.join(dropped)}")
    _check(head, text, _safe_name(g.name))
    return head + text


def _comment(text: str) -> str:
    """One comment line: user text with a line break or any other unprintable character is
    written as its repr() escapes, so it cannot end the comment."""
    if not text.isprintable():
        text = repr(text)[1:-1]
    return f"# {text}\n"


def _check(head: str, text: str, name: str) -> None:
    """Read the written text back before anyone prints it: comment lines, then one mapping with
    the spec's keys. Anything else is a bug here, never printed."""
    body = yaml.safe_load(head + text)
    ok = (all(line.startswith("# ") and line.isprintable() for line in head.splitlines())
          and head.count("\n") == len(head.splitlines()) and isinstance(body, dict)
          and list(body) == ["name", "input", "layers"] and body["name"] == name)
    if not ok:  # pragma: no cover - a bug, never the user's text
        raise AssertionError("export --to yaml produced unexpected text; not printed")


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name) or "net"
