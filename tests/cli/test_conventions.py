"""The expected CLI conventions, run as a user runs them (a subprocess): --version, completion,
a bare `cnncalc`, COLUMNS=0/20, a pipe, an ASCII-only output encoding, a missing class."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TERMINAL_WIDTH")}
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True,
                          text=True, encoding="utf-8", errors="replace",
                          env={**base, "PYTHONPATH": SRC, **env}, timeout=120)


def test_version_help_and_completion():
    v = run("--version")
    assert v.returncode == 0 and v.stdout.startswith("cnncalc ")
    bare = run()
    assert bare.returncode == 0 and "Usage: cnncalc" in bare.stdout and not bare.stderr
    assert "--install-completion" in bare.stdout and "--show-completion" in bare.stdout
    script = run("--show-completion", SHELL="/bin/bash")
    assert script.returncode == 0 and "_cnncalc_completion" in script.stdout
    assert "cnncalc" in script.stdout.split()[-1]  # registered for `cnncalc`, not `__main__.py`


def test_piped_output_is_the_whole_table_and_columns_0_is_unset():
    for env in ({}, {"COLUMNS": "0"}, {"COLUMNS": "garbage"}):
        r = run("shapes", "resnet18", **env)
        assert r.returncode == 0 and "118,013,952" in r.stdout and "Jump" in r.stdout, env
        assert "…" not in r.stdout and "left out" not in r.stdout
    narrow = run("shapes", "resnet18", COLUMNS="20")
    assert narrow.returncode == 0 and "MACs 118,013,952" in narrow.stdout  # stacked
    assert all(line == line.rstrip() for line in narrow.stdout.splitlines())


def test_ascii_output_encoding_degrades_instead_of_raising():
    r = run("shapes", "lenet5", PYTHONIOENCODING="ascii")
    assert r.returncode == 0, r.stderr
    assert "6x28x28" in r.stdout and "+=" in r.stdout and "|" in r.stdout
    assert run("zoo", PYTHONIOENCODING="ascii").returncode == 0


NARROW_ENCODINGS = [  # (environment, the encoding the output is written in)
    ({"PYTHONIOENCODING": "ascii"}, "ascii"),
    ({"PYTHONIOENCODING": "latin-1"}, "latin-1"),
    ({"LANG": "C", "LC_ALL": "C", "PYTHONUTF8": "0"}, "ascii"),  # a C locale, no UTF-8 mode
]


@pytest.mark.parametrize(("env", "encoding"), NARROW_ENCODINGS)
@pytest.mark.parametrize(("args", "code", "expected"), [
    (["--help"], 0, "p10-p90"),  # click's help: p10–p90 raised in latin-1, was UTF-8 in ascii
    (["latency", "--help"], 0, "p10-p90"),
    (["shapes", "--help"], 0, "Usage: cnncalc shapes"),
    (["conv", "--help"], 0, "floor((H + 2*P"),  # ⌊(H + 2·P
    (["shapes", "--nope"], 2, "No such option: --nope"),  # a usage error
    (["conv", "224", "-k", "3", "--explain"], 0, "= floor((224 + 2*0 - 1*(3-1) - 1)/1) + 1"),
])
def test_a_narrow_encoding_degrades_everything_click_and_we_print(env, encoding, args, code,
                                                                 expected):
    base = {k: v for k, v in os.environ.items()
            if k not in ("COLUMNS", "TERMINAL_WIDTH", "PYTHONIOENCODING", "PYTHONUTF8")
            and not k.startswith("LC_")}
    r = subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True,
                       env={**base, "PYTHONPATH": SRC, **env}, timeout=120)
    assert r.returncode == code and b"Traceback" not in r.stderr, r.stderr
    out, err = r.stdout.decode(encoding), r.stderr.decode(encoding)  # strict: ASCII is ASCII
    assert "\xe2" not in out + err  # no UTF-8 bytes read as latin-1 (– is e2 80 93)
    assert expected in out + err and "?" not in out + err  # a stand-in for every character


def test_a_missing_class_lists_what_the_file_defines(tmp_path):
    path = tmp_path / "model.py"
    path.write_text("class Net:\n    pass\n\n\nclass Backbone:\n    pass\n")
    r = run("shapes", f"{path}:Nope", "--input", "3x8x8")
    assert r.returncode == 2 and "has no 'Nope'; it defines Net, Backbone" in r.stderr
