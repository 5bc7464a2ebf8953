"""Worked derivations: a layer's formulas with its numbers substituted, as plain strings.

A `Step` is `lhs = chain[0] = chain[1] = … = value`. The value at the end of a chain is always the
engine's number (from the registry's formulas); the links in between only substitute numbers
into the formula and evaluate the printed expression, so a reader can check each one by hand.
`full=False` gives the short form (numbers substituted, then the value); `full=True` starts from
the symbolic formula and shows the intermediate results.

Two notations: TEXT (Unicode; terminals and Markdown code blocks render it as is) and LATEX;
CODE is TEXT in ASCII (* and -) for arithmetic a user pastes into code (`apply --at`).
Standard library only; used by `--explain` on shapes and rf and by the interview commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.layers.common import all_pads, fmt_shape, kernel, pads, per_axis
from cnncalc.core.layers.registry import lookup
from cnncalc.core.partial import why_unknown
from cnncalc.core.rf import Axis, fmt_num, num
from cnncalc.report import explain_windows

SWIN = ("window_attention", "patch_merge")  # their derivations: report/explain_windows.py


class Notation:
    """How operators, roundings, fractions, names and numbers are written."""

    def __init__(self, latex: bool, code: bool = False):
        self.latex = latex
        self.code = code  # ASCII that pastes into code: * and -, as `apply --at` writes its cell
        self.mul = r" \cdot " if latex else ("*" if code else "·")
        self.minus = " - " if latex or code else " − "
        self.tight_minus = "-" if latex or code else "−"
        self.times = r" \times " if latex else "×"
        self.approx = r"\approx" if latex else "≈"
        self.arrow = r"\rightarrow" if latex else "→"

    def floor(self, x: str) -> str:
        return rf"\left\lfloor {x} \right\rfloor" if self.latex else f"⌊{x}⌋"

    def ceil(self, x: str) -> str:
        return rf"\left\lceil {x} \right\rceil" if self.latex else f"⌈{x}⌉"

    def frac(self, a: Any, b: Any) -> str:
        if self.latex:
            return rf"\frac{{{a}}}{{{b}}}"
        a = str(a)
        return f"({a})/{b}" if " " in a else f"{a}/{b}"

    def sym(self, name: str) -> str:
        """H_out -> H_{\\mathrm{out}} in LaTeX; names longer than a letter set upright."""
        if not self.latex:
            return name
        base, _, sub = name.partition("_")
        base = base if len(base) == 1 else rf"\mathrm{{{base}}}"
        return f"{base}_{{\\mathrm{{{sub}}}}}" if sub else base

    def num(self, x: Any, sep: bool = True) -> str:
        """An int with thousands separators; a Fraction or float in short form; minus signs."""
        if isinstance(x, Fraction):
            text = fmt_num(x)
        elif isinstance(x, float):
            text = str(int(x)) if x.is_integer() else f"{x:.6g}"
        elif isinstance(x, int):
            text = f"{x:,}" if sep else str(x)
        else:
            text = str(x)
        if self.latex:
            return text.replace(",", "{,}")
        return text if self.code else text.replace("-", "−")

    def prod(self, factors: list[Any]) -> str:
        return self.mul.join(str(f) for f in factors)

    def exact(self, x: Any) -> str:
        """A number as a factor: 1/9 stays a fraction; negatives in parentheses."""
        if isinstance(x, Fraction) and x.denominator != 1:
            text = rf"\tfrac{{{x.numerator}}}{{{x.denominator}}}" if self.latex \
                else f"{x.numerator}/{x.denominator}"
            return f"({text})" if x < 0 or not self.latex else text
        text = self.num(x, sep=False)
        return f"({text})" if text.startswith(("−", "-")) else text

    def signed_sum(self, terms: list[Any]) -> str:
        """a + b − c: the sum with its signs folded in (fractions stay fractions)."""
        out = ""
        for n, t in enumerate(terms):
            sign = (self.tight_minus if t < 0 else "") if n == 0 else \
                (self.minus if t < 0 else " + ")
            out += sign + self.exact(abs(t)).strip("()")
        return out


TEXT = Notation(latex=False)
LATEX = Notation(latex=True)
CODE = Notation(latex=False, code=True)  # arithmetic a user pastes into code: 9*(-1), not 9·(−1)


@dataclass(frozen=True)
class Step:
    """lhs = chain[0] = … = chain[-1]; `value` is the engine's number (for JSON)."""

    lhs: str
    chain: tuple[str, ...]
    value: Any = None
    what: str = ""
    approx: bool = False  # the last link is rounded: written "≈" instead of "="
    assign: bool = False  # an update (r ← r + …): the first link is written "←"

    def signs(self) -> list[str]:
        """The relation before each link of the chain."""
        signs = ["="] * (len(self.chain) - 1) + ["≈" if self.approx else "="]
        if self.assign and len(self.chain) > 1:
            signs[0] = "←"
        return signs

    def line(self) -> str:
        links = zip(self.signs(), self.chain, strict=True)
        return self.lhs + "".join(f" {r} {x}" for r, x in links)


@dataclass
class Section:
    """One layer's (or one question's) derivation."""

    title: str
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# Output size --------------------------------------------------------------------------------

AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("T", "H", "W")}  # the spatial axes, by rank
AXIS_WORDS = {1: ("samples",), 2: ("rows", "columns"), 3: ("frames", "rows", "columns")}


def _names(layer: Layer) -> tuple[str, ...]:
    return AXIS_NAMES[len(layer.in_shapes[0]) - 1]


def _joined(nt: Notation, names: tuple[str, ...], what: str) -> str:
    """'H_out = W_out': the left-hand side of one step that holds for every axis."""
    return " = ".join(nt.sym(f"{x}{what}") for x in names)


def window_steps(layer: Layer, nt: Notation = TEXT, full: bool = True) -> list[Step]:
    """H_out (and W_out, T_out) of a sliding window (conv, max/avg pool), one step when every
    axis agrees."""
    a, names = layer.args, _names(layer)
    rank = len(names)
    k, s, d = kernel(a, rank)
    axes = [(layer.in_shapes[0][1 + i], k[i], s[i], d[i], *pads(a, i, rank),
             layer.out_shape[1 + i]) for i in range(rank)]
    ceil = bool(a.get("ceil_mode"))
    if len(set(axes)) == 1:
        return [_window(nt, _joined(nt, names, "_out"), names[-2 if rank > 1 else 0], *axes[0],
                        ceil, full)]
    return [_window(nt, nt.sym(f"{x}_out"), x, *ax, ceil, full) for x, ax in zip(names, axes)]


def _window(nt: Notation, lhs: str, var: str, n: int, k: int, s: int, d: int, lo: int, hi: int,
            out: int, ceil: bool, full: bool) -> Step:
    rnd = nt.ceil if ceil else nt.floor
    m, minus, tm = nt.mul, nt.minus, nt.tight_minus
    sym_pad = f"2{m}P" if lo == hi else f"{nt.sym('P_lo')} + {nt.sym('P_hi')}"
    num_pad = f"2{m}{lo}" if lo == hi else f"{lo} + {hi}"
    generic = rnd(nt.frac(f"{var} + {sym_pad}{minus}D{m}(K{tm}1){minus}1", "S")) + " + 1"
    subst = rnd(nt.frac(f"{n} + {num_pad}{minus}{d}{m}({k}{tm}1){minus}1", s)) + " + 1"
    span = n + lo + hi - d * (k - 1) - 1  # the numerator just printed, evaluated
    q = -(-span // s) if ceil else span // s
    chain = [generic, subst] if full else [subst]
    what = ""
    if full:
        chain += [rnd(nt.frac(nt.num(span), s)) + " + 1", f"{nt.num(q)} + 1"] if s > 1 \
            else [f"{nt.num(span)} + 1"]
    if q + 1 != out:  # ceil mode: torch drops a last window that would start in the padding
        chain.append(f"{nt.num(q)} + 1{minus}1")
        what = "the last window would start in the trailing padding, so torch drops it"
    return Step(lhs, (*chain, nt.num(out)), out, what)


def padding_note(layer: Layer) -> str | None:
    """How 'same' or 'causal' padding was split, per axis."""
    a = layer.args
    if a.get("padding") not in ("same", "causal"):
        return None
    rank = len(layer.in_shapes[0]) - 1
    k, _, d = kernel({**a, "stride": 1}, rank)
    per = []
    for i in range(rank):
        lo, hi = pads(a, i, rank)
        per.append(f"{d[i]}·({k[i]}−1) = {lo + hi}: {lo} before, {hi} after")
    body = per[0] if len(set(per)) == 1 else "; ".join(
        f"{w} {p}" for w, p in zip(AXIS_WORDS[rank], per))
    if a["padding"] == "causal":
        return f"padding 'causal' pads D·(K−1) zeros before each axis and none after, {body}"
    return f"padding 'same' pads D·(K−1) zeros per axis, {body}"


# Params and MACs ----------------------------------------------------------------------------

Factor = tuple[str, str, int]  # symbol, as printed, its value


def product_step(nt: Notation, lhs: str, factors: list[Factor], value: int, full: bool,
                 bias: Factor | None = None) -> Step:
    """lhs = a·b·c (+ bias) with the numbers in, then the value."""
    generic = nt.prod([nt.sym(f[0]) for f in factors])
    subst = nt.prod([f[1] for f in factors])
    chain: list[str] = []
    if bias:
        generic += f" + {nt.sym(bias[0])}"
        subst += f" + {bias[1]}"
    if full:
        chain.append(generic)
    chain.append(subst)
    if bias and full:
        weights = 1
        for f in factors:
            weights *= f[2]
        chain.append(f"{nt.num(weights)} + {nt.num(bias[2])}")
    return Step(nt.sym(lhs), (*chain, nt.num(value)), value)


def _grouped(nt: Notation, name: str, c: int, g: int) -> Factor:
    if g == 1:
        return (name, nt.num(c), c)
    return (f"({name}/G)", nt.frac(c, g) if nt.latex else f"({c}/{g})", c // g)


def conv_factors(layer: Layer, nt: Notation) -> list[Factor]:
    """The weight shape's factors: K_h·K_w·(C_in/G)·C_out (transposed: C_in·(C_out/G)·K_h·K_w);
    K on one axis, K_t·K_h·K_w on three."""
    a, names = layer.args, _names(layer)
    k = per_axis(a["kernel_size"], len(names))
    cin, cout, g = layer.in_shapes[0][0], a["out"], a["groups"]
    subs = ("",) if len(names) == 1 else tuple(f"_{x.lower()}" for x in names)
    ks: list[Factor] = [(f"K{sub}", str(n), n) for sub, n in zip(subs, k)]
    if layer.kind == "convT":
        return [("C_in", nt.num(cin), cin), _grouped(nt, "C_out", cout, g), *ks]
    return [*ks, _grouped(nt, "C_in", cin, g), ("C_out", nt.num(cout), cout)]


def params_steps(layer: Layer, nt: Notation = TEXT, full: bool = True) -> list[Step]:
    a = layer.args
    if layer.kind in ("conv", "convT"):
        bias = ("C_out", nt.num(a["out"]), a["out"]) if a["bias"] else None
        return [product_step(nt, "params", conv_factors(layer, nt), layer.params, full, bias)]
    if layer.kind == "linear":
        cin, cout = layer.in_shapes[0][0], a["out"]
        name = "F" if len(layer.in_shapes[0]) == 1 else "C"
        factors: list[Factor] = [(f"{name}_in", nt.num(cin), cin),
                                 (f"{name}_out", nt.num(cout), cout)]
        bias = (f"{name}_out", nt.num(cout), cout) if a["bias"] else None
        return [product_step(nt, "params", factors, layer.params, full, bias)]
    if layer.kind in SWIN:
        return explain_windows.params_steps(layer, nt, full)
    if layer.kind == "attention":
        c = layer.in_shapes[0][0]
        bias = ("4·C" if not nt.latex else r"4 \cdot C", f"4{nt.mul}{nt.num(c)}", 4 * c) \
            if a["bias"] else None
        factors = [("4", "4", 4), ("C", nt.num(c), c), ("C", nt.num(c), c)]
        return [product_step(nt, "params", factors, layer.params, full, bias)]
    if layer.params:  # norms and scales: per-channel vectors
        c = layer.in_shapes[0][0]
        n = layer.params // c
        factors = [("C", nt.num(c), c)] if n == 1 else \
            [(str(n), str(n), n), ("C", nt.num(c), c)]
        return [product_step(nt, "params", factors, layer.params, full)]
    return []


def macs_steps(layer: Layer, nt: Notation = TEXT, full: bool = True) -> list[Step]:
    """MACs (bias excluded) and FLOPs = 2 × MACs, for the kinds that have MACs."""
    if not layer.macs:
        return []
    if layer.kind in ("conv", "convT"):
        grid = layer.in_shapes[0] if layer.kind == "convT" else layer.out_shape
        where = "in" if layer.kind == "convT" else "out"
        factors = [*conv_factors(layer, nt), *((f"{x}_{where}", str(n), n) for x, n in
                                               zip(_names(layer), grid[1:]))]
    elif layer.kind == "linear":
        c, out = layer.in_shapes[0][0], layer.out_shape
        name = "F" if len(out) == 1 else "C"
        factors = [(f"{name}_in", nt.num(c), c),
                   (f"{name}_out", nt.num(out[0]), out[0])]
        if len(out) >= 2:
            factors += [(x, str(n), n) for x, n in zip(AXIS_NAMES[len(out) - 1], out[1:])]
    elif layer.kind in SWIN:
        return [*explain_windows.macs_steps(layer, nt, full), _flops(nt, layer.macs, full)]
    elif layer.kind == "attention":
        c, n = layer.in_shapes[0]
        matmuls = layer.macs != 4 * n * c * c  # --attention-macs projections leaves them out
        return [*attention_steps(nt, c, n, full, matmuls), _flops(nt, layer.macs, full)]
    else:
        return []
    macs = product_step(nt, "MACs", factors, layer.macs, full)
    return [macs, _flops(nt, layer.macs, full)]


def _flops(nt: Notation, macs: int, full: bool) -> Step:
    return Step(nt.sym("FLOPs"), (*((f"2{nt.mul}{nt.sym('MACs')}",) if full else ()),
                                  f"2{nt.mul}{nt.num(macs)}", nt.num(2 * macs)), 2 * macs)


def attention_steps(nt: Notation, c: int, n: int, full: bool = True,
                    matmuls: bool = True) -> list[Step]:
    """Self-attention over N tokens of C features: the four projections, 4·N·C², then Q·Kᵀ and
    A·V, N²·C each (heads · N · N · C/heads): the term quadratic in N."""
    proj, quad = 4 * n * c * c, 2 * n * n * c
    sq = "^2" if nt.latex else "²"
    steps = [
        Step(nt.sym("MACs_proj"), (*((f"4{nt.mul}N{nt.mul}C{sq}",) if full else ()),
                                   f"4{nt.mul}{n}{nt.mul}{c}{sq}", nt.num(proj)), proj,
             what="Q, K, V and output projections"),
        Step(nt.sym("MACs_attn"), (*((f"2{nt.mul}N{sq}{nt.mul}C",) if full else ()),
                                   f"2{nt.mul}{n}{sq}{nt.mul}{c}", nt.num(quad)), quad,
             what="Q·Kᵀ and A·V, quadratic in the tokens"),
    ]
    if not matmuls:  # --attention-macs projections
        return [steps[0], projections_only(nt, proj)]
    total = proj + quad
    steps.append(Step(nt.sym("MACs"), (f"{nt.num(proj)} + {nt.num(quad)}", nt.num(total)), total))
    return steps


def projections_only(nt: Notation, proj: int) -> Step:
    return Step(nt.sym("MACs"), (nt.sym("MACs_proj"), nt.num(proj)), proj,
                what="Q·Kᵀ and A·V left out (--attention-macs projections)")


def shape_steps(layer: Layer, nt: Notation = TEXT, full: bool = True) -> list[Step]:
    """The output size: the window formula, or the rule of the kinds that change the shape."""
    kind = lookup(layer.kind)
    ins, out = layer.in_shapes, layer.out_shape
    if kind is not None and kind.window:
        return window_steps(layer, nt, full)
    if layer.kind == "convT":
        return _transposed_steps(layer, nt, full)
    if layer.kind == "upsample":
        names = _names(layer)
        sc = per_axis(layer.args["scale_factor"], len(names))
        return [product_step(nt, f"{x}_out", [(x, str(ins[0][1 + i]), ins[0][1 + i]),
                                              ("S", str(sc[i]), sc[i])],
                             out[1 + i], full) for i, x in enumerate(names)]
    if layer.kind == "pad":
        names = _names(layer)
        p = all_pads(layer.args, len(names))
        return [Step(nt.sym(f"{x}_out"), (*((f"{x} + {nt.sym('P_lo')} + {nt.sym('P_hi')}",)
                                            if full else ()),
                                          f"{ins[0][1 + i]} + {lo} + {hi}", nt.num(out[1 + i])),
                     out[1 + i]) for i, (x, (lo, hi)) in enumerate(zip(names, p))]
    if layer.kind == "flatten" and len(ins[0]) >= 2:  # flatten of a vector changes nothing
        return [product_step(nt, "F", [("C", nt.num(ins[0][0]), ins[0][0]), *(
            (x, str(n), n) for x, n in zip(_names(layer), ins[0][1:]))], out[0], full)]
    if layer.kind == "patch_merge":
        return explain_windows.shape_steps(layer, nt, full)
    if layer.kind == "to_tokens":
        return [product_step(nt, "N", [(x, str(n), n) for x, n in
                                       zip(_names(layer), ins[0][1:])], out[1], full)]
    if layer.kind == "class_token":
        return [Step(nt.sym("N_out"), (f"{ins[0][1]} + 1", nt.num(out[1])), out[1])]
    if layer.kind == "take_token":
        return [Step(nt.sym("F"), (nt.sym("C"), nt.num(out[0])), out[0],
                     what=f"token {layer.args['index']}")]
    if layer.kind == "concat":
        parts = " + ".join(nt.num(s[0], False) for s in ins)
        return [Step(nt.sym("C_out"), (parts, nt.num(out[0])), out[0])]
    return []


def _transposed_steps(layer: Layer, nt: Notation, full: bool) -> list[Step]:
    """H_out = (H − 1)·S − 2·P + D·(K − 1) + P_out + 1 per axis (nn.ConvTranspose2d)."""
    a, names = layer.args, _names(layer)
    rank = len(names)
    k, s, d = kernel(a, rank)
    p, op = per_axis(a["padding"], rank), per_axis(a["output_padding"], rank)
    m, minus, tm = nt.mul, nt.minus, nt.tight_minus
    steps = []
    for i, x in enumerate(names):
        n = layer.in_shapes[0][1 + i]
        generic = f"({x}{tm}1){m}S{minus}2{m}P + D{m}(K{tm}1) + {nt.sym('P_out')} + 1"
        subst = f"({n}{tm}1){m}{s[i]}{minus}2{m}{p[i]} + {d[i]}{m}({k[i]}{tm}1) + {op[i]} + 1"
        chain = (generic, subst) if full else (subst,)
        out = layer.out_shape[1 + i]
        steps.append(Step(nt.sym(f"{x}_out"), (*chain, nt.num(out)), out))
    if rank > 1 and len({st.chain[-2:] for st in steps}) == 1:
        return [Step(_joined(nt, names, "_out"), steps[0].chain, steps[0].value)]
    return steps


# Receptive field ----------------------------------------------------------------------------

def rf_steps(g: Graph, layer: Layer, nt: Notation = TEXT, full: bool = True) -> list[Step]:
    """The recurrence r ← r + (K−1)·D·j, j ← j·S, start ← start + ((K−1)·D/2 − P)·j per window
    layer, with the numbers of the field that arrives and the engine's result. After an op no
    kind maps the field is unknown: one step, r = ?, that says which op."""
    if g.unmapped and (why := why_unknown(g, layer.name)):
        return [Step("r", ("?",), None, f"unknown: {why}")]
    after = layer.rf.max
    kind = lookup(layer.kind)
    if kind is not None and kind.join:
        return [Step("r", (_size(nt, after),), what="the union of the joined paths' fields")]
    before = g.nodes[layer.inputs[0]].rf
    if after.is_global and not before.max.is_global:
        return [Step("r", ("global",), "global", "every input pixel reaches this unit")]
    if layer.kind == "window_attention":
        return explain_windows.rf_steps(layer, nt, _size(nt, after),
                                        _pair(nt, after.h.jump, after.w.jump))
    if kind is None or not kind.window:
        if after == before.max:
            return []
        return [Step("r", (_size(nt, after),), what=f"{layer.kind}: the largest field over "
                     "units, see cnncalc/core/rf.py"),
                Step("j", (_pair(nt, *(ax.jump for ax in after.axes())),))]
    if not all(ax.uniform for ax in (*before.max.axes(), *after.axes())):
        return [Step("r", (_size(nt, after),), what="the largest field over units: after "
                     "upsampling they differ in size and step unevenly; see cnncalc/core/rf.py"),
                Step("j", (_pair(nt, *(ax.jump for ax in after.axes())),),
                     what="the average step")]
    a, rank = layer.args, after.rank
    k, s, d = kernel(a, rank)
    axes = [(k[i], s[i], d[i], pads(a, i, rank)[0], before.max.axes()[i], after.axes()[i])
            for i in range(rank)]
    if len(set(axes)) == 1:
        return _rf_axis(nt, "", *axes[0], full)
    return [step for x, ax in zip(AXIS_NAMES[rank], axes)
            for step in _rf_axis(nt, f"_{x.lower()}", *ax, full)]


def _rf_axis(nt: Notation, sub: str, k: int, s: int, d: int, p: int, a: Axis, b: Axis,
             full: bool) -> list[Step]:
    m, minus, tm, v = nt.mul, nt.minus, nt.tight_minus, nt.num
    r, j, st = (nt.sym(x + sub) for x in ("r", "j", "start"))
    steps = []
    for lhs, generic, subst, value in (
        (r, f"{r} + (K{tm}1){m}D{m}{j}", f"{v(a.size)} + ({k}{tm}1){m}{d}{m}{v(a.jump)}", b.size),
        (j, f"{j}{m}S", f"{v(a.jump)}{m}{s}", b.jump),
        (st, f"{st} + ({nt.frac(f'(K{tm}1){m}D', 2)}{minus}P){m}{j}",
         f"{v(a.start)} + ({nt.frac(f'({k}{tm}1){m}{d}', 2)}{minus}{p}){m}{v(a.jump)}", b.start),
    ):
        chain = (generic, subst) if full else (subst,)
        steps.append(Step(lhs, (*chain, v(value)), num(value), assign=full))
    return steps


def _size(nt: Notation, f: Any) -> str:
    return _pair(nt, *(ax.size for ax in f.axes()))


def _pair(nt: Notation, *values: Fraction) -> str:
    """One number when every axis has it, else one per axis."""
    return nt.num(values[0]) if len(set(values)) == 1 else nt.times.join(map(nt.num, values))


# A cell of `cnncalc apply` ------------------------------------------------------------------

def cell_step(op: str, i: int, j: int, win: list[list[Any]], kernel: list[list[Any]] | None,
              value: Any, top_left: tuple[int, int], nt: Notation = TEXT) -> Step:
    """out[i,j] as the worked dot product (conv) or the max / mean of its window; `value` is
    the computed output. Padding shows as 0 (conv, avg) or is left out (max). Outside LaTeX the
    arithmetic is CODE, like the matrices beside it: each link evaluates, as Python, to the cell."""
    nt = nt if nt.latex else CODE
    lhs = rf"\mathrm{{out}}_{{{i},{j}}}" if nt.latex else f"out[{i},{j}]"
    cells = [v for row in win for v in row]
    (r0, c0), (kh, kw) = top_left, (len(win), len(win[0]))
    what = f"the window covers input rows {r0}..{r0 + kh - 1}, columns {c0}..{c0 + kw - 1}"
    if None in cells:
        what += "; part of it lies on the padding"
    if op == "conv":
        assert kernel is not None
        weights = [kv for row in kernel for kv in row]
        pairs = [(0 if v is None else v, kv) for v, kv in zip(cells, weights, strict=True)]
        chain = [" + ".join(f"{nt.exact(v)}{nt.mul}{nt.exact(kv)}" for v, kv in pairs)]
        products = [v * kv for v, kv in pairs if v * kv != 0]
        if 1 < len(products) and (len(products) < len(pairs) or any(p < 0 for p in products)
                                  or any(kv not in (0, 1) for _, kv in pairs)):
            chain.append(nt.signed_sum(products))
    elif op == "max":
        chain = [f"max({', '.join(nt.num(v, sep=False) for v in cells if v is not None)})"]
    else:
        shown = [0 if v is None else v for v in cells]
        chain = [nt.frac(" + ".join(nt.num(v, sep=False) for v in shown), len(shown))]
        chain.append(nt.frac(nt.num(sum(shown, start=0), sep=False), len(shown)))
    return Step(lhs, (*chain, nt.num(value, sep=False)), value, what)


# One layer ----------------------------------------------------------------------------------

def layer_title(layer: Layer) -> str:
    a = layer.args
    parts = []
    if "kernel_size" in a:
        for key, short in (("kernel_size", "k"), ("stride", "s"), ("padding", "p"),
                           ("dilation", "d"), ("groups", "g")):
            if key in a and (key not in ("groups", "dilation") or a[key] != 1):
                val = a[key]
                shown = "×".join(map(str, val)) if isinstance(val, tuple) else val
                parts.append(f"{short}={shown}")
        if a.get("ceil_mode"):
            parts.append("ceil")
    elif "out" in a:
        parts.append(f"out={a['out']}")
    ins = " + ".join(fmt_shape(s) for s in layer.in_shapes)
    spec = f"{layer.kind} {' '.join(parts)}".strip()
    return f"{layer.name} ({spec}): {ins} → {fmt_shape(layer.out_shape)}"


def explain_layer(g: Graph, layer: Layer, nt: Notation = TEXT, rf_only: bool = False,
                  full: bool = True) -> Section:
    """Everything about one layer with its numbers in (or only the receptive field)."""
    steps = rf_steps(g, layer, nt, full)
    if not rf_only:
        steps = [*shape_steps(layer, nt, full), *params_steps(layer, nt, full),
                 *macs_steps(layer, nt, full), *steps]
    notes = [w.message for w in g.floor_warnings if w.layer == layer.name]
    note = padding_note(layer) if not rf_only else None
    return Section(layer_title(layer), steps, [note, *notes] if note else notes)


def explain_graph(g: Graph, layers: list[Layer], nt: Notation = TEXT,
                  rf_only: bool = False) -> list[Section]:
    return [explain_layer(g, x, nt, rf_only) for x in layers]
