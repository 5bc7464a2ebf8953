"""`cnncalc export --to torch`: the printed class runs, and agrees with the engine."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from cnncalc.frontends.load import analyze
from tests.conftest import cli

torch = pytest.importorskip("torch")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from cnncalc.report.export_torch import export_torch  # noqa: E402
from tests.measure.test_property import graphs  # noqa: E402


def load_class(source: str):
    scope: dict = {}
    exec(compile(source, "<export>", "exec"), scope)  # the generated file, as a user would run it
    # the last class: the net (Swin's helper classes come before it)
    return [v for k, v in scope.items() if isinstance(v, type) and k != "nn"
            and issubclass(v, torch.nn.Module)][-1]


def check_against_engine(g) -> None:
    with torch.device("meta"):
        net = load_class(export_torch(g))().eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out = net(torch.empty(1, *g.input_shape, device="meta"))
    t = g.totals()
    assert tuple(out.shape[1:]) == g.output.out_shape
    assert sum(p.numel() for p in net.parameters()) == t.params
    assert counter.get_total_flops() == 2 * t.macs  # FlopCounterMode counts 2 per MAC


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "mobilenet_v3_small", "convnext_tiny",
                                  "shufflenet_v2_x1_0", "squeezenet1_1", "unet",
                                  "inception_v3", "densenet121", "efficientnet_b0"])
def test_exported_zoo_class_matches_the_engine(name):
    check_against_engine(analyze(name))


@settings(max_examples=50, deadline=None)
@given(graphs())
def test_exported_random_graphs_match_the_engine(g):
    if g.layers:
        check_against_engine(g)


def test_the_printed_source_reads_like_hand_written_torch():
    r = cli("export", "lenet5", "--to", "torch")
    assert r.code == 0
    assert "class Lenet5(nn.Module):" in r.out
    assert "        self.c1 = nn.Conv2d(1, 6, kernel_size=5)\n" in r.out
    assert "        x = self.c1(x)\n" in r.out and "        return x\n" in r.out


def test_branches_get_named_values_and_joins_are_expressions():
    text = cli("export", "resnet18").out
    assert "        x = x + layer4_0_relu2\n" in text  # identity shortcut
    assert "        x = self.layer4_0_shortcut_conv(layer3_1_relu2)\n" in text


def test_unknown_target_is_one_line_and_exit_2():
    r = cli("export", "lenet5", "--to", "tensorflow")
    assert r.code == 2 and "unknown export target 'tensorflow'; choose torch" in r.err


def test_export_to_yaml_turns_a_traced_model_into_an_equivalent_spec(tmp_path):
    r = cli("export", "docs/examples/convnext_block.py:Net", "--input", "3x64x64", "--to", "yaml")
    assert r.code == 0, r.err
    path = tmp_path / "net.yaml"
    path.write_text(r.out)
    traced = cli("shapes", "docs/examples/convnext_block.py:Net", "--input", "3x64x64", "-f", "json")
    again = cli("shapes", str(path), "-f", "json")
    assert again.json()["totals"] == traced.json()["totals"]
    assert [x["out_shape"] for x in again.json()["layers"]] == \
        [x["out_shape"] for x in traced.json()["layers"]]


def test_export_names_the_targets_on_a_typo():
    r = cli("export", "lenet5", "--to", "yml")
    assert r.code == 2 and "choose torch, yaml (did you mean 'yaml'?)" in r.err


def _model_file(tmp_path, body: str) -> str:
    path = tmp_path / "m.py"
    path.write_text("import torch\nfrom torch import nn\n\n" + body)
    return str(path)


def test_names_that_fold_together_get_distinct_attributes(tmp_path):
    path = _model_file(tmp_path, (
        "class Col(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.block = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 5, 3))\n"
        "        self.block_1 = nn.Conv2d(5, 6, 1)\n"
        "    def forward(self, x):\n"
        "        return self.block_1(self.block(x))\n"))
    r = cli("export", f"{path}:Col", "--input", "3x16x16")
    assert r.code == 0, r.err
    assert "self.block_1 = nn.Conv2d(4, 5" in r.out and "self.block_1_2 = nn.Conv2d(5, 6" in r.out
    net = load_class(r.out)().eval()
    assert sum(p.numel() for p in net.parameters()) == 333  # 112 + 185 + 36, none overwritten
    assert net(torch.randn(1, 3, 16, 16)).shape == (1, 6, 12, 12)
    assert cli("export", f"{path}:Col", "--input", "3x16x16").out == r.out  # deterministic


def test_names_that_fold_together_keep_branch_values_apart():
    from torch import nn

    from cnncalc.frontends.torch_model.trace import trace_graph

    class Fold(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Module()
            self.a.b = nn.Conv2d(3, 4, 3, padding=1)  # row a.b
            self.a_b = nn.Conv2d(4, 4, 1)  # row a_b

        def forward(self, x):
            y = self.a.b(x)
            return y + self.a_b(y)

    g = trace_graph(Fold(), (3, 8, 8))
    assert [x.name for x in g.layers][:2] == ["a.b", "a_b"]
    text = export_torch(g)
    assert "        a_b = self.a_b(x)\n" in text and "        x = self.a_b_2(a_b)\n" in text
    assert "        x = a_b + x\n" in text
    check_against_engine(g)


def test_export_to_torch_refuses_unmapped_ops(tmp_path):
    path = _model_file(tmp_path, (
        "class Attr(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__(); self.c = nn.Conv2d(3, 6, 3, padding=1)\n"
        "    def forward(self, x):\n"
        "        return self.c(x) * torch.sigmoid(x.mean((2, 3), keepdim=True)).repeat(1, 2, 1, 1)\n"))
    r = cli("export", f"{path}:Attr", "--input", "3x16x16")
    assert r.code == 2 and r.out == ""
    assert r.err.count("\n") == 1
    assert r.err.startswith("cannot write Attr as a torch module: layer repeat holds an unmapped op")
