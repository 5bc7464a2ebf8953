"""The user's own nn.Module: analyzed from its trace, measured itself (verify, erf, latency), with
unmapped ops never blocking a measurement, and the module left as it was given."""

from __future__ import annotations

import textwrap

import pytest

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional

import cnncalc  # noqa: E402
from tests.conftest import cli  # noqa: E402


class Bottleneck(nn.Module):  # torchvision's, written out
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int = 1, down: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, width * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = down

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet50(nn.Module):
    def __init__(self, classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin, stages = 64, []
        for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            down = nn.Sequential(nn.Conv2d(cin, width * 4, 1, stride, bias=False),
                                 nn.BatchNorm2d(width * 4))
            layers = [Bottleneck(cin, width, stride, down)]
            cin = width * 4
            layers += [Bottleneck(cin, width) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Rolled(nn.Module):
    """A conv net with one op no layer kind describes (torch.roll) in the middle."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = torch.roll(F.relu(self.conv1(x)), 1, dims=2)
        x = F.relu(self.conv2(x))
        return self.fc(x.mean((2, 3)))


DELTA = textwrap.dedent('''
    import torch
    from torch import nn

    class Delta(nn.Module):
        """Five 3x3 convs whose kernels are the identity: the true ERF is one pixel."""

        def __init__(self):
            super().__init__()
            self.convs = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1, bias=False)
                                         for _ in range(5)])
            with torch.no_grad():
                for c in self.convs:
                    c.weight.zero_()
                    c.weight[0, 0, 1, 1] = 1.0

        def forward(self, x):
            return self.convs(x)
''')


def test_a_torchvision_style_resnet50_has_the_zoos_numbers():
    r = cnncalc.analyze(ResNet50(), input_size=(1, 3, 224, 224))
    zoo = cnncalc.analyze("resnet50")
    assert r.totals.params == zoo.totals.params == 25_557_032
    assert r.totals.macs == zoo.totals.macs == 4_089_184_256
    assert r.partial == [] and isinstance(r.module, ResNet50)
    assert len(repr(r)) < 120  # never the Graph's repr


def test_verify_measures_the_module_itself():
    model = Rolled()
    v = cnncalc.verify(model, (3, 16, 16))
    assert v.agrees, str(v)
    rows = {r.name: r for r in v.rows}
    assert rows["conv1"].params.measured == 8 * 3 * 9 + 8  # = 224, the module's own tensors
    assert rows["conv2"].macs.measured == 8 * 8 * 9 * 16 * 16  # FlopCounterMode / 2
    assert sum(r.params.measured or 0 for r in v.rows) == \
        sum(p.numel() for p in model.parameters())
    assert rows["roll"].kind == "unmapped" and rows["roll"].out_shape["measured"] == [8, 16, 16]


def test_unmapped_ops_never_block_a_measurement():
    r = cnncalc.analyze(Rolled(), (3, 16, 16))
    assert r.partial and "unmapped torch.roll" in r.partial[0]
    assert "PARTIAL" in repr(r)
    e = cnncalc.erf(r, samples=2, layer="conv2")
    assert e.sigma[0] > 0 and e.init == "weights"
    t = cnncalc.latency(r, min_time=0.0, per_layer=True)
    assert t.median_ms > 0 and [x.name for x in t.batches[0].layers][:3] == \
        ["conv1", "relu", "roll"]


def test_the_commands_run_on_a_model_with_an_unmapped_op(tmp_path, monkeypatch):
    (tmp_path / "rolled.py").write_text(textwrap.dedent('''
        import torch
        import torch.nn.functional as F
        from torch import nn

        class Rolled(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
                self.conv2 = nn.Conv2d(8, 8, 3, padding=1)

            def forward(self, x):
                return F.relu(self.conv2(torch.roll(F.relu(self.conv1(x)), 1, dims=2)))
    '''))
    monkeypatch.chdir(tmp_path)
    v = cli("verify", "rolled.py:Rolled", "--input", "3x16x16", "-f", "json")
    assert v.code == 0, v.err
    assert [x["macs"]["measured"] for x in v.json()["layers"]][:4] == [8 * 3 * 9 * 16 * 16, 0, 0, 8 * 8 * 9 * 16 * 16]
    e = cli("erf", "rolled.py:Rolled", "--input", "3x16x16", "-n", "2", "-f", "json")
    assert e.code == 0 and e.json()["init"] == "weights", e.err
    t = cli("latency", "rolled.py:Rolled", "--input", "3x16x16", "--min-time", "0", "-f", "json")
    assert t.code == 0 and t.json()["batches"][0]["latency_ms"]["median"] > 0, t.err


def test_erf_of_identity_kernels_is_one_pixel_unless_reinitialised(tmp_path, monkeypatch):
    (tmp_path / "model.py").write_text(DELTA)
    monkeypatch.chdir(tmp_path)
    own = cli("erf", "model.py:Delta", "--input", "1x33x33", "-n", "4", "-f", "json")
    assert own.code == 0, own.err
    assert own.json()["sigma"] == [0.0, 0.0]  # the gradient is the centre pixel alone
    fresh = cli("erf", "model.py:Delta", "--input", "1x33x33", "-n", "4", "-f", "json",
                "--init", "default")
    assert min(fresh.json()["sigma"]) > 1.0  # torch's random kernels spread it


def test_the_users_module_is_left_as_it_was():
    model = Rolled().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    r = cnncalc.analyze(model, (3, 16, 16))
    cnncalc.erf(r, samples=2, init="constant")
    cnncalc.erf(r, samples=2, init="default")
    cnncalc.latency(r, min_time=0.0, dtype="bfloat16")
    cnncalc.verify(r, rf="none", fvcore=False)
    assert model.training and all(m.training for m in model.modules())
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_results_render_like_the_commands():
    r = cnncalc.analyze(Rolled(), (3, 16, 16))
    v = cnncalc.verify(r, rf="none", fvcore=False)
    assert v.to_dict()["agree"] is True and "| `conv1` |" in v.to_markdown()
    e = cnncalc.erf(r, samples=2)
    assert e.to_dict()["sigma"] == list(e.sigma) and "σ" in e.to_markdown()
    t = cnncalc.latency(r, min_time=0.0)
    assert t.to_dict()["batches"][0]["batch"] == 1 and t.to_csv().startswith("batch")
    for result in (v, e, t):
        assert len(repr(result)) < 200 and "<table>" in result._repr_html_()
