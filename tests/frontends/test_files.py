"""Files: every user file is read by source.read_user_file (stat first, say what a non-file is,
refuse a size before reading, read at most the limit); user code runs through
pysource.run_user; a Python spec is checked for depth and values without recursion."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import cli

SRC = str(Path(__file__).resolve().parents[2] / "src")
posix = pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="FIFOs, /dev, /proc")


@posix
@pytest.mark.parametrize("kind, says", [("folder", "is a folder"), ("fifo", "is a pipe (FIFO)"),
                                        ("zero", "is a device"), ("sparse", "bytes; a spec file "
                                                                  "is at most 2,000,000"),
                                        ("latin1", "is not UTF-8 text (byte 0xe9 at line 1)")])
def test_what_a_file_is_and_how_big_is_known_before_reading(tmp_path, kind, says):
    path = tmp_path / "s.yaml"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path = Path("/dev/zero")
    elif kind == "sparse":
        with open(path, "wb") as f:
            f.truncate(4 << 30)
    else:
        path.write_bytes(b"name: x\xe9\ninput: 3x8x8\nlayers: [relu]\n")
    t = time.perf_counter()
    r = cli("shapes", str(path))
    assert time.perf_counter() - t < 2
    assert r.code == 2 and says in r.err and len(r.err.splitlines()) == 1, r.err


@posix
def test_a_sparse_4_gb_file_costs_no_memory(tmp_path):
    path = tmp_path / "s.yaml"
    with open(path, "wb") as f:
        f.truncate(4 << 30)
    code = ("import runpy, sys; sys.argv = ['cnncalc', 'shapes', sys.argv[1]]\n"
            "try:\n    runpy.run_module('cnncalc', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"  # VmHWM: this process's peak (ru_maxrss
            "print(next(l.split()[1] for l in open('/proc/self/status') "  # keeps the forking
            "if l.startswith('VmHWM')))")  # parent's across exec)
    r = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": SRC}, timeout=30)
    assert int(r.stdout.split()[-1]) < 400_000, r  # KB: far below the 4 GiB it would read


@pytest.mark.parametrize("body, says", [
    ("def factory():\n    raise SystemExit(0)\n", "exited (exit code 0)"),
    ("def factory():\n    raise SystemExit('x')\n", "exited (exit code x)"),
    ("def factory():\n    raise GeneratorExit()\n", "failed: GeneratorExit"),
    ("def factory():\n    return factory()\n", "recursed too deep"),
])
def test_user_code_that_exits_or_recurses_is_one_line(tmp_path, body, says):
    (tmp_path / "m.py").write_text(body)
    r = cli("shapes", f"{tmp_path / 'm.py'}:factory", "--input", "3x8x8")
    assert r.code == 2 and says in r.err and len(r.err.splitlines()) == 1, r.err


@pytest.mark.parametrize("body, says", [
    ("x = relu()\nfor _ in range(5000):\n    x = seq(x)\nSPEC = net('d', '3x8x8', [x])\n",
     "nested deeper than 64 levels"),
    ("SPEC = net('d', '3x8x8', [conv(10**5000 + 1, 1)])\n", "number longer than 18 digits"),
    ("SPEC = net('d', '3x8x8', [dropout(float('inf'))])\n", "not a finite number"),
    ("SPEC = net('d', '3x8x8', [conv(object(), 1)])\n", "got object"),
    ("SPEC = net('d\\x1b[2J', '3x8x8', [relu()])\n", "'name' is a line of text"),
])
def test_python_specs_have_the_bounds_of_yaml(tmp_path, body, says):
    (tmp_path / "s.py").write_text("from cnncalc.spec.python import *\n" + body)
    r = cli("shapes", str(tmp_path / "s.py"))
    assert r.code == 2 and says in r.err and len(r.err.splitlines()) == 1, r.err
