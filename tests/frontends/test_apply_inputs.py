"""`apply`'s inputs and output file: nesting measured before parsing, an array's size known
before it is allocated, numbers exact or refused (frontends/arrays.py), and -o written through
cli/output.py (the suffix of the format, never an input, what was written)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import cli

np = pytest.importorskip("numpy")


def npy_header_only(path, shape, dtype="<f8"):
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (63 - len(header) % 64) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())


@pytest.mark.parametrize("case, says", [
    ("deep", "nests 49,000 levels"),
    ("huge-npy", "its header says 100000×100000 = 10,000,000,000 values, more than 50,000,000"),
    ("uint64", "do not fit a signed 64-bit integer"),
    ("latin1", "is not UTF-8 text (byte 0xe9 at line 2)"),
    ("overflow", "the output overflows float64 at cell 0,0"),
    ("superscript", "--at takes a cell as i,j"),
])
def test_hostile_inputs_are_one_line(tmp_path, case, says):
    m, extra = None, ()
    if case == "deep":
        m = "[" * 49000 + "1" + "]" * 49000
    elif case == "huge-npy":
        npy_header_only(tmp_path / "big.npy", (100000, 100000))
        m = str(tmp_path / "big.npy")
    elif case == "uint64":
        np.save(tmp_path / "u.npy", np.array([[2**64 - 1, 1]], dtype=np.uint64))
        m = str(tmp_path / "u.npy")
    elif case == "latin1":
        (tmp_path / "l.csv").write_bytes(b"1,2\n3,\xe9\n")
        m = str(tmp_path / "l.csv")
    elif case == "overflow":
        m = "[[1e308, 1e308]]"
    else:
        m, extra = "[[1,2],[3,4]]", ("--at", "²,0")
    r = cli("apply", "-m", m, "-k", "[[1, 1]]" if case == "overflow" else "[[1]]", *extra)
    assert r.code == 2 and says in r.err and len(r.err.splitlines()) == 1, r.err


def test_o_refuses_other_suffixes_and_its_own_input(tmp_path):
    precious = tmp_path / "precious.yaml"
    precious.write_text("precious\n")
    inp = tmp_path / "in.csv"
    inp.write_text("1,2\n3,4\n")
    os.symlink(inp, tmp_path / "link.png")
    os.link(inp, tmp_path / "hard.png")
    (tmp_path / "dir.png").mkdir()
    for target, says in [(precious, "-o writes a PNG image: give a path ending in .png"),
                         (tmp_path / "link.png", "is the command's own input"),
                         (tmp_path / "hard.png", "is the command's own input"),
                         (tmp_path / "dir.png", "is not a regular file")]:
        r = cli("apply", "-m", str(inp), "-k", "[[1]]", "-o", str(target))
        assert r.code == 2 and says in r.err, r.err
    assert precious.read_text() == "precious\n" and inp.read_text() == "1,2\n3,4\n"
    r = cli("apply", "-m", str(inp), "-k", "[[1]]", "-o", str(tmp_path / "out.png"))
    assert r.code == 0 and f"wrote {tmp_path / 'out.png'} (PNG, 2×2," in r.out
    assert (tmp_path / "out.png").read_bytes()[:4] == b"\x89PNG"


@settings(max_examples=25, deadline=None)
@given(st.integers(101, 130), st.integers(101, 130), st.sampled_from([2**20, 2**40, 2**62]),
       st.sampled_from(["conv", "max"]))
def test_large_integer_arrays_stay_exact(h, w, big, op):
    from cnncalc.core import filters
    from cnncalc.frontends import arrays

    rng = np.random.default_rng(h * w)
    x = rng.integers(-big, big, size=(h, w), dtype=np.int64)
    ker = [[1, -2], [3, 1]] if op == "conv" else None
    out = (h - 1, w - 1)
    exact = filters.run(x.tolist(), op, ker, (2, 2), (1, 1), (0, 0), out)
    fast = arrays.run(x, op, ker, (2, 2), (1, 1), (0, 0), out)
    assert (fast if isinstance(fast, list) else fast.tolist()) == exact  # exact, whatever path
