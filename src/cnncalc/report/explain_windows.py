"""Worked derivations of Swin's kinds (`window_attention`, `patch_merge`) for `--explain`:
the same formulas as core/layers/windows.py, with the layer's numbers substituted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnncalc.core.layers.windows import padded

if TYPE_CHECKING:
    from cnncalc.core.engine import Layer
    from cnncalc.report.explain import Notation, Step


def params_steps(layer: Layer, nt: Notation, full: bool) -> list[Step]:
    from cnncalc.report.explain import Step, product_step

    c = layer.in_shapes[0][0]
    if layer.kind == "patch_merge":  # linear 4C -> 2C, no bias; layernorm(4C): γ, β
        norm = ("8·C" if not nt.latex else r"8 \cdot C", f"8{nt.mul}{nt.num(c)}", 8 * c)
        return [product_step(nt, "params", [("4·C", f"4{nt.mul}{nt.num(c)}", 4 * c),
                                            ("2·C", f"2{nt.mul}{nt.num(c)}", 2 * c)],
                             layer.params, full, norm)]
    a, m = layer.args, layer.args["window"]
    bias = ("4·C" if not nt.latex else r"4 \cdot C", f"4{nt.mul}{nt.num(c)}", 4 * c) \
        if a["bias"] else None
    proj = 4 * c * c + (4 * c if a["bias"] else 0)
    side = ("(2M−1)", f"(2{nt.mul}{m}{nt.tight_minus}1)", 2 * m - 1)
    table = (2 * m - 1) ** 2 * a["heads"]
    return [
        product_step(nt, "params_proj", [("4", "4", 4), ("C", nt.num(c), c),
                                         ("C", nt.num(c), c)], proj, full, bias),
        product_step(nt, "params_table", [side, side, ("heads", str(a["heads"]), a["heads"])],
                     table, full),
        Step(nt.sym("params"), (f"{nt.num(proj)} + {nt.num(table)}", nt.num(layer.params)),
             layer.params, what="projections and the relative-position bias table"),
    ]


def macs_steps(layer: Layer, nt: Notation, full: bool) -> list[Step]:
    from cnncalc.report.explain import Step, product_step

    c, h, w = layer.in_shapes[0]
    if layer.kind == "patch_merge":
        _, ho, wo = layer.out_shape
        return [product_step(nt, "MACs", [("4·C", f"4{nt.mul}{nt.num(c)}", 4 * c),
                                          ("2·C", f"2{nt.mul}{nt.num(c)}", 2 * c),
                                          ("H_out", str(ho), ho), ("W_out", str(wo), wo)],
                             layer.macs, full)]
    m = layer.args["window"]
    hp, wp = padded(h, m), padded(w, m)
    sq, x = ("^2" if nt.latex else "²"), nt.mul
    proj, quad = 4 * hp * wp * c * c, 2 * hp * wp * m * m * c
    projections = Step(nt.sym("MACs_proj"), (*((f"4{x}H_p{x}W_p{x}C{sq}",) if full else ()),
                                             f"4{x}{hp}{x}{wp}{x}{c}{sq}", nt.num(proj)), proj,
                       what="Q, K, V and output projections on the grid padded to whole windows")
    if layer.macs == proj:  # --attention-macs projections
        from cnncalc.report.explain import projections_only

        return [projections, projections_only(nt, proj)]
    return [
        projections,
        Step(nt.sym("MACs_attn"), (*((f"2{x}H_p{x}W_p{x}M{sq}{x}C",) if full else ()),
                                   f"2{x}{hp}{x}{wp}{x}{m}{sq}{x}{c}", nt.num(quad)), quad,
             what="Q·Kᵀ and A·V inside each M×M window: linear in the tokens"),
        Step(nt.sym("MACs"), (f"{nt.num(proj)} + {nt.num(quad)}", nt.num(layer.macs)),
             layer.macs),
    ]


def rf_steps(layer: Layer, nt: Notation, size: str, jump: str) -> list[Step]:
    """window_attention's field: the hull of the fields of the tokens in its window."""
    from cnncalc.report.explain import Step

    m, s = layer.args["window"], layer.args["shift"]
    where = f"its {m}×{m} window" + (f", shifted by {s} (the mask keeps the wrapped pieces "
                                     "apart)" if s else "")
    return [Step("r", (size,), what=f"each token reads the tokens of {where}: the hull of their "
                 "fields, the largest over units (see core/layers/windows.py)"),
            Step("j", (jump,))]


def shape_steps(layer: Layer, nt: Notation, full: bool) -> list[Step]:
    """patch_merge: H_out = ⌈H/2⌉ (an odd side is padded), C_out = 2·C."""
    from cnncalc.report.explain import Step

    (c, h, w), (co, ho, wo) = layer.in_shapes[0], layer.out_shape
    return [Step(nt.sym("C_out"), (f"2{nt.mul}{nt.num(c)}", nt.num(co)), co),
            Step(nt.sym("H_out"), (nt.ceil(f"{h}/2"), str(ho)), ho),
            Step(nt.sym("W_out"), (nt.ceil(f"{w}/2"), str(wo)), wo)]
