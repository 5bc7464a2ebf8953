"""Cost as a function of the input size: exact formulas in H and W.

NB: a sliding window maps n pixels to ⌊(n + c)/s⌋ + 1, and ⌊(⌊x/S⌋ + m)/s⌋ = ⌊(x + m·S)/(S·s)⌋
for integers, so along a chain of windows every layer's size on one axis is a·⌊(n + A)/S⌋ + B
(a transposed conv or an upsampling multiplies a; adaptive pooling makes it a constant). A conv's
MACs are a constant times its output's H·W (a transposed conv's, its input's), its activations
C·H·W, so the network's MACs and activations are sums of such products, one term per distinct pair
of floor expressions, plus a constant: piecewise bilinear in H and W, the pieces set by the floors.
Each expression is derived from the layers' arguments, never fitted; the totals are then checked
against the engine at every size scanned that runs. Standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cnncalc.core.layers.common import numel, pads, pair
from cnncalc.core.layers.registry import Shape
from cnncalc.core.sizes import Detail, Outcome, Program, Step, replay


@dataclass(frozen=True)
class Floor:
    """a·⌊(n + A)/S⌋ + B, with 0 ≤ A < S (S = 1: a·n + B)."""

    a: int
    A: int
    S: int
    B: int

    @staticmethod
    def make(a: int, A: int, S: int, B: int) -> Floor:
        if a == 0:
            return Floor(0, 0, 1, B)
        q, r = divmod(A, S)
        return Floor(a, r, S, B + a * q)

    def __call__(self, n: int) -> int:
        return self.a * ((n + self.A) // self.S) + self.B

    def window(self, c: int, s: int) -> Floor | None:
        """⌊(self + c)/s⌋ + 1."""
        a, C = self.a, self.B + c
        if a == 0:
            return Floor(0, 0, 1, C // s + 1)
        if a % s == 0:
            return Floor.make(a // s, self.A, self.S, C // s + 1)
        g = math.gcd(a, s)
        if C % g or a != g:
            return None
        return Floor.make(1, self.A + C // g * self.S, self.S * (s // g), 1)

    def scale(self, f: int, c: int) -> Floor:
        """f·self + c."""
        return Floor.make(self.a * f, self.A, self.S, self.B * f + c)

    def text(self, var: str) -> str:
        if self.a == 0:
            return str(self.B)
        if self.S == 1:
            core = var
        elif self.A == 0:
            core = f"⌊{var}/{self.S}⌋"
        elif self.A == self.S - 1:
            core = f"⌈{var}/{self.S}⌉"
        else:
            core = f"⌊({var} + {self.A})/{self.S}⌋"
        out = core if self.a == 1 else f"{self.a}·{core}"
        return out if self.B == 0 else f"{out} {'+' if self.B > 0 else '−'} {abs(self.B)}"


IDENTITY = Floor(1, 0, 1, 0)
Axes = tuple[Floor, Floor] | None  # per node, its H and W as floors of the input's; None: none


@dataclass(frozen=True)
class Term:
    coef: int
    h: Floor | None  # None with w None: the constant term
    w: Floor | None

    def __call__(self, h: int, w: int) -> int:
        if self.h is None or self.w is None:
            return self.coef
        return self.coef * self.h(h) * self.w(w)

    def text(self) -> str:
        if self.h is None or self.w is None:
            return f"{self.coef:,}"
        return f"{self.coef:,}·{_factor(self.h.text('H'))}·{_factor(self.w.text('W'))}"


def _factor(text: str) -> str:
    return f"({text})" if " " in text else text


@dataclass
class Formula:
    """A total as a sum of terms; exact at `checked` running sizes, wrong at `wrong`."""

    what: str
    terms: list[Term]
    checked: int = 0
    wrong: tuple[tuple[int, int], ...] = ()

    def __call__(self, h: int, w: int) -> int:
        return sum(t(h, w) for t in self.terms)

    def text(self) -> str:
        return " + ".join(t.text() for t in self.terms) or "0"


@dataclass
class Costs:
    params: int | None  # None: the params depend on the size (a flatten into a linear)
    macs: Formula | None
    activations: Formula | None
    why_not: str = ""  # why there is no formula


def node_axes(prog: Program) -> list[Axes]:
    """Every node's H and W as floors of the input's, from the layers' arguments."""
    axes: list[Axes] = [(IDENTITY, IDENTITY)]
    for i, st in enumerate(prog.steps):
        ins = [prog.shapes[j] for j in st.inputs]
        out = prog.shapes[i + 1] if i + 1 < len(prog.shapes) else None
        axes.append(_axes(st, axes[st.inputs[0]], ins, out))
    return axes


def _axes(st: Step, prev: Axes, ins: list[Shape], out: Shape | None) -> Axes:
    if out is None or len(out) != 3:
        return None
    a = st.args
    if st.kind.name.startswith("adaptive") or st.kind.name == "gap":
        return (Floor(0, 0, 1, out[1]), Floor(0, 0, 1, out[2]))
    if prev is None:
        return None
    if st.kind.window:
        k, s, d = pair(a["kernel_size"]), pair(a["stride"]), pair(a.get("dilation", 1))
        new = []
        for axis in (0, 1):
            lo, hi = pads(a, axis)
            c = lo + hi - d[axis] * (k[axis] - 1) - 1
            c += s[axis] - 1 if a.get("ceil_mode") else 0
            f = prev[axis].window(c, s[axis])
            if f is None:
                return None
            new.append(f)
        return (new[0], new[1])
    if st.kind.name == "convT":
        k, s, d = pair(a["kernel_size"]), pair(a["stride"]), pair(a["dilation"])
        p, op = pair(a["padding"]), pair(a["output_padding"])
        return (prev[0].scale(s[0], -s[0] - 2 * p[0] + d[0] * (k[0] - 1) + op[0] + 1),
                prev[1].scale(s[1], -s[1] - 2 * p[1] + d[1] * (k[1] - 1) + op[1] + 1))
    if st.kind.name == "upsample":
        up = pair(a["scale_factor"])
        return (prev[0].scale(up[0], 0), prev[1].scale(up[1], 0))
    if len(ins[0]) == 3 and ins[0][1:] == out[1:]:
        return prev  # same size: elementwise, norms, joins
    return None


def derive(prog: Program, outcomes: list[Outcome]) -> Costs:
    """Params, and MACs and activations as formulas in H and W, checked at every size that
    runs in `outcomes`."""
    running = [o for o in outcomes if o.runs]
    params = {o.params for o in running}
    costs = Costs(params.pop() if len(params) == 1 else None, None, None)
    axes = node_axes(prog)
    samples = _samples(prog, running)
    macs: list[Term] = []
    acts: list[Term] = []
    for i, st in enumerate(prog.steps):
        out_axes, in_axes = axes[i + 1], axes[st.inputs[0]]
        m = _term([(d[i][3], d[i][2], d[i][1][0]) for d in samples], out_axes, in_axes)
        v = _term([(numel(d[i][2]), d[i][2], d[i][1][0]) for d in samples], out_axes, None)
        if m is None or v is None:
            costs.why_not = f"no closed form at layer {st.name} ({st.kind.name})"
            return costs
        macs.append(m)
        acts.append(v)
    costs.macs = _check(Formula("MACs", _group(macs)), running, "macs")
    costs.activations = _check(Formula("activations", _group(acts)), running, "activations")
    return costs


def _samples(prog: Program, running: list[Outcome]) -> list[Detail]:
    """Per-layer detail at up to three running sizes where the program applies, far apart."""
    picks = sorted({running[0], running[len(running) // 2], running[-1]},
                   key=lambda o: (o.h, o.w)) if running else []
    out = []
    for o in picks:
        d: Detail = []
        if replay(prog, o.h, o.w, d) is not None:
            out.append(d)
    return out


def _term(data: list[tuple[int, Shape, Shape]], out_axes: Axes, in_axes: Axes) -> Term | None:
    """value = coef·X(H)·Y(W) over the output's axes, or the input's, or a constant."""
    if not data:
        return None
    bases: list[tuple[Floor, Floor] | None] = [ax for ax in (out_axes, in_axes) if ax]
    for ax in [*bases, None]:
        coefs = set()
        for value, out, inp in data:
            if ax is None:
                coefs.add((value, 0))
                continue
            shape = out if ax is out_axes else inp
            area = shape[1] * shape[2] if len(shape) == 3 else 0
            coefs.add(divmod(value, area) if area else (-1, 1))
        if len(coefs) == 1 and next(iter(coefs))[1] == 0:
            coef = next(iter(coefs))[0]
            return Term(coef, ax[0], ax[1]) if ax else Term(coef, None, None)
    return None


def _group(terms: list[Term]) -> list[Term]:
    """One term per pair of floors, multipliers folded into the coefficient (2·⌊H/2⌋ when the
    floor has no offset), constant sizes into the constant."""
    sums: dict[tuple[Any, Any], int] = {}
    for t in terms:
        coef, h, w = t.coef, t.h, t.w
        if h is not None and w is not None:
            if h.a == 0 and w.a == 0:
                coef, h, w = coef * h.B * w.B, None, None
            else:
                coef, h = (coef * h.a, Floor(1, h.A, h.S, 0)) if h.B == 0 else (coef, h)
                coef, w = (coef * w.a, Floor(1, w.A, w.S, 0)) if w.B == 0 else (coef, w)
        if coef:
            sums[(h, w)] = sums.get((h, w), 0) + coef
    order = sorted(sums, key=lambda k: (k[0] is None, k[0].S if k[0] else 0, str(k)))
    return [Term(sums[k], k[0], k[1]) for k in order]


def _check(f: Formula, running: list[Outcome], attr: str) -> Formula:
    f.wrong = tuple((o.h, o.w) for o in running if f(o.h, o.w) != getattr(o, attr))
    f.checked = len(running)
    return f
