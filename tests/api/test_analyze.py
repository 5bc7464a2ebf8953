"""The public API's analytic half: `cnncalc.analyze` on a spec, its Report, no torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import cnncalc
from cnncalc.core.errors import CnncalcError, SpecError

SRC = Path(__file__).resolve().parents[2] / "src"


def test_resnet50_totals_are_the_zoo_numbers():
    r = cnncalc.analyze("resnet50")
    assert r.totals.params == 25_557_032  # torchvision's resnet50: the number its docs print
    assert r.totals.macs == 4_089_184_256
    assert r.totals.flops == 2 * r.totals.macs
    assert r.partial == [] and r.module is None


def test_layers_carry_the_json_contracts_names():
    r = cnncalc.analyze("resnet18")
    conv1 = r.layers[0]
    assert set(conv1) == set(json.loads(r.to_json())["layers"][0])
    assert (conv1.name, conv1.kind, conv1.in_shape, conv1.out_shape) == \
        ("conv1", "conv", [3, 224, 224], [64, 112, 112])  # (224 + 2*3 - 7)//2 + 1 = 112
    assert conv1.params == 64 * 3 * 7 * 7  # = 9408, no bias
    assert conv1.rf.size == [7, 7] and conv1["rf"]["global"] is False
    assert r.to_dict()["totals"]["params"] == r.totals.params == sum(x.params for x in r.layers)


def test_input_size_is_chw_or_nchw_like_torchinfo():
    r = cnncalc.analyze("resnet18", input_size=(8, 3, 64, 64))
    assert (r.graph.batch, r.graph.input_shape) == (8, (3, 64, 64))
    assert r.layers[0].macs == 8 * 64 * 3 * 49 * 32 * 32  # batch 8, output 64×32×32
    assert cnncalc.analyze("resnet18", (3, 64, 64), batch=8).totals.macs == r.totals.macs
    with pytest.raises(CnncalcError, match="says batch 8"):
        cnncalc.analyze("resnet18", (8, 3, 64, 64), batch=2)
    with pytest.raises(CnncalcError, match=r"\(C, H, W\)"):
        cnncalc.analyze("resnet18", (3, 64.0, 64))


def test_markdown_pastes_as_a_table():
    md = cnncalc.analyze("lenet5")._repr_markdown_()
    lines = md.splitlines()
    head = lines.index(next(x for x in lines if x.startswith("| Layer")))
    assert lines[head + 1].startswith("|---") and lines[head + 2].startswith("| `c1` | conv | 6×28×28 | 156 |")
    assert all(x.count("|") == lines[head].count("|") for x in lines[head:head + 5])


def test_html_is_a_table_and_the_repr_is_small():
    r = cnncalc.analyze("resnet50")
    page = r._repr_html_()
    assert page.count("<table>") == 2 and "<th>Params</th>" in page and "<td>9,408</td>" in page
    assert repr(r) == ("<Report resnet50: input 1×3×224×224, 175 layers, 25.56M params, "
                       "4.09G MACs>")


def test_str_is_the_table_and_csv_has_a_row_per_layer():
    r = cnncalc.analyze("lenet5")
    assert "c1" in str(r) and "Params" in str(r)
    rows = r.to_csv().splitlines()
    assert rows[0].startswith("name,kind,inputs,in_shape,out_shape,params,buffers,macs,flops,o") and \
        len(rows) == 1 + len(r.layers)


def test_rich_renders_the_table():
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(cnncalc.analyze("lenet5"))
    assert "c1 " in console.export_text()


def test_a_library_raises_it_never_exits():
    with pytest.raises(SpecError, match="no spec file or zoo spec named 'resnet5'"):
        cnncalc.analyze("resnet5")
    with pytest.raises(CnncalcError, match="cannot analyze a int"):
        cnncalc.analyze(42)
    with pytest.raises(CnncalcError, match="no 'csv' output"):
        cnncalc.Result.to_csv(cnncalc.ErfResult(None, None))  # type: ignore[arg-type]


def test_to_pandas_needs_pandas():
    r = cnncalc.analyze("lenet5")
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(CnncalcError, match="pandas is not installed"):
            r.to_pandas()
    else:
        assert list(r.to_pandas()["name"])[0] == "c1"


def test_import_and_analyze_a_spec_load_no_torch():
    code = ("import sys, cnncalc\n"
            "assert 'torch' not in sys.modules, 'import cnncalc loaded torch'\n"
            "r = cnncalc.analyze('resnet50'); r.to_markdown(); str(r); r.to_json()\n"
            "assert 'torch' not in sys.modules, 'analyze loaded torch'\n"
            "print(r.totals.params)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(SRC)}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "25557032"
