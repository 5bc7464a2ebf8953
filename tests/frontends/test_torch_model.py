"""Any nn.Module traced with torch.fx into the engine's graph (frontends/torch_model/), and the
graph written back as YAML (report/export_yaml.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional

from cnncalc.core.engine import Graph  # noqa: E402
from cnncalc.core.errors import BackendError  # noqa: E402
from cnncalc.frontends.load import analyze, build, parse_spec, zoo_names  # noqa: E402
from cnncalc.frontends.torch_model.trace import trace_graph  # noqa: E402
from cnncalc.measure.build import build_module  # noqa: E402
from cnncalc.report.export_yaml import graph_to_yaml  # noqa: E402
from cnncalc.report.rows import graph_json  # noqa: E402
from tests.conftest import cli  # noqa: E402


def rows(g: Graph, names: bool = False) -> list[dict[str, Any]]:
    """Per layer: kind, shapes, params, MACs, RF (size, jump, start); names when asked."""
    skip = {"inputs"} | (set() if names else {"name"})
    return [{k: v for k, v in x.items() if k not in skip} for x in graph_json(g)["layers"]]


# The four nets, as plain torch code -------------------------------------------------------

class Basic(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.down is None else self.down(x)
        return F.relu(out + shortcut)


class ResNetish(nn.Module):
    def __init__(self, width: int = 16, classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(Basic(width, width, 1), Basic(width, 2 * width, 2),
                                    Basic(2 * width, 4 * width, 2))
        self.fc = nn.Linear(4 * width, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


RESNETISH = """
    name: resnetish
    input: 3x32x32
    blocks:
      basic:
        args: {out: 16, stride: 1}
        body:
          - residual:
              - {conv: {out: $out, k: 3, s: $stride, p: 1, bias: false}}
              - bn
              - relu
              - {conv: {out: $out, k: 3, p: 1, bias: false}}
              - bn
          - relu
    layers:
      - {conv: {out: 16, k: 3, p: 1, bias: false}}
      - bn
      - relu
      - {basic: 16}
      - {basic: {out: 32, stride: 2}}
      - {basic: {out: 64, stride: 2}}
      - gap
      - flatten
      - {linear: 10}
"""


class Inception(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.b1 = nn.Conv2d(cin, 16, 1)
        self.b2 = nn.Sequential(nn.Conv2d(cin, 8, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1))
        self.b3 = nn.Sequential(nn.Conv2d(cin, 4, 1), nn.Conv2d(4, 8, 5, padding=2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(cin, 8, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class InceptionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, 2, 1)
        self.mix1, self.mix2 = Inception(32), Inception(48)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(48, 10)

    def forward(self, x):
        x = self.mix2(self.mix1(F.relu(self.stem(x))))
        return self.fc(self.pool(x).mean((2, 3)))


INCEPTION_BLOCK = """
          - concat:
              - [{conv: {out: 16, k: 1}}]
              - [{conv: {out: 8, k: 1}}, relu, {conv: {out: 16, k: 3, p: 1}}]
              - [{conv: {out: 4, k: 1}}, {conv: {out: 8, k: 5, p: 2}}]
              - [{maxpool: {k: 3, s: 1, p: 1}}, {conv: {out: 8, k: 1}}]
"""
INCEPTION = f"""
    name: inceptionish
    input: 3x32x32
    blocks:
      mix:
        body:
{INCEPTION_BLOCK}
    layers:
      - {{conv: {{out: 32, k: 3, s: 2, p: 1}}}}
      - relu
      - mix
      - mix
      - {{maxpool: 2}}
      - gap
      - flatten
      - {{linear: 10}}
"""


class SE(nn.Module):
    def __init__(self, c: int, r: int = 4):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(c, c // r, 1), nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(s))))


class SENet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.SiLU(), SE(32),
            nn.Conv2d(32, 64, 3, 2, 1), SE(64), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Dropout(0.2), nn.Linear(64, 10))

    def forward(self, x):
        return self.features(x)


SENET = """
    name: senet
    input: 3x32x32
    blocks:
      se:
        body:
          - mul: [[], [gap, {conv: {out: $in // 4, k: 1}}, relu, {conv: {out: $in, k: 1}},
                       sigmoid]]
    layers:
      - {conv: {out: 32, k: 3, p: 1, bias: false}}
      - bn
      - silu
      - se
      - {conv: {out: 64, k: 3, s: 2, p: 1}}
      - se
      - gap
      - flatten
      - {dropout: 0.2}
      - {linear: 10}
"""


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1, self.act = nn.Linear(dim, 4 * dim), nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(1e-6 * torch.ones(dim))

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)  # to N×H×W×C
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        y = self.gamma * y  # layer scale, on the channel-last tensor
        return x + y.permute(0, 3, 1, 2)


class ConvNeXtish(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 4, 4), LayerNorm2d(32, eps=1e-6))
        self.stage1 = nn.Sequential(CNBlock(32), CNBlock(32))
        self.down = nn.Sequential(LayerNorm2d(32, eps=1e-6), nn.Conv2d(32, 64, 2, 2))
        self.stage2 = CNBlock(64)
        self.head_norm, self.head = nn.LayerNorm(64), nn.Linear(64, 10)

    def forward(self, x):
        x = self.stage2(self.down(self.stage1(self.stem(x))))
        return self.head(self.head_norm(x.mean([-2, -1])))


CONVNEXT = """
    name: convnextish
    input: 3x64x64
    blocks:
      cnblock:
        body:
          - residual:
              body:
                - {dwconv: {k: 7, p: 3}}
                - {layernorm: {eps: 1.0e-6}}
                - {linear: $in * 4}
                - gelu
                - {linear: $in}
                - scale
              shortcut: identity
    layers:
      - {conv: {out: 32, k: 4, s: 4}}
      - {layernorm: {eps: 1.0e-6}}
      - cnblock
      - cnblock
      - {layernorm: {eps: 1.0e-6}}
      - {conv: {out: 64, k: 2, s: 2}}
      - cnblock
      - gap
      - flatten
      - {layernorm: {eps: 1.0e-5}}
      - {linear: 10}
"""


def yaml_graph(text: str) -> Graph:
    return build(parse_spec(textwrap.dedent(text), "twin.yaml"))


@pytest.mark.parametrize("model, twin", [
    (ResNetish, RESNETISH), (InceptionNet, INCEPTION), (SENet, SENET), (ConvNeXtish, CONVNEXT),
], ids=["resnet", "inception", "se", "convnext"])
def test_traced_module_equals_its_yaml_twin_layer_by_layer(model, twin):
    expected = yaml_graph(twin)
    net = model()
    g = trace_graph(net, expected.input_shape)
    assert g.partial == [] and g.notes == []
    assert rows(g) == rows(expected)  # kind, in/out shapes, params, MACs, RF, per layer
    assert g.totals() == expected.totals()
    assert g.totals().params == sum(p.numel() for p in net.parameters())


def test_resnet_numbers_by_hand():
    g = trace_graph(ResNetish(), (3, 32, 32))
    by = {x.name: x for x in g.layers}
    proj = by["blocks.1.down.0"]  # the projection shortcut: 1×1, stride 2, 16 → 32
    assert proj.out_shape == (32, (32 - 1) // 2 + 1, 16)  # = 32×16×16
    assert proj.params == 32 * 16 * 1 * 1  # no bias
    assert proj.macs == 32 * 16 * 16 * 16  # out · in · k² · H'·W' = 131,072
    assert by["blocks.1.add"].kind == "add" and by["blocks.1.add"].inputs == \
        ("blocks.1.bn2", "blocks.1.down.1")
    assert by["fc"].macs == 64 * 10  # 640


def test_convnext_channel_last_linear_and_layer_scale():
    g = trace_graph(ConvNeXtish(), (3, 64, 64))
    by = {x.name: x for x in g.layers}
    assert by["stage1.0.pwconv1"].kind == "linear"
    assert by["stage1.0.pwconv1"].out_shape == (128, 16, 16)  # back in C×H×W order
    assert by["stage1.0.pwconv1"].macs == 32 * 128 * 16 * 16  # per position: 4,194,304
    assert by["stage1.0.scale"].kind == "scale" and by["stage1.0.scale"].params == 32
    assert by["stem.1.layernorm"].params == 2 * 32  # F.layer_norm inside LayerNorm2d


def test_unsupported_op_gives_a_partial_result_naming_it(tmp_path):
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.act = nn.PReLU()  # no kind for it: one learnable slope
            self.shuffle = nn.PixelShuffle(2)  # 8×16×16 → 2×32×32
            self.head = nn.Conv2d(2, 4, 1)

        def forward(self, x):
            x = torch.roll(self.act(self.conv(x)), 1, dims=2)
            return self.head(self.shuffle(x))

    net = Odd()
    g = trace_graph(net, (3, 16, 16))
    partial = "\n".join(map(str, g.partial))
    assert "unmapped module PReLU at act" in partial
    assert "unmapped torch.roll" in partial and "test_torch_model.py:" in partial
    assert "unmapped module PixelShuffle at shuffle" in partial
    assert [x.kind for x in g.layers] == ["conv", "unmapped", "unmapped", "unmapped", "conv"]
    assert g.nodes["shuffle"].out_shape == (8 // 4, 32, 32)  # the traced shape carries on
    assert g.nodes["head"].macs == 4 * 2 * 32 * 32  # = 8,192, from the traced 2×32×32
    assert g.totals().params == sum(p.numel() for p in net.parameters())  # PReLU's 1 kept


def test_cli_traces_model_file_and_marks_partial(tmp_path):
    path = tmp_path / "odd.py"
    path.write_text(textwrap.dedent("""
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self, width=8):
                super().__init__()
                self.conv = nn.Conv2d(3, width, 3)
                self.fold = nn.PixelShuffle(2)

            def forward(self, x):
                return self.fold(self.conv(x))
    """))
    r = cli("shapes", f"{path}:Net", "--input", "3x10x10", "--arg", "width=4", "-f", "md")
    assert r.code == 0, r.err
    assert "| `conv` | conv | 4×8×8 | 112 | 6,912 |" in r.out  # 4·3·9+4; 4·27·64
    assert "PARTIAL analysis: 1 op(s)" in r.out and "PixelShuffle" in r.out
    j = cli("shapes", f"{path}:Net", "--input", "3x10x10", "-f", "json").json()
    assert j["layers"][1]["kind"] == "unmapped" and len(j["partial"]) == 1
    missing = cli("shapes", f"{path}:Net")
    assert missing.code == 2 and "give its input size with --input" in missing.err
    hint = cli("shapes", str(path))
    assert hint.code == 2 and f"write {path}:Net" in hint.err


def test_untraceable_model_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "branchy.py"
    path.write_text(textwrap.dedent("""
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a, self.b = nn.Conv2d(3, 4, 1), nn.Conv2d(3, 4, 3, padding=1)

            def forward(self, x):
                return self.a(x) if x.sum() > 0 else self.b(x)
    """))
    r = cli("shapes", f"{path}:Net", "--input", "3x8x8")
    assert r.code == 2
    assert len(r.err.strip().splitlines()) == 1
    assert r.err.startswith(f"torch.fx cannot trace {path}:Net: TraceError")
    assert "fallbacks:" in r.err and "torch.fx.wrap" in r.err


def test_package_factory_with_args(tmp_path, monkeypatch):
    (tmp_path / "cnn_factory_pkg").mkdir()
    (tmp_path / "cnn_factory_pkg" / "__init__.py").write_text("")
    (tmp_path / "cnn_factory_pkg" / "nets.py").write_text(textwrap.dedent("""
        from torch import nn

        def make(width=8, classes=10):
            return nn.Sequential(nn.Conv2d(1, width, 5), nn.ReLU(), nn.Flatten(),
                                 nn.Linear(width * 24 * 24, classes))
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    r = cli("shapes", "cnn_factory_pkg.nets:make", "-i", "1x28x28", "--arg", "width=2",
            "--arg", "classes=3", "-f", "json")
    assert r.code == 0, r.err
    layers = r.json()["layers"]
    assert [x["name"] for x in layers] == ["0", "1", "2", "3"]
    assert layers[3]["params"] == 2 * 24 * 24 * 3 + 3  # (28 − 5 + 1)² · 2 features → 3: 3,459
    bad = cli("shapes", "cnn_factory_pkg.nets:make", "-i", "1x28x28", "--arg", "depth=3")
    assert bad.code == 2 and "make(depth=3) failed: TypeError" in bad.err


def test_rf_takes_python_models_too(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("from torch import nn\nNET = nn.Sequential(nn.Conv2d(1, 1, 3), "
                    "nn.Conv2d(1, 1, 3, stride=2))\n")
    r = cli("rf", f"{path}:NET", "-i", "1x32x32", "-f", "csv")
    assert r.code == 0, r.err
    assert r.out.splitlines()[2].startswith("1,conv,0,1x30x30,1x14x14,10,")  # 9 + 1 params
    assert ",5,5,2,2," in r.out.splitlines()[2]  # rf 3 + (3−1)·1 = 5, jump 2


# Round trip: YAML → torch → fx → YAML ------------------------------------------------------

@pytest.mark.parametrize("name", zoo_names())
def test_zoo_round_trip_through_torch_and_fx(name):
    g = analyze(name)
    with torch.device("meta"):  # no weights to initialise: shapes only
        net = build_module(g)
    traced = trace_graph(net, g.input_shape, where=name)
    assert traced.partial == []
    again = build(parse_spec(graph_to_yaml(traced), f"{name}.yaml"))
    assert rows(again, names=True) == rows(g, names=True)
    assert again.totals() == g.totals()


def test_exported_yaml_is_readable():
    g = analyze("resnet18")
    with torch.device("meta"):
        text = graph_to_yaml(trace_graph(build_module(g), g.input_shape))
    assert "name: resnet18\ninput: {channels: 3, size: [224, 224]}\n" in text
    # conv1 and bn1 are the names the spec gives anyway, so they are left out
    assert "- {conv: {out: 64, k: 7, s: 2, p: 3, bias: false}}\n- bn\n- relu\n" in text
    assert "- {gap: {}, name: avgpool}" in text  # a name the spec would not give
    assert "shortcut: identity" in text and "name: layer1" in text


def test_export_refuses_unmapped_layers():
    g = trace_graph(nn.Sequential(nn.Conv2d(3, 4, 1), nn.PixelShuffle(2)), (3, 8, 8))
    with pytest.raises(Exception, match="layer 1 as a spec: its op is unmapped"):
        graph_to_yaml(g)


def test_forward_with_two_inputs_is_refused():
    class Two(nn.Module):
        def forward(self, a, b):
            return a + b

    with pytest.raises(BackendError, match="takes 2 inputs"):
        trace_graph(Two(), (3, 8, 8))


class Odds(nn.Module):
    """Functional and tensor-method forms: chunk, split, view, interpolate, permute around a
    channel-last LayerNorm, x.size(0), a tuple from an unmapped op."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 12, 3, padding=1)
        self.norm = nn.LayerNorm(6)
        self.fc = nn.Linear(12 * 4 * 4, 5)

    def forward(self, x):
        x = self.conv(x)
        a, b = x.chunk(2, dim=1)  # 6 + 6 channels
        b = self.norm(b.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        c, d = torch.split(x, [4, 8], 1)
        y = torch.cat([a * b, c, d], 1)  # 6 + 4 + 8 = 18 channels
        y = F.interpolate(F.max_pool2d(y, 4), scale_factor=2)  # 8 → 2 → 4
        y = y.sort(dim=1)[0][:, :12]  # unmapped: a tuple, then a slice
        return self.fc(y.view(y.size(0), -1))


def test_functional_forms_and_tuples_from_unmapped_ops():
    net = Odds()
    g = trace_graph(net, (3, 8, 8))
    kinds = [(x.name, x.kind, x.out_shape) for x in g.layers]
    assert kinds[:9] == [
        ("conv", "conv", (12, 8, 8)),
        ("split", "split", (6, 8, 8)), ("split2", "split", (6, 8, 8)),  # chunk(2): 12 / 2
        ("norm", "layernorm", (6, 8, 8)),  # permute → LayerNorm(6) → permute back
        ("split3", "split", (4, 8, 8)), ("split4", "split", (8, 8, 8)),  # split([4, 8])
        ("mul", "mul", (6, 8, 8)),
        ("concat", "concat", (6 + 4 + 8, 8, 8)),
        ("maxpool", "maxpool", (18, (8 - 4) // 4 + 1, 2)),  # = 18×2×2
    ]
    assert kinds[9] == ("upsample", "upsample", (18, 2 * 2, 4))
    assert [k[1] for k in kinds[10:]] == ["unmapped", "unmapped", "flatten", "linear"]
    assert kinds[11][2] == (12, 4, 4)  # the slice keeps 12 of 18 channels, shape as traced
    assert g.nodes["fc"].macs == 12 * 4 * 4 * 5  # = 960
    partial = [str(p) for p in g.partial]
    assert len(partial) == 2 and "unmapped Tensor.sort" in partial[0]
    assert "unmapped _operator.getitem" in partial[1]  # the [:, :12] channel slice
    assert g.totals().params == sum(p.numel() for p in net.parameters())


def test_channel_shuffle_written_with_view_and_transpose():
    class Shuffle(nn.Module):  # as ShuffleNet V2 writes it
        def forward(self, x):
            n, c, h, w = x.size()
            x = torch.transpose(x.view(n, 2, c // 2, h, w), 1, 2).contiguous()
            return x.view(n, -1, h, w)

    g = trace_graph(nn.Sequential(nn.Conv2d(3, 8, 1), Shuffle()), (3, 4, 4))
    assert [(x.kind, x.args.get("groups"), x.out_shape) for x in g.layers] == \
        [("conv", 1, (8, 4, 4)), ("shuffle", 2, (8, 4, 4))]
    assert g.partial == []


def test_a_model_that_fails_on_the_input_is_one_line(tmp_path):
    path = tmp_path / "three.py"
    path.write_text("from torch import nn\nNET = nn.Conv2d(3, 8, 3)\n")
    r = cli("shapes", f"{path}:NET", "--input", "1x8x8")
    assert r.code == 2 and r.err.count("\n") == 1
    assert r.err.startswith(f"{path}:NET fails on a 1×1×8×8 input: RuntimeError: Given groups=1")


def test_output_that_is_not_the_last_row_is_noted():
    class Early(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(3, 8, 3), nn.Linear(8, 2)

        def forward(self, x):
            y = self.conv(x)
            self.fc(y.mean((2, 3)))  # computed, then thrown away
            return y

    g = trace_graph(Early(), (3, 8, 8))
    assert [str(n) for n in g.notes] == ["forward returns conv, not the last row; every traced layer "
                               "is still counted"]


def test_functional_conv_with_module_weights():
    class Tied(nn.Module):  # one weight used twice through F.conv2d
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(4, 4, 3, 3))

        def forward(self, x):
            x = F.conv2d(x, self.weight, None, 1, 1)
            return F.conv2d(x, self.weight, stride=2, padding=1)

    g = trace_graph(Tied(), (4, 8, 8))
    assert [(x.kind, x.out_shape, x.macs) for x in g.layers] == [
        ("conv", (4, 8, 8), 4 * 4 * 9 * 8 * 8),  # = 9,216
        ("conv", (4, (8 + 2 - 3) // 2 + 1, 4), 4 * 4 * 9 * 4 * 4),  # = 2,304
    ]
    # one shared tensor of 4·4·3·3 = 144: counted at its first use, as torch counts it
    assert [x.params for x in g.layers] == [144, 0]
    assert [str(n) for n in g.notes] == ["conv2 reuses parameters counted at their first use"]
    assert g.totals().params == 144 and g.partial == []


def test_a_module_called_twice_counts_its_parameters_once():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)

        def forward(self, x):
            return self.conv(F.relu(self.conv(x)))

    net = Twice()
    g = trace_graph(net, (4, 8, 8))
    assert [(x.name, x.params, x.macs) for x in g.layers] == [
        ("conv", 4 * 4 * 9 + 4, 4 * 4 * 9 * 64), ("relu", 0, 0),
        ("conv2", 0, 4 * 4 * 9 * 64),  # MACs twice (9,216 each), parameters once (148)
    ]
    assert g.totals().params == sum(p.numel() for p in net.parameters())


def test_parameters_forward_never_uses_are_named():
    class Aux(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.aux = nn.Linear(4, 7)  # only used in training, say

        def forward(self, x):
            return self.conv(x), x  # and two outputs

    g = trace_graph(Aux(), (3, 4, 4))
    assert g.totals().params == 4 * 3 + 4  # = 16; the 4·7 + 7 = 35 of aux are not counted
    assert [str(n) for n in g.notes] == [
        "35 parameters are not used by forward and not counted (aux.weight, aux.bias)",
        "forward returns several values; the last row is the last layer traced"]


def test_the_documented_model_example_runs():
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "convnext_block.py"
    r = cli("shapes", f"{example}:Net", "--input", "3x64x64", "-f", "json")
    assert r.code == 0, r.err
    by = {x["name"]: x for x in r.json()["layers"]}
    assert by["stem"]["macs"] == 32 * 3 * 4 * 4 * 16 * 16  # = 393,216
    assert by["blocks.0.dwconv"]["macs"] == 32 * 1 * 7 * 7 * 16 * 16  # depthwise: 401,408
    assert by["blocks.0.pwconv1"]["macs"] == 32 * 128 * 16 * 16  # per position: 1,048,576
    assert by["blocks.0.scale"]["params"] == 32
    assert r.json()["totals"]["params"] == 21_994  # = sum(p.numel() for p in Net().parameters())


def test_export_names_layers_off_the_way_to_the_last_one():
    class Dead(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(3, 4, 1), nn.Conv2d(3, 5, 3)

        def forward(self, x):
            y = self.a(x)
            self.b(x)
            return y

    text = graph_to_yaml(trace_graph(Dead(), (3, 8, 8)))
    assert "# left out (not on the way to the last layer): a\n" in text
    assert build(parse_spec(text)).output.out_shape == (5, 8 - 3 + 1, 6)  # b alone: 5×6×6


def test_a_huge_input_allocates_nothing(tmp_path):
    path = tmp_path / "wide.py"
    path.write_text("from torch import nn\nNET = nn.Sequential(nn.Conv2d(1000, 4, 1), nn.ReLU())\n")
    # 1×1000×100000×100000 float32 is 40 TB: a real example input could never be allocated
    r = cli("shapes", f"{path}:NET", "--input", "1000x100000x100000", "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["layers"][0]["out_shape"] == [4, 100000, 100000]
    warned = cli("shapes", f"{path}:NET", "--input", "1000x100000x100000", "-f", "md")
    assert warned.code == 0 and "warning: activations take" in warned.err + warned.out
    g = trace_graph(nn.Conv2d(1000, 4, 1), (1000, 100000, 100000))
    assert g.output.out_shape == (4, 100000, 100000)
    with torch.device("meta"):  # a model already on the meta device traces as well
        meta = nn.Conv2d(1000, 4, 1)
    assert trace_graph(meta, (1000, 100000, 100000)).output.out_shape == (4, 100000, 100000)


def test_receptive_fields_after_an_unmapped_op_are_flagged(tmp_path):
    path = tmp_path / "strided.py"
    path.write_text(textwrap.dedent("""
        from torch import nn

        class S(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 4, 3, padding=1)
                self.b = nn.Conv2d(4, 4, 3, padding=1)

            def forward(self, x):
                return self.b(self.a(x)[:, :, ::2, ::2])
    """))
    r = cli("rf", f"{path}:S", "--input", "3x32x32", "-f", "md")
    assert r.code == 0, r.err
    text = " ".join(r.out.split())
    assert "MACs are not counted and the totals are lower bounds" in text
    assert ("PARTIAL: receptive fields are not computed from the first unmapped op on "
            "(_operator.getitem, row getitem)") in text
    mapped = cli("rf", "lenet5", "-f", "md")
    assert "PARTIAL" not in mapped.out and "PARTIAL" not in mapped.err


def test_upsample_to_a_size_maps_when_it_is_an_integer_scale():
    up = trace_graph(nn.Sequential(nn.Conv2d(3, 4, 1), nn.Upsample(size=(32, 48))), (3, 16, 16))
    assert up.layers[1].kind == "upsample" and up.output.out_shape == (4, 32, 48)
    assert up.partial == []
    odd = trace_graph(nn.Sequential(nn.Conv2d(3, 4, 1), nn.Upsample(size=20)), (3, 16, 16))
    assert odd.layers[1].kind == "unmapped" and odd.output.out_shape == (4, 20, 20)
    assert "unmapped module Upsample (size= that is not an integer multiple" in \
        str(odd.partial[0])
    assert "NoneType" not in str(odd.partial[0])


MODELS = '''
import torch
from torch import nn


class NoneOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        self.c(x)
        return None


class Mismatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3)
        self.l = nn.Linear(10, 2)

    def forward(self, x):
        return self.l(self.c(x).flatten(1))
'''


def test_forward_returning_none_is_said_as_such(tmp_path):
    (tmp_path / "m.py").write_text(MODELS)
    r = cli("shapes", f"{tmp_path / 'm.py'}:NoneOut", "--input", "3x8x8", "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["notes"] == ["forward returns None; the last row is the last layer traced"]


def test_a_shape_error_in_the_model_is_one_line_without_torchs_log(tmp_path):
    import subprocess
    import sys

    (tmp_path / "m.py").write_text(MODELS)
    r = subprocess.run([sys.executable, "-m", "cnncalc", "shapes", f"{tmp_path / 'm.py'}:Mismatch",
                        "--input", "3x8x8"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    # 1×3×8×8 → conv 3×3 → 4×6×6 = 144 features, but the linear takes 10
    assert r.stderr.splitlines() == [
        f"{tmp_path / 'm.py'}:Mismatch fails on a 1×3×8×8 input: RuntimeError: a and b must have "
        "same reduction dim, but got [1, 144] X [10, 2]."]
