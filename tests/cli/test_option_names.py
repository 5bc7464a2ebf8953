"""One word for one thing: `apply --matrix`, `erf --depths`, `latency --batches`; the old
spellings (`apply --input/-i`, `erf --depth`, `latency --batch/-b`) still work."""

from __future__ import annotations

from tests.conftest import cli

M = "[[1,2,3,4],[5,6,7,8],[9,10,11,12],[13,14,15,16]]"


def test_apply_takes_its_matrix_by_either_name():
    new = cli("apply", "--matrix", M, "--op", "max", "-k", "2")
    assert new.code == 0 and "[[ 6  8]\n   [14 16]]" in new.out  # the max of each 2×2 window
    for old in (("--input", M), ("-i", M), ("-m", M)):
        assert cli("apply", *old, "--op", "max", "-k", "2").out == new.out


def test_help_names_the_new_spellings_first():
    assert "--matrix" in cli("apply", "--help").out
    assert "--depths" in cli("erf", "--help").out
    assert "--batches" in cli("latency", "--help").out
