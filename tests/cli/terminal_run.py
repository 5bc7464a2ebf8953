"""Run cnncalc as a real process with one of its streams on a pseudo-terminal (POSIX): what a
user at a terminal sees, for the tests of colour, progress bars and the like."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence


def on_a_terminal(args: Sequence[str], env: dict[str, str], stream: str = "stdout",
                  timeout: float = 120) -> tuple[int, str, str]:
    """(exit code, what went to the terminal, what went to the other stream's pipe)."""
    import pty

    leader, follower = pty.openpty()
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, stream: follower}
    p = subprocess.Popen(args, env=env, **streams)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is done writing
            break
        if not chunk:
            break
        chunks.append(chunk)
    other = p.stderr if stream == "stdout" else p.stdout
    assert other is not None
    piped = other.read().decode("utf-8", "replace")
    code = p.wait(timeout=timeout)
    os.close(leader)
    return code, b"".join(chunks).decode("utf-8", "replace"), piped
