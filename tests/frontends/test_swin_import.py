"""torchvision's swin_t (written out in swin_modules.py) as the oracle: its params, its
FlopCounterMode count (the window matmuls are written out, so torch sees them all), its output
against the spec built by cnncalc with the same weights; and the fx import reading its
ShiftedWindowAttention and PatchMerging modules as the Swin kinds."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from cnncalc.frontends.load import analyze  # noqa: E402
from cnncalc.frontends.torch_model.trace import trace_graph  # noqa: E402
from tests.frontends.swin_modules import SwinTransformer, swin_t  # noqa: E402

PARAMS, MACS = 28_288_354, 4_490_566_656  # torchvision's swin_t


def test_swin_t_params_and_flop_counter_match_the_zoo():
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    model = swin_t().eval()
    spec = analyze("swin_t")
    assert sum(p.numel() for p in model.parameters()) == spec.totals().params == PARAMS
    # 12 relative-position indices of 7²·7² = 2,401 each, as torchvision registers them
    assert sum(b.numel() for b in model.buffers()) == spec.totals().buffers == 12 * 2401
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.randn(1, 3, 224, 224))
    # torchvision writes the window matmuls out (q.matmul(k.transpose), attn.matmul(v)), so
    # FlopCounterMode counts them: no shortfall here, unlike nn.MultiheadAttention's kernels.
    # Of the total, 140,141,568 MACs are the Q·Kᵀ and A·V of the 12 blocks (the zoo test's
    # hand count); the rest are the patch embedding, projections, MLPs, merges and head.
    assert counter.get_total_flops() // 2 == spec.totals().macs == MACS


def test_the_built_spec_computes_what_torchvision_computes():
    from cnncalc.measure.build import build_module

    torch.manual_seed(0)
    model = swin_t().eval()
    net = build_module(analyze("swin_t", "112x112"))  # 28×28 tokens: shifts, padding at 7×7
    mine, theirs = list(net.parameters()), list(model.parameters())
    assert [p.shape for p in mine] == [p.shape for p in theirs]  # the same order
    with torch.no_grad():
        for a, b in zip(mine, theirs):
            a.copy_(b)
        x = torch.randn(2, 3, 112, 112)
        assert torch.allclose(net(x), model(x), atol=1e-5)


def test_swin_t_traced_matches_the_zoo():
    torch.manual_seed(0)
    g = trace_graph(swin_t().eval(), (3, 224, 224))
    spec = analyze("swin_t")
    assert not g.partial, g.partial
    assert (g.totals().params, g.totals().macs) == (PARAMS, MACS)
    assert [x.kind for x in g.layers] == [x.kind for x in spec.layers]
    assert [x.out_shape for x in g.layers] == [x.out_shape for x in spec.layers]
    attn = [x for x in g.layers if x.kind == "window_attention"]
    assert [(x.args["heads"], x.args["shift"]) for x in attn][:4] == [(3, 0), (3, 3), (6, 0),
                                                                      (6, 3)]
    assert [x.rf.max.axes()[0].size for x in attn[:2]] == [28, 56]  # a window of 7 tokens of 4 px; two


def test_a_non_square_window_is_left_unmapped_with_the_reason():
    m = SwinTransformer(depths=(2,), num_heads=(2,), embed_dim=8, window_size=(7, 5), classes=3)
    g = trace_graph(m.eval(), (3, 56, 56))
    assert any("non-square window" in p.op for p in g.partial)


def test_verify_measures_a_torchvision_style_swin_itself():
    """The user's own module measured: each row's params from the tensors its nodes use (the
    bias table with its attention: reading the module's attributes adds no node to the trace),
    MACs by FlopCounterMode, fields by gradient support of the module's own forward."""
    import cnncalc

    torch.manual_seed(0)
    m = SwinTransformer(depths=(2, 2), num_heads=(2, 4), embed_dim=16, classes=10).eval()
    v = cnncalc.verify(m, "3x64x64", rf="stages", fvcore=False).verification
    assert v.agrees
    attn = next(r for r in v.rows if r.layer.name == "features.1.0.attn")
    assert attn.params.measured == 4 * 16 * 16 + 4 * 16 + 13 * 13 * 2 == 1_426
    measured = {r.layer.name: r.rf.measured for r in v.rows
                if r.rf is not None and r.rf.measured is not None}
    assert measured["features.3.1.add2"].size == (168, 168)  # as swin_t's stage2.1
