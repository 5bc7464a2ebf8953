"""fx import: every parameter forward touches is counted once (issue 14, items 2, 3 and 7).

torch's number is `sum(p.numel() for p in m.parameters())` (tied tensors once) and MACs are
FlopCounterMode / 2; each is written beside cnncalc's.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional

from cnncalc.frontends.torch_model.trace import trace_graph  # noqa: E402


def torch_numbers(m, shape):
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as fc:
        m(torch.zeros(1, *shape))
    return sum(p.numel() for p in m.parameters()), fc.get_total_flops() // 2


class TiedConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(4, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, padding=1)
        self.b.weight = self.a.weight  # shared weight, own biases

    def forward(self, x):
        return self.b(self.a(x))


class TiedLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(64, 64), nn.Linear(64, 64)
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.b(self.a(torch.flatten(x, 1)))


def test_tied_conv_weight_counted_once():
    m = TiedConv()
    g = trace_graph(m, (4, 8, 8))
    assert [(x.name, x.params) for x in g.layers] == [("a", 4 * 4 * 9 + 4), ("b", 4)]
    assert g.totals().params == 152  # torch 152 = 144 + 4 + 4 (cnncalc said 296 before)
    assert torch_numbers(m, (4, 8, 8)) == (152, g.totals().macs)  # MACs 18,432 both
    assert [str(n) for n in g.notes] == ["b shares a.weight (144), counted at a"]
    assert g.partial == []


def test_tied_linear_weight_counted_once():
    m = TiedLinear()
    g = trace_graph(m, (4, 4, 4))
    assert g.totals().params == 64 * 64 + 64 + 64  # = 4,224; torch 4,224 (8,320 before)
    assert g.totals().macs == 2 * 64 * 64  # = 8,192; torch 8,192
    assert torch_numbers(m, (4, 4, 4)) == (4_224, 8_192)


class StdConv(nn.Conv2d):
    """A weight-standardised conv (BiT, timm's StdConv2d)."""

    def forward(self, x):
        w = self.weight
        w = (w - w.mean(dim=(1, 2, 3), keepdim=True)) / (
            w.var(dim=(1, 2, 3), keepdim=True) + 1e-5).sqrt()
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


class StdNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.conv = StdConv(16, 16, 3, padding=1)
        self.head = nn.Conv2d(16, 2, 1)

    def forward(self, x):
        return self.head(self.conv(self.stem(x)))


def test_weight_standardised_conv_maps_to_conv():
    m = StdNet()
    g = trace_graph(m, (3, 8, 8))
    conv = [x for x in g.layers if x.kind == "conv"]
    assert [x.params for x in conv] == [3 * 16 * 9 + 16, 16 * 16 * 9 + 16, 16 * 2 + 2]
    assert conv[1].macs == 16 * 16 * 9 * 64  # = 147,456
    # torch 2,802 / 177,152 (cnncalc 482 / 29,696 before, and "2,320 parameters not used")
    assert (g.totals().params, g.totals().macs) == torch_numbers(m, (3, 8, 8)) == (2_802, 177_152)
    assert g.partial == [] and g.notes == []


class Pos(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pos = nn.Parameter(torch.zeros(1, 4, 8, 8))
        self.head = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        return self.head(self.conv(x) + self.pos)


def test_learnable_position_map_is_counted():
    m = Pos()
    g = trace_graph(m, (3, 8, 8))
    assert g.totals().params == 3 * 4 * 9 + 4 + 4 * 64 + 4 * 2 + 2  # = 378; torch 378 (122 before)
    assert (g.totals().params, g.totals().macs) == torch_numbers(m, (3, 8, 8)) == (378, 7_424)
    assert g.notes == []  # no "256 parameters are not used by forward (pos)"
    assert len(g.partial) == 1 and "add" in str(g.partial[0])  # the add itself is not a kind


class Dense(nn.Module):
    """torchvision densenet's first dense layer: torch.cat of a one-element list."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.conv = nn.Conv2d(8, 4, 3, padding=1)

    def forward(self, x):
        x = self.stem(x)
        y = self.conv(torch.relu(self.bn(torch.cat([x], 1))))
        return torch.cat([x, y], 1)


def test_one_input_cat_is_identity():
    m = Dense()
    g = trace_graph(m, (3, 16, 16))
    assert g.partial == []  # PARTIAL "unmapped torch.cat" before
    assert [x.kind for x in g.layers] == ["conv", "bn", "relu", "conv", "concat"]
    assert (g.totals().params, g.totals().macs) == torch_numbers(m, (3, 16, 16)) == (532, 129_024)
    conv = g.layers[3]
    assert conv.rf.max.h.size == conv.rf.max.w.size == 5  # two 3×3: 1 + 2 + 2; torch support 5×5
