"""What the terminal allows: its width, colour, and the characters its encoding can show.
Standard library only.

NB (the width rule, stated once): COLUMNS (or TERMINAL_WIDTH) when it is a positive whole
number; else the terminal's width when stdout is a terminal; else None, and tables are printed
whole (a pipe or a file is not 80 columns wide). COLUMNS=0 or garbage counts as unset.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TextIO

# Single characters for the Unicode ones cnncalc prints, so a table keeps its columns when the
# output encoding is ASCII (PYTHONIOENCODING=ascii, a C locale without UTF-8).
ASCII = str.maketrans({
    "┏": "+", "┓": "+", "┡": "+", "┩": "+", "└": "+", "┘": "+", "┳": "+", "╇": "+",
    "┴": "+", "━": "=", "─": "-", "┃": "|", "│": "|", "×": "x", "✓": "=", "✗": "X",
    "–": "-", "—": "-", "−": "-", "≠": "!", "≈": "~", "←": "<", "→": ">", "·": ".",
    "σ": "s", "░": "#", "²": "2", "√": "V", "…": ".", "’": "'", "±": "+", "÷": "/",
    "∝": "~", "≤": "<", "≥": ">", "█": "#", "▓": "#", "▒": "+",
})


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
