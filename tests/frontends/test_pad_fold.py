"""A constant pad before a conv or pool folds into its padding when reading a traced model
(frontends/torch_model/fold.py); every number checked against torch."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.frontends.load import build, parse_spec  # noqa: E402
from cnncalc.frontends.torch_model.trace import trace_graph  # noqa: E402
from cnncalc.report.export_torch import export_torch  # noqa: E402
from cnncalc.report.export_yaml import graph_to_yaml  # noqa: E402
from cnncalc.report.rows import graph_json  # noqa: E402
from tests.report.test_export_torch import check_against_engine, load_class  # noqa: E402


class Causal(nn.Module):
    """A WaveNet-style stack: F.pad((d·(k−1), 0)) then a Conv1d of width 2, dilations 1, 2, 4."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(4, 4, 2, dilation=d) for d in (1, 2, 4))

    def forward(self, x):
        for conv in self.convs:
            x = torch.tanh(conv(F.pad(x, (conv.dilation[0], 0))))
        return x


def kinds(g):
    return [(x.name, x.kind) for x in g.layers]


def check_numbers(g, model, shape):
    """Shapes, params and MACs of the traced graph against torch's forward and FlopCounterMode."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out = model(torch.randn(1, *shape))
    t = g.totals()
    assert g.output.out_shape == tuple(out.shape[1:])
    assert t.params == sum(p.numel() for p in model.parameters())
    assert t.macs == counter.get_total_flops() // 2  # FlopCounterMode counts 2 per MAC


def test_causal_pads_fold_into_the_conv_as_causal():
    model = Causal().eval()
    g = trace_graph(model, (4, 32))
    assert g.partial == []
    assert kinds(g) == [("convs.0", "conv"), ("tanh", "tanh"), ("convs.1", "conv"),
                        ("tanh2", "tanh"), ("convs.2", "conv"), ("tanh3", "tanh")]
    assert [x.args["padding"] for x in g.layers if x.kind == "conv"] == ["causal"] * 3
    check_numbers(g, model, (4, 32))
    rf = g.output.rf.max.axes()[0]
    size = 1 + 1 * (2 - 1) + 2 * (2 - 1) + 4 * (2 - 1)  # = 8: 1 + Σ d·(k−1)
    assert g.output.rf.max.axes()[0].size == size
    # gradient support of output t: samples t − 7 … t, so its centre is t − (8 − 1)/2
    x = torch.randn(1, 4, 32, requires_grad=True)
    t = 20
    model(x)[0, :, t].sum().backward()
    touched = (x.grad[0].abs().sum(0) > 0).nonzero().flatten().tolist()
    assert touched == list(range(t - size + 1, t + 1))
    assert rf.start + t * rf.jump == t - (size - 1) / 2 == sum(touched) / len(touched)


def test_zero_pad_pairs_fold_into_a_conv2d():
    model = nn.Sequential(nn.ZeroPad2d((1, 2, 0, 3)), nn.Conv2d(3, 8, 3, padding=1)).eval()
    g = trace_graph(model, (3, 10, 12))
    assert g.partial == []
    (conv,) = g.layers
    # F.pad's order is (left, right, top, bottom): H gets (0, 3), W (1, 2), plus the conv's 1
    assert (conv.name, conv.kind) == ("1", "conv")  # the model itself is the Sequential: no name
    assert conv.args["padding"] == ((1, 4), (2, 3))
    assert conv.out_shape == (8, (10 + 1 + 4 - 3) + 1, (12 + 2 + 3 - 3) + 1)  # = 8×13×15
    check_numbers(g, model, (3, 10, 12))
    assert conv.macs == 8 * 3 * 9 * 13 * 15  # = 42,120


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_symmetric_pairs_fold_to_plain_padding(rank):
    conv = getattr(nn, f"Conv{rank}d")(2, 3, 3)
    model = nn.Sequential(getattr(nn, f"ConstantPad{rank}d")(1, 0.0), conv).eval()
    shape = (2, *(6,) * rank)
    g = trace_graph(model, shape)
    assert kinds(g) == [("1", "conv")] and g.output.args["padding"] == 1  # one rule, any rank
    assert g.output.out_shape == (3, *(6,) * rank)  # 6 + 2·1 − 3 + 1
    check_numbers(g, model, shape)


def test_sequential_of_pad_and_conv_takes_the_sequential_name():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.ConstantPad1d((2, 0), 0.0), nn.Conv1d(1, 4, 3))
            self.head = nn.Conv1d(4, 4, 1)

        def forward(self, x):
            return self.head(self.stem(x))

    g = trace_graph(Net(), (1, 16))
    assert kinds(g) == [("stem", "conv"), ("head", "conv")]
    assert g.nodes["stem"].args["padding"] == "causal"


def test_a_pad_read_twice_keeps_its_row():
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Conv2d(3, 4, 3), nn.Conv2d(3, 4, 3)

        def forward(self, x):
            p = F.pad(x, (1, 1, 1, 1))
            return self.a(p) + self.b(p)

    model = Twice().eval()
    g = trace_graph(model, (3, 8, 8))
    assert g.partial == []
    assert kinds(g) == [("pad", "pad"), ("a", "conv"), ("b", "conv"), ("add", "add")]
    assert g.nodes["a"].args["padding"] == 0
    check_numbers(g, model, (3, 8, 8))


@pytest.mark.parametrize("pad", [nn.ReflectionPad2d(1), nn.ReplicationPad2d(1)])
def test_reflect_and_replicate_pads_stay_unmapped_rows(pad):
    model = nn.Sequential(pad, nn.Conv2d(3, 4, 3)).eval()
    g = trace_graph(model, (3, 8, 8))
    assert [x.kind for x in g.layers] == ["unmapped", "conv"]
    assert g.partial and g.nodes["1"].args["padding"] == 0
    assert g.output.out_shape == (4, 8, 8)


def test_functional_reflect_and_crop_stay_as_they_are():
    class Odd(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return self.conv(F.pad(F.pad(x, (1, 1, 1, 1), mode="reflect"), (-1, 0, 0, 0)))

    g = trace_graph(Odd().eval(), (3, 8, 8))
    assert [x.kind for x in g.layers] == ["unmapped", "unmapped", "conv"]
    assert g.nodes["conv"].args["padding"] == 0 and len(g.partial) == 2
    assert g.output.out_shape == (4, 8, 7)


@pytest.mark.parametrize("fill, folds", [(float("-inf"), True), (0.0, False)])
def test_a_max_pool_folds_only_a_minus_infinity_pad(fill, folds):
    model = nn.Sequential(nn.ConstantPad2d((0, 1, 0, 1), fill), nn.MaxPool2d(2)).eval()
    g = trace_graph(model, (3, 7, 7))
    assert g.partial == []
    if folds:
        assert kinds(g) == [("1", "maxpool")] and g.output.args["padding"] == ((0, 1), (0, 1))
    else:
        assert [x.kind for x in g.layers] == ["pad", "maxpool"]
        assert g.output.args["padding"] == 0
    check_numbers(g, model, (3, 7, 7))
    assert g.output.out_shape == (3, 4, 4)  # (7 + 1 − 2)/2 + 1


@pytest.mark.parametrize("include, folds", [(True, True), (False, False)])
def test_an_avg_pool_folds_a_zero_pad_only_when_it_counts_padding(include, folds):
    model = nn.Sequential(nn.ZeroPad2d(1), nn.AvgPool2d(3, 1, count_include_pad=include)).eval()
    g = trace_graph(model, (2, 6, 6))
    assert g.partial == []
    assert [x.kind for x in g.layers] == (["avgpool"] if folds else ["pad", "avgpool"])
    assert g.output.args["padding"] == (1 if folds else 0)  # symmetric pairs: plain padding
    check_numbers(g, model, (2, 6, 6))
    # the same numbers from the spec the graph writes, built in torch
    again = build(parse_spec(graph_to_yaml(g), "again.yaml"))
    built = load_class(export_torch(again))().eval()
    x = torch.randn(1, 2, 6, 6)
    torch.testing.assert_close(built(x), model(x))


def test_folded_pads_export_to_yaml_and_torch_and_round_trip():
    model = Causal().eval()
    g = trace_graph(model, (4, 32))
    text = graph_to_yaml(g)
    assert "p: causal" in text
    again = build(parse_spec(text, "causal.yaml"))
    assert graph_json(again)["layers"] == graph_json(g)["layers"]
    check_against_engine(g)
    net = load_class(export_torch(g))().eval()
    with torch.no_grad():  # the export pads with a module of its own: convs_0 = (pad, conv)
        for mine, theirs in zip(net.parameters(), model.parameters(), strict=True):
            mine.copy_(theirs)
    x = torch.randn(2, 4, 32)
    torch.testing.assert_close(net(x), model(x))


def test_verify_and_erf_agree_on_a_traced_causal_stack():
    model = Causal().eval()
    v = cnncalc.verify(model, (4, 64))
    assert v.agrees, str(v)
    e = cnncalc.erf(model, (4, 64), samples=2)
    assert e.sigma[0] > 0
