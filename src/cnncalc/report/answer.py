"""An answer to a question (a derivation, a small table, a matrix) rendered as plain text,
Markdown, JSON or LaTeX. Pure strings, standard library only.

- table (the default): plain text; a chain longer than the width breaks at each '='.
- md: bold titles, derivations in ```text blocks (Unicode, no LaTeX), Markdown tables.
- latex: derivations as align* environments, matrices as bmatrix, tables as tabular.
- json: the answer's data, plus every step as {lhs, chain, value}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnncalc.report.explain import Section, Step
from cnncalc.report.markdown import md_table
from cnncalc.report.table import dumps

FORMATS = ("table", "md", "json", "latex")
WIDTH = 100


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    right: list[bool]  # right-aligned (numeric) columns


@dataclass
class Matrix:
    label: str
    rows: list[list[str]]


Part = Section | Table | Matrix


@dataclass
class Answer:
    """A title, parts rendered in order, closing notes, and the data JSON carries."""

    title: str
    parts: list[Part] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def sections(self) -> list[Section]:
        return [p for p in self.parts if isinstance(p, Section)]


def render(ans: Answer, format: str) -> str:
    out = {"table": _text, "md": _markdown, "json": _json, "latex": _latex}[format](ans)
    return out if out.endswith("\n") else out + "\n"


# Plain text ---------------------------------------------------------------------------------

def step_lines(step: Step, indent: str = "  ") -> list[str]:
    one = indent + step.line()
    lines = [one]
    if len(one) > WIDTH and len(step.chain) > 1:
        pad = " " * len(step.lhs)
        signs = step.signs()
        lines = [f"{indent}{step.lhs} {signs[0]} {step.chain[0]}"]
        lines += [f"{indent}{pad} {r} {x}" for r, x in zip(signs[1:], step.chain[1:], strict=True)]
    if step.what:
        lines.append(f"{indent}  ({step.what})")
    return lines


def text_table(t: Table, indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in [t.headers, *t.rows]) for i in range(len(t.headers))]

    def row(cells: list[str]) -> str:
        cols = zip(cells, widths, t.right, strict=True)
        return indent + "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in cols).rstrip()
    return [row(t.headers), indent + "  ".join("-" * w for w in widths), *map(row, t.rows)]


def matrix_lines(rows: list[list[str]], indent: str = "  ") -> list[str]:
    """A matrix as text to paste into code: ASCII minus signs (-6, not the typographic −6)."""
    rows = [[c.replace("−", "-") for c in r] for r in rows]
    width = max((len(c) for r in rows for c in r), default=1)
    return [indent + ("[" if i == 0 else " ") + "[" + " ".join(c.rjust(width) for c in r) + "]"
            + ("]" if i == len(rows) - 1 else "") for i, r in enumerate(rows)]


def _text(ans: Answer) -> str:
    lines = [ans.title]
    for p in ans.parts:
        if isinstance(p, Section):
            lines += ["", p.title] if p.title else [""]
            for step in p.steps:
                lines += step_lines(step)
            lines += [f"  note: {n}" for n in p.notes]
        elif isinstance(p, Matrix):
            lines += ["", f"{p.label}:", *matrix_lines(p.rows)]
        else:
            lines += ["", *text_table(p)]
    if ans.notes:
        lines.append("")
        lines += [f"note: {n}" for n in ans.notes]
    return "\n".join(lines)


# Markdown -----------------------------------------------------------------------------------


def _markdown(ans: Answer) -> str:
    lines = [f"**{ans.title}**"]
    for p in ans.parts:
        if isinstance(p, Section):
            if p.title:
                lines += ["", f"*{p.title}*"]
            if p.steps:
                lines += ["", "```text"]
                for step in p.steps:
                    lines += step_lines(step, "")
                lines.append("```")
            if p.notes:
                lines += ["", *(f"- note: {n}" for n in p.notes)]
        elif isinstance(p, Matrix):
            lines += ["", f"*{p.label}*", "", "```text", *matrix_lines(p.rows, ""), "```"]
        else:
            lines += ["", *md_table(p.headers, p.rows, p.right)]
    if ans.notes:
        lines += ["", *(f"- note: {n}" for n in ans.notes)]
    return "\n".join(lines)


# LaTeX --------------------------------------------------------------------------------------

def _latex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                 ("#", r"\#"), ("×", r"$\times$"), ("→", r"$\rightarrow$"), ("−", "-")):
        text = text.replace(a, b)
    return text


def _latex(ans: Answer) -> str:
    lines = [f"% {ans.title}"]
    for p in ans.parts:
        if isinstance(p, Matrix):
            body = r" \\ ".join(" & ".join(r) for r in p.rows)
            lines.append(rf"\[ \text{{{_latex_escape(p.label)}}} = "
                         rf"\begin{{bmatrix}} {body} \end{{bmatrix}} \]")
        elif isinstance(p, Table):
            cols = "".join("r" if r else "l" for r in p.right)
            lines += [rf"\begin{{tabular}}{{{cols}}}",
                      " & ".join(map(_latex_escape, p.headers)) + r" \\ \hline",
                      *(" & ".join(map(_latex_escape, row)) + r" \\" for row in p.rows),
                      r"\end{tabular}"]
        else:
            lines += _latex_section(p)
    lines += [f"% note: {n}" for n in ans.notes]
    return "\n".join(lines)


def _latex_section(s: Section) -> list[str]:
    lines = [f"% {s.title}"] if s.title else []
    if s.steps:
        rows = []
        for step in s.steps:
            rels = [{"≈": r"\approx", "←": r"\leftarrow"}.get(r, r) for r in step.signs()]
            rows.append(f"{step.lhs} " + r" \\ ".join(
                f"&{r} {x}" for r, x in zip(rels, step.chain, strict=True)))
        lines += [r"\begin{align*}", " \\\\\n".join(rows), r"\end{align*}"]
    return lines + [f"% note: {n}" for n in s.notes]


# JSON ---------------------------------------------------------------------------------------

def step_json(step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"lhs": step.lhs, "chain": list(step.chain), "value": step.value}
    if step.what:
        out["note"] = step.what
    return out


def sections_json(sections: list[Section]) -> list[dict[str, Any]]:
    return [{"title": s.title, "steps": [step_json(x) for x in s.steps], "notes": s.notes}
            for s in sections]


def _json(ans: Answer) -> str:
    return dumps({"title": ans.title, **ans.data, "sections": sections_json(ans.sections),
                  "notes": ans.notes})
