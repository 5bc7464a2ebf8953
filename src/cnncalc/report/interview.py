"""The interview commands' answers, put together from engine graphs and the derivation builders.

Each function takes graphs the engine has already computed and returns an `Answer`; nothing here
computes a shape, a parameter count or a MAC count itself.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from cnncalc.core.design import MAX_D, MAX_K, MAX_S, Choice
from cnncalc.core.engine import Graph, Layer
from cnncalc.core.filters import Applied
from cnncalc.core.layers.common import fmt_shape, pair
from cnncalc.report.answer import Answer, Matrix, Table
from cnncalc.report.explain import (
    TEXT,
    Notation,
    Section,
    Step,
    cell_step,
    explain_graph,
    macs_steps,
    padding_note,
    params_steps,
    product_step,
    rf_steps,
    shape_steps,
    window_steps,
)
from cnncalc.report.render import partial_json, partial_lines, partial_status
from cnncalc.report.rows import CONVENTION_LINE

AXES_OF = {1: ("L",), 2: ("H", "W"), 3: ("T", "H", "W")}
WEIGHTS_ONLY = "weights only, bias excluded (the default --bias counts it)"
WITH_BIAS = "bias counted, as in the spec language (--no-bias: weights only)"


def bias_note(bias: bool) -> str:
    """Every calculator says which bias convention is in force."""
    return WITH_BIAS if bias else WEIGHTS_ONLY


def _floor_notes(g: Graph) -> list[str]:
    return [w.message for w in g.warnings() if w.code == "floor-drop"]


def _args_text(layer: Layer) -> str:
    a = layer.args
    parts = [f"k={_p(a['kernel_size'])}", f"s={_p(a['stride'])}", f"p={_p(a['padding'])}"]
    d = a.get("dilation", 1)
    if any(v != 1 for v in (d if isinstance(d, tuple) else (d,))):
        parts.append(f"d={_p(a['dilation'])}")
    if a.get("groups", 1) != 1:
        parts.append(f"groups={a['groups']}")
    if a.get("ceil_mode"):
        parts.append("ceil")
    return ", ".join(parts)


def _p(v: Any) -> str:
    return "×".join(map(str, v)) if isinstance(v, tuple) else str(v)


def _hw(shape: tuple[int, ...]) -> str:
    return fmt_shape(shape[1:])


def _ratio(a: int, b: int) -> str:
    """a/b for people: 49, 8.69, 89,201."""
    if a % b == 0:
        return f"{a // b:,}"
    return f"{a / b:,.2f}" if a / b < 1000 else f"{a / b:,.0f}"


# conv and pool ------------------------------------------------------------------------------

def conv_answer(g: Graph, channels: bool, explain: bool, nt: Notation = TEXT) -> Answer:
    x = g.layers[0]
    shapes = (fmt_shape(x.in_shapes[0]), fmt_shape(x.out_shape)) if channels else \
        (_hw(x.in_shapes[0]), _hw(x.out_shape))
    ans = Answer(f"conv {_args_text(x)}: {shapes[0]} → {shapes[1]}")
    size = Section("output size", window_steps(x, nt, explain))
    note = padding_note(x)
    size.notes += [note] if note else []
    ans.parts.append(size)
    data: dict[str, Any] = {"in_shape": list(x.in_shapes[0] if channels else x.in_shapes[0][1:]),
                            "out_shape": list(x.out_shape if channels else x.out_shape[1:]),
                            "args": _json_args(x)}
    if channels:
        ans.parts.append(Section("parameters and MACs",
                                    params_steps(x, nt, explain) + macs_steps(x, nt, explain),
                                    [CONVENTION_LINE, bias_note(bool(x.args.get("bias")))]))
        data.update(params=x.params, macs=x.macs, flops=2 * x.macs)
    if explain:
        ans.parts.append(Section("receptive field of one output unit", rf_steps(g, x, nt)))
    ans.notes = _floor_notes(g)
    data["warnings"] = ans.notes
    ans.data = data
    return ans


def pool_answer(g: Graph, op: str, channels: bool, explain: bool,
                nt: Notation = TEXT) -> Answer:
    x = g.layers[0]
    show = fmt_shape if channels else _hw
    ans = Answer(f"{op} pool {_args_text(x)}: {show(x.in_shapes[0])} → {show(x.out_shape)}")
    ans.parts.append(Section("output size", window_steps(x, nt, explain)))
    ans.parts.append(Section("parameters", [Step(nt.sym("params"), ("0",), 0,
                                          "pooling has no weights; channels pass through")]))
    if explain:
        ans.parts.append(Section("receptive field of one output unit", rf_steps(g, x, nt)))
    ans.notes = _floor_notes(g)
    cut = 0 if channels else 1
    ans.data = {"in_shape": list(x.in_shapes[0][cut:]), "out_shape": list(x.out_shape[cut:]),
                "args": _json_args(x), "params": 0, "warnings": ans.notes}
    return ans


def gap_answer(gap: Graph, flat: Graph, explain: bool, nt: Notation = TEXT) -> Answer:
    """Global average pooling then FC, against flatten then FC (the layer GAP replaced)."""
    pool, fc_small = gap.layers[0], gap.layers[-1]
    fc_big = flat.layers[-1]
    c, *sizes = gap.input_shape
    positions = math.prod(sizes)
    n = fc_big.args["out"]
    ans = Answer(f"global average pooling on {fmt_shape(gap.input_shape)}, then FC to {n:,}, "
                 f"against flatten then FC")
    ans.parts.append(Section(f"GAP: {fmt_shape(pool.in_shapes[0])} → "
                                f"{fmt_shape(pool.out_shape)}",
                                [Step(nt.sym("params"), ("0",), 0,
                                      "an average per channel; no weights")]))
    ans.parts.append(Section(f"FC after GAP: {c:,} → {n:,}",
                             params_steps(fc_small, nt, explain)))
    flatten = shape_steps(flat.layers[0], nt, explain)
    ans.parts.append(Section(f"FC on the flattened map: {c * positions:,} → {n:,}",
                                flatten + params_steps(fc_big, nt, explain)))
    ans.parts.append(Table(
        ["head", "features", "params", "MACs"],
        [["GAP + FC", f"{fc_small.in_shapes[0][0]:,}", f"{gap.totals().params:,}",
          f"{gap.totals().macs:,}"],
         ["flatten + FC", f"{fc_big.in_shapes[0][0]:,}", f"{flat.totals().params:,}",
          f"{flat.totals().macs:,}"]],
        [False, True, True, True]))
    ans.notes = [f"GAP's head has {_ratio(flat.totals().params, gap.totals().params)}× fewer "
                 f"parameters (the {'·'.join(AXES_OF[len(sizes)])} = {positions} positions share "
                 "one weight per channel), and it "
                 "accepts any input size"]
    ans.notes.append(bias_note(fc_big.args["bias"]))
    ans.data = {"in_shape": list(gap.input_shape), "fc": n, "args": {"bias": fc_big.args["bias"]},
                "gap": {"params": gap.totals().params, "macs": gap.totals().macs},
                "flatten_fc": {"params": flat.totals().params, "macs": flat.totals().macs},
                "table": [{"head": head, "features": x.in_shapes[0][0], "params": h.params,
                           "macs": h.macs}
                          for head, x, h in (("gap_fc", fc_small, gap.totals()),
                                             ("flatten_fc", fc_big, flat.totals()))]}
    ans.rows = "table"
    return ans


def _json_args(x: Layer) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in x.args.items()}


# conv --to -----------------------------------------------------------------------------------

SHOW_CHOICES = 12  # choices listed; the first 3 are worked out


def conv_to_answer(n: int, m: int, choices: list[Choice], worked: list[Graph], explain: bool,
                   nt: Notation = TEXT) -> Answer:
    """The (k, s, p, d) that map n to m, most common first; the first few worked through."""
    ans = Answer(f"conv choices mapping {n} → {m} per axis (k ≤ {MAX_K}, s ≤ {MAX_S}, "
                 f"d ≤ {MAX_D}, symmetric padding), most common first")
    rows = [[str(i + 1), str(c.k), str(c.s), str(c.p), str(c.d),
             "none" if not c.drops else f"last {c.drops}", c.known]
            for i, c in enumerate(choices[:SHOW_CHOICES])]
    ans.parts.append(Table(["#", "k", "s", "p", "d", "dropped", "seen in"], rows,
                           [True, True, True, True, True, False, False]))
    for g in worked:
        x = g.layers[0]
        ans.parts.append(Section(f"k={_p(x.args['kernel_size'])}, s={_p(x.args['stride'])}, "
                                 f"p={_p(x.args['padding'])}, d={_p(x.args['dilation'])}",
                                 window_steps(x, nt, explain)))
    if len(choices) > SHOW_CHOICES:
        ans.notes.append(f"{len(choices) - SHOW_CHOICES} more choices (--format json lists "
                         "them all)")
    ans.notes.append("dropped: input pixels past the last window that the floor leaves out")
    ans.data = {"in": n, "out": m, "choices": [
        {"k": c.k, "s": c.s, "p": c.p, "d": c.d, "dropped": c.drops, "seen_in": c.known or None}
        for c in choices]}
    ans.rows = "choices"
    return ans


# dsconv -------------------------------------------------------------------------------------

def dsconv_answer(std: Graph, sep: Graph, per_pixel: bool, explain: bool,
                  nt: Notation = TEXT) -> Answer:
    """A standard conv against depthwise + pointwise, with the closed form of the ratio."""
    conv, (dw, pw) = std.layers[0], sep.layers
    kh, kw = pair(conv.args["kernel_size"])
    cin, cout = conv.in_shapes[0][0], conv.args["out"]
    where = "per output pixel" if per_pixel else f"on {fmt_shape(conv.in_shapes[0])}"
    ans = Answer(f"depthwise-separable vs standard {kh}×{kw} conv, {cin} → {cout} channels "
                 f"({where})")
    for title, x in ((f"standard conv {kh}×{kw}", conv),
                     (f"depthwise {kh}×{kw} (groups = C_in = {cin})", dw),
                     (f"pointwise 1×1 ({cin} → {cout})", pw)):
        macs = [] if per_pixel else macs_steps(x, nt, explain)[:1]  # per pixel: = params
        ans.parts.append(Section(title, params_steps(x, nt, explain) + macs))
    p_std, p_sep = std.totals().params, sep.totals().params
    m_std, m_sep = std.totals().macs, sep.totals().macs
    ratio = Fraction(p_sep, p_std)
    steps = [Step(nt.sym("separable"), (f"{nt.num(dw.params)} + {nt.num(pw.params)}",
                                        nt.num(p_sep)), p_sep),
             Step(nt.frac(nt.sym("separable"), nt.sym("standard")),
                  (nt.frac(nt.num(p_sep), nt.num(p_std)), f"{float(ratio):.4f}"), float(ratio),
                  approx=True)]
    closed = Fraction(1, cout) + Fraction(1, kh * kw)
    if not conv.args["bias"] and closed == ratio:
        ks = ("K^2" if nt.latex else "K²") if kh == kw else \
            f"{nt.sym('K_h')}{nt.mul}{nt.sym('K_w')}"
        steps.append(Step(nt.frac(nt.sym("separable"), nt.sym("standard")), (
            f"{nt.frac(1, nt.sym('C_out'))} + {nt.frac(1, ks)}",
            f"{nt.frac(1, cout)} + {nt.frac(1, kh * kw)}", f"{float(closed):.4f}"),
            float(closed), "the closed form: (K_h·K_w·C_in + C_in·C_out)/(K_h·K_w·C_in·C_out)",
            approx=True))
    steps.append(Step(nt.frac(nt.sym("standard"), nt.sym("separable")),
                      (nt.frac(nt.num(p_std), nt.num(p_sep)), f"{_ratio(p_std, p_sep)}"),
                      p_std / p_sep, approx=p_std % p_sep != 0))
    ans.parts.append(Section("reduction", steps))
    rows = [["standard", f"{p_std:,}", f"{m_std:,}"],
            ["depthwise", f"{dw.params:,}", f"{dw.macs:,}"],
            ["pointwise", f"{pw.params:,}", f"{pw.macs:,}"],
            ["separable", f"{p_sep:,}", f"{m_sep:,}"],
            ["reduction", f"{_ratio(p_std, p_sep)}×", f"{_ratio(m_std, m_sep)}×"]]
    ans.parts.append(Table(["conv", "params", "MACs" + (" per pixel" if per_pixel else "")],
                            rows, [False, True, True]))
    ans.notes = [bias_note(conv.args["bias"])]
    ans.notes += _floor_notes(std)
    ans.data = {
        "in_shape": list(conv.in_shapes[0]), "per_pixel": per_pixel,
        "standard": {"params": p_std, "macs": m_std},
        "depthwise": {"params": dw.params, "macs": dw.macs},
        "pointwise": {"params": pw.params, "macs": pw.macs},
        "separable": {"params": p_sep, "macs": m_sep},
        "reduction": {"params": p_std / p_sep, "macs": m_std / m_sep},
        "closed_form": float(closed) if closed == ratio else None,
        "args": _json_args(conv),
        "table": [{"conv": "standard", "params": p_std, "macs": m_std},
                  {"conv": "depthwise", "params": dw.params, "macs": dw.macs},
                  {"conv": "pointwise", "params": pw.params, "macs": pw.macs},
                  {"conv": "separable", "params": p_sep, "macs": m_sep},
                  {"conv": "reduction", "params": p_std / p_sep, "macs": m_std / m_sep}],
    }
    ans.rows = "table"
    return ans


# fc-vs-conv ---------------------------------------------------------------------------------

def fc_vs_conv_answer(fc: Graph, conv: Graph, explain: bool, nt: Notation = TEXT) -> Answer:
    """"Why not an MLP": a fully connected layer on the flattened image against one conv."""
    flat, dense = fc.layers
    x = conv.layers[0]
    c, h, w = fc.input_shape
    ans = Answer(f"fully connected vs convolution on a {fmt_shape(fc.input_shape)} image")
    flatten = shape_steps(flat, nt, explain)
    ans.parts.append(Section(f"fully connected: {flat.out_shape[0]:,} inputs → "
                                f"{dense.out_shape[0]:,} units",
                                flatten + params_steps(dense, nt, explain)
                                + macs_steps(dense, nt, explain)[:1]))
    kh, kw = pair(x.args["kernel_size"])
    oh, ow = x.out_shape[1:]
    uses = product_step(nt, "uses per weight", [("H_out", str(oh), oh), ("W_out", str(ow), ow)],
                        oh * ow, explain)
    ans.parts.append(Section(f"conv {kh}×{kw}, {x.args['out']} filters: "
                                f"{fmt_shape(x.in_shapes[0])} → {fmt_shape(x.out_shape)}",
                                params_steps(x, nt, explain) + macs_steps(x, nt, explain)[:1]
                                + [uses]))
    p_fc, p_conv = fc.totals().params, conv.totals().params
    ans.parts.append(Section("", [Step(nt.frac(nt.sym("params_FC"), nt.sym("params_conv")), (
        nt.frac(nt.num(p_fc), nt.num(p_conv)), _ratio(p_fc, p_conv)), p_fc / p_conv,
        approx=p_fc % p_conv != 0)]))
    ans.parts.append(Table(
        ["layer", "output", "params", "MACs"],
        [[f"FC {flat.out_shape[0]:,} → {dense.out_shape[0]:,}", fmt_shape(dense.out_shape),
          f"{p_fc:,}", f"{fc.totals().macs:,}"],
         [f"conv {kh}×{kw}, {x.args['out']} filters", fmt_shape(x.out_shape), f"{p_conv:,}",
          f"{conv.totals().macs:,}"]],
        [False, False, True, True]))
    ans.notes = ["the conv shares each weight across all positions (locality, translation "
                 "equivariance); the FC layer has one weight per input pixel per unit"]
    ans.notes.append(bias_note(dense.args["bias"]))
    ans.data = {"in_shape": [c, h, w], "inputs": flat.out_shape[0],
                "fc": {"params": p_fc, "macs": fc.totals().macs, "units": dense.out_shape[0]},
                "conv": {"params": p_conv, "macs": conv.totals().macs,
                         "out_shape": list(x.out_shape)},
                "ratio": p_fc / p_conv, "args": _json_args(x),
                "table": [{"layer": "fc", "out_shape": list(dense.out_shape), "params": p_fc,
                           "macs": fc.totals().macs},
                          {"layer": "conv", "out_shape": list(x.out_shape), "params": p_conv,
                           "macs": conv.totals().macs}]}
    ans.rows = "table"
    return ans


def attention_answer(g: Graph, explain: bool, nt: Notation = TEXT) -> Answer:
    """Multi-head self-attention over N tokens of C features: params, MACs split into the
    projections (linear in N) and Q·Kᵀ + A·V (quadratic in N), and the attention matrix."""
    x = g.layers[-1]
    c, n = x.in_shapes[0]
    h = x.args["heads"]
    proj, quad = 4 * n * c * c, 2 * n * n * c
    ans = Answer(f"multi-head self-attention: {n:,} tokens × {c:,} features, {h} heads "
                 f"(head dim {c // h})")
    ans.parts.append(Section("params", params_steps(x, nt, explain)))
    what = "projections + Q·Kᵀ + A·V" if g.attention_macs == "all" else \
        "projections (Q·Kᵀ and A·V left out)"
    ans.parts.append(Section(f"MACs: {what}", macs_steps(x, nt, explain)))
    scores = h * n * n
    ans.parts.append(Section("attention matrix", [product_step(
        nt, "scores", [("heads", str(h), h), ("N", nt.num(n), n), ("N", nt.num(n), n)],
        scores, explain)]))
    share = quad / (proj + quad)
    ans.notes = [
        f"the quadratic term 2·N²·C is {share:.1%} of all the MACs here; it overtakes the "
        f"projections (4·N·C²) when N > 2·C = {2 * c:,} tokens: doubling the tokens doubles the "
        "projections and quadruples Q·Kᵀ and A·V",
        "MACs = multiply-accumulates without bias; softmax and the 1/√d scale are other ops",
        bias_note(x.args["bias"]),
    ]
    ans.data = {"tokens": n, "dim": c, "heads": h, "head_dim": c // h, "params": x.params,
                "macs": x.macs, "flops": 2 * x.macs, "macs_projections": proj,
                "macs_attention": quad, "attention_scores": scores, "quadratic_share": share,
                "attention_macs": g.attention_macs, "args": _json_args(x)}
    return ans


# shapes / rf --explain ----------------------------------------------------------------------

def explain_answer(g: Graph, layers: list[Layer], rf_only: bool,
                   nt: Notation = TEXT) -> Answer:
    what = "receptive field" if rf_only else "shapes, params, MACs and receptive field"
    ans = Answer(f"{g.name}: input {fmt_shape(g.input_shape)}{partial_status(g)} — {what}, "
                 "layer by layer",
                 list(explain_graph(g, layers, nt, rf_only)))
    if rf_only:
        ans.notes = ["r: field size, j: jump (input pixels between neighbouring units), "
                     "start: centre of the first unit's field, in input pixels"]
    else:
        ans.notes = [CONVENTION_LINE]
    names = {x.name for x in layers}
    ans.notes += [w.message for w in g.warnings() if w.layer in names]
    ans.notes += partial_lines(g, "the field of that row and of every row it feeds is "
                                  "unknown: r = ?, null in JSON")
    ans.data = {"spec": g.name, "input": list(g.input_shape), **partial_json(g)}
    ans.steps = True
    return ans


# apply --------------------------------------------------------------------------------------

SHOW_MAX = 20  # matrices up to 20×20 are printed; larger ones are summarised


def _matrix(m: Any, nt: Notation, exact: bool = False) -> list[list[str]]:
    rows = m if isinstance(m, list) else m.tolist()
    return [[nt.exact(v).strip("()") if exact and isinstance(v, Fraction) else
             nt.num(v, sep=False) for v in row] for row in rows]


def _plain(m: Any) -> list[list[Any]]:
    rows = m if isinstance(m, list) else m.tolist()
    return [[float(v) if isinstance(v, Fraction) else v for v in row] for row in rows]


def _small(m: Any, limit: int = SHOW_MAX) -> bool:
    h, w = (len(m), len(m[0])) if isinstance(m, list) else m.shape
    return bool(h <= limit and w <= limit)


def apply_answer(a: Applied, explain: bool, nt: Notation = TEXT) -> Answer:
    """The output of `cnncalc apply`: its size (from the engine), the matrices, a worked cell."""
    g, op, x, kernel, kernel_name, out = a.graph, a.op, a.matrix, a.kernel, a.kernel_name, a.output
    cell = None if a.cell is None else cell_step(op, a.cell.i, a.cell.j, a.cell.window, kernel,
                                                 a.cell.value, a.cell.top_left, nt)
    layer = g.layers[0]
    kh, kw = pair(layer.args["kernel_size"])
    what = {"conv": "conv", "max": "max pooling", "avg": "average pooling"}[op]
    label = f" with {kernel_name}" if kernel_name else ""
    ans = Answer(f"{what} {kh}×{kw}{label}, s={_p(layer.args['stride'])}, "
                 f"p={_p(layer.args['padding'])}: {_hw(layer.in_shapes[0])} → "
                 f"{_hw(layer.out_shape)}")
    ans.parts.append(Section("output size", window_steps(layer, nt, explain)))
    if _small(x):
        ans.parts.append(Matrix("input", _matrix(x, nt)))
    if kernel is not None:
        ans.parts.append(Matrix("kernel", _matrix(kernel, nt, exact=True)))
    if _small(out):
        ans.parts.append(Matrix("output", _matrix(out, nt)))
    else:
        flat = [v for row in (out if isinstance(out, list) else out.tolist()) for v in row]
        ans.notes.append(f"output {_hw(layer.out_shape)}: min {nt.num(min(flat))}, max "
                         f"{nt.num(max(flat))}, mean {nt.num(sum(flat) / len(flat))}"
                         " (--at i,j works one cell out, --out writes a PNG)")
    if cell is not None:
        ans.parts.append(Section("one output cell, by hand", [cell]))
    ans.notes += _floor_notes(g)
    ans.data = {"op": op, "kernel": _plain(kernel) if kernel is not None else None,
                "kernel_size": [kh, kw], "stride": list(pair(layer.args["stride"])),
                "in_shape": list(layer.in_shapes[0][1:]), "out_shape": list(layer.out_shape[1:]),
                "output": _plain(out) if _small(out, 100) else None,
                "at": None if cell is None else {"value": _plain([[cell.value]])[0][0],
                                                  "chain": list(cell.chain)}}
    if a.flipped:
        ans.notes.append("kernel flipped by 180° (true convolution); frameworks compute "
                         "cross-correlation and do not flip")
    return ans
