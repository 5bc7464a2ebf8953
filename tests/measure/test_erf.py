"""`cnncalc erf`: the measured effective receptive field against the closed form."""

from __future__ import annotations

import math

import pytest

from cnncalc.frontends.load import analyze
from tests.conftest import cli

torch = pytest.importorskip("torch")

from cnncalc.measure.erf import areas, default_layer, measure_erf, power_law  # noqa: E402
from cnncalc.report.erf import binned, heatmap, scaled  # noqa: E402

CONV = "{conv: {out: 2, k: 3, p: 1, bias: false}}"


def uniform(path: str, **kw):
    """Measure the last layer of a spec with averaging kernels and no activations."""
    g = analyze(path)
    return g, measure_erf(g, samples=kw.pop("samples", 2), init=kw.pop("init", "uniform"),
                      linear=True, **kw)


def close(measured: float, expected: float, rel: float = 0.02) -> bool:
    return abs(measured / expected - 1) < rel


# Measured against the closed form -------------------------------------------------------------

def test_ten_linear_3x3_uniform_matches_sqrt_10_8_12(spec):
    path = spec(f"- {{{CONV[1:-1]}, repeat: 10}}", input="2x31x31")
    g, e = uniform(path)
    expected = math.sqrt(10 * (3**2 - 1) / 12)  # = 2.582
    assert e.theory_sigma == pytest.approx((expected, expected))
    assert close(e.sigma[0], expected) and close(e.sigma[1], expected)
    assert e.rf_size == (1 + 10 * 2,) * 2  # = 21, inside the 31×31 input
    assert not e.rf_clipped
    assert e.mean == pytest.approx(e.rf_centre)  # = (15, 15): the map is centred on the field


def test_stride_counts_with_its_jump(spec):
    path = spec(f"""
        - {{conv: {{out: 2, k: 3, s: 2, p: 1, bias: false}}}}
        - {{{CONV[1:-1]}, repeat: 3}}
        """, input="2x41x41")
    g, e = uniform(path)
    expected = math.sqrt(8 / 12 + 3 * 2**2 * 8 / 12)  # = √(104/12) ≈ 2.944
    assert e.theory_sigma[0] == pytest.approx(expected)
    assert close(e.sigma[0], expected) and close(e.sigma[1], expected)
    assert e.rf_size == (3 + 3 * 2 * 2,) * 2  # = 15


def test_dilations_scale_by_d_squared(spec):
    path = spec("""
        - {conv: {out: 2, k: 3, p: 1, bias: false}}
        - {conv: {out: 2, k: 3, p: 2, d: 2, bias: false}}
        - {conv: {out: 2, k: 3, p: 4, d: 4, bias: false}}
        """, input="2x31x31")
    g, e = uniform(path)
    expected = math.sqrt((1 + 2**2 + 4**2) * 8 / 12)  # = √14 ≈ 3.742
    assert close(e.sigma[0], expected) and close(e.sigma[1], expected)
    assert e.rf_size == (1 + 2 + 4 + 8,) * 2  # = 15


def test_average_and_max_pool_are_uniform_kernels(spec):
    path = spec(f"""
        - {{avgpool: {{k: 2, s: 2}}}}
        - {CONV}
        - {{maxpool: {{k: 3, s: 1, p: 1}}}}
        """, input="2x32x32")
    g, e = uniform(path)
    # avg 2 taps: (2²−1)/12 = 0.25; then two 3-tap windows at jump 2: 2·2²·8/12
    expected = math.sqrt(0.25 + 2 * 4 * 8 / 12)  # ≈ 2.358
    assert e.theory_sigma[1] == pytest.approx(expected)
    assert close(e.sigma[0], expected) and close(e.sigma[1], expected)


def test_residual_is_a_mixture_of_its_paths(spec):
    path = spec(f"""
        - {CONV}
        - residual: [{CONV}, {CONV}]
        """, input="2x25x25")
    g, e = uniform(path)
    # averaging kernels keep each path's mass: shortcut (σ² 0) and body (two 3×3: 16/12)
    # weigh 1:1 on top of the stem's 8/12
    expected = math.sqrt(8 / 12 + (0 + 16 / 12) / 2)  # = √(16/12) ≈ 1.155
    assert e.theory_sigma[0] == pytest.approx(expected)
    assert close(e.sigma[0], expected) and close(e.sigma[1], expected)
    assert e.rf_size == (1 + 3 * 2,) * 2  # = 7: the theoretical field is the longest path's


def test_residual_with_constant_weights_leans_on_the_body(spec):
    path = spec(f"""
        - {CONV}
        - residual: [{CONV}, {CONV}]
        """, input="2x25x25")
    g, e = uniform(path, init="constant")
    # every weight 1: a conv multiplies the mass by fan_in = 2·3·3 = 18, so the body weighs
    # 18² = 324 against the shortcut's 1
    expected = math.sqrt(8 / 12 + 324 * (16 / 12) / 325)  # ≈ 1.409
    assert e.theory_sigma[0] == pytest.approx(expected)
    assert close(e.sigma[0], expected) and close(e.sigma[1], expected)


def test_concat_mixes_by_channels(spec):
    path = spec(f"""
        - concat: [[], [{CONV}]]
        - {{conv: {{out: 2, k: 1, bias: false}}}}
        """, input="2x15x15")
    g, e = uniform(path)
    # 2 identity channels and 2 conv channels of equal mass, averaged by the 1×1 conv
    expected = math.sqrt((0 + 8 / 12) / 2)  # ≈ 0.577
    assert e.theory_sigma[0] == pytest.approx(expected)
    assert close(e.sigma[0], expected) and close(e.sigma[1], expected)


def test_positive_part_equals_abs_when_every_gradient_is_positive(spec):
    path = spec(f"- {{{CONV[1:-1]}, repeat: 3}}", input="2x15x15")
    _, a = uniform(path, aggregate="abs")
    _, p = uniform(path, aggregate="positive")
    assert a.sigma == pytest.approx(p.sigma)


def test_positive_part_is_smaller_with_random_weights(spec):
    path = spec(f"- {{{CONV[1:-1]}, repeat: 3}}", input="2x15x15")
    g = analyze(path)
    a = measure_erf(g, samples=4, aggregate="abs")
    p = measure_erf(g, samples=4, aggregate="positive")
    assert sum(map(sum, p.map)) < sum(map(sum, a.map))


def test_chunks_give_the_same_map_as_one_pass(spec):
    path = spec(f"- {{{CONV[1:-1]}, repeat: 3}}\n- relu", input="2x15x15")
    g = analyze(path)
    one = measure_erf(g, samples=6, chunk=6)
    three = measure_erf(g, samples=6, chunk=2)
    assert torch.allclose(torch.tensor(one.map), torch.tensor(three.map), rtol=1e-5)


# Numbers of a map ----------------------------------------------------------------------------

def test_area_is_the_smallest_centred_square():
    m = torch.zeros(9, 9, dtype=torch.float64)
    m[3:6, 3:6] = 1.0
    a = areas(m, (4, 4))
    # the centre pixel holds 1/9 ≈ 11% < 20%; the 3×3 square holds everything
    assert [x.side for x in a] == [3, 3, 3, 3]
    assert a[0].ratio == pytest.approx(9 / 81)


def test_area_reports_when_it_cannot_be_reached():
    m = torch.ones(9, 9, dtype=torch.float64)
    a = areas(m, (1, 1))  # only squares of side 1 and 3 fit around pixel (1, 1)
    assert a[0].side is None and a[0].ratio is None  # 9/81 ≈ 11% < 20%


def test_default_chunk_fits_the_memory_budget(spec):
    from cnncalc.measure.erf import auto_chunk

    g = analyze(spec(f"- {CONV}", input="2x15x15"))
    # one conv output of 2·15·15 float32 values, kept about 3 times: 5,400 bytes a sample
    assert auto_chunk(g, 10**9, torch.device("cpu")) == 2**31 // (3 * 4 * 2 * 15 * 15)  # 397,682
    assert auto_chunk(g, 50, torch.device("cpu")) == 50


def test_power_law_exponent():
    assert power_law([1, 4, 16], [1.0, 2.0, 4.0]) == pytest.approx(0.5)


def test_default_layer_is_the_last_with_spatial_extent():
    assert default_layer(analyze("resnet18")) == "layer4.1.relu2"  # then avgpool 1×1, fc


def test_heatmap_bins_and_outlines_the_field(spec):
    path = spec(f"- {{{CONV[1:-1]}, repeat: 3}}", input="2x15x15")
    _, e = uniform(path)
    grid, b = binned(scaled(e.map, False), 8)
    assert b == math.ceil(15 / 8) and len(grid) == math.ceil(15 / b)  # 2 pixels a cell, 8 rows
    assert max(map(max, grid)) <= 1.0
    text = "\n".join(heatmap(e, log=True, cells=8))
    assert "░░" in text and "log10(1+x) scale" in text
    assert "@@" in text and "\x1b" not in text  # no colour: a character ramp, bright = '@'
    assert "\x1b[48;2;" in "\n".join(heatmap(e, log=True, cells=8, colour=True))


# Through the CLI -----------------------------------------------------------------------------

def test_seven_3x3_layers_theoretical_15_effective_smaller():
    r = cli("erf", "--stack", "3x3", "--depth", "7", "--init", "uniform", "--linear",
            "-n", "2", "-f", "json")
    assert r.code == 0, r.err
    row = r.json()["stack"][0]
    assert row["rf_size"] == [1 + 7 * 2] * 2  # = 15
    sigma = math.sqrt(7 * 8 / 12)  # ≈ 2.160
    assert row["sigma"][0] == pytest.approx(sigma, rel=0.02)
    assert row["erf_2sigma"][0] == pytest.approx(4 * sigma, rel=0.02)  # ≈ 8.6 < 15
    assert row["erf_2sigma_over_rf"][0] < 0.6  # 8.64/15 = 0.576


def test_seven_3x3_in_one_sentence():
    r = cli("erf", "--stack", "3x3", "--depth", "7", "--init", "uniform", "--linear",
            "-n", "1", "-f", "md")
    assert r.code == 0, r.err
    # RF 1 + 7·2 = 15; ERF 4·√(7·8/12) = 8.64; 8.64/15 = 0.576
    assert "Theoretical RF 15, effective (±2σ) 8.6 px: 0.58 of it" in r.out


def test_seven_3x3_with_random_weights_is_smaller_too():
    r = cli("erf", "--stack", "3x3", "--depth", "7", "-n", "16", "-f", "json")
    assert r.code == 0, r.err
    row = r.json()["stack"][0]
    assert max(row["erf_2sigma"]) < 15


def test_stack_series_shows_the_square_root_law():
    r = cli("erf", "--stack", "3x3", "--depths", "2,8", "--init", "uniform", "--linear",
            "-n", "1", "-f", "md")
    assert r.code == 0, r.err
    assert "fitted a = 0.500 measured; closed form 0.500" in r.out
    assert f"| 8 | 25×25 | 17 | {math.sqrt(8 * 8 / 12):.3f} |" in r.out  # σ = √(64/12) ≈ 2.309


def test_json_uses_the_shapes_names(spec, tmp_path):
    path = spec(f"- {{{CONV[1:-1]}, repeat: 2}}", input="2x15x15")
    png = tmp_path / "erf.png"
    r = cli("erf", path, "-n", "2", "-f", "json", "--png", str(png), "--log")
    assert r.code == 0, r.err
    d = r.json()
    assert d["layer"]["name"] == "conv1.1" and d["layer"]["kind"] == "conv"
    assert d["layer"]["rf"]["size"] == [5, 5]  # 1 + 2·2
    assert d["layer"]["out_shape"] == [2, 15, 15]
    assert [a["t"] for a in d["areas"]] == [0.2, 0.3, 0.5, 0.99]
    assert d["sigma_closed_form"] == pytest.approx([math.sqrt(2 * 8 / 12)] * 2)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_table_prints_numbers_and_heatmap(spec):
    path = spec(f"- {{{CONV[1:-1]}, repeat: 2}}", input="2x15x15")
    r = cli("erf", path, "-n", "2", "--init", "uniform", "--linear")
    assert r.code == 0, r.err
    assert "σ closed form" in r.out and "1.15" in r.out  # √(16/12) ≈ 1.155
    assert "░ = theoretical RF" in r.out


@pytest.mark.parametrize("args, message", [
    (["--layer", "conv9"], "no layer named 'conv9'"),
    (["--init", "zeros"], "unknown init 'zeros'"),
    (["--aggregate", "max"], "unknown aggregate 'max'"),
    (["-f", "xml"], "unknown format 'xml'"),
    (["--depth", "5,10"], "--depths and --relu go with --stack"),
])
def test_errors_are_one_line(spec, args, message):
    path = spec(f"- {CONV}", input="2x15x15")
    r = cli("erf", path, "-n", "1", *args)
    assert r.code == 2 and message in r.err and "Traceback" not in r.err


def test_cuda_missing_is_one_line(spec):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    r = cli("erf", spec(f"- {CONV}", input="2x15x15"), "--device", "cuda")
    assert r.code == 2 and "CUDA is not available" in r.err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_cuda_matches_cpu(spec):
    path = spec(f"- {{{CONV[1:-1]}, repeat: 4}}\n- relu", input="2x21x21")
    g = analyze(path)
    cpu = measure_erf(g, samples=4)
    gpu = measure_erf(g, samples=4, device=torch.device("cuda"))
    assert gpu.sigma == pytest.approx(cpu.sigma, rel=1e-4)


def test_resnet18_layer2_matches_the_closed_form():
    g = analyze("resnet18", "3x128x128")
    e = measure_erf(g, "layer2.1.relu2", samples=1, init="uniform", linear=True)
    assert e.rf_size == (99, 99) and not e.rf_clipped  # centre unit 7·8 = 56: 56 ± 49 inside
    # the closed form follows the stem (7×7 s2, pool 3 s2), four residual mixtures and the
    # strided projection shortcut; measured and closed form agree far inside 2%
    assert close(e.sigma[0], e.theory_sigma[0], 0.005)
    assert close(e.sigma[1], e.theory_sigma[1], 0.005)


def test_stack_with_relu_differs_from_the_linear_stack():
    from cnncalc.frontends.stack import stack_graph

    linear = measure_erf(stack_graph("3x3", 5, None), samples=8)
    relu = measure_erf(stack_graph("3x3", 5, None, relu=True), samples=8)
    assert relu.layer == "relu5" and linear.layer == "conv5"
    assert relu.sigma != pytest.approx(linear.sigma, rel=1e-3)
    assert linear.input_shape == (4, 11 + 2 * 4, 11 + 2 * 4)  # RF 11, a margin of 4 each side


def test_channel_split_and_shuffle_move_the_right_channels(spec):
    path = spec("""
        - {conv: {out: 4, k: 3, p: 1, bias: false}}
        - concat: [[{split: {index: 0}}], [{split: {index: 1}}, {conv: {out: 2, k: 3, p: 1, bias: false}}]]
        - {shuffle: {groups: 2}}
        - {split: {index: 1}}
        """, input="4x15x15")
    g, e = uniform(path)
    # channels after the concat: A A B B (A: one 3×3, σ² 8/12; B: two, 16/12); the shuffle
    # gives A B A B and the second half is A B: σ² = (8/12 + 16/12)/2 = 1 (without the shuffle
    # it would be B B: 16/12)
    assert e.theory_sigma[0] == pytest.approx(1.0)
    assert close(e.sigma[0], 1.0) and close(e.sigma[1], 1.0)


def test_depthwise_conv_keeps_channels_apart(spec):
    path = spec("""
        - {conv: {out: 2, k: 3, p: 1, groups: 2, bias: false}}
        - {conv: {out: 2, k: 5, p: 2, groups: 2, bias: false}}
        """, input="2x21x21")
    g, e = uniform(path)
    expected = math.sqrt(8 / 12 + 24 / 12)  # 3×3 then 5×5: (9−1)/12 + (25−1)/12 ≈ 1.633
    assert e.theory_sigma[0] == pytest.approx(expected)
    assert close(e.sigma[0], expected) and close(e.sigma[1], expected)


def test_ones_keep_relus_open_with_uniform_weights():
    from cnncalc.frontends.stack import stack_graph

    g = stack_graph("3x3", 5, None, relu=True)
    ones = measure_erf(g, samples=1, init="uniform", inputs="ones")
    noise = measure_erf(g, samples=8, init="uniform", inputs="randn")
    expected = math.sqrt(5 * 8 / 12)  # ≈ 1.826: every pre-activation > 0, the ReLUs pass all
    assert close(ones.sigma[0], expected, 1e-4) and close(ones.sigma[1], expected, 1e-4)
    assert not close(noise.sigma[0], expected, 1e-4)  # zero-mean noise gates half the units


def test_a_field_past_the_border_is_reported(spec):
    path = spec(f"- {{{CONV[1:-1]}, repeat: 10}}", input="2x15x15")
    r = cli("erf", path, "-n", "1", "--init", "uniform", "--linear", "--no-heatmap")
    assert r.code == 0, r.err
    assert "21, centre at pixel 7" in r.out  # RF 1 + 10·2 = 21 > 15
    assert "reaches past the input" in r.out


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_a_residual_with_shifted_paths_keeps_the_mean_term(spec):
    path = spec(f"""
        - residual:
            body: [{{conv: {{out: 2, k: 2, p: same, bias: false}}}}]
            shortcut: identity
        - {CONV}
        """, input="2x15x15")
    g, e = uniform(path)
    # the 2-tap body (padding 0 before, 1 after) is centred half a pixel off the shortcut:
    # mixture 1:1 of {0} and {0, 1}: μ = 0.25, σ² = (0 + (0.25 + 0.25))/2 − 0.25² = 0.1875
    expected = math.sqrt(0.1875 + 8 / 12)  # ≈ 0.924
    assert e.theory_sigma[0] == pytest.approx(expected)
    assert close(e.sigma[0], expected) and close(e.sigma[1], expected)


@pytest.mark.parametrize(("target", "message"), [
    ("missing/erf.png", "there is no folder"),
    ("erf.txt", "the file name must end in .png"),
])
def test_a_png_that_cannot_be_written_is_refused_before_measuring(tmp_path, target, message):
    r = cli("erf", "lenet5", "-n", "1", "--png", str(tmp_path / target))
    assert r.code == 2 and r.out == "" and message in r.err and len(r.err.splitlines()) == 1


def test_erf_csv_is_the_json_flattened():
    r = cli("erf", "--stack", "3x3", "--depths", "2,4", "-n", "2", "-f", "csv")
    assert r.code == 0, r.err
    head, *rows = r.out.splitlines()
    # the field's size under the name and in the whole pixels of `rf`, `shapes` and one map's
    assert head.startswith("depth,input,rf_size_h,rf_size_w,sigma_h,sigma_w") and len(rows) == 2
    assert rows[0].startswith("2,4x13x13,5,5,") and "×" not in r.out  # RF 1 + 2·2 = 5
    j = cli("erf", "--stack", "3x3", "--depths", "2,4", "-n", "2", "-f", "json").json()
    assert [x["rf_size"] for x in j["stack"]] == [[5, 5], [9, 9]]  # ints: 1 + 4·2 = 9
    assert all(type(v) is int for x in j["stack"] for v in x["rf_size"])


def test_area_rows_name_a_side_and_collapse_when_both_scales_agree():
    """Issue 22's wording: the high-contribution area is a square with a side (N×N px, not
    'Area 7 px'); the raw and log10(1+x) rows are one row when they give the same square, two
    when they do not."""
    from dataclasses import replace

    from cnncalc.core.measured import Area
    from cnncalc.report.erf import numbers

    e = measure_erf(analyze("lenet5"), samples=2)
    rows = dict(numbers(e))
    for a in e.areas:
        assert rows[f"Square holding {a.t:.0%} (raw and log10(1+x))"].startswith(
            f"{a.side}×{a.side} px")
    wider = replace(e, log_areas=[Area(a.t, a.side + 2, a.ratio) for a in e.areas])
    rows = dict(numbers(wider))
    first = e.areas[0]
    assert rows[f"Square holding {first.t:.0%} (raw)"].startswith(f"{first.side}×{first.side} px")
    assert rows[f"Square holding {first.t:.0%} (log10(1+x))"].startswith(
        f"{first.side + 2}×{first.side + 2} px")
    assert not any("Area" in k for k in rows)


@pytest.mark.parametrize(("args", "axes"), [
    (("--stack", "3x3x3", "--depths", "1,2", "--input", "1x12x12x12"), ("_t", "_h", "_w")),
    (("SPEC1D",), ("_l",))])
def test_csv_splits_per_axis_numbers_on_every_rank(tmp_path, args, axes):
    """CSV cells are numbers, never a JSON list: σ, the centre and the ERF sizes get one column
    per axis on a 1-D and a 3-D input as on a 2-D one (_h, _w)."""
    import csv as csv_module
    import io

    if args == ("SPEC1D",):
        path = tmp_path / "one.yaml"
        path.write_text("input: 1x64\nlayers: [{conv: {out: 2, k: 3}}, relu, "
                        "{conv: {out: 2, k: 3}}]\n")
        args = (str(path),)
    r = cli("erf", *args, "-n", "1", "-f", "csv")
    assert r.code == 0, r.err
    rows = list(csv_module.DictReader(io.StringIO(r.out)))
    assert rows and not any(v.startswith("[") for row in rows for v in row.values())
    assert all(f"sigma{a}" in rows[0] and f"erf_2sigma{a}" in rows[0] for a in axes)
    float(rows[0][f"sigma{axes[-1]}"])
