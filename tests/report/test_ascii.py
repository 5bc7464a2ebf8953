"""Output in an encoding without ✓, ≠ or box lines (ascii, latin-1): readable ASCII stand-ins,
laid out before the table is drawn, and verify's marks still matching its legend."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cnncalc.core.checks import Check
from cnncalc.report import table, terminal, verify
from cnncalc.report.table import Col, Table

SRC = str(Path(__file__).resolve().parents[2] / "src")
ENV = {**{k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TERMINAL_WIDTH")},
       "PYTHONPATH": SRC}


def ascii_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout in ASCII (in the test's body: pytest's capture sets sys.stdout after fixtures)."""
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))


def verify_marks(text: str = "1") -> list[str]:
    """Every mark a verify cell ends with: agree, differ, FlopCounterMode's shortfall, unmeasured."""
    return [verify.pair_cell(Check(1, 1, True)), verify.pair_cell(Check(1, 2, False)),
            f"{text} ≠ 2 ~", verify.pair_cell(Check(1, None, None))]


def test_verify_marks_and_legend_read_in_ascii_and_match():
    # the ASCII stand-ins were one character each: "≠ … ✗ they differ" read "! . X they differ"
    legend = verify.LEGEND.translate(terminal.ASCII)
    assert legend.isascii()
    assert "ok analytic = measured" in legend and "!= ... NO they differ" in legend
    assert "; - not measured; fvcore ok: its conv/linear part" in legend
    cells = [c.translate(terminal.ASCII) for c in verify_marks()]
    assert cells == ["1 ok", "1 != 2 NO", "1 != 2 ~", "1 -"]
    for unicode_legend, marks in ((verify.LEGEND, verify_marks()), (legend, cells)):
        for cell in marks:  # what follows the analytic number is written in the legend
            tail = re.sub(r"\b2\b", "…" if unicode_legend is verify.LEGEND else "...",
                          cell.removeprefix("1 "))
            assert tail in unicode_legend, (tail, unicode_legend)


def test_a_table_is_laid_out_in_its_ascii_stand_ins(monkeypatch):
    ascii_stdout(monkeypatch)
    t = Table("net: 1 of 2 disagree", [Col("Layer"), Col("Shape"), Col("MACs", right=True)],
              [["c1", "64×56×56 ✓", "9,408 ≠ 9,409 ✗"], ["fc", "10 ✓", "5,120 ✓"]])
    for width in (None, 80):
        # cells and title in the stand-ins; the box lines (one character each) as emit writes them
        lines = [line.translate(terminal.ASCII) for line in table.text_table(t, width)]
        assert all(line.isascii() for line in lines)
        box = [line for line in lines if line[:1] in "+|"]
        assert len({len(line) for line in box}) == 1, lines  # every row as wide as the box
        assert "| c1    | 64x56x56 ok | 9,408 != 9,409 NO |" in lines
    stacked = table.text_table(t, 20)  # the stacked layout gets the stand-ins too
    assert all(line.isascii() for line in stacked) and "  MACs 9,408 != 9,409 NO" in stacked
    assert table.wrap("fields ≤ 4 … apart", 12) == ["fields <= 4", "... apart"]


def test_a_utf8_output_keeps_the_unicode(monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    t = Table("", [Col("Shape")], [["64×56×56 ✓"]])
    assert "│ 64×56×56 ✓ │" in table.text_table(t, None)
    assert not terminal.ascii_only() and terminal.degrading(sys.stdout) is sys.stdout


def test_a_degrading_stream_writes_stand_ins_and_refuses_bytes():
    raw = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    s = terminal.degrading(raw)
    assert isinstance(s, terminal.Degrading) and s.encoding == "latin-1"
    assert s.write("p10–p90 ⌊x⌋ ✓\n") == len("p10–p90 ⌊x⌋ ✓\n")
    s.write("5×5 café\n")  # what latin-1 can write stays as it is
    s.flush()
    assert raw.buffer.getvalue().decode("latin-1") == "p10-p90 floor(x) ok\n5×5 café\n"
    with pytest.raises(TypeError):  # click's test for a binary stream: it must say text
        s.write(b"")
    assert not hasattr(s, "buffer")  # so click cannot write UTF-8 bytes past it


def test_verify_in_ascii_through_the_cli():
    pytest.importorskip("torch")
    r = subprocess.run([sys.executable, "-m", "cnncalc", "verify", "lenet5", "--rf", "none"],
                       capture_output=True, env={**ENV, "PYTHONIOENCODING": "ascii"},
                       timeout=300)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode("ascii")
    assert "| c1       | conv    | 6x28x28 ok  |    156 ok | 117,600 ok |" in out
    assert "ok analytic = measured; != ... NO they differ;" in out
