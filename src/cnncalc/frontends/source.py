"""YAML text to a tree of `YNode`s that remember where they came from.

We compose the tree ourselves from PyYAML's event stream (the C parser when present) because:
- every value needs its file:line:col for error messages;
- YAML 1.1 reads `yes` as true and `0x10` as 16; a spec means what it says, so only plain
  decimal integers are integers and only `true`/`false` are booleans;
- aliases ("billion laughs"), nesting depth and document size must be bounded before memory grows,
  and an iterative composer cannot overflow the stack.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cnncalc.core.errors import LimitError, Loc, SpecError

MAX_BYTES = 2_000_000  # a spec is a page of text; 2 MB is generous
MAX_DEPTH = 64  # nesting of mappings and sequences
MAX_NODES = 200_000  # nodes after alias expansion

_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\Z"
                    r"|[-+]?[0-9]+[eE][-+]?[0-9]+\Z")

try:
    _Parser: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Parser = yaml.SafeLoader


@dataclass(eq=False)
class YNode:
    """A YAML value with its position. `value` is a scalar, a list of YNodes or a dict of YNodes."""

    value: Any
    loc: Loc
    size: int = 1  # nodes in this subtree once aliases are expanded
    keylocs: dict[str, Loc] = field(default_factory=dict)  # for mappings: where each key stands
    quoted: bool = False  # a quoted scalar is always a string

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_seq(self) -> bool:
        return isinstance(self.value, list)

    def plain(self) -> Any:
        """The value with positions stripped (for messages and JSON)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


MAX_DIGITS = 18  # digits of an integer literal (below 10**18: far from int-to-str limits)


def read_user_file(path: str | Path, what: str, max_bytes: int, binary: bool = False
                   ) -> str | bytes:
    """The one way a user's file is read: stat first, say what a non-file is (a folder, a pipe,
    a device), refuse a size over `max_bytes` before reading, read at most max_bytes + 1 bytes
    (the file may grow meanwhile), and decode with a one-line error."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise SpecError(f"no {what} {str(path)!r}") from None
    except OSError as e:
        raise SpecError(f"cannot read {path}: {e.strerror or e}") from None
    kind = _KINDS.get(stat.S_IFMT(st.st_mode))
    if kind is not None:
        raise SpecError(f"{path} is {kind}, not a {what}")
    if st.st_size > max_bytes:
        raise LimitError(f"{path} is {st.st_size:,} bytes; a {what} is at most {max_bytes:,}")
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise SpecError(f"cannot read {path}: {e.strerror or e}") from None
    if len(data) > max_bytes:
        raise LimitError(f"{path} is more than {max_bytes:,} bytes; a {what} is at most "
                         f"{max_bytes:,}")
    if binary:
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise SpecError(f"{path} is not UTF-8 text (byte {data[e.start]:#04x} at line {line})"
                        ) from None


_KINDS = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a pipe (FIFO)", stat.S_IFCHR: "a device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket", stat.S_IFLNK: "a link"}


def _scalar(text: str, plain_style: bool) -> Any:
    """A plain scalar is a number only when written as one, in ASCII and in range: an integer
    of at most MAX_DIGITS digits without a leading zero, or a finite float."""
    if not plain_style:
        return text
    if _INT.match(text):
        digits = text.lstrip("+-")
        if len(digits) > MAX_DIGITS:
            raise SpecError(f"number longer than {MAX_DIGITS} digits ({len(digits):,} digits)")
        if len(digits) > 1 and digits[0] == "0":
            sign = text[:-len(digits)]
            octal = int(digits, 8) if set(digits) <= set("01234567") else int(digits)
            raise SpecError(f"{text} has a leading zero; write {int(text)} (or {sign}{octal}: "
                            "YAML 1.1 reads a leading 0 as octal)")
        return int(text)
    if _FLOAT.match(text):
        if len(text) > 40:
            raise SpecError(f"number longer than 40 characters ({len(text):,})")
        value = float(text)
        if not math.isfinite(value):
            raise SpecError(f"{text} is beyond the largest float (about 1.8e308)")
        return value
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if text in ("null", "Null", "NULL", "~", ""):
        return None
    return text


def _loc(filename: str, mark: Any) -> Loc:
    return Loc(filename, mark.line + 1, mark.column + 1)


def _offset_loc(filename: str, text: str, offset: int) -> Loc:
    before = text[:offset]
    return Loc(filename, before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


def _syntax_hint(text: str, where: Loc) -> str | None:
    lines = text.split("\n")
    line = lines[where.line - 1] if where.line <= len(lines) else ""
    if "\t" in line[: where.col]:
        return "a tab: YAML indents with spaces only"
    return None


def load_yaml(text: str, filename: str = "<spec>") -> YNode:
    """Compose `text` into a YNode tree, enforcing the size, depth and alias limits."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise LimitError(f"spec is larger than {MAX_BYTES:,} bytes", Loc(filename, 1, 1))
    anchors: dict[str, YNode] = {}
    stack: list[tuple[YNode, str | None, str | None]] = []  # (container, anchor, pending key)
    root: YNode | None = None
    total = 0

    def count(n: int, loc: Loc) -> None:
        nonlocal total
        total += n
        if total > MAX_NODES:
            raise LimitError(
                f"spec expands to more than {MAX_NODES:,} values (aliases?)", loc,
                "YAML aliases that multiply are refused",
            )

    def attach(node: YNode, anchor: str | None) -> None:
        nonlocal root
        if anchor:
            anchors[anchor] = node
        if not stack:
            root = node
            return
        parent, panchor, pkey = stack[-1]
        parent.size += node.size
        if isinstance(parent.value, list):
            parent.value.append(node)
        elif pkey is None:  # this node is a key
            if isinstance(node.value, (dict, list)) or node.value is None:
                raise SpecError("mapping keys must be plain names", node.loc)
            key = str(node.value)
            if key in parent.value:
                raise SpecError(f"duplicate key {key!r}", node.loc)
            parent.keylocs[key] = node.loc
            stack[-1] = (parent, panchor, key)
        else:
            parent.value[pkey] = node
            stack[-1] = (parent, panchor, None)

    try:
        for ev in yaml.parse(text, Loader=_Parser):
            if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    raise LimitError(f"spec is nested deeper than {MAX_DEPTH} levels",
                                    _loc(filename, ev.start_mark))
                empty: Any = {} if isinstance(ev, yaml.MappingStartEvent) else []
                loc = _loc(filename, ev.start_mark)
                count(1, loc)
                stack.append((YNode(empty, loc), ev.anchor, None))
            elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                node, anchor, _ = stack.pop()
                attach(node, anchor)
            elif isinstance(ev, yaml.ScalarEvent):
                loc = _loc(filename, ev.start_mark)
                count(1, loc)
                plain = bool(ev.implicit[0]) and not ev.style  # unquoted and untagged
                try:
                    node = YNode(_scalar(ev.value, plain), loc, quoted=not plain)
                except SpecError as e:
                    raise SpecError(e.message, loc) from None
                attach(node, ev.anchor)
            elif isinstance(ev, yaml.AliasEvent):
                loc = _loc(filename, ev.start_mark)
                if ev.anchor not in anchors:
                    raise SpecError(f"unknown alias *{ev.anchor}", loc)
                count(anchors[ev.anchor].size, loc)
                attach(anchors[ev.anchor], None)
            elif isinstance(ev, yaml.DocumentStartEvent) and root is not None:
                raise SpecError("a spec file holds one YAML document",
                                _loc(filename, ev.start_mark))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = _loc(filename, mark) if mark else Loc(filename, 1, 1)
        if "maximum nesting depth" in str(e.problem):  # libyaml's own limit (PyYAML >= 6.0.4)
            raise LimitError(f"spec is nested deeper than {MAX_DEPTH} levels", where) from None
        raise SpecError(f"YAML syntax: {e.problem or e.context}", where,
                        _syntax_hint(text, where)) from None
    except yaml.reader.ReaderError as e:  # a control character such as NUL
        where = _offset_loc(filename, text, e.position)
        raise SpecError(f"YAML cannot hold the character {chr(e.character)!r} (code "
                        f"{e.character:#x})", where, "remove it; a spec is plain text") from None
    except yaml.YAMLError as e:  # pragma: no cover - unmarked errors are rare
        raise SpecError(f"YAML syntax: {e}", Loc(filename, 1, 1)) from None
    if root is None:
        raise SpecError("spec is empty", Loc(filename, 1, 1))
    return root

