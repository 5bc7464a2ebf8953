"""One output contract for every command that prints a table (issue 22): `--help` lists exactly
the formats the command accepts, each of them works, CSV is the JSON's records (snake_case
headers that are JSON field names, numbers as numbers), text fits the terminal, and the
calculators' JSON carries the bias setting as conv's `args.bias`."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from cnncalc.cli.main import app
from cnncalc.report.table import flat
from tests.conftest import cli

ALL = ("table", "md", "json", "csv", "latex")

# Fast commands (analytic; no torch), each with the options that make it print its table.
COMMANDS = [
    ("shapes", "resnet18"),
    ("shapes", "resnet18", "--explain", "--layer", "layer1.0.conv1"),
    ("rf", "resnet18"),
    ("rf", "--stack", "3x3*3"),
    ("rf", "--stack", "3x3", "--explain"),
    ("rf", "resnet18", "--target", "100"),
    ("rf", "--stack", "3x3", "--target", "100"),
    ("sizes", "resnet18", "--range", "32..256"),
    ("sizes", "unet", "--range", "32..512", "--tile", "512"),
    ("check", "resnet18", "--max-params", "20M", "--max-macs", "1G"),
    ("memory", "resnet18"),
    ("zoo",),
    ("conv", "224"),
    ("conv", "64x56x56", "-k", "3"),
    ("conv", "224", "--to", "112"),
    ("pool", "4", "-k", "2"),
    ("pool", "512x7x7", "--gap"),
    ("dsconv", "--cin", "64", "--cout", "64"),
    ("dsconv", "--cin", "64", "--cout", "128", "--size", "56"),
    ("fc-vs-conv",),
    ("fc-vs-conv", "3x32x32", "--hidden", "100"),
    ("attention", "-n", "197", "-c", "768", "--heads", "12"),
    ("apply", "-m", "[[1,2,3],[4,5,6],[7,8,9]]", "-k", "blur", "-p", "1"),
]
EXIT_1 = {"check"}  # over budget on purpose: exit 1 with its answer printed


def ids(args: tuple[str, ...]) -> str:
    return " ".join(args)


def listed_formats(command: str) -> list[str]:
    """The formats `cnncalc COMMAND --help` names for --format, in order."""
    r = cli(command, "--help")
    text = " ".join(r.out.split())
    m = re.search(r"--format(?: <str>| TEXT)?\s+Output format:(.*?)(?:\[default|$)", text)
    assert m, r.out
    return [f for f in re.findall(r"[a-z]+", m.group(1)) if f in ALL]


def run(args: tuple[str, ...], format: str) -> Any:
    r = cli(*args, "-f", format)
    assert r.code == (1 if args[0] in EXIT_1 else 0), (args, format, r.err)
    return r


@pytest.mark.parametrize("args", COMMANDS, ids=ids)
def test_help_lists_exactly_the_formats_that_work(args):
    listed = listed_formats(args[0])
    assert {"table", "md", "json"} <= set(listed), listed
    explain = "--explain" in args
    for format in ALL:
        r = cli(*args, "-f", format)
        # --explain adds latex (its help says so); otherwise --help is the whole truth
        works = format in listed or (explain and format == "latex")
        if works:
            assert r.code == (1 if args[0] in EXIT_1 else 0), (format, r.err)
            assert r.out.strip()
        else:
            assert r.code == 2 and r.out == "", (format, r.out)
            (line,) = r.err.strip().splitlines()
            assert all(f in line for f in listed if f != "csv" or "csv" in listed), line


def json_keys(obj: Any) -> Iterator[str]:
    """Every flattened field name of every record in a JSON document."""
    if isinstance(obj, dict):
        yield from flat(obj)
        for v in obj.values():
            yield from json_keys(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from json_keys(v)


def numbers(obj: Any) -> Iterator[float]:
    if isinstance(obj, bool):
        return
    if isinstance(obj, int | float):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from numbers(v)


TABLE_ARGS = [a for a in COMMANDS if "csv" in listed_formats(a[0])]


@pytest.mark.parametrize("args", TABLE_ARGS, ids=ids)
def test_csv_is_the_json_records(args):
    data = run(args, "json").json()
    rows = list(csv.reader(io.StringIO(run(args, "csv").out)))
    header, body = rows[0], rows[1:]
    assert body and all(len(r) == len(header) for r in body)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", h) for h in header), header
    known = set(json_keys(data)) | ({"section"} if "--explain" in args else set())
    assert set(header) <= known, set(header) - known
    # numbers as numbers: a number cell reads back as one of the JSON's numbers
    values = set(numbers(data))
    for r in body:
        for cell in r:
            if re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", cell):
                assert float(cell) in values, (cell, args)
            assert cell not in ("–", "✓", "none", "null"), (cell, args)


def test_csv_of_the_calculators_are_their_tables():
    d = cli("dsconv", "--cin", "64", "--cout", "64", "-f", "csv").out.splitlines()
    assert d[0] == "conv,params,macs"
    assert d[1] == "standard,36928,36864"  # 3·3·64·64 + 64 = 36,928; 3·3·64·64 = 36,864
    f = cli("fc-vs-conv", "-f", "csv").out.splitlines()
    assert f == ["layer,out_shape,params,macs",
                 "fc,1024,154141696,154140672",  # 150,528·1,024 + 1,024
                 "conv,64x224x224,1792,86704128"]  # 3·3·3·64 + 64; 3·3·3·64·224·224
    s = cli("sizes", "resnet18", "--at", "224", "-f", "csv").out.splitlines()
    assert s[0].startswith("input,runs,error,params,macs,activation_bytes")
    assert s[1].startswith("224x224,true,,11689512,1814073344,")
    t = cli("rf", "resnet18", "--target", "100", "-f", "csv").out.splitlines()
    assert t == ["spec,target,layer,stage,field_h,field_w,largest_h,largest_w,repeats,layers,"
                 "before", "resnet18,100,layer3.0.conv1,layer3,115,115,627,627,,,"]
    e = cli("rf", "--stack", "3x3*2", "--explain", "-f", "csv").out.splitlines()
    assert e[0] == "section,lhs,value,chain" and len(e) == 1 + 2 * 3  # r, j, start a layer
    assert e[4].split(",")[1:3] == ["r", "5"]  # 3 + (3−1)·1·1


def test_apply_has_no_csv_and_says_so():
    r = cli("apply", "-m", "[[1,2],[3,4]]", "-k", "identity", "-f", "csv")
    assert r.code == 2 and r.out == ""
    assert "table, md, json, latex" in r.err and len(r.err.strip().splitlines()) == 1


# Width ----------------------------------------------------------------------------------------

def at_width(width: int | None, *args: str) -> str:
    env = {"COLUMNS": str(width) if width else None, "TERMINAL_WIDTH": None, "NO_COLOR": "1"}
    r = CliRunner().invoke(app, list(args), env=env)
    assert r.exit_code == (1 if args[0] in EXIT_1 else 0), r.stderr
    return r.stdout


def unbreakable(line: str) -> bool:
    """One token, perhaps after an operator or a 'key' word: nothing left to break at."""
    words = line.split()
    return len(words) == 1 or (len(words) == 2 and words[0] in ("+", "−", "=", "≈", "←", "×", "·", "/"))


@pytest.mark.parametrize("width", [40, 80])
@pytest.mark.parametrize("args", [a for a in COMMANDS if a[0] not in ("shapes", "zoo", "memory")
                                  or "--explain" in a], ids=ids)
def test_text_fits_the_terminal(args, width):
    out = at_width(width, *args)
    long = [line for line in out.splitlines() if len(line) > width and not unbreakable(line)]
    assert not long, "\n".join(long)


def test_piped_text_is_not_wrapped():
    """No width (a pipe or a file): the formula on one line, whole."""
    out = at_width(None, "sizes", "resnet18")
    assert ("  MACs        = 9,408·⌈H/2⌉·⌈W/2⌉ + 147,456·⌈H/4⌉·⌈W/4⌉ + 524,288·⌈H/8⌉·⌈W/8⌉ + "
            "2,097,152·⌈H/16⌉·⌈W/16⌉ + 8,388,608·⌈H/32⌉·⌈W/32⌉ + 512,000") in out.splitlines()
    narrow = at_width(80, "sizes", "resnet18").splitlines()
    assert "  MACs        = 9,408·⌈H/2⌉·⌈W/2⌉ + 147,456·⌈H/4⌉·⌈W/4⌉ + 524,288·⌈H/8⌉·⌈W/8⌉" \
        in narrow
    assert "                + 2,097,152·⌈H/16⌉·⌈W/16⌉ + 8,388,608·⌈H/32⌉·⌈W/32⌉ + 512,000" \
        in narrow  # broken before a + and indented under the formula


def test_narrow_tables_keep_every_number():
    """A calculator's table wider than the terminal prints one block per row, no number cut."""
    out = at_width(40, "sizes", "resnet18", "--at", "224")
    for n in ("11,689,512", "1,814,073,344", "31.40 MiB", "layer4.0.conv1"):
        assert n in out


# The bias setting is a field ------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("conv", "64x56x56", "-k", "3"),
    ("dsconv", "--cin", "64", "--cout", "64"),
    ("fc-vs-conv",),
    ("pool", "512x7x7", "--gap"),
    ("attention", "-n", "16", "-c", "32"),
], ids=ids)
def test_json_records_the_bias_setting(args):
    assert cli(*args, "-f", "json").json()["args"]["bias"] is True
    assert cli(*args, "--no-bias", "-f", "json").json()["args"]["bias"] is False
    header, row = cli(*args, "--no-bias", "-f", "csv").out.splitlines()[:2]
    if "args_bias" in header:  # the one-row answers carry it in CSV too
        assert row.split(",")[header.split(",").index("args_bias")] == "false"


def test_torch_measured_commands_take_every_listed_format():
    pytest.importorskip("torch")
    args = ("erf", "--stack", "3x3", "--depths", "1,2", "-n", "2", "--input", "1x16x16")
    for format in listed_formats("erf"):
        assert cli(*args, "-f", format).code == 0, format
