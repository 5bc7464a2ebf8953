"""A small, safe evaluator for block-argument expressions such as `$out * 4`.

Spec text is never given to `eval`. An expression is parsed with `ast` and only these nodes are
walked: numbers, `$names` bound to block arguments, + - * / // % ** (small exponents), unary
minus, parentheses, comparisons, `and`/`or`/`not`, `a if c else b`, and the calls min, max, int,
round, ceil, floor and divisible(v, d) (round v to a multiple of d, never below 90% of v, as
MobileNet's and EfficientNet's `_make_divisible` does).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
MAX_LEN = 200


def divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round `v` to the nearest multiple of `divisor`, not going down by more than 10%."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_CALLS: dict[str, Callable[..., Any]] = {
    "min": min, "max": max, "int": int, "round": round, "ceil": math.ceil, "floor": math.floor,
    "divisible": divisible,
}


class ExprError(ValueError):
    """A message for SpecError; the caller adds the position."""


def has_ref(text: str) -> bool:
    return "$" in text


def evaluate(text: str, env: Mapping[str, Any]) -> Any:
    """Evaluate `text` (which contains `$name` references) against the block arguments `env`."""
    if len(text) > MAX_LEN:
        raise ExprError(f"expression longer than {MAX_LEN} characters")
    whole = _NAME.fullmatch(text.strip())
    if whole:  # a bare reference passes any value through: a list, a string like 'same'
        return _lookup(whole.group(1), env)
    source = _NAME.sub(r"__arg_\1", text)
    if "$" in source:
        raise ExprError(f"bad reference in {text!r}: write $name")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        raise ExprError(f"cannot parse expression {text!r}") from None
    return _eval(tree.body, env, text)


def _lookup(name: str, env: Mapping[str, Any]) -> Any:
    if name not in env:
        from cnncalc.core.errors import did_you_mean

        hint = did_you_mean(name, env)
        raise ExprError(f"unknown argument ${name}" + (f" ({hint})" if hint else ""))
    return env[name]


def _eval(node: ast.AST, env: Mapping[str, Any], text: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.Name) and node.id.startswith("__arg_"):
        return _lookup(node.id[len("__arg_"):], env)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left, env, text), _eval(node.right, env, text)
        _numbers(text, left, right)
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise ExprError(f"exponent too large in {text!r}")
        try:
            return _BINOPS[type(node.op)](left, right)
        except ZeroDivisionError:
            raise ExprError(f"division by zero in {text!r}") from None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        value = _eval(node.operand, env, text)
        if isinstance(node.op, ast.Not):
            return not value
        _numbers(text, value)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, env, text) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare) and all(type(op) in _CMPOPS for op in node.ops):
        left = _eval(node.left, env, text)
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, env, text)
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        branch = node.body if _eval(node.test, env, text) else node.orelse
        return _eval(branch, env, text)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in _CALLS and not node.keywords):
        args = [_eval(a, env, text) for a in node.args]
        _numbers(text, *args)
        try:
            return _CALLS[node.func.id](*args)
        except (TypeError, ValueError, OverflowError) as e:
            raise ExprError(f"{node.func.id}() in {text!r}: {e}") from None
    raise ExprError(f"not allowed in an expression: {ast.unparse(node)!r} in {text!r}")


def _numbers(text: str, *values: Any) -> None:
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ExprError(f"arithmetic on a non-number ({v!r}) in {text!r}")
