"""`cnncalc erf` says only what it knows (issue 22, "Honest rows" and "Every format"): no
theoretical field after an unmapped op, the growth law of a stack whatever its depths, the true
reason for an ERF/RF above 1, a way out of a series too big to measure, one set of names."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from pathlib import Path

import pytest

from tests.conftest import cli

pytest.importorskip("torch")

from cnncalc.core.measured import ErfSeries  # noqa: E402
from cnncalc.measure.erf import measure_erf  # noqa: E402
from cnncalc.report.erf import exponent_line, notes, rf_growth  # noqa: E402

# the PARTIAL model of the audit: a torch.roll no kind maps, every field after it unknown
ROLLED = str(Path(__file__).resolve().parents[1] / "report" / "partial_models.py") + ":Rolled"


@pytest.fixture
def rolled():
    return ROLLED


# 1. After an unmapped op the theoretical field is unknown, the measured one is still measured --

def test_after_an_unmapped_op_the_theoretical_rf_is_unknown_as_in_rf(rolled):
    rf = cli("rf", rolled, "--input", "3x32x32", "-f", "json").json()["layers"]
    assert {x["name"]: x["rf"] for x in rf}["c3"] is None  # what `rf` says: ?
    r = cli("erf", rolled, "--input", "3x32x32", "-n", "2", "-l", "c3", "--no-heatmap")
    assert r.code == 0, r.err
    head, *lines = r.out.splitlines()
    assert "PARTIAL" in head and "c3's theoretical RF unknown: ?" in head  # in the table's title
    (theory,) = [x for x in lines if "Theoretical RF" in x]
    assert "│ ? (PARTIAL: c3 comes after the unmapped op roll)" in theory
    assert "centre at pixel" not in r.out  # before: "10, centre at pixel 14.5"
    (ratio,) = [x for x in lines if "ERF(±2σ) / theoretical RF" in x]
    assert ratio.split("│")[2].strip() == "?"  # no ERF/RF against an unknown field
    (sigma,) = [x for x in lines if "σ measured " in x]
    assert float(sigma.split("│")[2].split("×")[0]) > 0  # the measured ERF is still measured
    assert "unmapped torch.roll" in r.out


def test_an_unknown_field_is_null_in_json_and_empty_in_csv(rolled):
    args = ("erf", rolled, "--input", "3x32x32", "-n", "2", "-l", "c3")
    d = cli(*args, "-f", "json").json()
    assert d["layer"]["rf"] is None and d["rf_centre"] is None and d["rf_clipped"] is None
    assert d["erf_2sigma_over_rf"] is None
    assert len(d["sigma"]) == 2 and min(d["erf_2sigma"]) > 0
    assert "unmapped torch.roll" in d["partial"][0]
    r = cli(*args, "-f", "csv")
    (row,) = csv.DictReader(io.StringIO(r.out))
    assert row["rf_size_h"] == row["rf_centre_w"] == row["erf_2sigma_over_rf_h"] == ""
    assert float(row["sigma_h"]) > 0
    assert "PARTIAL: unmapped torch.roll" in r.err  # CSV has no place for it


def test_a_layer_before_the_unmapped_op_keeps_its_field(rolled):
    d = cli("erf", rolled, "--input", "3x32x32", "-n", "2", "-l", "c1", "-f", "json").json()
    # the centre unit 15 of 32 reads pixels 14…16
    assert d["layer"]["rf"]["size"] == [3, 3] and d["rf_centre"] == [15, 15]


# 2. The growth law, whatever the depths -------------------------------------------------------

def fake(depth: int, size: int, item: str = "3x3 s2"):
    return type("E", (), {"spec": f"{item}*{depth}", "rf_size": (size, size), "ratio": (0.9,),
                          "rf_clipped": False})()


def test_uneven_depths_give_the_stride_factor_not_three():
    # 3x3 s2 repeated n times: r = 1 + 2·(2ⁿ − 1) = 2ⁿ⁺¹ − 1: 7, 15, 63 at n = 2, 3, 5
    s = ErfSeries([fake(2, 7), fake(3, 15), fake(5, 63)], None, None, jump_factor=2)
    text = rf_growth(s)
    assert "exponentially" in text and "adds 2×" in text  # before: "adds ×3" (24/8 over 2 layers)


def test_two_depths_of_a_strided_stack_are_not_called_linear():
    s = ErfSeries([fake(2, 7), fake(3, 15)], None, None, jump_factor=2)
    text = rf_growth(s)
    assert "exponentially" in text and "linearly" not in text  # before: "linearly, 8 pixels"
    assert "strides multiply the jump by 2" in text  # decided from the stack, and said so


def test_a_stride_1_stack_grows_linearly_at_uneven_depths():
    s = ErfSeries([fake(2, 5, "3x3"), fake(3, 7, "3x3"), fake(7, 15, "3x3")], None, None)
    assert "linearly, 2 pixels a layer" in rf_growth(s)  # r = 1 + 2n


def test_the_fitted_factor_of_sigma_reads_uneven_depths():
    from cnncalc.measure.erf import growth_factor

    assert growth_factor([2, 3, 5], [3 * 2 ** n for n in (2, 3, 5)]) == pytest.approx(2)


def test_stack_series_of_a_strided_stack_fits_a_factor_and_says_two_depths_prove_nothing():
    r = cli("erf", "--stack", "3x3 s2", "--depths", "2,3", "--input", "1x64x64", "-n", "2",
            "-f", "json")
    assert r.code == 0, r.err
    d = r.json()
    assert d["jump_factor"] == 2 and d["exponent"] is None and d["factor"] > 1
    # closed form σ² = Σ_{i<n} 4ⁱ·8/12 ∝ 4ⁿ − 1: the ratio of depth 3 to 2 is √(63/15) ≈ 2.049
    assert d["factor_closed_form"] == pytest.approx(math.sqrt((4 ** 3 - 1) / (4 ** 2 - 1)))
    text = cli("erf", "--stack", "3x3 s2", "--depths", "2,3", "--input", "1x64x64", "-n", "2",
               "-f", "md").out
    assert "σ grows exponentially" in text and "from two depths" in text
    assert "depth^1" not in text and "linearly" not in text


# 3. A series too big to measure says how to make it fit ----------------------------------------

def test_a_series_that_does_not_fit_suggests_depths():
    r = cli("erf", "--stack", "3x3 s2")  # default depths 5,10,20,40: the input grows as 2ⁿ
    assert r.code == 2 and r.out == ""
    assert "needs about" in r.err and "--depths 5,10" in r.err and len(r.err.splitlines()) == 1


# 4. ERF/RF above 1: the flat profile's ±2σ, the border only where the field reaches it --------

def test_erf_over_rf_above_one_inside_the_input_is_explained_by_the_profile():
    inside = [fake(2, 7), fake(3, 15)]
    inside[1].ratio = (1.11,)
    s = ErfSeries(inside, None, None, 2, 2.2, 2.05)
    text = exponent_line(s)
    assert "above 1 at depth 3" in text and "4σ = 4·w/√12 ≈ 1.15·w" in text
    assert "--input" not in text and "cut" not in text  # before: "cut or aliased there"
    inside[1].rf_clipped = True
    assert "reaches past the input" in exponent_line(s) and "--input" in exponent_line(s)


def test_one_map_above_one_says_why(spec):
    from cnncalc.frontends.load import analyze

    one = measure_erf(analyze(spec("- {conv: {out: 2, k: 3, p: 1, bias: false}}",
                                   input="2x15x15")), samples=1, init="uniform", linear=True)
    # one 3x3 averaging kernel is flat: σ = √(8/12) ≈ 0.816, 4σ ≈ 3.27 over its 3 pixels
    (note,) = [n for n in notes(one) if "above 1" in n]
    assert "flatter than a Gaussian" in note and "--input" not in note
    three = measure_erf(analyze(spec("- {conv: {out: 2, k: 3, p: 1, bias: false}, repeat: 3}",
                                     input="2x15x15")), samples=1, init="uniform", linear=True)
    assert not any("above 1" in n for n in notes(three))  # σ = √(3·8/12): 4σ/7 ≈ 0.81
    cut = dataclasses.replace(three, sigma=(2.0, 2.0), rf_clipped=True)  # 4σ/7 ≈ 1.14
    assert any("above 1" in n for n in notes(cut)) and any("--input" in n for n in notes(cut))


# 6, 7. Markdown headers, --png says what it wrote ------------------------------------------

def test_erf_markdown_capitalises_its_headers():
    r = cli("erf", "lenet5", "-n", "1", "-f", "md")
    assert r.code == 0, r.err
    assert "| Quantity | Value |" in r.out and "| quantity |" not in r.out


def test_png_says_which_file_it_wrote(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "erf.png"
    r = cli("erf", "lenet5", "-n", "1", "-f", "json", "--png", str(png))
    assert r.code == 0, r.err
    assert f"wrote {png}" in r.err and png.read_bytes()[:4] == b"\x89PNG"
    assert r.out.startswith("{")  # stdout stays the JSON
