"""One error family. The CLI catches only these: one line, exit code 2.

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Loc:
    """A position in a spec file, 1-based like editors show it."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class CnncalcError(Exception):
    """Base of every error a user can act on."""

    def __init__(self, message: str, loc: Loc | None = None, hint: str | None = None):
        self.message = message
        self.loc = loc
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.loc}: {self.message}" if self.loc else self.message
        return f"{text} ({self.hint})" if self.hint else text


class SpecError(CnncalcError):
    """The spec text is wrong: unknown key, bad value, missing field."""


class ShapeError(CnncalcError):
    """The spec is well formed but its shapes do not work out at some layer."""

    def __init__(self, layer: str, message: str, loc: Loc | None = None, hint: str | None = None):
        self.layer = layer
        super().__init__(f"layer {layer}: {message}", loc, hint)


class BackendError(CnncalcError):
    """The torch side cannot do what was asked (torch missing, no CUDA, out of memory)."""


class LimitError(SpecError):
    """The spec asks for more than cnncalc will read or build (size, depth, aliases, layers).

    Never collected with other errors: work stops at once."""


class Interrupted(BaseException):
    """Ctrl-C, raised by the CLI's own SIGINT handler. A BaseException that is not
    KeyboardInterrupt, so neither click (which turns KeyboardInterrupt into a silent exit 130)
    nor a guard around user code swallows it."""


class SpecErrors(CnncalcError):
    """Several independent errors found in one file, reported together, one per line."""

    def __init__(self, errors: list[CnncalcError], more: bool = False):
        self.errors = errors
        lines = [str(e) for e in errors]
        if more:
            lines.append(f"stopped after {len(errors)} errors; fix these and run again")
        super().__init__("\n".join(lines), errors[0].loc if errors else None)

    def __str__(self) -> str:
        return self.message


MAX_ERRORS = 10


class ErrorList:
    """Collects independent errors (one per position) and raises them together.

    `add` raises at once when the limit is reached; `check` raises what was collected."""

    def __init__(self, limit: int = MAX_ERRORS):
        self.limit = limit
        self.errors: list[CnncalcError] = []
        self._seen: set[Loc | None] = set()

    def add(self, e: CnncalcError) -> None:
        if e.loc is not None and e.loc in self._seen:
            return  # the same mistake met again (a block used twice, a repeat)
        self._seen.add(e.loc)
        self.errors.append(e)
        if len(self.errors) >= self.limit:
            raise SpecErrors(self.errors, more=True)

    def error(self) -> CnncalcError:
        """The one error, or all of them in the order they stand in the file."""
        if len(self.errors) == 1:
            return self.errors[0]
        return SpecErrors(sorted(self.errors, key=lambda e: (e.loc.line, e.loc.col) if e.loc
                                 else (0, 0)))

    def check(self) -> None:
        if self.errors:
            raise self.error()


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean X?' hint from difflib, or None."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None
