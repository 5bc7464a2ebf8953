"""Text made safe for a terminal: the one rule for every character cnncalc writes.

User text (a spec's name, a file name, a traced model's names, an exception's message) may hold
control characters: `\\x1b[2J` clears the screen, `\\x1b]0;…\\a` retitles the window, U+202E
reverses what follows. Every such character is written as its Python escape (`\\x1b`, `\\u202e`),
so what is shown is what is there. Kept: newline and tab, and, only in output meant for a
terminal, the SGR colour sequences (`\\x1b[1;31m`) the table writer adds.
"""

from __future__ import annotations

import re

# C0 but newline and tab, DEL, C1, the bidi and format controls, the line/paragraph separators
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                     r"\u2060-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]")
_SGR = re.compile(r"(\x1b\[[0-9;]*m)")


def _escape(m: re.Match[str]) -> str:
    c = m.group(0)
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else (
        f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")


def terminal_safe(text: str, colours: bool = False) -> str:
    """`text` with every control character escaped; `colours` keeps SGR sequences."""
    if not colours:
        return _UNSAFE.sub(_escape, text)
    parts = _SGR.split(text)  # odd items are SGR sequences
    return "".join(p if i % 2 else _UNSAFE.sub(_escape, p) for i, p in enumerate(parts))


class Escaped(str):
    """Text already made safe where it was written (JSON: `json_safe`), so `emit` passes it on
    as it is; any text built from it (a concatenation, a slice) is a plain str again."""


def _json_escape(m: re.Match[str]) -> str:
    c = ord(m.group(0))
    if c < 0x10000:
        return f"\\u{c:04x}"
    c -= 0x10000  # a JSON escape is UTF-16: a surrogate pair
    return f"\\u{0xd800 + (c >> 10):04x}\\u{0xdc00 + (c & 0x3ff):04x}"


def json_safe(chunk: str) -> str:
    """A piece of JSON text (from `json`, which escapes C0 controls itself) with every other
    control character written as a JSON escape (U+202E as \\u202e): still the same JSON
    value, and safe on a terminal. Such a character can only be inside a string: JSON's own
    syntax is ASCII. Cheap when there is none: `isascii` is O(1) in CPython."""
    if chunk.isascii() and "\x7f" not in chunk:
        return chunk
    return _UNSAFE.sub(_json_escape, chunk)


def has_control(text: str) -> str | None:
    """The first control character in `text` (newline and tab count too), or None."""
    m = _UNSAFE.search(text) or re.search(r"[\n\t]", text)
    return m.group(0) if m else None


_DIGITS = re.compile(r"[0-9]{1,18}\Z")  # ASCII digits only ('²' and '٣' are not numbers here)


def is_count(text: str) -> bool:
    """`text` is a plain ASCII non-negative integer of at most 18 digits: the one rule for every
    integer read from the command line (`int()` and `str.isdigit()` accept '٣٢' and '²')."""
    return _DIGITS.match(text) is not None


def numbered(word: str, n: int) -> str:
    """The n-th automatic name for `word`: relu3, but relu6_3 and features.3_2 when the word
    ends in a digit (relu63 would read as relu 63)."""
    return f"{word}_{n}" if word[-1:].isdigit() else f"{word}{n}"
