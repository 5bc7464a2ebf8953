"""Optional dependencies, imported the first time they are needed, never at module import.

torch is imported here and nowhere else in the package: `require_torch()` returns the module or
raises one clear line saying how to install it. The analytic path never calls it, so
`cnncalc shapes` starts without torch and works where torch is not installed.
"""

from __future__ import annotations

from typing import Any

from cnncalc.core.errors import BackendError


def require_torch() -> Any:
    """Import torch, or one clear line telling how to install it."""
    try:
        import torch
    except ImportError:
        raise BackendError("torch is not installed: pip install 'cnncalc[torch]'") from None
    return torch
