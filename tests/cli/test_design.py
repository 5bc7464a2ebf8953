"""The `sizes` and `check` commands, `rf --target`, `conv --to`, and `budget:` in specs."""

from __future__ import annotations

import pytest

from cnncalc.frontends.load import build, load_spec
from tests.conftest import cli, error_lines


def test_sizes_unet_lists_the_sizes_that_work():
    r = cli("sizes", "unet", "--range", "32..512")
    assert r.code == 0, r.err
    assert "runs:                  multiples of 16 from 32 (31 of 481)" in r.out
    assert "exact at every one of the 31 sizes that run" in r.out
    data = cli("sizes", "unet", "--range", "32..512", "-f", "json").json()
    assert data["runs"] == list(range(32, 513, 16))
    assert data["smallest"] == [32, 32]
    assert len(data["fails_at_join"]) == 481 - 31


def test_sizes_unet_sample_against_torch():
    torch = pytest.importorskip("torch")
    from cnncalc.measure.build import build_module

    s = load_spec("unet")
    data = cli("sizes", "unet", "--range", "32..96", "-f", "json").json()
    model = build_module(build(s)).eval()
    for n in (32, 33, 40, 48, 64, 70, 80):
        try:
            with torch.no_grad():
                model(torch.zeros(1, 1, n, n))
            ran = True
        except RuntimeError:
            ran = False
        assert ran == (n in data["runs"]), n


def test_sizes_table_and_tile():
    r = cli("sizes", "resnet50", "--range", "64..256:32", "--at", "224,320", "--tile", "512")
    assert r.code == 0, r.err
    assert "4,089,184,256" in r.out and "multiples of 32 from 64" in r.out
    assert "tiling with 512×512 tiles" in r.out


def test_check_resnet50():
    r = cli("check", "resnet50", "--max-params", "20M")
    assert r.code == 1
    assert "25,557,032 > 20,000,000" in r.out
    assert cli("check", "resnet50", "--max-params", "30M").code == 0
    j = cli("check", "resnet50", "--max-params", "30M", "--max-macs", "1G", "-f", "json")
    assert j.code == 1
    assert [x["ok"] for x in j.json()["limits"]] == [True, False]


def test_check_budget_in_spec(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text("name: b\ninput: 3x32x32\nbudget: {max_params: 100, input: 3x64x64}\n"
                    "layers:\n  - {conv: {out: 8, k: 3}}\n")
    r = cli("check", str(path))
    assert r.code == 1 and "224 > 100" in r.out and "3×64×64" in r.out  # 8·3·3·3 + 8 = 224
    assert cli("check", str(path), "--max-params", "1K").code == 0  # the option wins
    path.write_text("name: b\ninput: 3x32x32\nbudget: {max_parms: 100}\nlayers: [relu]\n")
    [line] = error_lines("check", str(path))
    assert "b.yaml:3:" in line and "unknown budget key 'max_parms'" in line


def test_bad_inputs_are_one_line():
    assert error_lines("check", "resnet50", "--max-params", "lots")
    assert error_lines("check", "resnet50")
    assert error_lines("sizes", "unet", "--range", "1..200x1..200")
    assert error_lines("sizes", "unet", "--tile", "8", "--range", "32..64")
    assert error_lines("conv", "224", "--to", "900")


def test_rf_target_and_conv_to():
    r = cli("rf", "--stack", "3x3", "--target", "224")
    assert r.code == 0 and "112 layers reach a 224 receptive field" in r.out
    r = cli("rf", "resnet50", "--target", "224")
    assert r.code == 0 and "(stage layer3)" in r.out
    r = cli("conv", "224", "--to", "112")
    assert r.code == 0 and "⌊(224 + 2·1 − 1·(3−1) − 1)/2⌋ + 1 = 112" in r.out
