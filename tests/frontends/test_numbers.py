"""Numbers: a plain scalar is a number only when written as one in ASCII and in range
(source._scalar); every float argument has a finite range (args._check, FLOAT_RANGES);
command-line integers are ASCII digits (core/text.is_count); --arg never keeps a failed literal."""

from __future__ import annotations

import pytest

from cnncalc.core.errors import SpecError
from cnncalc.core.layers.registry import all_kinds
from cnncalc.core.text import is_count
from cnncalc.frontends.args import FLOAT_DEFAULT, FLOAT_RANGES
from cnncalc.frontends.pysource import parse_args
from tests.conftest import cli


@pytest.mark.parametrize("value, says", [
    ("010", "010 has a leading zero; write 10 (or 8: YAML 1.1 reads a leading 0 as octal)"),
    ("-09", "-09 has a leading zero; write -9"),
    ("9" * 19, "number longer than 18 digits (19 digits)"),
    ("9" * 5000, "number longer than 18 digits (5,000 digits)"),
    ("1e999", "1e999 is beyond the largest float"),
    ("-1e999", "-1e999 is beyond the largest float"),
    ("٣", "expected a positive integer"),
    ("1_000", "expected a positive integer"),
])
def test_scalars_that_are_not_plain_numbers_are_one_line(tmp_path, value, says):
    path = tmp_path / "s.yaml"
    path.write_text(f"input: 3x8x8\nlayers: [{{conv: {{out: {value}, k: 1}}}}]\n")
    r = cli("shapes", str(path))
    assert r.code == 2 and says in r.err and len(r.err.splitlines()) == 1, r.err


@pytest.mark.parametrize("layer, says", [
    ("{dropout: 2.5}", "p expected a number from 0 to 1, got 2.5"),
    ("{bn: {eps: -1}}", "eps expected a number above 0 to 1, got -1"),
    ("{leakyrelu: -1e300}", "negative_slope expected a number from -1e+06 to 1e+06"),
])
def test_float_arguments_are_in_range(tmp_path, layer, says):
    path = tmp_path / "s.yaml"
    path.write_text(f"input: 3x8x8\nlayers: [{layer}]\n")
    r = cli("shapes", str(path))
    assert r.code == 2 and says in r.err, r.err


def test_every_float_argument_has_a_finite_range():
    for kind in all_kinds().values():
        for a in kind.args:
            if a.type == "float":
                lo, hi, _ = FLOAT_RANGES.get(a.name, FLOAT_DEFAULT)
                assert -1e6 <= lo < hi <= 1e6, (kind.name, a.name)


@pytest.mark.parametrize("text, ok", [("32", True), ("0", True), ("٣٢", False), ("²", False),
                                      ("9" * 19, False), ("-1", False), ("", False)])
def test_command_line_integers_are_ascii(text, ok):
    assert is_count(text) is ok


def test_cli_integers_refuse_other_digits():
    for args in (("shapes", "lenet5", "--input", "1x٣٢x32"), ("apply", "-m", "[[1,2],[3,4]]",
                 "-k", "[[1]]", "--at", "²,0")):
        r = cli(*args)
        assert r.code == 2 and len(r.err.splitlines()) == 1, r.err


def test_arg_values_are_literals_or_words_never_failed_literals():
    assert parse_args(["a=1", "b=[1, 2]", "c=relu", "d='x'"]) == {
        "a": 1, "b": [1, 2], "c": "relu", "d": "x"}
    with pytest.raises(SpecError, match="not a Python literal"):
        parse_args(["width=" + "9" * 5000])
    with pytest.raises(SpecError, match="not a Python literal"):
        parse_args(["width=[1,"])
    with pytest.raises(SpecError, match="given twice"):
        parse_args(["a=1", "a=2"])
