"""Rich output as text: a table is drawn on a console for stdout (its width from COLUMNS or the
terminal, colours only on a terminal) and captured, so every renderer returns a string and a
command prints it with `emit`. rich is imported here, when a table is drawn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def captured(draw: Callable[[Any], None]) -> str:
    """What `draw(console)` prints, as the text a console for stdout would write."""
    from rich.console import Console
    from rich.errors import MarkupError

    console = Console()
    try:
        with console.capture() as capture:
            draw(console)
    except MarkupError:  # user text that reads as markup ('[/dim]'): draw it all as plain text
        console = Console(markup=False)
        with console.capture() as capture:
            draw(console)
    return capture.get()
