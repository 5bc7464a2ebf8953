"""`--weights FILE`: a state_dict, or a checkpoint holding one, loaded into the measured module.

The file is read with `torch.load(weights_only=True)` (tensors and plain containers, no code).
A checkpoint's state_dict is found under a common key (`state_dict`, `model`, `ema`, `model_ema`,
`module`), and a `module.` prefix (DataParallel) is dropped. Names are matched exactly, after
`rename` (a spec's net takes the names `export --to torch` writes: `layer1_0_conv1.weight` for
the built `layer1.0.conv1.weight`); every name that does not match, and every shape that differs,
is listed in one error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnncalc.core.errors import CnncalcError
from cnncalc.core.optional import require_torch

KEYS = ("state_dict", "model", "ema", "model_ema", "module")  # where checkpoints keep weights
SHOWN = 8  # names listed per kind of mismatch


def read_state(path: str | Path) -> dict[str, Any]:
    """The state_dict in FILE (or in the checkpoint FILE holds), keys as saved."""
    torch = require_torch()
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CnncalcError(f"no weights file {str(path)!r}") from None
    except Exception as e:  # an unpickling error, a file torch cannot read
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise CnncalcError(f"cannot read weights {path} with torch.load(weights_only=True): "
                           f"{first[:200]}") from None
    state = _find_state(obj, torch)
    if state is None:
        keys = ", ".join(map(str, list(obj)[:8])) if isinstance(obj, dict) else type(obj).__name__
        raise CnncalcError(f"{path} holds no state_dict (looked under {', '.join(KEYS)}; "
                           f"found {keys})")
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def _find_state(obj: Any, torch: Any) -> dict[str, Any] | None:
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj
    if isinstance(obj, dict):
        for key in KEYS:
            if key in obj:
                found = _find_state(obj[key], torch)
                if found is not None:
                    return found
    return None


def load_weights(module: Any, path: str | Path, rename: dict[str, str] | None = None,
                 what: str = "the model") -> None:
    """Copy the weights in FILE into `module` (in place, keeping its tensors), or one error
    listing the names that do not match."""
    state = read_state(path)
    own = module.state_dict()
    names = {k: k for k in own}  # the file's name -> the module's
    if rename and sum(k in rename for k in state) > sum(k in own for k in state):
        names = dict(rename)  # the file has the names `export --to torch` writes
    missing = [k for k in names if k not in state]
    unexpected = [k for k in state if k not in names]
    shapes = [f"{k} ({_shape(state[k])} in the file, {_shape(own[v])} in {what})"
              for k, v in names.items() if k in state and state[k].shape != own[v].shape]
    problems = [f"{label}: {_listed(found)}" for label, found in (
        ("missing from the file", missing), ("not in " + what, unexpected),
        ("shapes differ", shapes)) if found]
    if problems:
        raise CnncalcError(f"weights {path} do not match {what}: " + "; ".join(problems))
    module.load_state_dict({v: state[k] for k, v in names.items()}, strict=True)


def _shape(t: Any) -> str:
    return "×".join(str(d) for d in t.shape) or "scalar"


def _listed(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more
