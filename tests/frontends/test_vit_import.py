"""torchvision's ViT (written out in vit_modules.py) read by the fx import: nn.MultiheadAttention,
the class token, the position embedding and the token reshape map to the token kinds, and the
traced net counts what the zoo spec counts."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from cnncalc.frontends.load import analyze  # noqa: E402
from cnncalc.frontends.torch_model.trace import trace_graph  # noqa: E402
from tests.frontends.vit_modules import VisionTransformer, vit_b_16, vit_b_32  # noqa: E402


@pytest.mark.parametrize("make, name", [(vit_b_16, "vit_b_16"), (vit_b_32, "vit_b_32")])
def test_torchvision_vit_params_and_trace_match_the_zoo(make, name):
    torch.manual_seed(0)
    model = make()
    spec = analyze(name)
    held = sum(p.numel() for p in model.parameters())
    assert held == spec.totals().params  # 86,567,656 and 88,224,232, as torchvision's
    g = trace_graph(model, (3, 224, 224))
    assert not g.partial, g.partial
    assert (g.totals().params, g.totals().macs) == (spec.totals().params, spec.totals().macs)
    assert [x.kind for x in g.layers] == [x.kind for x in spec.layers]
    assert [x.out_shape for x in g.layers] == [x.out_shape for x in spec.layers]


def test_small_vit_maps_every_op():
    m = VisionTransformer(image_size=32, patch_size=8, layers=1, heads=2, dim=16, mlp_dim=32,
                          classes=10)
    g = trace_graph(m, (3, 32, 32))
    kinds = [x.kind for x in g.layers]
    assert kinds[:4] == ["conv", "to_tokens", "class_token", "pos_embed"]
    attn = next(x for x in g.layers if x.kind == "attention")
    assert (attn.args["heads"], attn.params) == (2, 4 * 16 * 16 + 4 * 16)
    t = 4 * 4 + 1  # 16 patches and the class token
    assert attn.macs == 4 * t * 16**2 + 2 * t**2 * 16  # projections + Q·Kᵀ + A·V = 26,656
    assert g.layers[-2].kind == "take_token" and g.layers[-2].args["index"] == 0
    assert g.totals().params == sum(p.numel() for p in m.parameters())


def test_cross_attention_is_left_unmapped():
    class Cross(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = torch.nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            t = x.flatten(2).transpose(1, 2)
            return self.attn(t, t * 2, t)[0]

    g = trace_graph(Cross(), (8, 2, 2))
    assert any("MultiheadAttention" in p.op for p in g.partial)
