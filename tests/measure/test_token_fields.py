"""Global attention measured: after it every token sees the whole input. `verify` reads one
token's gradient support (the last token, whose own patch is the input's bottom-right corner);
here every token is checked, and the same measurement before attention finds one patch."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import cnncalc  # noqa: E402
from cnncalc.frontends.load import analyze  # noqa: E402
from cnncalc.measure.build import Mean, build_module  # noqa: E402
from cnncalc.measure.gradient import averaging_weights  # noqa: E402
from cnncalc.measure.support import support  # noqa: E402

SMALL_VIT = """
name: small_vit
input: {channels: 3, size: [32, 32]}
layers:
  - {conv: {out: 16, k: 8, s: 8}, name: patches}   # 4×4 patches of 8×8 pixels
  - {to_tokens: {}, name: tokens}                  # 16 tokens
  - {class_token: {}, name: cls}                   # 17
  - {pos_embed: {}, name: pos}
  - residual:
      body: [{layernorm: {}}, {attention: {heads: 2}}]
      shortcut: identity
    name: block
  - {layernorm: {}, name: ln}
  - {take_token: 0, name: take}
  - {linear: 10, name: head}
"""


@pytest.fixture
def small_vit(tmp_path):
    path = tmp_path / "small_vit.yaml"
    path.write_text(SMALL_VIT)
    return str(path)


def token_supports(g, layer: str) -> list:
    mean = {"add": lambda a, i, o: Mean(), "mul": lambda a, i, o: Mean()}
    net = averaging_weights(build_module(g, linear=True, overrides=mean)).double()
    x = torch.ones(1, *g.input_shape, dtype=torch.float64, requires_grad=True)
    out = net.run(x, keep=[layer])[layer]
    return [support(torch.autograd.grad(out[0, :, t].sum(), x, retain_graph=True)[0][0])
            for t in range(out.shape[2])]


def test_every_token_sees_the_whole_input_after_attention(small_vit):
    g = analyze(small_vit)
    whole = ((0, 31), (0, 31))
    assert token_supports(g, "block.add1") == [whole] * 17
    # before attention a patch token sees its own 8×8 patch, the class token nothing
    before = token_supports(g, "pos")
    assert before[0] == ((0, -1), (0, -1))
    assert before[1] == ((0, 7), (0, 7)) and before[16] == ((24, 31), (24, 31))


def test_verify_measures_the_global_fields(small_vit):
    v = cnncalc.verify(small_vit, rf="all", fvcore=False).verification
    assert v.agrees
    fields = {r.layer.name: r.rf for r in v.rows if r.rf is not None}
    for name in ("block.attention1", "block.add1", "ln", "take", "head"):
        m = fields[name].measured
        assert (m.status, m.input, m.covers_input) == ("global", (32, 32), True), name
        assert fields[name].analytic.is_global
    assert fields["patches"].measured.size == (8, 8)
    assert fields["tokens"].measured.status == "no-spatial"  # tokens before attention
