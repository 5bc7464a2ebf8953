"""verify's verdicts, decided in core/checks.py on typed records, and worded by report/verify.py
without torch."""

from __future__ import annotations

import subprocess
import sys

from cnncalc.core.checks import compare
from cnncalc.core.measured import LADDER, MAX_PERIOD, MEMORY, UNMEASURED, FieldResult, Measured
from cnncalc.frontends.stack import build_items, parse_stack
from cnncalc.report import verify as report


def graph():
    return build_items((1, 16, 16), parse_stack("3x3 s2, 3x3", 1), "two")


def measured(g, **changes):
    m = Measured({x.name: x.out_shape for x in g.layers}, {x.name: x.params for x in g.layers},
                 {x.name: x.macs for x in g.layers}, {x.name: [] for x in g.layers})
    for k, v in changes.items():
        setattr(m, k, v)
    return m


def test_agreeing_counts_and_unmeasured_fields_agree():
    g = graph()
    v = compare(g, measured(g), {})
    assert v.agrees and v.disagreements == 0 and v.rf_measured == 0
    row = v.rows[0]
    assert row.shape.ok and row.params.ok and row.macs.ok
    assert row.rf.ok is None and row.rf.measured is None  # not selected: not measured
    assert row.fvcore.ok is None and row.fvcore.error == "fvcore not run"


def test_a_wrong_mac_count_is_a_disagreement():
    g = graph()
    first = g.layers[0].name
    v = compare(g, measured(g, macs={x.name: x.macs + (x.name == first) for x in g.layers}), {})
    assert not v.agrees and v.disagreements == 1
    assert v.rows[0].macs.ok is False and v.rows[1].agrees


def test_fields_not_measured_say_why_from_the_constants():
    g = graph()
    x = g.layers[-1]
    for status in UNMEASURED:
        v = compare(g, measured(g), {x.name: FieldResult(status, analytic=x.rf.max)})
        assert v.rows[-1].rf.ok is None and v.rows[-1].rf.unmeasured == status
        assert report.rf_note(v.rows[-1]).endswith(": not measured")
    assert set(report.UNMEASURED_TEXT) == set(UNMEASURED)
    assert str(LADDER[-1]) in report.UNMEASURED_TEXT["too-large"]
    assert str(MAX_PERIOD) in report.UNMEASURED_TEXT["period"]
    assert f"{MEMORY // 2**30} GiB" in report.UNMEASURED_TEXT["memory"]


def test_an_empty_support_disagrees():
    g = graph()
    x = g.layers[-1]
    v = compare(g, measured(g), {x.name: FieldResult("empty", (16, 16), x.rf.max)})
    assert v.rows[-1].rf.ok is False and not v.agrees
    assert report.rf_measured(v.rows[-1].rf) == "none"


def test_a_measured_field_agrees_when_size_and_jump_match():
    g = graph()
    x = g.layers[-1]
    f = x.rf.max
    ok = FieldResult("ok", (16, 16), f, (int(f.h.size), int(f.w.size)), (f.h.jump, f.w.jump))
    v = compare(g, measured(g), {x.name: ok})
    assert v.rows[-1].rf.ok is True and not v.rows[-1].rf.resized
    assert report.rf_measured(v.rows[-1].rf) == "7 j2"  # 3 + (3−1)·2 = 7, jump 2


def test_both_counters_skipping_the_same_ops_is_said_once():
    g = graph()
    names = [x.name for x in g.layers]
    m = measured(g, torch_skipped={n: ["add"] for n in names},
                 fvcore={x.name: x.macs for x in g.layers},
                 fvcore_counted={x.name: {"conv": x.macs} for x in g.layers},
                 fvcore_skipped={n: ["add"] for n in names})
    row = compare(g, m, {}).rows[0]
    assert row.both_skip and report.notes(row) == "both counters skip add"


def test_rendering_verify_loads_no_torch():
    code = "import sys, cnncalc.report.verify, cnncalc.core.checks; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
