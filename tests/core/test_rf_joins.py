"""Receptive fields through joins: largest and smallest over paths, alignment, global branches."""

from __future__ import annotations

from cnncalc.frontends.load import analyze
from cnncalc.report.rows import rows
from tests.conftest import cli, layers_of


def test_inception_concat_reports_largest_and_smallest_path(spec):
    path = spec("""
        - concat:
            b1: [{conv: {out: 4, k: 1}}]
            b3: [{conv: {out: 4, k: 3, p: 1}}]
            b5: [{conv: {out: 4, k: 3, p: 1}}, {conv: {out: 4, k: 3, p: 1}}]
            pool: [{maxpool: {k: 3, s: 1, p: 1}}, {conv: {out: 4, k: 1}}]
    """, input="3x16x16")
    join = layers_of(path)[-1]
    assert join["name"] == "concat1" and join["out_shape"] == [4 * 4, 16, 16]
    assert join["rf"]["size"] == [1 + 2 + 2, 1 + 2 + 2]  # the 3×3 → 3×3 path: 5
    assert join["rf_min"]["size"] == [1, 1]  # the 1×1 path
    assert join["aligned"] is True


def test_branch_names_come_from_the_mapping(spec):
    names = [x["name"] for x in layers_of(spec("""
        - concat: {left: [{conv: {out: 4, k: 1}}], right: [relu]}
    """, input="3x8x8"))]
    assert names == ["left.conv1", "right.relu1", "concat1"]


def test_asymmetric_same_padding_misaligns_a_residual(spec):
    # k=2 'same' pads 0 before and 1 after: its first unit is centred at 0.5, the identity at 0
    r = cli("shapes", spec("- {add: [[{conv: {out: 3, k: 2, p: same}}], []]}", input="3x8x8"),
            "-f", "json")
    data = r.json()
    assert data["layers"][-1]["aligned"] is False
    assert data["layers"][0]["rf"]["start"] == [0.5, 0.5]
    assert [w["code"] for w in data["warnings"]] == ["misaligned"]


def test_squeeze_excitation_branch_is_global_but_local_field_is_kept(spec):
    path = spec("""
        - {conv: {out: 8, k: 3, p: 1}}
        - mul: [[], [gap, {conv: {out: 2, k: 1}}, relu, {conv: {out: 8, k: 1}}, sigmoid]]
    """, input="3x16x16")
    mul = layers_of(path)[-1]
    assert mul["out_shape"] == [8, 16, 16]  # 8×16×16 times 8×1×1 broadcasts
    assert mul["rf"]["global"] is True  # the SE path sees the whole input
    assert mul["rf_min"] == {"size": [3, 3], "jump": [1, 1], "start": [0, 0], "global": False,
                             "global_axes": [False, False]}
    table = cli("rf", path, "-f", "md").out
    # the RF column shows the data path's field (issue 22), the gate's reach noted once
    assert "| `mul1` | mul | 8×16×16 | 3 | 1 | 0 | 3 | yes |" in table
    assert table.count("a gate broadcast over the map") == 1


def test_strided_recurrence_jump_and_start(spec):
    layers = layers_of(spec("""
        - {conv: {out: 4, k: 7, s: 2, p: 3}}
        - {maxpool: {k: 3, s: 2, p: 1}}
        - {conv: {out: 4, k: 3, p: 1}}
    """, input="3x64x64"))
    sizes = [x["rf"]["size"][0] for x in layers]
    jumps = [x["rf"]["jump"][0] for x in layers]
    starts = [x["rf"]["start"][0] for x in layers]
    assert sizes == [7, 7 + (3 - 1) * 2, 11 + (3 - 1) * 4]  # 7, 11, 19
    assert jumps == [2, 2 * 2, 4]
    assert starts == [0 + ((7 - 1) / 2 - 3) * 1, 0 + ((3 - 1) / 2 - 1) * 2, 0]  # all centred at 0


def test_transposed_conv_divides_the_jump(spec):
    layers = layers_of(spec("""
        - {conv: {out: 4, k: 2, s: 2}}
        - {convT: {out: 4, k: 2, s: 2}}
    """, input="3x16x16"))
    assert layers[1]["out_shape"] == [4, (8 - 1) * 2 + (2 - 1) + 1, 16]  # 16
    assert layers[1]["rf"]["jump"] == [1, 1]  # 2 / 2
    # a k=2, s=2 transposed conv: each output sees exactly one input unit, the field stays 2
    assert layers[1]["rf"]["size"] == [2, 2]
    assert layers[1]["macs"] == 4 * 4 * 2 * 2 * 8 * 8  # Cin·Cout·k²·H_in·W_in


def test_json_contract(spec):
    data = cli("shapes", "resnet18", "-f", "json").json()
    assert set(data) >= {"spec", "input", "layers", "totals", "warnings"}
    assert data["input"] == [3, 224, 224]
    assert set(data["totals"]) >= {"params", "macs", "flops"}
    assert data["totals"]["flops"] == 2 * data["totals"]["macs"]
    first = data["layers"][0]
    assert set(first) >= {"name", "kind", "in_shape", "out_shape", "params", "macs", "rf",
                          "rf_min"}
    assert first["rf"] == {"size": [7, 7], "jump": [2, 2], "start": [0, 0], "global": False,
                           "global_axes": [False, False]}
    assert [x["name"] for x in data["layers"][4:8]] == [
        "layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu1", "layer1.0.conv2"]
    down = next(x for x in data["layers"] if x["name"] == "layer2.0.shortcut.conv")
    assert down["args"]["stride"] == 2 and down["params"] == 64 * 128


def test_depth_collapses_blocks_and_keeps_totals():
    g = analyze("resnet50")
    collapsed = rows(g, 0)
    assert len(collapsed) == 11  # conv1 bn1 relu1 maxpool1 layer1-4 avgpool flatten1 fc
    assert sum(r.params for r in collapsed) == 25_557_032 and len(rows(g)) > 150
    md = cli("shapes", "resnet50", "-f", "md", "--depth", "0").out
    assert sum(line.startswith("| `") for line in md.splitlines()) == 11
    full = cli("shapes", "resnet50", "-f", "csv").out.splitlines()  # machine formats: every layer
    assert cli("shapes", "resnet50", "-f", "csv", "--depth", "0").out.splitlines() == full


def test_csv_and_markdown_render():
    md = cli("shapes", "lenet5", "-f", "md").out
    assert "| `c1` | conv | 6×28×28 | 156 | 117,600 | 5 | 1 |" in md  # 6·(1·5·5+1); 6·25·28·28
    assert "FLOPs = 2 × MACs" in md
    csv = cli("shapes", "lenet5", "-f", "csv").out.splitlines()
    assert csv[0].startswith("name,kind,inputs,in_shape,out_shape,params,buffers,macs,flops,"
                             "other_ops,activations,rf_size_h")
    assert csv[1].startswith("c1,conv,input,1x32x32,6x28x28,156,0,117600,235200,")


def test_largest_field_is_taken_per_axis(spec):
    # Inception v3's factorised branches: a 1×7 path and a 7×1 path join into a 7×7 field
    path = spec("""
        - concat:
            - [{conv: {out: 4, k: [1, 7], p: [0, 3]}}]
            - [{conv: {out: 4, k: [7, 1], p: [3, 0]}}]
    """, input="3x16x16")
    join = layers_of(path)[-1]
    assert join["rf"]["size"] == [7, 7]  # max(1, 7) per axis, not one path's 1×7 or 7×1
    assert join["rf_min"]["size"] == [1, 1]
