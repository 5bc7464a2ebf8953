"""A transient progress bar on stderr for the measuring commands (erf, latency), one row per stage.

`progress()` yields `update(label, done, total=1.0)`, or None when stderr is not a terminal (pipes,
CI, tests), so measuring code pays nothing for it there.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Update = Callable[..., None]  # update(label: str, done: float, total: float | None = 1.0)


@contextmanager
def progress(enabled: bool | None = None) -> Iterator[Update | None]:
    if not (sys.stderr.isatty() if enabled is None else enabled):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description:<24}"), BarColumn(), TaskProgressColumn(),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    tasks: dict[str, int] = {}

    def update(label: str, done: float, total: float | None = 1.0) -> None:
        if label not in tasks:
            tasks[label] = bar.add_task(label, total=total)
        bar.update(tasks[label], completed=done, total=total)  # type: ignore[arg-type]

    with bar:
        yield update
