"""`cnncalc verify`: analytic beside measured, through the CLI, and the measurements behind it."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

from cnncalc.core.layers import registry
from tests.conftest import cli

torch = pytest.importorskip("torch")

from cnncalc.frontends.load import analyze  # noqa: E402
from cnncalc.measure.support import measure_fields, select  # noqa: E402


def by_name(result) -> dict:
    return {x["name"]: x for x in result.json()["layers"]}


def test_lenet5_agrees_everywhere_with_every_field_measured():
    r = cli("verify", "lenet5", "--rf", "all", "-f", "json")
    assert r.code == 0, r.out
    doc = r.json()
    assert doc["agree"] and doc["disagreements"] == 0
    rows = by_name(r)
    c1 = rows["c1"]
    assert c1["out_shape"] == {"analytic": [6, 28, 28], "measured": [6, 28, 28], "ok": True}
    assert c1["params"]["measured"] == 6 * 1 * 5 * 5 + 6  # = 156
    assert c1["macs"]["measured"] == 6 * 1 * 5 * 5 * 28 * 28  # = 117,600
    assert c1["rf"]["measured"]["size"] == [5, 5] and c1["rf"]["measured"]["jump"] == [1, 1]
    # c3: c1's 5, the 2×2 stride-2 pool adds (2−1)·1, the 5×5 conv at jump 2 adds (5−1)·2
    assert rows["c3"]["rf"]["measured"]["size"] == [5 + (2 - 1) * 1 + (5 - 1) * 2] * 2  # = 14
    assert rows["c3"]["rf"]["measured"]["jump"] == [2, 2]
    assert rows["f6"]["rf"]["measured"]["global"] is True
    assert rows["flatten1"]["rf"]["measured"] == {"status": "no-spatial", "input": None,
                                                  "size": None, "jump": None, "global": None}
    assert rows["flatten1"]["rf"]["ok"] is None  # said so, not faked


def test_resnet18_small_input_agrees_and_fields_match_hand_arithmetic():
    r = cli("verify", "resnet18", "--input", "3x64x64", "-f", "json")
    assert r.code == 0, r.out
    rows = by_name(r)
    # conv1 7, maxpool +2·2, layer1's four 3×3 at jump 4, layer2.0.conv1 at jump 4, three at 8
    assert rows["layer2.1.relu2"]["rf"]["measured"]["size"] == [7 + 2*2 + 4*2*4 + 2*4 + 3*2*8] * 2
    assert rows["layer2.1.relu2"]["rf"]["measured"]["jump"] == [8, 8]
    assert rows["fc"]["rf"]["measured"]["global"] is True
    bn = rows["layer1.0.bn1"]["fvcore"]
    # fvcore: 2 per value for an affine batchnorm (scale and shift); MACs by our convention: 0
    assert bn["value"] == 2 * 64 * 16 * 16 and "fvcore counts batch_norm" in bn["note"]
    assert rows["layer1.0.add1"]["flop_counter_skipped"] == ["add"]
    assert "fvcore skips add" in rows["layer1.0.add1"]["fvcore"]["note"]


def test_alexnet_at_a_small_input_agrees():
    r = cli("verify", "alexnet", "--input", "3x96x96", "--no-fvcore")
    assert r.code == 0, r.out
    assert "alexnet: all agree" in r.out


def test_transposed_conv_and_upsample_fields_are_the_largest_over_units(spec):
    path = spec("""
        - {conv: {out: 4, k: 3, p: 1}}
        - {upsample: {scale_factor: 2, mode: bilinear}}
        - {convT: {out: 4, k: 3, s: 2, p: 1, output_padding: 1}}
        - {upsample: {scale_factor: 2, mode: nearest}}
        - {conv: {out: 2, k: 3, p: 1}}
    """, input="1x24x24")
    r = cli("verify", path, "--rf", "all", "-f", "json")
    assert r.code == 0, r.out
    rows = by_name(r)
    # bilinear ×2 after a 3×3 conv: an output reads two neighbours, 3 + 1·1 = 4, jump 1/2
    assert rows["upsample1"]["rf"]["measured"]["size"] == [3 + 1] * 2
    assert rows["upsample1"]["rf"]["measured"]["jump"] == [0.5, 0.5]
    # upsample1's unit 2m reads conv1 units m−1, m: pixels [m−2, m+1]; unit 2m+1 reads m, m+1:
    # [m−1, m+2]. convT k3 s2 p1: an even output reads one upsample1 unit, an odd one two
    # neighbours; 2m+1 and 2m+2 cover the same pixels, 2m and 2m+1 reach one further: 4 + 1 = 5
    convt = rows["convT1"]["rf"]
    assert convt["analytic"]["size"] == [4 + 1] * 2 and convt["measured"]["size"] == [5, 5]
    assert convt["ok"] is True
    assert convt["measured"]["jump"] == [0.25, 0.25]
    assert rows["conv2"]["rf"]["measured"]["jump"] == [0.125, 0.125]  # nearest ×2: 1/4 / 2


def test_bilinear_upsample_after_a_transposed_conv(spec):
    # convT1's unit 2i reads conv1 unit i (3 pixels), unit 2i+1 units i, i+1 (3 + 1 = 4). A
    # bilinear output reads two neighbouring convT1 units (weights ¾ and ¼), one even and one
    # odd, and the odd one's field holds the even one's: 4, not 4 + 1/2
    path = spec("""
        - {conv: {out: 4, k: 3, p: 1}}
        - {convT: {out: 4, k: 3, s: 2, p: 1, output_padding: 1}}
        - {upsample: {scale_factor: 2, mode: bilinear}}
    """, input="1x24x24")
    r = cli("verify", path, "--rf", "all", "-f", "json", "--no-fvcore")
    assert by_name(r)["upsample1"]["rf"]["ok"] is True


def test_a_wrong_formula_is_caught_and_shown_first(monkeypatch):
    conv = registry.KINDS["conv"]
    monkeypatch.setitem(registry.KINDS, "conv", dataclasses.replace(
        conv, macs=lambda a, i, o: conv.macs(a, i, o) + 1))
    r = cli("verify", "lenet5", "--rf", "none", "-f", "json")
    assert r.code == 1
    layers = r.json()["layers"]
    assert [x["name"] for x in layers[:3]] == ["c1", "c3", "c5"]  # disagreeing rows first
    assert layers[0]["macs"] == {"analytic": 117_600 + 1, "measured": 117_600, "ok": False,
                                 "shortfall": None}
    assert all(x["agrees"] for x in layers[3:])


@pytest.mark.parametrize("args, message", [
    (["lenet5", "--rf", "some"], "unknown --rf 'some'"),
    (["lenet5", "--device", "tpu"], "unknown device 'tpu'"),
    (["lenet5", "-f", "xml"], "unknown format 'xml'"),
    (["lenet6"], "no spec file or zoo spec named 'lenet6'"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    r = cli("verify", *args)
    assert r.code == 2 and message in r.err and len(r.err.strip().splitlines()) == 1


def test_csv_and_markdown_have_a_row_per_layer():
    csv = cli("verify", "lenet5", "--rf", "none", "-f", "csv")
    assert csv.code == 0
    lines = csv.out.strip().splitlines()
    assert lines[0].startswith("name,kind,agrees,in_shape,out_shape_analytic,out_shape_measured,"
                               "out_shape_ok,params_analytic,params_measured,params_ok")
    assert len(lines) == 1 + 12 and lines[1].startswith("c1,conv,true,1x32x32,6x28x28,6x28x28,"
                                                        "true,156,156,true")
    assert "✓" not in csv.out and "–" not in csv.out
    md = cli("verify", "lenet5", "--rf", "none", "-f", "md")
    assert md.out.startswith("**lenet5: all agree") and md.out.count("\n| `") == 12  # names
    assert sum(line.startswith("| `c") for line in md.out.splitlines()) == 3  # c1, c3, c5


def test_stage_selection_and_the_ladder_of_inputs():
    g = analyze("resnet18", "3x64x64")
    names = select(g, "stages")
    assert names == ["conv1", "bn1", "relu1", "maxpool1", "layer1.1.relu2", "layer2.1.relu2",
                     "layer3.1.relu2", "layer4.1.relu2", "avgpool", "flatten1", "fc"]
    got = measure_fields(g, ["conv1", "layer1.1.relu2"], torch.device("cpu"))
    assert got["conv1"].input == (32, 32)  # 7-pixel field: the smallest rung suffices
    assert got["layer1.1.relu2"].size == (7 + 2*2 + 4*2*4,) * 2  # = 43
    assert got["layer1.1.relu2"].jump == (Fraction(4), Fraction(4))


def test_unit_periods_of_upsampling_striding_and_adaptive_pooling():
    from cnncalc.core.engine import Graph

    g = Graph((1, 15, 15), "periods")
    g.add("a", "adaptive_avgpool", {"size": 6}, ["input"])  # 15/6 = 5/2: bins 3,2,3,2,…
    g.add("u", "upsample", {"scale_factor": 2, "mode": "nearest"}, ["a"])
    g.add("c", "conv", {"out": 1, "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 1,
                        "groups": 1, "bias": False}, ["u"])
    # the period in units of the engine's field lattice, per axis: what verify measures over
    p = {x.name: (x.rf.max.h.q, x.rf.max.w.q) for x in g.layers}
    assert p["a"] == (2, 2)  # the denominator of 15/6 = 5/2
    assert p["u"] == (2 * 2, 2 * 2)  # nearest ×2 doubles it
    assert p["c"] == (4 // 2, 4 // 2)  # stride 2 halves it: 4 / gcd(4, 2)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_verify_on_a_missing_gpu_is_one_line():
    r = cli("verify", "lenet5", "--device", "cuda")
    assert r.code == 2 and "CUDA is not available" in r.err


def test_conv_after_two_transposed_convs(spec):
    path = spec("""
        - {conv: {out: 2, k: 3, p: 1}}
        - {maxpool: 2}
        - {conv: {out: 2, k: 3, p: 1}}
        - {maxpool: 2}
        - {conv: {out: 2, k: 3, p: 1}}
        - {convT: {out: 2, k: 2, s: 2}}
        - {conv: {out: 2, k: 3, p: 1}}
        - {convT: {out: 2, k: 2, s: 2}}
        - {conv: {out: 2, k: 3, p: 1}}
    """, input="1x64x64")
    r = cli("verify", path, "--rf", "all", "-f", "json", "--no-fvcore")
    rows = by_name(r)
    # conv4's units p = 2m and 2m + 1 see conv3 units {m−1, m} and {m, m+1}: their centres step
    # by one conv3 unit (4 px) every two units. conv5 sees two neighbouring conv4 units through
    # convT2; when they are 2m and 2m + 1 the union is 22 + 4 = 26, not 22 + 2·1 = 24
    assert rows["conv4"]["rf"]["measured"]["size"] == [18 + 2 * 2] * 2  # = 22, and agrees
    assert rows["conv5"]["rf"]["measured"]["size"] == [22 + 4] * 2
    assert rows["conv5"]["rf"]["ok"] is True


def test_a_transposed_conv_with_k_below_s_leaves_units_without_a_field(spec):
    path = spec("""
        - {conv: {out: 2, k: 3, p: 1}}
        - {convT: {out: 2, k: 1, s: 2}}
        - {conv: {out: 2, k: 3, p: 1}}
    """, input="1x16x16")
    r = cli("verify", path, "--rf", "all", "-f", "json", "--no-fvcore")
    assert r.code == 0, r.out
    rows = by_name(r)
    # convT1: even outputs copy conv1's [m−1, m+1], odd outputs read nothing (an empty support)
    assert rows["convT1"]["rf"]["measured"]["size"] == [3, 3]
    assert rows["convT1"]["rf"]["measured"]["jump"] == [0.5, 0.5]
    # conv2's odd unit 2m+1 reads convT1 units 2m and 2m+2: conv1's m and m+1, [m−1, m+2]
    assert rows["conv2"]["rf"]["measured"]["size"] == [3 + 1] * 2


def test_a_unit_no_input_pixel_reaches_is_a_disagreement_not_a_border(spec, monkeypatch):
    import cnncalc.measure.support as field

    def zero(net):  # every weight 0: no gradient reaches the input from any unit
        with torch.no_grad():
            for p in net.parameters():
                p.zero_()
        return net

    monkeypatch.setattr(field, "averaging_weights", zero)
    path = spec("""
        - {conv: {out: 2, k: 3, p: 1}, name: c}
        - {gap: {}, name: pool}
    """, input="1x16x16")
    r = cli("verify", path, "--rf", "all", "-f", "json", "--no-fvcore")
    assert r.code == 1, r.out
    rows = by_name(r)
    for name in ("c", "pool"):  # the engine gives both a field; torch measures none
        rf = rows[name]["rf"]
        assert rf["ok"] is False and rf["measured"]["status"] == "empty"
        assert "no input pixel reaches this unit" in rf["note"]
    assert rows["c"]["rf"]["measured"]["input"] == [16, 16]  # measured once, not up to 2048
    table = cli("verify", path, "--rf", "all", "--no-fvcore")
    assert table.code == 1 and "2 of 2 layers disagree" in table.out


def test_read_field_of_an_all_zero_gradient():
    from cnncalc.measure.support import graph_at, period, read_field

    g = graph_at(analyze("lenet5"), (32, 32))
    c1 = g.nodes["c1"]  # 5×5, a field in every unit
    got = read_field(torch.zeros(2, 1, 32, 32, dtype=torch.float64), c1, (32, 32), period(g, "c1"))
    assert got.status == "empty" and got.agrees is False
    f6 = g.nodes["f6"]  # global
    got = read_field(torch.zeros(1, 1, 32, 32, dtype=torch.float64), f6, (32, 32), 1)
    assert got.status == "empty" and got.agrees is False


def test_a_global_support_must_span_exactly_the_pixels_that_reach_it(spec):
    from cnncalc.measure.support import reach, read_field

    # k3 s2 p0 on 17 reads pixels 0..16; on 16 the floor drops pixel 15 (the engine warns), so
    # 15×15 pixels reach the pooled unit: the support must be exactly rows and columns 0..14
    path = spec("""
        - {conv: {out: 2, k: 3, s: 2}, name: c}
        - {gap: {}, name: pool}
    """, input="1x16x16")
    g = analyze(path)
    assert g.floor_warnings
    assert reach(g)["pool"] == ((0, 14), (0, 14))
    got = measure_fields(g, ["pool"], torch.device("cpu"))["pool"]
    assert got.status == "global" and got.size == (15, 15) and got.agrees is True
    assert got.floor_drop  # named in the note, not a disagreement

    def grad(rows: int, cols: int):
        x = torch.zeros(1, 1, 16, 16, dtype=torch.float64)
        x[0, 0, :rows, :cols] = 1
        return x

    pool = g.nodes["pool"]
    for rows, cols in [(1, 1), (14, 15), (15, 14), (16, 16)]:  # too small, or past the drop
        r = read_field(grad(rows, cols), pool, (16, 16), 1, True, reach(g)["pool"])
        assert r.status == "global" and r.agrees is False, (rows, cols)
    r = read_field(grad(15, 15), pool, (16, 16), 1, True)  # the default: the engine's union
    assert r.agrees is True
