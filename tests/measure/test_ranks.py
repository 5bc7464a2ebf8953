"""1-D and 3-D networks against torch written by hand (never cnncalc's builder): output shapes,
parameter counts, FlopCounterMode / 2 and the gradient support of a unit, for a WaveNet-style
causal dilated stack, asymmetric padding and a video stem."""

from __future__ import annotations

import pytest

from cnncalc.frontends.load import analyze

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

WAVENET = """\
name: causal_stack
input: {channels: 1, size: [256]}
layers:
  - conv: {out: 4, k: 2, d: 1, padding: causal}
  - conv: {out: 4, k: 2, d: 2, padding: causal}
  - conv: {out: 4, k: 2, d: 4, padding: causal}
  - conv: {out: 4, k: 2, d: 8, padding: causal}
  - conv1d: {out: 4, k: 3, padding: [[2, 0]]}
  - bn1d: {}
  - relu: {}
"""

VIDEO = """\
name: video_stem
input: {channels: 3, size: [8, 32, 32]}
layers:
  - conv3d: {out: 8, k: [3, 7, 7], s: [1, 2, 2], p: [1, 3, 3], bias: false}
  - bn: {}
  - relu: {}
  - maxpool: {k: [1, 3, 3], s: [1, 2, 2], p: [0, 1, 1]}
  - conv: {out: 8, k: 3, padding: [[2, 0], [1, 1], [0, 2]]}
  - avgpool: {k: 2}
"""


class Causal(nn.Module):
    """The causal stack by hand: F.pad (d·(k − 1), 0) before each nn.Conv1d."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(1 if i == 0 else 4, 4, 2, dilation=d)
                                   for i, d in enumerate((1, 2, 4, 8)))
        self.last = nn.Conv1d(4, 4, 3)
        self.bn = nn.BatchNorm1d(4)

    def forward(self, x):
        for conv in self.convs:
            x = conv(F.pad(x, (conv.dilation[0], 0)))  # d·(2 − 1) before, none after
        return torch.relu(self.bn(self.last(F.pad(x, (2, 0)))))


class Stem(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv3d(3, 8, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False)
        self.bn = nn.BatchNorm3d(8)
        self.pool = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        self.conv2 = nn.Conv3d(8, 8, 3)
        self.avg = nn.AvgPool3d(2)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.conv(x))))
        # F.pad's order is the last axis first: W (0, 2), H (1, 1), T (2, 0)
        return self.avg(self.conv2(F.pad(x, (0, 2, 1, 1, 2, 0))))


def spec(tmp_path, text: str):
    path = tmp_path / "net.yaml"
    path.write_text(text)
    return analyze(str(path))


def counted(module, x) -> tuple[tuple[int, ...], int, int]:
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        y = module.eval()(x)
    params = sum(p.numel() for p in module.parameters())
    return tuple(y.shape[1:]), params, fc.get_total_flops() // 2


@pytest.mark.parametrize(("text", "module", "shape"), [
    (WAVENET, Causal, (1, 256)), (VIDEO, Stem, (3, 8, 32, 32))], ids=["causal-1d", "video-3d"])
def test_shapes_params_and_macs_equal_torch_by_hand(tmp_path, text, module, shape):
    g = spec(tmp_path, text)
    out, params, macs = counted(module(), torch.randn(1, *shape))
    assert g.output.out_shape == out
    assert g.totals().params == params
    assert g.totals().macs == macs


def test_causal_stack_numbers_by_hand(tmp_path):
    g = spec(tmp_path, WAVENET)
    assert [x.out_shape for x in g.layers[:5]] == [(4, 256)] * 5  # causal keeps the length
    # params: 4·1·2 + 4, then 4·4·2 + 4 three times, then 4·4·3 + 4, bn 2·4
    assert g.totals().params == (8 + 4) + 3 * (32 + 4) + (48 + 4) + 8
    f = g.nodes["conv4"].rf.max.axes()[0]
    assert (f.size, f.jump, f.start) == (16, 1, -7.5)  # 1 + 1 + 2 + 4 + 8; unit 0 reads [−15, 0]
    assert g.nodes["conv5"].rf.max.axes()[0].size == 18  # + (3 − 1)


def test_video_stem_numbers_by_hand(tmp_path):
    g = spec(tmp_path, VIDEO)
    assert g.nodes["conv1"].out_shape == (8, 8, 16, 16)  # T: 8 + 2 − 2; H: ⌊(32 + 6 − 7)/2⌋ + 1
    assert g.nodes["conv1"].params == 8 * 3 * 3 * 7 * 7  # = 3,528
    assert g.nodes["conv2"].out_shape == (8, 8, 8, 8)  # T: 8 + 2 + 0 − 2; W: 8 + 0 + 2 − 2
    f = g.nodes["conv2"].rf.max
    assert [int(ax.size) for ax in f.axes()] == [5, 19, 19]  # T: 3 + 2; H: 7 + 2·2 + 2·2·2
    assert [ax.start for ax in f.axes()] == [-1, 0, 4]  # T: the leading 2 pulls it back 2·1


def support_of(module, x, unit) -> list[tuple[int, int]]:
    """Per spatial axis, the first and last input index with a non-zero gradient of `unit`."""
    x = x.clone().requires_grad_(True)
    y = module(x)
    (g,) = torch.autograd.grad(y[(0, slice(None), *unit)].sum(), x)
    g = g[0].abs()  # C × the spatial axes
    out = []
    for a in range(1, g.dim()):
        hit = g.sum(dim=tuple(d for d in range(g.dim()) if d != a)).nonzero().flatten()
        out.append((int(hit.min()), int(hit.max())))
    return out


def test_gradient_support_of_the_causal_stack_is_the_engine_field(tmp_path):
    """Linear (no ReLU, no BN) and positive weights: the gradient support is the field."""
    g = spec(tmp_path, WAVENET)
    m = Causal().double()
    with torch.no_grad():
        for conv in [*m.convs, m.last]:
            conv.weight.fill_(1.0)
            conv.bias.zero_()

    def body(x):  # the convs alone, with their pads
        for conv in m.convs:
            x = conv(F.pad(x, (conv.dilation[0], 0)))
        return m.last(F.pad(x, (2, 0)))

    unit = 100
    lo, hi = support_of(body, torch.ones(1, 1, 256, dtype=torch.float64), (unit,))[0]
    f = g.nodes["conv5"].rf.max.axes()[0]
    assert (lo, hi) == f.bounds(unit)  # = (100 − 17, 100): the past only
    assert hi - lo + 1 == f.size == 18


def test_gradient_support_of_the_video_stem_is_the_engine_field(tmp_path):
    g = spec(tmp_path, VIDEO)
    conv1 = nn.Conv3d(3, 8, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False).double()
    conv2 = nn.Conv3d(8, 8, 3).double()
    with torch.no_grad():
        conv1.weight.fill_(1.0)
        conv2.weight.fill_(1.0)
        conv2.bias.zero_()
    pool = nn.AvgPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))  # max pool, linearised

    def net(x):
        return conv2(F.pad(pool(conv1(x)), (0, 2, 1, 1, 2, 0)))

    unit = (4, 4, 4)
    measured = support_of(net, torch.ones(1, 3, 8, 32, 32, dtype=torch.float64), unit)
    f = g.nodes["conv2"].rf.max
    assert measured == [ax.bounds(i) for ax, i in zip(f.axes(), unit)]
    assert [hi - lo + 1 for lo, hi in measured] == [5, 19, 19]


def test_verify_agrees_on_1d_and_3d_specs(tmp_path):
    from cnncalc.api import verify

    for text in (WAVENET, VIDEO):
        path = tmp_path / "v.yaml"
        path.write_text(text)
        r = verify(str(path), rf="all", fvcore=False)
        assert r.agrees and r.disagreements == 0, r.render()


@pytest.mark.parametrize(("text", "axes"), [
    ("input: {channels: 2, size: [128]}\nlayers:\n"
     "  - conv: {out: 4, k: 3, d: 1, padding: causal}\n"
     "  - conv: {out: 4, k: 3, d: 2, padding: causal}\n"
     "  - conv: {out: 4, k: 3, d: 4, padding: causal}\n", 1),
    ("input: {channels: 1, size: [12, 24, 24]}\nlayers:\n"
     "  - conv: {out: 4, k: 3, p: 1}\n  - avgpool: {k: 2}\n"
     "  - conv: {out: 4, k: [1, 3, 3], p: [0, 1, 1]}\n", 3)], ids=["causal-1d", "volume-3d"])
def test_erf_per_axis_measured_equals_the_closed_form(tmp_path, text, axes):
    """Linear, uniform kernels, inside the input: σ² = Σ J²·d²·(k²−1)/12 per axis, exactly.
    1-D: (1 + 4 + 16)·(3² − 1)/12 = 14 → σ = √14 ≈ 3.742; 3-D T: the 3×3×3 conv 8/12, the
    pool (2² − 1)/12 = 3/12, the 1×3×3 conv nothing: 11/12 → σ ≈ 0.957."""
    from cnncalc.measure.erf import measure_erf

    g = spec(tmp_path, text)
    e = measure_erf(g, samples=2, init="uniform", linear=True)
    assert len(e.sigma) == len(e.theory_sigma) == axes
    assert e.sigma == pytest.approx(e.theory_sigma, rel=1e-6)
    assert e.theory_sigma[0] == pytest.approx(14 ** 0.5 if axes == 1 else (11 / 12) ** 0.5)
    assert e.rf_size == tuple(float(ax.size) for ax in g.output.rf.max.axes())


class Video(nn.Module):
    """A small r3d-like net, written with torch's own 3-D modules and functions."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv3d(3, 8, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False)
        self.bn = nn.BatchNorm3d(8)
        self.pad = nn.ZeroPad3d((1, 1, 1, 1, 2, 0))  # W (1, 1), H (1, 1), T (2, 0)
        self.conv = nn.Conv3d(8, 16, 3)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        x = F.max_pool3d(torch.relu(self.bn(self.stem(x))), (1, 3, 3), (1, 2, 2), (0, 1, 1))
        x = F.adaptive_avg_pool3d(self.conv(self.pad(x)), 1)
        return self.head(torch.flatten(x, 1))


class Audio(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 8, 80, stride=4)
        self.conv2 = nn.Conv1d(8, 8, 3, dilation=2)
        self.up = nn.Upsample(scale_factor=2, mode="linear")

    def forward(self, x):
        x = F.max_pool1d(self.conv(x), 4)
        x = self.conv2(F.pad(x, (4, 0)))  # causal: d·(k − 1) = 4 before
        return F.adaptive_avg_pool1d(self.up(x), 5)


# the pads fold into the conv after them (frontends/torch_model/fold.py)
@pytest.mark.parametrize(("module", "shape", "kinds", "padding"), [
    (Video, (3, 8, 32, 32), ["conv", "bn", "relu", "maxpool", "conv", "gap", "flatten",
                             "linear"], ((2, 0), (1, 1), (1, 1))),
    (Audio, (1, 1600), ["conv", "maxpool", "conv", "upsample", "adaptive_avgpool"], "causal")],
    ids=["video-3d", "audio-1d"])
def test_traced_1d_and_3d_models_read_back_with_torch_numbers(module, shape, kinds, padding):
    from cnncalc.frontends.torch_model.trace import trace_graph

    m = module()
    g = trace_graph(m, shape)
    assert [x.kind for x in g.layers] == kinds
    assert g.layers[kinds.index("maxpool") + 1].args["padding"] == padding
    assert not g.partial
    out, params, macs = counted(m, torch.randn(1, *shape))
    assert (g.output.out_shape, g.totals().params, g.totals().macs) == (out, params, macs)


@pytest.mark.parametrize("name", ["r3d_18", "mc3_18", "r2plus1d_18", "wavenet", "m5", "unet3d"])
def test_the_reference_1d_and_3d_models_trace_to_their_numbers(name):
    """cnncalc's fx import of the zoo's reference torch models (tests/measure/video_models.py,
    torchvision's module structure) gives their published params and MACs, every op mapped;
    WaveNet's field is 1 + Σ d·(k − 1) = 1 + 1023 = 1,024 samples, all in the past."""
    from cnncalc.frontends.torch_model.trace import trace_graph
    from tests.measure import video_models
    from tests.measure.test_video_models import EXPECTED

    model, shape = video_models.MODELS[name]
    g = trace_graph(model().eval(), shape)
    assert not g.partial
    assert (g.totals().params, g.totals().macs) == EXPECTED[name]
    if name == "wavenet":
        field = g.output.rf.max.axes()[0]
        assert (field.size, field.bounds(5000)) == (1024, (5000 - 1023, 5000))
