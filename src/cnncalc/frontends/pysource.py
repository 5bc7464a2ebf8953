"""Python as a spec source: `net.py` (a Python spec's `SPEC`), `model.py:Net` and
`package.module:factory` (a Python spec, or an nn.Module that is traced with torch.fx).

Security: loading a Python spec or model runs its code, exactly as importing it would. Only load
files and packages you trust. Standard library only; torch is imported by the fx backend, and only
when the object is a torch module.
"""

from __future__ import annotations

import ast
import importlib
import re
import runpy
import sys
from collections.abc import Callable
from pathlib import Path
from types import FunctionType
from typing import TYPE_CHECKING, Any, TypeVar

from cnncalc.core.engine import Graph
from cnncalc.core.errors import CnncalcError, Interrupted, SpecError
from cnncalc.frontends.source import MAX_BYTES, read_user_file

T = TypeVar("T")

if TYPE_CHECKING:
    from cnncalc.core.model import Model

_FILE_ATTR = re.compile(r"(?P<file>.+\.py):(?P<attr>[A-Za-z_][\w.]*)\Z")
_MODULE_ATTR = re.compile(r"(?P<module>[A-Za-z_][\w.]*):(?P<attr>[A-Za-z_][\w.]*)\Z")


def is_python(arg: str) -> bool:
    """True for `x.py`, `x.py:Name` and `pkg.mod:name`."""
    return arg.endswith(".py") or bool(_FILE_ATTR.match(arg) or _MODULE_ATTR.match(arg))


def parse_args(items: list[str] | None) -> dict[str, Any]:
    """`--arg name=value` pairs as keyword arguments; values are Python literals, else strings."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key.isidentifier():
            raise SpecError(f"bad --arg {item!r}: write name=value, e.g. --arg num_classes=10")
        if key in out:
            raise SpecError(f"--arg {key} given twice")
        out[key] = _arg_value(key, text.strip())
    return out


_LITERAL_START = re.compile(r"[-+0-9.(\[{'\"]")
MAX_ARG_CHARS = 10_000


def _arg_value(key: str, text: str) -> Any:
    """A Python literal, or a bare word kept as text; text that starts like a literal (a digit,
    a bracket, a quote) and is not a valid one is refused, never silently kept as a string."""
    if len(text) > MAX_ARG_CHARS:
        raise SpecError(f"--arg {key}: value longer than {MAX_ARG_CHARS:,} characters")
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as e:
        if not _LITERAL_START.match(text):
            return text  # a bare word: relu, wide
        raise SpecError(f"--arg {key}: {text[:40]!r}{'…' if len(text) > 40 else ''} is not a "
                        f"Python literal ({type(e).__name__}: {str(e)[:80]})") from None
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        raise SpecError(f"--arg {key}: integer beyond 2**64")
    return value


def run_user(fn: Callable[[], T], what: str, when: str = "") -> T:
    """The one guard around user code (a spec file, a module, a factory): anything it raises
    but Ctrl-C becomes one line naming `what` (SystemExit, RecursionError, MemoryError too)."""
    try:
        return fn()
    except (CnncalcError, KeyboardInterrupt, Interrupted):
        raise
    except SystemExit as e:
        raise SpecError(f"{what} exited{when} (exit code {e.code})") from None
    except RecursionError:
        raise SpecError(f"{what} failed{when}: it recursed too deep") from None
    except MemoryError:
        raise SpecError(f"{what} failed{when}: out of memory") from None
    except BaseException as e:  # noqa: BLE001 - user code: GeneratorExit and friends too
        raise SpecError(f"{what} failed{when}: {type(e).__name__}: {e}") from None


def _run_file(path: Path) -> dict[str, Any]:
    read_user_file(path, "Python file", MAX_BYTES)  # what it is and how big, before running it
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # so the file can import its neighbours
    try:
        return run_user(lambda: runpy.run_path(str(path), run_name="__cnncalc_spec__"),
                        str(path), " while loading")
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)


def _import(module: str) -> dict[str, Any]:
    def load() -> dict[str, Any]:
        try:
            return vars(importlib.import_module(module))
        except ImportError as e:
            raise SpecError(f"cannot import {module!r}: {e}") from None
    return run_user(load, f"importing {module!r}")


def _attr(namespace: dict[str, Any], dotted: str, where: str) -> Any:
    head, *rest = dotted.split(".")
    if head not in namespace:
        from cnncalc.core.errors import did_you_mean

        names = [k for k in namespace if not k.startswith("_")]
        own = [k for k in names if isinstance(namespace[k], type | FunctionType)
               and getattr(namespace[k], "__module__", None) == namespace.get("__name__")]
        listed = f"; it defines {', '.join(own)}" if own else \
            "; it defines no class or function of its own"
        raise SpecError(f"{where} has no {head!r}{listed}", hint=did_you_mean(head, names))
    obj = namespace[head]
    for part in rest:
        if not hasattr(obj, part):
            raise SpecError(f"{where}: {dotted!r} has no attribute {part!r}")
        obj = getattr(obj, part)
    return obj


def load_object(arg: str) -> tuple[Any, str]:
    """The object `arg` names, and how to name it in messages."""
    m = _FILE_ATTR.match(arg)
    if m:
        return _attr(_run_file(Path(m["file"])), m["attr"], m["file"]), arg
    if arg.endswith(".py"):
        ns = _run_file(Path(arg))
        if "SPEC" not in ns:
            hint = _module_hint(ns, arg)
            raise SpecError(f"{arg} defines no SPEC (a Python spec sets SPEC = net(...))",
                            hint=hint)
        return ns["SPEC"], arg
    m = _MODULE_ATTR.match(arg)
    assert m is not None
    return _attr(_import(m["module"]), m["attr"], m["module"]), arg


def _module_hint(ns: dict[str, Any], arg: str) -> str | None:
    """For a file of torch code without SPEC: name its nn.Module classes."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    found = [k for k, v in ns.items() if isinstance(v, type)
             and issubclass(v, torch.nn.Module) and v.__module__ == "__cnncalc_spec__"]
    return f"for a torch model write {arg}:{found[0]}" if found else None


def analyze_python(arg: str, input: str | None, batch: int, args: list[str] | None) -> Graph:
    """Build the graph of a Python spec, or trace the nn.Module that `arg` names."""
    return load_python(arg, input, batch, args).graph


def load_python(arg: str, input: str | None, batch: int, args: list[str] | None) -> Model:
    """The graph of a Python spec, or the nn.Module that `arg` names beside its trace."""
    from cnncalc.core.model import Model
    from cnncalc.frontends.load import build, parse_input
    from cnncalc.frontends.model import from_module
    from cnncalc.frontends.python import Net, to_spec

    obj, where = load_object(arg)
    kwargs = parse_args(args)
    if not isinstance(obj, Net) and callable(obj) and not _is_module(obj):
        factory, given = obj, kwargs
        obj = run_user(lambda: factory(**given), f"{where}({_show(kwargs)})")
        kwargs = {}
    if kwargs:
        raise SpecError(f"{where} is not a class or function, so --arg has nothing to pass to")
    if isinstance(obj, Net):
        spec = to_spec(obj, where)
        return Model(build(spec, parse_input(input, spec.input_shape[0]) if input else None,
                           batch))
    if _is_module(obj):
        if not input:
            raise SpecError(f"{where} is a torch module: give its input size with --input "
                            "CxHxW, e.g. --input 3x224x224")
        return from_module(obj, parse_input(input, None), batch, where)
    raise SpecError(f"{where} is a {type(obj).__name__}, neither a Python spec (net(...)) "
                    "nor a torch nn.Module")


def _is_module(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _show(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
