"""Receptive fields through shifted windows, exact: the engine's lattice against the gradient
support of the linearised copy (uniform weights over each window's allowed, unmasked tokens),
unit by unit; and `verify` on a small Swin, whose fields grow block by block."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

import cnncalc  # noqa: E402
from cnncalc.core.engine import Graph  # noqa: E402
from cnncalc.measure.build import build_module  # noqa: E402
from cnncalc.measure.gradient import averaging_weights  # noqa: E402
from cnncalc.measure.support import support  # noqa: E402
from tests.frontends.swin_modules import shifted_window_attention  # noqa: E402


def windows(n: int, layers: list[tuple[int, int]]) -> Graph:
    """Tokens straight on an n×n input (one feature), then windowed attention (window, shift)."""
    g = Graph((2, n, n), name="windows")
    prev = "input"
    for i, (m, s) in enumerate(layers):
        prev = g.add(f"attn{i}", "window_attention",
                     {"heads": 1, "window": m, "shift": s, "bias": True}, (prev,)).name
    return g


def measured_bounds(g: Graph, layer: str) -> dict[tuple[int, int], tuple]:
    net = averaging_weights(build_module(g, linear=True)).double()
    x = torch.ones(1, *g.input_shape, dtype=torch.float64, requires_grad=True)
    out = net.run(x, keep=[layer])[layer]
    _, _, h, w = out.shape
    found = {}
    for i in range(h):
        for j in range(w):
            (grad,) = torch.autograd.grad(out[0, :, i, j].sum(), x, retain_graph=True)
            found[(i, j)] = support(grad[0])
    return found


def engine_bounds(g: Graph, layer: str) -> dict[tuple[int, int], tuple]:
    """The engine's field of every unit, clipped to the input (the lattice runs past the
    border, as a padded conv's does)."""
    x = g.nodes[layer]
    f, (_, h, w) = x.rf.max, x.out_shape
    n = g.input_shape[1:]

    def clip(b, size):
        return (max(0, math.ceil(b[0])), min(size - 1, math.floor(b[1])))
    ah, aw = f.axes()
    return {(i, j): (clip(ah.bounds(i), n[0]), clip(aw.bounds(j), n[1]))
            for i in range(h) for j in range(w)}


@pytest.mark.parametrize("n, layers", [
    (12, [(4, 0), (4, 2)]),  # whole windows: [0, 4), [4, 8), [8, 12) then [2, 6), [6, 10), …
    (10, [(4, 0), (4, 2), (4, 0)]),  # padded to 12: the last window holds two real tokens
    (9, [(3, 1), (3, 2)]),  # shifted from the first layer, two shifts
    (5, [(7, 3)]),  # one window covers the padded grid: no shift, every token sees all
])
def test_every_unit_reads_its_window_exactly(n, layers):
    g = windows(n, layers)
    last = g.layers[-1].name
    assert measured_bounds(g, last) == engine_bounds(g, last)


def test_the_mask_keeps_fields_off_the_wrap():
    """Shift 2 on 8 tokens in windows of 4: the roll brings tokens 0, 1 next to 6, 7, but the mask
    cuts that window in two, so unit 0 reads tokens 0–1 and unit 7 reads 6–7, not across."""
    g = windows(8, [(4, 2)])
    bounds = measured_bounds(g, "attn0")
    assert bounds[(0, 0)] == ((0, 1), (0, 1))  # [0, shift)
    assert bounds[(7, 7)] == ((6, 7), (6, 7))  # [Hp − M + shift, Hp) = [6, 8)
    assert bounds[(3, 3)] == ((2, 5), (2, 5))  # an inner window: [shift, shift + M)
    f = g.nodes["attn0"].rf.max
    assert (f.axes()[0].bounds(0), f.axes()[0].bounds(3)) == ((-2, 1), (2, 5))  # unit 0: the lattice, clipped


def test_torchvision_mask_is_minus_100_not_minus_infinity():
    """torchvision adds −100 to masked scores: across the wrap a token's weight is e^−100 (about
    4e−44) of an allowed one's, so its gradient reaches the wrapped tokens by that much. The field
    follows the mask's intent (no attention across the wrap); the leak is below float32's
    resolution for any weight of order one."""
    torch.manual_seed(0)
    c, m, s = 4, 4, 2
    x = torch.randn(1, 8, 8, c, dtype=torch.float64, requires_grad=True)
    qkv_w = torch.randn(3 * c, c, dtype=torch.float64) * 0.1
    proj_w = torch.eye(c, dtype=torch.float64)
    bias = torch.zeros(1, 1, m * m, m * m, dtype=torch.float64)
    y = shifted_window_attention(x, qkv_w, proj_w, bias, [m, m], 1, [s, s], training=False)
    (grad,) = torch.autograd.grad(y[0, 0, 0].sum(), x)
    g = grad[0].abs().sum(-1)
    allowed, wrapped = g[:s, :s], g[s:, :].sum() + g[:, s:].sum()
    assert allowed.min() > 1e-3
    assert 0 < wrapped < 1e-40 * allowed.max()


SMALL_SWIN = """
name: small_swin
input: {channels: 3, size: [64, 64]}
blocks:
  swin:
    args: [shift]
    body:
      - residual:
          body: [{layernorm: {}}, {window_attention: {heads: 2, window: 4, shift: $shift}}]
          shortcut: identity
      - residual:
          body: [{layernorm: {}}, {linear: $in * 2}, gelu, {linear: $in}]
          shortcut: identity
layers:
  - {conv: {out: 8, k: 2, s: 2}, name: embed}     # 8 × 32×32, each token 2×2 pixels
  - {swin: {shift: 0}, name: block1}
  - {swin: {shift: 2}, name: block2}
  - {patch_merge: {}, name: merge}
  - {swin: {shift: 0}, name: block3}
  - {swin: {shift: 2}, name: block4}
"""


def test_verify_measures_fields_growing_through_shifted_windows(tmp_path):
    path = tmp_path / "small_swin.yaml"
    path.write_text(SMALL_SWIN)
    v = cnncalc.verify(str(path), rf="stages", fvcore=False).verification
    assert v.agrees
    sizes = {r.layer.name: (r.rf.analytic.axes()[0].size, r.rf.measured.size[0]) for r in v.rows
             if r.rf is not None and r.rf.measured is not None
             and r.rf.measured.status == "ok"}
    # in input tokens of 2 px: block1, a window of 4 tokens: 4·2 = 8 px; block2, shifted by 2,
    # reads two block1 windows: 8·2 = 16; merge, tokens 2o and 2o + 1 share a shifted window
    # (4 and 2 are even): 16, jump 2·2 = 4; block3, a window of 4 merged = 8 block2 tokens that
    # span three shifted windows, [−2, 2), [2, 6), [6, 10), reading tokens −4…11: 16·2 = 32;
    # block4, shifted by 2 merged tokens: 24·2 = 48
    assert sizes == {"embed": (2, 2), "block1.add2": (8, 8), "block2.add2": (16, 16),
                     "merge": (16, 16), "block3.add2": (32, 32), "block4.add2": (48, 48)}
