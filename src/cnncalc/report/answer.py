"""An answer to a question (a derivation, a small table, a matrix) rendered as plain text,
Markdown, JSON, CSV or LaTeX. Pure strings, standard library only.

- table (the default): plain text at the terminal's width (report/terminal.py): a chain longer
  than the width (at most 100) breaks at each '=', a link still too long breaks before its
  + and − operators, prose wraps, and a table wider than the terminal prints one block per row.
  With no width (piped) only the chains break, at 100.
- md: bold titles, derivations in ```text blocks (Unicode, no LaTeX), Markdown tables.
- latex: derivations as align* environments, matrices as bmatrix, tables as tabular.
- json: the answer's data, plus every step as {lhs, chain, value}.
- csv (NB, the one rule for every answer): the rows of the table the answer prints, as the
  records JSON holds under `Answer.rows` (numbers as numbers, JSON's field names); an answer
  that prints no table gives one row of its JSON's scalar fields (conv, pool, attention),
  and an explanation (`--explain`) one row per step: section, lhs, value, chain. Matrices
  (`apply`) have no CSV: MATRIX_FORMATS leaves it out.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

from cnncalc.report import table as tables
from cnncalc.report.explain import Section, Step
from cnncalc.report.markdown import md_table
from cnncalc.report.table import csv_text, dumps

FORMATS = ("table", "md", "json", "csv", "latex")
MATRIX_FORMATS = ("table", "md", "json", "latex")  # apply: matrices are not CSV records
WIDTH = 100  # a chain longer than this breaks at each '=' even on a wider terminal
NBSP = "\xa0"  # glues an operator to the term after it, so wrapping breaks before operators


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
    rows: str = ""  # the key of `data` whose records are the printed table's rows (CSV)
    steps: bool = False  # CSV: one row per derivation step (an explanation)

    @property
    def sections(self) -> list[Section]:
        return [p for p in self.parts if isinstance(p, Section)]


def render(ans: Answer, format: str, width: int | None | bool = True) -> str:
    """`width`: True for the terminal's (report/terminal.py), None for none (piped)."""
    if format == "table":
        from cnncalc.report import terminal
        out = _text(ans, terminal.width() if width is True else (width or None))
    else:
        out = {"md": _markdown, "json": _json, "csv": _csv, "latex": _latex}[format](ans)
    return out if out.endswith("\n") else out + "\n"


# Plain text ---------------------------------------------------------------------------------

def hang(first: str, text: str, width: int | None, rest: str | None = None) -> list[str]:
    """`first` + `text` wrapped at `width` (not at all with None), the next lines indented by
    `rest` (default: as far as `text` starts); a formula breaks before + and − (before =, ≈, ×,
    · and / too), prose between words, never inside a term or a word."""
    if width is None:
        return [(first + text).replace(NBSP, " ").rstrip()]
    rest = " " * len(first) if rest is None else rest
    glued = text
    for op in ("+", "−", "=", "≈", "×", "·", "/"):
        glued = glued.replace(f" {op} ", f" {op}{NBSP}")
    def fill(rest: str) -> list[str]:
        lines = textwrap.wrap(glued, max(width, len(first) + 1, len(rest) + 1),
                              initial_indent=first, subsequent_indent=rest,
                              break_long_words=False, break_on_hyphens=False)
        return [line.replace(NBSP, " ").rstrip() for line in lines] or [first.rstrip()]
    lines = fill(rest)
    if max(map(len, lines)) > width and len(rest) > 4:  # a long term: a shallower indent
        lines = fill(rest[:4])
    return lines


OPEN, CLOSE = "([⌊⌈", ")]⌋⌉"


def formula(text: str) -> str:
    """`text` with the spaces inside brackets glued (hang restores them), so a formula wraps
    only between its top-level terms: never inside ⌊(H + 3)/4⌋."""
    depth, out = 0, []
    for ch in text:
        depth += (ch in OPEN) - (ch in CLOSE)
        out.append(NBSP if ch == " " and depth > 0 else ch)
    return "".join(out)


def step_lines(step: Step, indent: str = "  ", width: int | None = None) -> list[str]:
    """`lhs = a = b`; longer than the width (at most WIDTH), one link a line under the first;
    when even that overflows the terminal, the left-hand side on a line of its own."""
    one = indent + step.line()
    lines = [one]
    if len(one) > min(width or WIDTH, WIDTH):
        lines = _links(step, indent, width)
        if width is not None and max(map(len, lines)) > width:
            lines = [indent + step.lhs, *_links(step, indent + "  ", width, own_line=True)]
    if step.what:
        lines += hang(f"{indent}  (", step.what + ")", width)
    return lines


def _links(step: Step, indent: str, width: int | None, own_line: bool = False) -> list[str]:
    """The chain one link a line, each wrapped at `width`; the first after `lhs` unless
    `own_line`."""
    pad = "" if own_line else " " * len(step.lhs) + " "
    lines: list[str] = []
    for n, (r, x) in enumerate(zip(step.signs(), step.chain, strict=True)):
        head = f"{step.lhs} " if n == 0 and not own_line else pad
        lines += hang(f"{indent}{head}{r} ", formula(x), width)
    return lines


def text_table(t: Table, indent: str = "  ", width: int | None = None) -> list[str]:
    """Columns two spaces apart; wider than `width`, one block per row (report/table.stacked),
    no number cut."""
    widths = [max(len(r[i]) for r in [t.headers, *t.rows]) for i in range(len(t.headers))]
    if width is not None and len(indent) + sum(widths) + 2 * (len(widths) - 1) > width:
        cols = [tables.Col(h, right=r) for h, r in zip(t.headers, t.right, strict=True)]
        blocks = tables.stacked(tables.Table("", cols, t.rows), max(width - len(indent), 1))
        # a prose value longer than the width wraps between its words
        return [out for line in blocks
                for out in hang("", indent + line, width, indent + "    ")]

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


def _text(ans: Answer, width: int | None = None) -> str:
    lines = hang("", ans.title, width)
    for p in ans.parts:
        if isinstance(p, Section):
            lines += ["", *hang("", p.title, width)] if p.title else [""]
            for step in p.steps:
                lines += step_lines(step, width=width)
            for n in p.notes:
                lines += hang("  note: ", n, width)
        elif isinstance(p, Matrix):
            lines += ["", f"{p.label}:", *matrix_lines(p.rows)]
        else:
            lines += ["", *text_table(p, width=width)]
    if ans.notes:
        lines.append("")
        for n in ans.notes:
            lines += hang("note: ", n, width)
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


def _csv(ans: Answer) -> str:
    if ans.rows:
        return csv_text(ans.data[ans.rows])
    if ans.steps:
        return csv_text([{"section": s.title, "lhs": x.lhs, "value": x.value,
                          "chain": list(x.chain)} for s in ans.sections for x in s.steps])
    return csv_text([{k: v for k, v in ans.data.items() if not _records(v)}])


def _records(v: Any) -> bool:
    """A list of records or of lists (a matrix), which one CSV row cannot hold."""
    return isinstance(v, list) and any(isinstance(x, dict | list) for x in v)


def _json(ans: Answer) -> str:
    return dumps({"title": ans.title, **ans.data, "sections": sections_json(ans.sections),
                  "notes": ans.notes})
