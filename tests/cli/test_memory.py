"""`cnncalc memory`: every format, --fit, one-line errors, --measure's exit code."""

from __future__ import annotations

import pytest

from tests.conftest import cli


def test_json_has_the_totals_and_the_layers():
    data = cli("memory", "resnet18", "--batch", "4", "--format", "json").json()
    t = data["totals"]
    assert t["params"] == 11_689_512 and t["params_bytes"] == 4 * 11_689_512
    assert t["optimizer_bytes"] == 2 * t["params_bytes"]  # adam by default
    assert t["activations_saved_bytes"] == sum(x["saved_bytes"] for x in data["layers"])
    assert data["not_modelled"] and data["setup"]["batch"] == 4


@pytest.mark.parametrize("format", ["table", "md", "csv"])
def test_formats(format):
    r = cli("memory", "lenet5", "--format", format)
    assert r.code == 0 and "c1" in r.out and "tanh1" in r.out


def test_fit_answers_on_resnet50():
    r = cli("memory", "resnet50", "--fit", "24GiB", "--format", "json")
    assert r.code == 0 and r.json()["totals"]["max_batch"] > 100
    infer = cli("memory", "resnet50", "--fit", "24GiB", "--mode", "infer", "--format", "json")
    assert infer.json()["totals"]["max_batch"] > r.json()["totals"]["max_batch"]


def test_fit_below_the_floor_is_one_line():
    r = cli("memory", "resnet50", "--fit", "100MiB")
    assert r.code == 2 and r.err.count("\n") == 1 and "390.2 MiB" in r.err


def test_bad_options_are_one_line():
    for args in (("--optimizer", "lion"), ("--mode", "eval"), ("--dtype", "int8"),
                 ("--fit", "lots"), ("--format", "xml")):
        r = cli("memory", "lenet5", *args)
        assert r.code == 2 and r.err.count("\n") == 1, args


def test_measure_agrees_and_exits_0():
    pytest.importorskip("torch")
    r = cli("memory", "lenet5", "--batch", "2", "--measure", "--format", "json")
    assert r.code == 0
    m = r.json()["measured"]
    assert m["saved_bytes"] == r.json()["totals"]["activations_saved_bytes"]
    assert m["mismatched_layers"] == []


def test_batchnorm_on_one_value_per_channel_is_one_line():
    # resnet18 at 32×32: layer4's maps are 1×1 (32 / 2 / 2 / 2 / 2 / 2), and batch norm in
    # training refuses one value per channel (torch: "Expected more than 1 value per channel")
    pytest.importorskip("torch")
    r = cli("memory", "resnet18", "--input", "3x32x32", "--measure")
    assert r.code == 2 and r.out == "" and r.err.count("\n") == 1, r.err
    assert "layer4.0.bn1" in r.err and "more than one value per channel" in r.err
    assert "--batch 2" in r.err and "Traceback" not in r.err
    assert cli("memory", "resnet18", "--input", "3x32x32", "--batch", "2", "--measure",
               "--format", "json").code == 0


def test_the_analytic_path_warns_before_measuring():
    data = cli("memory", "resnet18", "--input", "3x32x32", "--format", "json").json()
    assert any("layer4.0.bn1" in n and "--batch 2" in n for n in data["notes"])
    assert not cli("memory", "resnet18", "--input", "3x32x32", "--batch", "2",
                   "--format", "json").json()["notes"]
    infer = cli("memory", "resnet18", "--input", "3x32x32", "--mode", "infer", "--format", "json")
    assert not infer.json()["notes"]  # eval mode uses the running statistics
