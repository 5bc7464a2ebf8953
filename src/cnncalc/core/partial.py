"""Which receptive fields a partial analysis cannot know.

An op no layer kind describes (kind "unmapped", from a traced model) has no RF formula: its field
and the field of every layer it feeds, directly or not, are unknown. Shapes, params and MACs of
those layers stay known (the trace measured the shapes).
"""

from __future__ import annotations

from cnncalc.core.engine import Graph


def rf_unknown(g: Graph) -> set[str]:
    """The names of the layers whose receptive field is unknown."""
    out: set[str] = set()
    for x in g.layers:
        if x.kind == "unmapped" or any(i in out for i in x.inputs):
            out.add(x.name)
    return out


def unmapped_sources(g: Graph, name: str) -> list[str]:
    """The unmapped rows `name` is, or reads from directly or not, in graph order: why its
    field is unknown (empty when it is known)."""
    seen, todo = set(), [name]
    while todo:
        n = todo.pop()
        if n in seen or n not in g.nodes:
            continue
        seen.add(n)
        todo.extend(g.nodes[n].inputs)
    return [x.name for x in g.layers if x.kind == "unmapped" and x.name in seen]


def unmapped_op(g: Graph, row: str) -> str:
    """What the unmapped row `row` is ("torch.roll (why)", "module PReLU"), from the trace's
    record of it; "" when the record cannot be matched to the row."""
    ops = g.unmapped
    for p in ops:
        if p.where == row:
            return p.op
    rows = [x.name for x in g.layers if x.kind == "unmapped"]
    if len(rows) == len(ops) and row in rows:  # one record per row, in trace order
        return ops[rows.index(row)].op
    return ""


def named_ops(g: Graph, rows: list[str]) -> str:
    """Unmapped rows with their op, short: "torch.roll at roll, module PReLU at act"."""
    ops = [unmapped_op(g, r).split(" (")[0] for r in rows]
    return ", ".join(f"{op} at {r}" if op else f"op at {r}" for r, op in zip(rows, ops))


def why_unknown(g: Graph, name: str) -> str:
    """Why the field of `name` is unknown, naming the unmapped op(s) without their longer
    story: "after the unmapped torch.roll at roll", or "roll is an unmapped torch.roll, with no
    receptive-field formula" for the row itself; "" when it is known."""
    rows = unmapped_sources(g, name)
    before = [r for r in rows if r != name]
    after = f"after the unmapped {named_ops(g, before)}" if before else ""
    if name not in rows:
        return after
    itself = f"the unmapped {named_ops(g, [name])} has no receptive-field formula"
    return f"{itself}, and it comes {after}" if after else itself
