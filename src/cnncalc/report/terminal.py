"""What the terminal allows: its width, colour, and the characters its encoding can show.
Standard library only.

NB (the width rule, stated once): COLUMNS (or TERMINAL_WIDTH) when it is a positive whole
number; else the terminal's width when stdout is a terminal; else None, and tables are printed
whole (a pipe or a file is not 80 columns wide). COLUMNS=0 or garbage counts as unset.
"""

from __future__ import annotations

import codecs
import io
import os
import shutil
import sys
from typing import TextIO, cast

# The ASCII stand-ins for the Unicode cnncalc prints, used when the output encoding cannot write
# it (PYTHONIOENCODING=ascii or latin-1, a C locale without UTF-8 mode). Box lines and the ERF's
# bars stay one character, so a drawing keeps its shape; a mark or a symbol becomes what a reader
# of ASCII reads (✓ ok, ✗ NO, ≠ !=, ⌊x⌋ floor(x)), so a table must be made of the stand-ins
# before it is laid out (report/table.py does, when `ascii_only()`).
ASCII = str.maketrans({
    "┏": "+", "┓": "+", "┡": "+", "┩": "+", "└": "+", "┘": "+", "┳": "+", "╇": "+",
    "┴": "+", "━": "=", "─": "-", "┃": "|", "│": "|", "░": "#", "█": "#", "▓": "#", "▒": "+",
    "▁": ".", "▂": ":", "▃": "-", "▄": "=", "▅": "+", "▆": "*", "▇": "%",
    "✓": "ok", "✗": "NO", "≠": "!=", "≈": "~", "≤": "<=", "≥": ">=", "←": "<-", "→": "->",
    "×": "x", "·": "*", "÷": "/", "−": "-", "±": "+/-", "∝": "~", "√": "sqrt ", "–": "-",
    "—": "-", "…": "...", "’": "'", "⌊": "floor(", "⌋": ")", "⌈": "ceil(", "⌉": ")",
    "²": "^2", "³": "^3", "⁴": "^4", "ᵀ": "^T", "ᵃ": "^a", "½": "1/2", "°": " degrees",
    "σ": "sigma", "Σ": "sum", "μ": "mu", "γ": "gamma", "β": "beta",
})
# What a table is drawn with: a stream that cannot write these gets the whole table in ASCII.
DRAWN = "┏━┃│✓×"


def width() -> int | None:
    for var in ("COLUMNS", "TERMINAL_WIDTH"):
        value = os.environ.get(var, "")
        if value.strip().isdigit() and int(value) > 0:
            return int(value)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns or None
    return None


def colour() -> bool:
    """ANSI styles only on a terminal, and never with NO_COLOR set."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") \
        and os.environ.get("TERM") != "dumb"


def encodable(text: str, stream: TextIO | None = None) -> str:
    """`text` as the stream's encoding can write it: the ASCII stand-ins above, then '?'."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
        return text
    except (UnicodeEncodeError, LookupError):
        return text.translate(ASCII).encode(encoding, "replace").decode(encoding)


def ascii_only(stream: TextIO | None = None) -> bool:
    """The stream (stdout) cannot write what tables are drawn with: write them in ASCII."""
    return encodable(DRAWN, stream) != DRAWN


class Degrading(io.TextIOBase):
    """A text stream that writes what its encoding cannot as the ASCII stand-ins, for the text
    that does not go through `emit`: click's help and messages, errors, progress. It has no
    `.buffer`, so click (which writes UTF-8 bytes past an ASCII stream) writes through it."""

    def __init__(self, stream: TextIO):
        super().__init__()
        self.stream = stream

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.stream.errors

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # how click tells a text stream from a binary one
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.stream.write(encodable(text, self.stream))
        return len(text)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()


def degrading(stream: TextIO) -> TextIO:
    """`stream` itself when it can write any text (UTF-8), else a `Degrading` over it."""
    try:
        whole = codecs.lookup(getattr(stream, "encoding", None) or "utf-8").name.startswith("utf")
    except LookupError:
        whole = False
    return stream if whole else cast(TextIO, Degrading(stream))  # a TextIO in all it is used for
