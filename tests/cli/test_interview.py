"""The chapters' interview questions and worked examples, answered through the CLI.

Each expected number has its hand arithmetic beside it. Chapter references: ch0 "Convolutional
Layers and the Vision Inductive Bias", ch1 "Convolutional Layers", ch2 "CNNs: Convolutions &
Pooling", ch3 "CNNs and Residual Learning", ch4 "§ 11 Convolutional Networks" (Interview Prep).
"""

from __future__ import annotations

import json
import os
import re
import stat
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import cli, write

RAMP = "[[1,2,3,4,5],[2,3,4,5,6],[3,4,5,6,7],[4,5,6,7,8],[5,6,7,8,9]]"
ONE_TO_16 = "[[1,2,3,4],[5,6,7,8],[9,10,11,12],[13,14,15,16]]"


def ok(*args: str) -> str:
    r = cli(*args)
    assert r.code == 0, r.err
    return r.out


def js(*args: str) -> dict:
    return json.loads(ok(*args, "-f", "json"))


def rf_sizes(stack: str) -> list[int]:
    return [x["rf"]["size"][0] for x in js("rf", "--stack", stack)["layers"]]


# Output sizes -------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "expected"), [
    (["224", "-k", "3", "-s", "2"], (224 + 2 * 0 - 1 * (3 - 1) - 1) // 2 + 1),  # ch4 Q1: 111
    (["32", "-k", "3", "-p", "1"], (32 + 2 * 1 - 1 * (3 - 1) - 1) // 1 + 1),  # ch0, ch2: 32
    (["32", "-k", "3", "-s", "2", "-p", "1"], (32 + 2 - 2 - 1) // 2 + 1),  # ch0, ch2: 16
    (["8", "-k", "3"], (8 + 0 - 2 - 1) // 1 + 1),  # ch1, stride 1: 6
    (["8", "-k", "3", "-s", "2"], (8 + 0 - 2 - 1) // 2 + 1),  # ch1, stride 2: 3
    (["5", "-k", "3"], (5 - 2 - 1) // 1 + 1),  # ch1, no padding: 3
    (["5", "-k", "3", "-p", "1"], (5 + 2 - 2 - 1) // 1 + 1),  # ch1, padding 1: 5
    (["32", "-k", "3", "-p", "valid"], 32 - 3 + 1),  # ch0, Keras 'valid': 30
    (["32", "-k", "3", "-p", "same"], 32),  # ch0, Keras 'same'
])
def test_output_size(args, expected):
    assert js("conv", *args)["out_shape"] == [expected, expected]
    assert expected in (111, 32, 16, 6, 3, 5, 30)


def test_q1_shows_the_substituted_formula_and_the_floor_note():
    out = ok("conv", "224", "-k", "3", "-s", "2")
    assert "H_out = W_out = ⌊(224 + 2·0 − 1·(3−1) − 1)/2⌋ + 1 = 111" in out
    assert "221 is not a multiple of stride 2" in out  # the engine's floor-drop lint
    full = ok("conv", "224", "-k", "3", "-s", "2", "--explain")
    assert "⌊(H + 2·P − D·(K−1) − 1)/S⌋ + 1" in full
    assert "= ⌊221/2⌋ + 1" in full and "= 110 + 1" in full  # 224 − 2 − 1 = 221; 221 // 2 = 110


def test_size_per_axis_when_h_and_w_differ():
    out = ok("conv", "64x80", "-k", "3x5", "-s", "2x1")
    assert "H_out = ⌊(64 + 2·0 − 1·(3−1) − 1)/2⌋ + 1 = 31" in out  # 61 // 2 + 1
    assert "W_out = ⌊(80 + 2·0 − 1·(5−1) − 1)/1⌋ + 1 = 76" in out  # 75 + 1


def test_vit_patch_embedding():
    d = js("conv", "3x224x224", "--cout", "768", "-k", "16", "-s", "16")  # ch2
    assert d["out_shape"] == [768, 224 // 16, 224 // 16]  # 14×14 = 196 patches
    assert d["params"] == 768 * 3 * 16 * 16 + 768  # = 590,592


def test_simple_cnn_28_14_7():
    assert js("pool", "32x28x28", "-k", "2")["out_shape"] == [32, 28 // 2, 28 // 2]  # 14
    assert js("pool", "64x14x14", "-k", "2")["out_shape"] == [64, 14 // 2, 14 // 2]  # 7
    d = js("fc-vs-conv", "64x7x7", "--hidden", "128", "--bias")
    assert d["fc"]["params"] == 64 * 7 * 7 * 128 + 128  # Linear(64·7·7, 128) = 401,536


def test_healthy_progression_224_to_7():
    layers = js("rf", "--stack", "7x7 s2, max3 s2 p1, 3x3 s2, 3x3 s2, 3x3 s2")["layers"]
    assert [x["out_shape"][1] for x in layers] == [112, 56, 28, 14, 7]  # ch3: halved each time


def test_pool_sizes_and_ceil_mode():
    assert js("pool", "4", "-k", "2")["out_shape"] == [2, 2]  # stride defaults to the window
    assert js("pool", "112", "-k", "3", "-s", "2", "-p", "1")["out_shape"] == [56, 56]
    out = ok("pool", "5", "-k", "2", "-s", "2", "-p", "1", "--ceil", "--explain")
    # ⌈(5 + 2 − 1 − 1)/2⌉ + 1 = 4, but the 4th window would start at 6 ≥ 5 + 1: torch drops it
    assert "⌈5/2⌉ + 1" in out and "= 3 + 1 − 1" in out and out.splitlines()[0].endswith("→ 3×3")


# Receptive fields ---------------------------------------------------------------------------

def test_seven_3x3_see_15():
    assert rf_sizes("3x3*7")[-1] == 1 + 7 * (3 - 1)  # ch4 Q4: 15


@pytest.mark.parametrize(("n", "expected"), [(2, 5), (5, 11), (10, 21), (50, 101)])
def test_stride_one_stacks(n, expected):
    assert rf_sizes(f"3x3*{n}")[-1] == 1 + n * (3 - 1) == expected  # ch0, ch3, ch4


def test_dilations_3_7_15_31():
    assert rf_sizes("3x3 d1,d2,d4,d8") == [1 + 2 * 1, 3 + 2 * 2, 7 + 2 * 4, 15 + 2 * 8]  # ch4 Q7
    out = ok("rf", "--stack", "3x3 d1,d2,d4,d8", "--explain")
    assert "r ← r + (K−1)·D·j = 7 + (3−1)·4·1 = 15" in out
    assert "r ← r + (K−1)·D·j = 15 + (3−1)·8·1 = 31" in out


def test_a_stride_doubles_later_growth():
    assert rf_sizes("3x3 s2, 3x3") == [3, 3 + (3 - 1) * 2]  # j = 2 after the stride: 7
    out = ok("rf", "--stack", "3x3 s2, 3x3", "--explain")
    assert "j ← j·S = 1·2 = 2" in out and "r ← r + (K−1)·D·j = 3 + (3−1)·1·2 = 7" in out


def test_vgg_sees_far_more_than_101_pixels():
    """ch4 claims "50 layers → RF = 101 ← VGG-19 sees only 101 of 224 pixels". VGG-19 has 16
    convs, not 50, and its four pools between the stages multiply the jump by 16."""
    convs = [x["rf"]["size"][0] for x in js("rf", "vgg16")["layers"] if x["kind"] == "conv"]
    assert convs[-1] == 100 + 3 * (3 - 1) * 16  # VGG-16's last conv: 196
    vgg19 = rf_sizes("3x3*2, max2, 3x3*2, max2, 3x3*4, max2, 3x3*4, max2, 3x3*4, max2")
    # 5 → 6 (pool, j 2) → 14 → 16 (j 4) → 48 → 52 (j 8) → 116 → 124 (j 16) → 252 → 268
    assert vgg19[-2:] == [124 + 4 * (3 - 1) * 16, 252 + (2 - 1) * 16]  # 252, 268
    assert min(convs[-1], vgg19[-2]) > 101
    assert rf_sizes("3x3*16")[-1] == 1 + 16 * 2  # 33 without the pools


# Parameter counts ---------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "expected"), [
    (["32x16x16", "--cout", "64"], 3 * 3 * 32 * 64 + 64),  # ch2 Conv2d(32, 64, 3): 18,496
    (["3x224x224", "--cout", "64", "--no-bias"], 3 * 3 * 3 * 64),  # ch2: 1,728
    (["3x224x224", "--cout", "64", "-p", "1"], 3 * 3 * 3 * 64 + 64),  # ch3: 1,792
    (["64x8x8", "--cout", "32", "-k", "1"], 64 * 32 + 32),  # ch1 1×1 conv: 2,080
    (["64x8x8", "--cout", "64"], 3 * 3 * 64 * 64 + 64),  # ch1 standard 3×3 64 → 64
    (["64x8x8", "--cout", "64", "-g", "64"], 3 * 3 * 1 * 64 + 64),  # ch1 depthwise: 640
    (["64x8x8", "--cout", "128", "-g", "4"], 3 * 3 * (64 // 4) * 128 + 128),  # ch1: 18,560
    (["1x8x8", "--cout", "1", "-k", "5", "--no-bias"], 5 * 5),  # ch0/ch1: 25
    (["1x8x8", "--cout", "1", "-k", "3", "--no-bias"], 3 * 3),  # two of them: 18
])
def test_params(args, expected):
    assert js("conv", *args)["params"] == expected


def test_params_formula_is_shown():
    out = ok("conv", "32x16x16", "--cout", "64", "--explain")
    assert "params = K_h·K_w·C_in·C_out + C_out = 3·3·32·64 + 64 = 18,432 + 64 = 18,496" in out
    assert "MACs = K_h·K_w·C_in·C_out·H_out·W_out = 3·3·32·64·14·14 = 3,612,672" in out
    assert "FLOPs = 2·MACs = 2·3,612,672 = 7,225,344" in out


def test_depthwise_separable_589824_vs_67840():
    d = js("dsconv", "--cin", "256", "--cout", "256", "-k", "3", "--no-bias")  # ch4 Q3
    assert d["standard"]["params"] == 3 * 3 * 256 * 256  # = 589,824
    assert d["depthwise"]["params"] == 3 * 3 * 256  # = 2,304
    assert d["pointwise"]["params"] == 256 * 256  # = 65,536
    assert d["separable"]["params"] == 2304 + 65536  # = 67,840
    assert round(d["reduction"]["params"], 1) == 8.7  # 589,824 / 67,840 = 8.694
    assert Fraction(67840, 589824) == Fraction(1, 256) + Fraction(1, 9)  # the closed form
    assert d["closed_form"] == pytest.approx(1 / 256 + 1 / 9)
    out = ok("dsconv", "--cin", "256", "--cout", "256", "-k", "3", "--no-bias")
    assert "weights only" in out
    assert "1/C_out + 1/K² = 1/256 + 1/9 ≈ 0.1150" in out
    assert "standard/separable = 589,824/67,840 ≈ 8.69" in out


def test_calculators_count_the_bias_by_default_like_the_spec_language():
    conv = js("conv", "256x56x56", "--cout", "256", "-p", "1")["params"]
    ds = js("dsconv", "--cin", "256", "--cout", "256", "-k", "3")["standard"]["params"]
    assert conv == ds == 3 * 3 * 256 * 256 + 256  # = 590,080 both
    assert "bias counted" in ok("dsconv", "--cin", "256", "--cout", "256")
    assert "bias counted" in ok("fc-vs-conv") and "bias counted" in ok("pool", "512x7x7",
                                                                        "--gap", "--fc", "10")


def test_dsconv_macs_shrink_by_the_same_factor():
    d = js("dsconv", "--cin", "64", "--cout", "128", "--size", "56", "--no-bias")  # ch1: 8–9×
    assert d["standard"]["macs"] == 3 * 3 * 64 * 128 * 56 * 56
    assert d["separable"]["macs"] == (3 * 3 * 64 + 64 * 128) * 56 * 56
    assert d["reduction"]["macs"] == pytest.approx(d["reduction"]["params"])
    assert 8 < d["reduction"]["params"] < 9  # 73,728 / 8,768 = 8.41


def test_gap_has_no_params_against_the_fc_it_replaces():
    d = js("pool", "512x7x7", "--gap", "--fc", "1000", "--no-bias")  # ch0, ch4 Q5
    assert d["gap"]["params"] == 0 + 512 * 1000  # GAP itself: 0; then FC 512 → 1000
    assert d["flatten_fc"]["params"] == 512 * 7 * 7 * 1000  # C·H·W × classes = 25,088,000
    vgg = js("pool", "512x7x7", "--gap", "--fc", "4096", "--no-bias")
    assert vgg["flatten_fc"]["params"] == 25088 * 4096  # VGG's first FC: 102,760,448 weights
    out = ok("pool", "512x7x7", "--gap")
    assert "GAP: 512×7×7 → 512×1×1" in out and "params = 0" in out


def test_mlp_layer_of_154_million_weights():
    d = js("fc-vs-conv", "3x224x224", "--hidden", "1024", "--no-bias")  # ch0, ch2
    assert d["inputs"] == 3 * 224 * 224  # = 150,528
    assert d["fc"]["params"] == 150528 * 1024  # = 154,140,672
    assert d["conv"]["params"] == 3 * 3 * 3 * 64  # = 1,728
    out = ok("fc-vs-conv", "--no-bias")
    assert "params = 150,528·1,024 = 154,140,672" in out
    assert "uses per weight = 224·224 = 50,176" in out  # ch3: "roughly 50,000 positions"
    assert js("fc-vs-conv", "--hidden", "1000", "--no-bias")["fc"]["params"] == 150528 * 1000


# Convolution and pooling on matrices --------------------------------------------------------

def test_ramp_with_x_kernel_gives_15_top_left():
    d = js("apply", "-i", RAMP, "-k", "[[1,0,1],[0,1,0],[1,0,1]]", "--at", "0,0")  # ch2
    assert d["output"][0][0] == 1 * 1 + 3 * 1 + 3 * 1 + 3 * 1 + 5 * 1  # = 15
    assert d["output"] == [[15, 20, 25], [20, 25, 30], [25, 30, 35]]  # +5 per step (5 ones)
    out = ok("apply", "-i", RAMP, "-k", "[[1,0,1],[0,1,0],[1,0,1]]", "--at", "0,0")
    assert ("out[0,0] = 1*1 + 2*0 + 3*1 + 2*0 + 3*1 + 4*0 + 3*1 + 4*0 + 5*1 "
            "= 1 + 3 + 3 + 3 + 5 = 15") in out


def test_maxpool_one_to_16():
    d = js("apply", "-i", ONE_TO_16, "--op", "max", "-k", "2", "-s", "2")  # ch2
    assert d["output"] == [[max(1, 2, 5, 6), max(3, 4, 7, 8)],
                           [max(9, 10, 13, 14), max(11, 12, 15, 16)]]  # [[6, 8], [14, 16]]


def test_vertical_edge_kernel_gives_minus_6():
    for kernel in ("vertical", "[[1,0,-1],[1,0,-1],[1,0,-1]]"):  # ch1
        d = js("apply", "-i", ONE_TO_16, "-k", kernel)
        assert d["output"] == [[(1 + 5 + 9) - (3 + 7 + 11)] * 2] * 2  # [[-6, -6], [-6, -6]]
    out = ok("apply", "-i", ONE_TO_16, "-k", "vertical", "--at", "1,1")
    assert "= 6 - 8 + 10 - 12 + 14 - 16" in out  # the worked cell is ASCII, as code
    assert out.count("-6") >= 4 and "[-6" in out  # the matrix is ASCII, to paste into code


@pytest.mark.parametrize(("op", "kernel"), [
    ("conv", "[[1,0,0],[0,0,0],[0,0,-1]]"), ("conv", "blur"), ("max", "3"), ("avg", "3")])
def test_the_worked_cell_is_code_in_every_format(op, kernel):
    # `--at` printed (−2.5)·1 + … + 9·(−1) = −2.5 − 9: the Unicode minus does not paste into
    # code; now every link is ASCII and evaluates, as Python, to the cell's value (the last
    # link to 6 digits)
    m = "[[-2.5,0,1],[4,5,-6],[7,8,9]]"
    args = ("apply", "-i", m, "--op", op, "-k", kernel, "--at", "0,0")
    d = js(*args)
    for link in d["at"]["chain"]:
        assert link.isascii() and eval(link) == pytest.approx(d["at"]["value"], rel=1e-5), link
    text, md = ok(*args), ok(*args, "-f", "md")
    assert all(f"= {link}" in text and f"= {link}" in md for link in d["at"]["chain"])
    if op == "conv" and kernel != "blur":  # short enough for one line
        line = "out[0,0] = " + " = ".join(d["at"]["chain"])
        assert line in text and line == (
            "out[0,0] = (-2.5)*1 + 0*0 + 1*0 + 4*0 + 5*0 + (-6)*0 + 7*0 + 8*0 + 9*(-1) "
            "= -2.5 - 9 = -11.5")  # -2.5·1 + 9·(-1)
    assert r"\cdot" in ok(*args, "-f", "latex") or op != "conv"  # LaTeX stays LaTeX


def test_chapter_one_max_and_average_pooling():
    m = "[[1,2,5,6],[3,4,7,8],[9,10,13,14],[11,12,15,16]]"  # ch1
    assert js("apply", "-i", m, "--op", "max", "-k", "2")["output"] == [[4, 8], [12, 16]]
    avg = js("apply", "-i", m, "--op", "avg", "-k", "2")["output"]
    assert avg == [[(1 + 2 + 3 + 4) / 4, 6.5], [10.5, (13 + 14 + 15 + 16) / 4]]  # 2.5 … 14.5
    assert "out[1,0] = (9 + 10 + 11 + 12)/4 = 42/4 = 10.5" in ok(
        "apply", "-i", m, "--op", "avg", "-k", "2", "--at", "1,0")


def test_padding_zeros_and_flip():
    d = js("apply", "-i", "[[1,2],[3,4]]", "-k", "[[1,1],[1,1]]", "-p", "1")
    assert d["output"] == [[1, 3, 2], [4, 10, 6], [3, 7, 4]]  # 3×3: (2 + 2 − 2 − 1) + 1
    flip = js("apply", "-i", "[[1,2,3]]", "-k", "[[1,0,-1]]", "--flip")
    assert flip["output"] == [[1 * -1 + 3 * 1]]  # kernel [[-1, 0, 1]]: 2


# Formats and errors -------------------------------------------------------------------------

def test_markdown_is_latex_free_and_latex_has_latex():
    md = ok("dsconv", "--cin", "256", "--cout", "256", "-f", "md", "--no-bias")
    assert "| standard | 589,824 | 589,824 |" in md and "```text" in md
    assert "\\frac" not in md and "$" not in md
    tex = ok("conv", "224", "-k", "3", "-s", "2", "-f", "latex")
    assert r"\left\lfloor \frac{224 + 2 \cdot 0 - 1 \cdot (3-1) - 1}{2} \right\rfloor + 1" in tex


def test_shapes_explain_one_layer():
    out = ok("shapes", "resnet18", "--explain", "--layer", "layer2.0.conv1")
    assert "layer2.0.conv1 (conv k=3 s=2 p=1): 64×56×56 → 128×28×28" in out
    assert "= ⌊(56 + 2·1 − 1·(3−1) − 1)/2⌋ + 1" in out  # 55 // 2 + 1 = 28
    assert "params = K_h·K_w·C_in·C_out = 3·3·64·128 = 73,728" in out
    assert "bn1" not in out
    r = cli("shapes", "resnet18", "--explain", "--layer", "layer2.0.conv")
    assert r.code == 2 and "did you mean" in r.err


def test_explain_json_values_come_from_the_engine():
    d = js("rf", "vgg16", "--explain", "--layer", "block2.pool")
    (section,) = d["sections"]
    assert [s["value"] for s in section["steps"]] == [16, 4, 1.5]  # r 14 + 1·2, j 2·2


@pytest.mark.parametrize("args", [
    ["conv", "224", "-f", "xml"],
    ["apply", "-i", "[[1,2],[3,4]]", "-k", "identity", "-f", "csv"],  # matrices: no CSV
    ["conv", "4", "-k", "5"],
    ["conv", "224", "-s", "2", "-p", "same"],
    ["rf"],
    ["rf", "vgg16", "--stack", "3x3"],
    ["rf", "--stack", "3x3, q2"],
    ["rf", "--stack", "d2"],
    ["pool", "224"],
    ["pool", "7x7", "--gap"],
    ["apply", "-i", "__import__('os').system('echo hi')", "-k", "blur"],
    ["apply", "-i", "[[1,2],[3]]", "-k", "blur"],
    ["apply", "-i", "[[1,2,3],[4,5,6],[7,8,9]]", "-k", "sobel"],
    ["apply", "-i", "[[1,2,3],[4,5,6],[7,8,9]]", "-k", "blur", "--at", "1,1"],
])
def test_errors_are_one_line(args):
    r = cli(*args)
    assert r.code == 2 and r.out == "" and len(r.err.strip().splitlines()) == 1, r.err


# The printed arithmetic agrees with the engine ----------------------------------------------

@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 300), k=st.integers(1, 9), s=st.integers(1, 5), p=st.integers(0, 4),
       d=st.integers(1, 4))
def test_window_chain_evaluates_to_the_engines_size(n, k, s, p, d):
    from cnncalc.core.errors import ShapeError
    from cnncalc.frontends.stack import one_layer
    from cnncalc.report.explain import window_steps

    try:
        g = one_layer("conv", (1, n, n), {"out": 1, "k": k, "s": s, "p": p, "d": d}, "c")
    except ShapeError:
        return
    (step,) = window_steps(g.layers[0])
    m = re.fullmatch(r"⌊(\d+)/(\d+)⌋ \+ 1|(\d+) \+ 1", step.chain[2])
    assert m, step.chain
    q = int(m[1]) // int(m[2]) if m[1] else int(m[3])
    assert q + 1 == step.value == g.layers[0].out_shape[1]


def test_numpy_and_pure_python_agree():
    np = pytest.importorskip("numpy")
    from cnncalc.core import filters
    from cnncalc.frontends import arrays

    rng = np.random.default_rng(0)
    x = rng.integers(-9, 10, size=(9, 11))
    kernel = rng.integers(-3, 4, size=(3, 2)).tolist()
    for op, ker, k, s, lead, out in (("conv", kernel, (3, 2), (2, 1), (1, 0), (5, 10)),
                                     ("max", None, (2, 3), (2, 2), (1, 1), (5, 6)),
                                     ("avg", None, (3, 3), (1, 2), (1, 1), (9, 6))):
        pure = filters.run(x.tolist(), op, ker, k, s, lead, out)
        fast = arrays.run_numpy(x, op, ker, k, s, lead, out)  # what large arrays take
        assert np.allclose(np.array(pure, dtype=float), fast), op


def test_image_in_png_out(tmp_path):
    np = pytest.importorskip("numpy")
    image = pytest.importorskip("PIL.Image")
    src, dst = tmp_path / "step.png", tmp_path / "edges.png"
    image.fromarray(np.where(np.arange(40) < 20, 10, 210).astype(np.uint8)[None].repeat(30, 0)
                    ).save(src)
    d = js("apply", "-i", str(src), "-k", "sobel_x", "--at", "5,18", "--out", str(dst))
    assert d["out_shape"] == [30 - 2, 40 - 2]
    assert d["at"]["value"] == (1 + 2 + 1) * (210 - 10)  # Sobel across the step: 800
    with image.open(dst) as im:
        assert im.size == (38, 28) and im.mode == "L"


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_written_files_get_the_mode_an_ordinary_write_gives(tmp_path, umask):
    # `apply -o` wrote through mkstemp, whose 0600 stayed on the file (erf --png: 0644)
    pytest.importorskip("numpy")
    pytest.importorskip("PIL")
    from cnncalc.cli.output import write_file

    old = os.umask(umask)
    try:
        dst = tmp_path / "out.png"
        assert ok("apply", "-i", "[[1,2],[3,4]]", "-k", "[[1]]", "-o", str(dst))
        assert stat.S_IMODE(dst.stat().st_mode) == 0o666 & ~umask  # 0644, 0640, 0600
        other = tmp_path / "plain.bin"
        write_file(other, b"x")
        assert stat.S_IMODE(other.stat().st_mode) == 0o666 & ~umask
        assert os.umask(umask) == umask  # reading the umask left it as it was
    finally:
        os.umask(old)
    dst.chmod(0o640)  # an existing file keeps its mode, as `open(path, "wb")` keeps it
    write_file(dst, b"y")
    assert stat.S_IMODE(dst.stat().st_mode) == 0o640 and dst.read_bytes() == b"y"


def test_explain_of_a_flatten_on_a_vector(tmp_path):
    # found by benchmarks/fuzz.py (seed 1, case 1224): a second flatten sees a 192-vector
    # (3·8·8 = 192) and --explain assumed C×H×W
    text = "input: 3x8x8\nlayers: [flatten, flatten, {linear: 10}]\n"
    r = cli("shapes", write(tmp_path, text), "--explain", "-f", "json")
    assert r.code == 0, r.err
    r = cli("shapes", write(tmp_path, text), "--explain", "-l", "flatten2")
    assert r.code == 0 and "flatten2 (flatten): 192 → 192" in r.out
