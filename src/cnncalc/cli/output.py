"""The one way a command writes a file (`apply -o`, `erf --png`): the suffix must be the format
written, the target is never one of the command's inputs nor anything but a regular file, the
bytes go to a temporary file in the same folder that then replaces the target (a failed write
leaves the old file whole), and the command says what it wrote. The file gets the mode an
ordinary write would give it: an existing target's, else 0666 less the umask (mkstemp's own
0600 is for the moment the file is not yet ours to show)."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from cnncalc.core.errors import CnncalcError


def check_target(path: str | Path, suffix: str, option: str, kind: str,
                 inputs: Iterable[str] = ()) -> Path:
    """`path` when the command may write `kind` there; checked before any work is done."""
    p = Path(path)
    if p.suffix.lower() != suffix:
        raise CnncalcError(f"{option} writes a {kind}: give a path ending in {suffix}, "
                           f"got {str(p)!r}")
    if os.path.lexists(p):
        try:
            mode = os.stat(p).st_mode
        except OSError as e:
            raise CnncalcError(f"cannot write {p}: {e.strerror or e}") from None
        if not stat.S_ISREG(mode):
            raise CnncalcError(f"{p} exists and is not a regular file; {option} will not "
                               "write there")
        for given in inputs:
            try:
                same = os.path.exists(given) and os.path.samefile(p, given)
            except OSError:
                same = False
            if same:
                raise CnncalcError(f"{option} {p} is the command's own input; give another path")
    return p


def write_file(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder, then replace `path` at once."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as e:
        raise CnncalcError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        os.chmod(tmp, _mode(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        raise CnncalcError(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _mode(path: Path) -> int:
    """The permissions `open(path, "wb")` would leave: the existing file's, else 0666 & ~umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0o022)  # reading the umask sets it: put it back at once
        os.umask(umask)
        return 0o666 & ~umask
