"""The entry point: registers every command on the app, then runs it.

Each command lives in its own module and registers itself on `app`; the import order is the
order of `cnncalc --help`: the analytic tables, the measurements, then the calculators.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import sys
from types import FrameType

from cnncalc.cli.app import app
from cnncalc.core.errors import Interrupted
from cnncalc.core.text import terminal_safe
from cnncalc.report.terminal import Degrading, degrading

GC_YOUNG = 100_000  # allocations between collections of the young generation (default 700)
COMMANDS = ("analytic", "design", "verify", "erf", "latency", "memory", "export", "zoo",
            "interview", "schema")
for _module in COMMANDS:
    importlib.import_module(f"cnncalc.cli.{_module}")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted


def _say(line: str) -> None:
    try:
        sys.stderr.write(terminal_safe(line) + "\n")
        sys.stderr.flush()
    except OSError:
        pass


def main() -> None:
    """Entry point; it owns the process's streams and signals. Usage errors (a missing argument,
    a bad option) become one line; Ctrl-C prints "interrupted" and exits 130; a closed pipe
    (`| head -1`) ends the process quietly as it ends `cat`; an output that cannot be written
    (`> /dev/full`) is one line and exit 2. A bare `cnncalc` prints the help. An output
    encoding without ×, ✓ or box lines (ascii, latin-1, a C locale) gets ASCII stand-ins in
    everything written, click's help and messages included (report/terminal.py)."""
    if len(sys.argv) <= 1:
        sys.argv.append("--help")
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = degrading(sys.stdout), degrading(sys.stderr)
    signal.signal(signal.SIGINT, _interrupt)
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # One short process: what the imports made lives to the end (frozen out of every
    # collection), and the young generation is collected every 100,000 allocations rather than
    # 700, so 10,000 layers are not walked again and again (about a tenth of `shapes` on a
    # 10,000-layer spec; still a bounded young generation).
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, 50, 100)
    try:
        code = _run()
        sys.stdout.flush()
    except Interrupted:
        _say("interrupted")
        code = 130
    except OSError as e:  # writing the output failed: a full disk, a closed stream
        sys.stdout = open(os.devnull, "w")  # the exit-time flush must not fail again
        _say(f"cannot write the output: {e.strerror or e}")
        code = 2
    finally:  # as it was, for a caller that runs main() in its own process (a test)
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        sys.stdout, sys.stderr = (s if isinstance(now, Degrading) else now
                                  for s, now in zip(streams, (sys.stdout, sys.stderr)))
    sys.exit(code)


def run() -> None:
    """The process's entry (the `cnncalc` script, `python -m cnncalc`): `main`, then what is
    left is frozen out of the collections the interpreter runs as it shuts down, which would
    walk every object again for nothing (about 0.02 s after 10,000 layers). `main` itself
    leaves the collector as it found it, for a caller that goes on (a test)."""
    try:
        main()
    finally:
        gc.freeze()


def _run() -> int:
    try:
        code = app(prog_name="cnncalc", standalone_mode=False)
    except Exception as e:  # click's UsageError/BadParameter carry format_message and exit_code
        if not (hasattr(e, "format_message") and hasattr(e, "exit_code")):
            raise
        ctx = getattr(e, "ctx", None)
        where = ctx.command_path if ctx is not None else "cnncalc"
        _say(f"{where}: {e.format_message()} (see '{where} --help')")
        return int(e.exit_code)
    return code if isinstance(code, int) else 0
