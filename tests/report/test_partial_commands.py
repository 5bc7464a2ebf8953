"""verify, rf --explain, rf --target and check on a PARTIAL model (a traced torch.roll): no
receptive-field number cnncalc cannot know, and the PARTIAL status said where the answer is."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.conftest import cli

pytest.importorskip("torch")

MODELS = Path(__file__).with_name("partial_models.py")
ROLLED = f"{MODELS}:Rolled"  # c1, relu, roll, c2, pool, c3, mean, flatten, fc
BRANCH = f"{MODELS}:RolledBranch"  # c1, a, roll(a), b, add, c3
AFTER = ("roll", "c2", "pool", "c3", "mean", "flatten", "fc")


def rows(table: str) -> dict[str, list[str]]:
    return {cells[1].strip(): [c.strip() for c in cells[1:-1]]
            for cells in (line.split("│") for line in table.splitlines()
                          if line.startswith("│"))}


def test_verify_shows_no_analytic_field_after_the_unmapped_op():
    r = cli("verify", ROLLED, "--input", "3x32x32", "--rf", "all", "--no-fvcore")
    assert r.code == 0, r.err  # nothing compared disagrees
    title = r.out.splitlines()[0]
    assert "PARTIAL" in title and "unknown on 7" in title, title
    got = rows(r.out)
    assert got["c1"][6] == "3 j1 ✓"  # before the roll: computed and measured
    for name in AFTER:  # no number that looks computed, no ✓
        assert got[name][6] == "?", got[name]
    assert "PARTIAL: receptive fields are not computed from the first unmapped op" in r.out
    assert "? analytic field unknown" in r.out  # the legend says what ? is


def test_verify_json_and_csv_say_partial():
    r = cli("verify", ROLLED, "--input", "3x32x32", "--rf", "all", "--no-fvcore", "-f", "json")
    data = r.json()
    [partial] = data["partial"]
    assert partial.startswith("unmapped torch.roll") and " at roll (" in partial
    by = {x["name"]: x for x in data["layers"]}
    assert by["c1"]["rf"]["analytic"]["size"] == [3, 3] and by["c1"]["rf"]["ok"] is True
    for name in AFTER:
        assert by[name]["rf"]["analytic"] is None and by[name]["rf"]["ok"] is None, name
    assert "unknown" in by["c3"]["rf"]["note"] and "roll" in by["c3"]["rf"]["note"]
    got = list(csv.DictReader(io.StringIO(cli(
        "verify", ROLLED, "--input", "3x32x32", "--rf", "all", "--no-fvcore", "-f", "csv").out)))
    by_csv = {x["name"]: x for x in got}
    assert by_csv["c3"]["rf_analytic_size_h"] == "" and by_csv["c1"]["rf_analytic_size_h"] == "3"
    assert None not in by_csv["c3"]  # the same columns on every row


def test_rf_explain_does_not_make_up_a_field():
    r = cli("rf", BRANCH, "--input", "3x32x32", "--explain", "-l", "c3")
    assert r.code == 0, r.err
    assert "= 9" not in r.out and "= 7" not in r.out, r.out
    assert "unknown" in r.out and "after the unmapped torch.roll at roll" in r.out
    assert "PARTIAL" in r.out
    data = cli("rf", BRANCH, "--input", "3x32x32", "--explain", "-f", "json").json()
    steps = {s["title"].split()[0]: s["steps"] for s in data["sections"]}
    for name in ("roll", "add", "c3"):
        assert [(x["chain"], x["value"]) for x in steps[name]] == [(["?"], None)], steps[name]
    assert steps["b"][0]["value"] == 7  # the known branch keeps its derivation: 3 + (5−1)·1·1
    assert data["partial"][0].startswith("unmapped torch.roll")


def test_rf_target_only_counts_known_fields():
    r = cli("rf", BRANCH, "--input", "3x32x32", "--target", "20")
    assert r.code == 0, r.err
    assert "9" not in r.out, r.out  # c3's 9 goes through the roll: unknown
    assert "no layer whose field is known reaches a 20 receptive field" in r.out
    assert "roll, add, c3" in r.out and "unknown" in r.out
    data = cli("rf", BRANCH, "--input", "3x32x32", "--target", "20", "-f", "json").json()
    assert data["layer"] is None and data["largest"] is None
    assert data["unknown"] == ["roll", "add", "c3"]
    [partial] = data["partial"]
    assert partial.startswith("unmapped torch.roll") and " at roll (" in partial
    hit = cli("rf", BRANCH, "--input", "3x32x32", "--target", "6")  # b: 3 + (5−1)·1 = 7
    assert "the first layer whose field is known to reach 6 is b" in hit.out and "the output's field: unknown" in hit.out


def test_check_min_rf_cannot_be_judged():
    r = cli("check", BRANCH, "--input", "3x32x32", "--min-rf", "5")
    assert r.code == 2, (r.code, r.out, r.err)
    assert "ok" not in r.out and "9" not in r.out, r.out
    assert "receptive field at c3: unknown" in r.out and "roll" in r.out
    assert len(r.err.strip().splitlines()) == 1 and "--min-rf" in r.err
    j = cli("check", BRANCH, "--input", "3x32x32", "--min-rf", "5", "-f", "json")
    assert j.code == 2
    [limit] = j.json()["limits"]
    assert (limit["value"], limit["ok"], limit["margin"], j.json()["ok"]) == \
        (None, None, None, None)
    over = cli("check", BRANCH, "--input", "3x32x32", "--min-rf", "5", "--max-params", "10")
    assert over.code == 1  # a limit exceeded is the verdict, whatever else is unknown
