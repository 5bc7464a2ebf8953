"""`--weights`: a spec exported to torch, trained, saved and loaded back measures as the module
itself; a checkpoint's state_dict is found; names that do not match are listed in one error."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import cnncalc  # noqa: E402
from cnncalc.report.export_torch import export_torch  # noqa: E402
from tests.conftest import cli  # noqa: E402

SPEC = """\
name: tiny
input: 1x24x24
layers:
  - conv: {out: 4, k: 3, p: 1}
  - bn
  - relu
  - seq: [{conv: {out: 4, k: 3, p: 1, groups: 2}}, {scale: {init: 0.5}, name: gamma}]
    name: block
  - conv: {out: 2, k: 3, s: 2, p: 1}
"""


def exported(path):
    scope: dict = {}
    exec(export_torch(cnncalc.analyze(str(path)).graph), scope)  # as a user runs the export
    # the last class: the net (Swin's helper classes come before it)
    return [v for k, v in scope.items() if isinstance(v, type) and k != "nn"
            and issubclass(v, torch.nn.Module)][-1]


def trained(net):
    torch.manual_seed(1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(5):
        x = torch.randn(4, 1, 24, 24)
        loss = (net(x) - x[:, :2, ::2, ::2]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC)
    return path


def test_a_trained_export_loads_back_into_the_spec(spec_file, tmp_path):
    net = trained(exported(spec_file)())
    weights = tmp_path / "tiny.pt"
    torch.save({"epoch": 5, "state_dict": net.state_dict()}, weights)
    itself = cnncalc.erf(net, (1, 24, 24), samples=8)  # the trained module itself
    spec = cnncalc.erf(str(spec_file), samples=8, weights=weights)
    assert spec.layer == itself.layer
    assert spec.sigma == pytest.approx(itself.sigma, rel=1e-6)
    flat = [v for row in itself.map for v in row]
    assert [v for row in spec.map for v in row] == pytest.approx(flat, rel=1e-5, abs=1e-12)
    fresh = cnncalc.erf(str(spec_file), samples=8)  # torch's initialisation instead
    assert fresh.sigma != pytest.approx(itself.sigma, rel=1e-3)
    r = cli("erf", str(spec_file), "-n", "8", "--weights", str(weights), "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["sigma"] == pytest.approx(list(itself.sigma), rel=1e-6)


def test_a_model_reference_takes_its_weights(tmp_path, monkeypatch):
    (tmp_path / "model.py").write_text(
        "from torch import nn\n"
        "class Net(nn.Sequential):\n"
        "    def __init__(self):\n"
        "        super().__init__(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Conv2d(2, 1, 3))\n")
    monkeypatch.chdir(tmp_path)
    import importlib.util

    spec = importlib.util.spec_from_file_location("weights_model", tmp_path / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = trained_small(module.Net())
    torch.save({"model": net.state_dict()}, "w.pt")
    own = cnncalc.erf(net, (1, 16, 16), samples=4)
    r = cli("erf", "model.py:Net", "--input", "1x16x16", "-n", "4", "--weights", "w.pt",
            "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["sigma"] == pytest.approx(list(own.sigma), rel=1e-6)


def trained_small(net):
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.rand_like(p))
    return net.eval()


def test_names_that_do_not_match_are_listed_in_one_error(spec_file, tmp_path):
    state = exported(spec_file)().state_dict()
    state["extra.weight"] = torch.zeros(1)
    del state["conv1.weight"]
    state["conv2.weight"] = torch.zeros(4, 4, 3, 3)
    torch.save(state, tmp_path / "bad.pt")
    r = cli("erf", str(spec_file), "--weights", str(tmp_path / "bad.pt"))
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    assert "missing from the file: conv1.weight" in r.err
    assert "not in tiny: extra.weight" in r.err
    assert "shapes differ: conv2.weight (4×4×3×3 in the file, 2×4×3×3 in tiny)" in r.err
    torch.save({"optimizer": {}}, tmp_path / "none.pt")
    r = cli("erf", str(spec_file), "--weights", str(tmp_path / "none.pt"))
    assert r.code == 2 and "holds no state_dict" in r.err
