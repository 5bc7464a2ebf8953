"""Markdown tables, written one way for every command's `--format md`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def md_cell(text: str) -> str:
    return text.replace("|", r"\|")


def md_table(headers: Sequence[str], rows: Iterable[Sequence[str]],
             right: Sequence[bool] | None = None) -> list[str]:
    """The lines of a pipe table; `right[i]` right-aligns column i (numbers)."""
    align = right if right is not None else [False] * len(headers)
    return ["| " + " | ".join(map(md_cell, headers)) + " |",
            "|" + "|".join("---:" if r else "---" for r in align) + "|",
            *("| " + " | ".join(map(md_cell, row)) + " |" for row in rows)]
