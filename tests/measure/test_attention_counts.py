"""FlopCounterMode's shortfall on attention, shown by verify with the reason: torch has no flop
formula for nn.MultiheadAttention's fused fast path nor for the CPU kernel of
scaled-dot-product attention. The built spec writes the matmuls out, so torch counts them."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import cnncalc  # noqa: E402
from cnncalc.core.checks import attention_shortfall  # noqa: E402
from cnncalc.frontends.torch_model.trace import trace_graph  # noqa: E402
from tests.frontends.vit_modules import VisionTransformer  # noqa: E402

T, C = 17, 16  # 4·4 patches and the class token, 16 features


def small() -> VisionTransformer:
    return VisionTransformer(image_size=32, patch_size=8, layers=1, heads=2, dim=C, mlp_dim=32,
                             classes=10)


@pytest.mark.parametrize("training, measured, why", [
    (False, 0, "_native_multi_head_attention"),  # eval, no grad: the fused fast path
    (True, 4 * T * C**2, "_scaled_dot_product_flash_attention_for_cpu"),  # = 17,408
])
def test_verify_shows_the_shortfall_with_the_reason_and_agrees(training, measured, why):
    v = cnncalc.verify(small().train(training), "3x32x32", rf="none",
                       fvcore=False).verification
    row = next(r for r in v.rows if r.layer.kind == "attention")
    assert row.macs.analytic == 4 * T * C**2 + 2 * T**2 * C  # 17,408 + 9,248 = 26,656
    assert row.macs.measured == measured
    assert why in row.shortfall
    assert row.agrees and v.agrees


def test_with_autograd_torch_counts_the_projections_only():
    from torch.utils.flop_counter import FlopCounterMode

    m = torch.nn.MultiheadAttention(C, 2, batch_first=True)
    x = torch.randn(1, T, C)
    with FlopCounterMode(display=False) as counter:
        m(x, x, x, need_weights=False)
    measured = counter.get_total_flops() // 2
    assert measured == 4 * T * C**2  # = 17,408: Q·Kᵀ and A·V (2·17²·16 = 9,248) missing
    g = trace_graph(small(), (3, 32, 32))
    layer = next(x for x in g.layers if x.kind == "attention")
    why = attention_shortfall(layer, measured, ("_scaled_dot_product_flash_attention_for_cpu",))
    assert "misses Q·Kᵀ and A·V, 2·N²·C = 9,248" in why


def test_the_built_spec_is_counted_whole():
    from cnncalc.measure.counts import meta_measure

    g = cnncalc.analyze("vit_b_32").graph
    m = meta_measure(g)
    attn = g.nodes["encoder.0.self_attention"]
    assert m.macs[attn.name] == attn.macs == 4 * 50 * 768**2 + 2 * 50**2 * 768  # = 121,804,800
