"""F.scaled_dot_product_attention in a traced model: inside a module of qkv and proj linears
(timm's Attention) it reads as the attention kind, counted whole; elsewhere it is left unmapped
with the reason. verify names FlopCounterMode's shortfall on it (no formula for the CPU kernel)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import cnncalc  # noqa: E402
from cnncalc.frontends.torch_model.trace import trace_graph  # noqa: E402
from tests.frontends.sdpa_modules import BareSDPA, PatchAttention  # noqa: E402

T, C = 16, 16  # 4·4 patch tokens of 16 features


def test_a_timm_style_attention_module_reads_as_attention():
    m = PatchAttention()
    g = trace_graph(m, (3, 32, 32))
    assert not g.partial, g.partial
    assert [x.kind for x in g.layers] == ["conv", "to_tokens", "attention"]
    attn = g.layers[-1]
    assert (attn.args["heads"], attn.args["bias"]) == (2, True)
    assert attn.params == 4 * C * C + 4 * C == 1_088
    assert attn.macs == 4 * T * C**2 + 2 * T**2 * C == 16_384 + 8_192  # = 24,576
    assert attn.rf.max.is_global
    assert g.totals().params == sum(p.numel() for p in m.parameters())


def test_verify_names_the_flop_counter_shortfall_on_sdpa():
    v = cnncalc.verify(PatchAttention().train(), "3x32x32", rf="none",
                       fvcore=False).verification
    row = next(r for r in v.rows if r.layer.kind == "attention")
    assert row.macs.measured == 4 * T * C**2  # = 16,384: Q·Kᵀ and A·V (8,192) missing
    assert "scaled_dot_product" in row.shortfall
    assert row.agrees and v.agrees


def test_sdpa_elsewhere_is_unmapped_with_the_reason():
    g = trace_graph(BareSDPA(), (8, 4, 4))
    assert any("scaled_dot_product_attention (outside a module holding its qkv and proj" in p.op
               for p in g.partial)
    # a module with parameters besides qkv and proj (qk-norm) is not read whole either
    g = trace_graph(PatchAttention(qk_norm=True), (3, 32, 32))
    assert not any(x.kind == "attention" for x in g.layers) and g.partial


def test_a_hand_written_roll_says_so():
    class Shift(torch.nn.Module):
        def forward(self, x):
            return torch.roll(x, (-1, -1), (2, 3))

    g = trace_graph(Shift(), (4, 6, 6))
    assert any("cyclic shift outside torchvision's ShiftedWindowAttention" in p.op
               for p in g.partial)
