"""A small, safe evaluator for block-argument expressions such as `$out * 4`.

Spec text is never given to `eval`. An expression is parsed with `ast` and only these nodes are
walked: numbers, `$names` bound to block arguments, + - * / // % **, unary minus, parentheses,
comparisons, `and`/`or`/`not`, `a if c else b`, and the calls min, max, int, round, ceil, floor
and divisible(v, d) (round v to a multiple of d, never below 90% of v, as MobileNet's and
EfficientNet's `_make_divisible` does).

Two rules bound its work whatever the text (docs/spec.md, "Expressions"):
- every value it makes (a literal, an argument used in arithmetic, each intermediate, the result)
  is checked by `_value`: a bool, an int of at most MAX_BITS bits, or a finite float of magnitude
  at most MAX_FLOAT; a string or a list only as a bare `$name` or an operand of == and !=;
- every operation runs in `_apply`, after its precondition (`_PRE`) bounds its cost: `**` only
  when the result fits in MAX_BITS, `round`'s digits within MAX_ROUND_DIGITS, `divisible`'s
  divisor an integer from 1, order comparisons between numbers only; any arithmetic error is an
  ExprError.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
MAX_LEN = 200  # characters in one expression
MAX_BITS = 256  # bits of any integer an expression makes (about 77 digits)
MAX_FLOAT = 1e300  # magnitude of any float an expression makes
MAX_ROUND_DIGITS = 20  # |ndigits| of round(x, ndigits)


def divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round `v` to the nearest multiple of `divisor`, not going down by more than 10%."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


_BINOPS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add), ast.Sub: ("-", operator.sub), ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv), ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", operator.mod), ast.Pow: ("**", operator.pow),
}
_CMPOPS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Eq: ("==", operator.eq), ast.NotEq: ("!=", operator.ne), ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le), ast.Gt: (">", operator.gt), ast.GtE: (">=", operator.ge),
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
    tree = _parse(source.strip())
    if tree is None:
        raise ExprError(f"cannot parse expression {text!r}")
    return _Eval(env, text).number(tree.body)


@functools.lru_cache(maxsize=1024)
def _parse(source: str) -> ast.Expression | None:
    """The parsed expression (cached: a block's expressions are read once per use)."""
    try:
        return ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def _lookup(name: str, env: Mapping[str, Any]) -> Any:
    if name not in env:
        from cnncalc.core.errors import did_you_mean

        hint = did_you_mean(name, env)
        raise ExprError(f"unknown argument ${name}" + (f" ({hint})" if hint else ""))
    return env[name]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float))  # bool is an int


def _pow_ok(base: Any, exp: Any) -> str | None:
    if isinstance(base, float) or isinstance(exp, float):
        if base == 0 and exp < 0:
            return "0 to a negative power"
        if base < 0 and not float(exp).is_integer():
            return "a negative number to a fractional power"
        if abs(base) > 1 and exp * math.log2(abs(base)) > MAX_BITS:
            return f"the result exceeds 2**{MAX_BITS}"
        return None
    if exp < 0:
        return None if base != 0 else "0 to a negative power"
    if abs(base) > 1 and exp * math.log2(abs(base)) >= MAX_BITS:
        return f"the result exceeds 2**{MAX_BITS}"
    return None


def _round_ok(*args: Any) -> str | None:
    if len(args) == 2 and (not isinstance(args[1], int) or abs(args[1]) > MAX_ROUND_DIGITS):
        return f"round's digits are an integer from -{MAX_ROUND_DIGITS} to {MAX_ROUND_DIGITS}"
    return None


def _divisible_ok(*args: Any) -> str | None:
    if len(args) >= 2 and (isinstance(args[1], float) or args[1] < 1):
        return "the divisor is an integer from 1"
    return None


_PRE: dict[str, Callable[..., str | None]] = {
    "**": _pow_ok, "round": _round_ok, "divisible": _divisible_ok,
}


class _Eval:
    def __init__(self, env: Mapping[str, Any], text: str):
        self.env, self.text = env, text

    def error(self, what: str) -> ExprError:
        return ExprError(f"{what} in {self.text!r}")

    def value(self, v: Any) -> Any:
        """The one check of every value: a bool, a bounded int or a finite bounded float."""
        if isinstance(v, bool):
            return v
        if isinstance(v, int):
            if v.bit_length() > MAX_BITS:
                raise self.error(f"a number beyond 2**{MAX_BITS}")
            return v
        if isinstance(v, float):
            if not math.isfinite(v) or abs(v) > MAX_FLOAT:
                raise self.error(f"a number beyond {MAX_FLOAT:g}")
            return v
        raise self.error(f"arithmetic on a non-number ({v!r:.40})")

    def apply(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        """The one place an operation runs: numbers only, its precondition, then the value."""
        for a in args:
            self.value(a)
        pre = _PRE.get(name)
        why = pre(*args) if pre is not None else None
        if why is not None:
            raise self.error(f"{name}: {why}")
        try:
            return self.value(fn(*args))
        except (ArithmeticError, TypeError, ValueError) as e:
            if isinstance(e, ExprError):
                raise
            raise self.error(f"{name}: {e}") from None

    def number(self, node: ast.AST) -> Any:
        return self.value(self.node(node))

    def node(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and _is_number(node.value):
            return self.value(node.value)
        if isinstance(node, ast.Name) and node.id.startswith("__arg_"):
            return _lookup(node.id[len("__arg_"):], self.env)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            name, fn = _BINOPS[type(node.op)]
            left, right = self.node(node.left), self.node(node.right)
            if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and right == 0:
                raise self.error("division by zero")
            return self.apply(name, fn, left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            value = self.node(node.operand)
            if isinstance(node.op, ast.Not):
                return not value
            return self.apply("-" if isinstance(node.op, ast.USub) else "+",
                              operator.neg if isinstance(node.op, ast.USub) else operator.pos,
                              value)
        if isinstance(node, ast.BoolOp):
            values = [self.node(v) for v in node.values]
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.Compare) and all(type(op) in _CMPOPS for op in node.ops):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            branch = node.body if self.node(node.test) else node.orelse
            return self.node(branch)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in _CALLS and not node.keywords
                and not any(isinstance(a, ast.Starred) for a in node.args)):
            args = [self.node(a) for a in node.args]
            return self.apply(node.func.id, _CALLS[node.func.id], *args)
        raise self.error(f"not allowed in an expression: {ast.unparse(node)!r:.60}")

    def compare(self, node: ast.Compare) -> bool:
        left = self.node(node.left)
        for op, comp in zip(node.ops, node.comparators):
            right = self.node(comp)
            name, fn = _CMPOPS[type(op)]
            if name in ("==", "!="):  # any two values, strings and lists too
                result = bool(fn(left, right))
            else:
                result = bool(self.apply(name, fn, left, right))
            if not result:
                return False
            left = right
        return True
