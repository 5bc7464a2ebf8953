"""`cnncalc zoo`: the lineage table of every zoo spec, in each format."""

from __future__ import annotations

import csv
import io

from cnncalc.frontends.load import analyze, zoo_names
from tests.conftest import cli
from tests.core.test_zoo_numbers import TORCHVISION


def zoo_json() -> dict:
    r = cli("zoo", "-f", "json")
    assert r.code == 0, r.err
    return r.json()


def test_zoo_json_lists_every_spec_in_lineage_order():
    models = zoo_json()["models"]
    assert sorted(m["name"] for m in models) == zoo_names()
    assert [m["name"] for m in models][:3] == ["lenet5", "alexnet", "googlenet"]
    assert models[-1]["name"] == "convnext_tiny"
    years = [m["year"] for m in models]
    assert years == sorted(years)
    resnets = [m["name"] for m in models if m["name"].startswith("resnet")]
    assert resnets == ["resnet18", "resnet34", "resnet50", "resnet101"]  # numbers, not text


def test_zoo_json_fields():
    data = zoo_json()
    assert set(data["conventions"]) == {"params", "macs", "flops", "rf", "attention_macs"}
    by_name = {m["name"]: m for m in data["models"]}
    r50 = by_name["resnet50"]
    assert set(r50) == {"name", "year", "paper", "idea", "input", "params", "macs", "flops", "rf"}
    assert (r50["year"], r50["input"]) == (2015, [3, 224, 224])
    assert (r50["params"], r50["macs"]) == TORCHVISION["resnet50"]
    assert r50["flops"] == 2 * 4_089_184_256
    assert by_name["inception_v3"]["input"] == [3, 299, 299]


def test_final_rf_is_the_field_before_global_pooling():
    by_name = {m["name"]: m for m in zoo_json()["models"]}
    # VGG-16: five stages of 3×3 convs (2, 2, 3, 3, 3) and 2×2 pools at jumps 1, 2, 4, 8, 16
    assert by_name["vgg16"]["rf"]["size"] == [
        1 + (2 * 2 + 1) * 1 + (2 * 2 + 1) * 2 + (3 * 2 + 1) * 4 + (3 * 2 + 1) * 8
        + (3 * 2 + 1) * 16] * 2  # = 212
    # MobileNet v1: 3×3 stem at stride 2, then 13 depthwise 3×3 (the pointwise add nothing)
    jumps = [2, 2, 4, 4, 8, 8, 16, 16, 16, 16, 16, 16, 32]  # the jump each depthwise conv sees
    assert by_name["mobilenet_v1"]["rf"]["size"] == [3 + sum(2 * j for j in jumps)] * 2  # = 315
    assert all(not m["rf"]["global"] for m in by_name.values())


def test_final_rf_leaves_out_squeeze_and_excitation_gates():
    # Through the SE gate every unit sees the whole image; the zoo's RF follows the spatial path.
    g = analyze("efficientnet_b0")
    assert g.nodes["avgpool"].in_shapes == [(1280, 7, 7)]
    assert g.nodes["last_conv.silu1"].rf.max.is_global  # the engine's largest over all paths
    rf = {m["name"]: m for m in zoo_json()["models"]}["efficientnet_b0"]["rf"]
    assert rf["global"] is False and rf["jump"] == [32, 32]


def test_zoo_md_is_the_lineage_table():
    r = cli("zoo", "-f", "md")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "| Model | Year | Input | Params | MACs | RF | Key idea |"
    assert lines[1] == "|---|---:|---|---:|---:|---:|---|"
    assert lines[2] == ("| `lenet5` | 1998 | 1×32×32 | 61,706 | 416,520 | 32 | "
                        "conv → pool → conv → pool → FC, trained end to end |")
    assert len([x for x in lines if x.startswith("| `")]) == len(zoo_names())
    assert lines[-1].startswith("_MACs = conv/linear multiply-accumulates without bias")


def test_zoo_csv_has_exact_numbers():
    r = cli("zoo", "-f", "csv")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    # the JSON's names; nets of 1, 2 and 3 spatial axes side by side: each quantity's axis
    # columns together (l, t, h, w), empty where a net has no such axis
    assert lines[0] == ("name,year,paper,idea,input,params,macs,flops,"
                        "rf_size_l,rf_size_t,rf_size_h,rf_size_w,"
                        "rf_jump_l,rf_jump_t,rf_jump_h,rf_jump_w,"
                        "rf_start_l,rf_start_t,rf_start_h,rf_start_w,rf_global,"
                        "rf_global_axes_l,rf_global_axes_t,rf_global_axes_h,rf_global_axes_w")
    assert ",3x224x224,138357544,15470264320,30940528640,,,212,212," in r.out  # vgg16
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(r.out))}
    assert rows["wavenet"]["rf_size_l"] == "1024" and rows["wavenet"]["rf_start_l"] == "-511.5"
    assert rows["wavenet"]["rf_size_h"] == rows["wavenet"]["rf_size_t"] == ""
    assert rows["r3d_18"]["input"] == "3x16x112x112" and rows["r3d_18"]["rf_size_l"] == ""
    assert [rows["r3d_18"][f"rf_jump_{a}"] for a in "thw"] == ["8", "16", "16"]


def test_zoo_table_names_every_model():
    r = cli("zoo")
    assert r.code == 0, r.err
    assert all(name in r.out for name in zoo_names())
    assert "25,557,032" in r.out and "4,089,184,256" in r.out  # resnet50, never rounded


def test_zoo_rejects_an_unknown_format():
    r = cli("zoo", "-f", "yaml")
    assert r.code == 2
    assert "unknown format 'yaml'" in r.err


def test_bare_zoo_names_work_outside_the_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli("shapes", "resnet50", "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["totals"]["params"] == 25_557_032
    assert cli("zoo", "-f", "csv").code == 0
