"""Python specs (frontends/python.py, imported as cnncalc.spec.python): the YAML vocabulary as
functions, without torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cnncalc.core.errors import SpecError
from cnncalc.frontends import python as py
from cnncalc.frontends.pysource import is_python, parse_args
from tests.conftest import cli, layers_of

RESNET18 = """
    from cnncalc.spec.python import (block, bn, conv, flatten, gap, linear, maxpool, net, relu,
                                     residual, seq)

    @block
    def basic(out=64, stride=1):
        return [residual(conv(out, 3, s=stride, p=1, bias=False), bn(), relu(),
                         conv(out, 3, p=1, bias=False), bn()),
                relu()]

    def stage(out, stride, name):
        return seq(*(basic(out, stride if i == 0 else 1, name=i) for i in range(2)), name=name)

    SPEC = net("resnet18", "3x224x224", [
        conv(64, 7, s=2, p=3, bias=False, name="conv1"), bn(name="bn1"), relu(),
        maxpool(3, 2, 1),
        stage(64, 1, "layer1"), stage(128, 2, "layer2"),
        stage(256, 2, "layer3"), stage(512, 2, "layer4"),
        gap(name="avgpool"), flatten(), linear(1000, name="fc"),
    ])
"""


def write(tmp_path: Path, text: str, name: str = "net.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_python_resnet18_equals_the_zoo_yaml_layer_by_layer(tmp_path):
    ours = cli("shapes", write(tmp_path, RESNET18), "-f", "json")
    zoo = cli("shapes", "resnet18", "-f", "json")
    assert ours.code == 0, ours.err
    a, b = ours.json(), zoo.json()
    assert a["layers"] == b["layers"]  # names, kinds, shapes, params, MACs, RF: all 69 rows
    assert a["totals"] == b["totals"]
    assert a["totals"]["params"] == 11_689_512  # torchvision's resnet18


def test_positional_arguments_follow_the_kinds_order():
    item = py.conv(64, 3, 2, 1)
    assert item.value == {"out": 64, "kernel_size": 3, "stride": 2, "padding": 1}
    assert py.linear(10).value == {"out": 10}
    assert py.maxpool(3, s=2).value == {"kernel_size": 3, "s": 2}


def test_a_python_spec_lowers_like_its_yaml_twin(tmp_path, spec):
    pyspec = write(tmp_path, """
        from cnncalc.spec.python import net, conv, relu, concat, mul, gap, sigmoid, layer, add
        SPEC = net("t", "3x32x32", [
            conv(8, k=3, p=1), relu(),
            concat([conv(4, 1)], [], name="mix"),             # 8 + 4 = 12 channels
            mul([], [gap(), conv(12, 1), sigmoid()]),
            add(a=[conv(12, 3, p=1)], b=[]),
            layer("dwconv", k=3, s=2, p=1),
        ])
    """)
    yaml = spec("""
        - {conv: {out: 8, k: 3, p: 1}}
        - relu
        - {concat: [[{conv: {out: 4, k: 1}}], []], name: mix}
        - mul: [[], [gap, {conv: {out: 12, k: 1}}, sigmoid]]
        - add: {a: [{conv: {out: 12, k: 3, p: 1}}], b: []}
        - {dwconv: {k: 3, s: 2, p: 1}}
    """, input="3x32x32")
    ours, theirs = layers_of(pyspec), layers_of(yaml)
    assert ours == theirs
    assert ours[2]["name"] == "mix.conv1"
    assert ours[3]["out_shape"] == [4 + 8, 32, 32]  # = 12×32×32
    assert ours[-1]["out_shape"] == [12, (32 + 2 * 1 - 3) // 2 + 1, 16]  # = 12×16×16
    assert ours[-1]["params"] == 12 * 3 * 3 + 12  # depthwise: one 3×3 filter per channel + bias


def test_block_sees_the_channels_entering_it(tmp_path):
    path = write(tmp_path, """
        from cnncalc.spec.python import block, net, conv, linear, relu
        @block
        def expand(t):
            return [conv("$in * %d" % t, 1), relu(), conv("$in", 1)]
        SPEC = net("t", "3x8x8", [conv(16, 1), expand(4), expand(2, name="e")])
    """)
    rows = layers_of(path)
    assert [r["name"] for r in rows] == ["conv1", "expand1.conv1", "expand1.relu1",
                                        "expand1.conv2", "e.conv1", "e.relu1", "e.conv2"]
    assert rows[1]["out_shape"][0] == 16 * 4  # $in = 16 entering the block
    assert rows[3]["out_shape"][0] == 16  # back to $in
    assert rows[4]["params"] == 16 * (16 * 2) + 16 * 2  # 1×1 conv 16 → 32, with bias


def test_repeat_and_names_mirror_yaml(tmp_path, spec):
    path = write(tmp_path, """
        from cnncalc.spec.python import net, conv, relu, seq
        SPEC = net("t", "3x16x16", [seq(conv(4, 3, p=1), relu(), repeat=3, name="body")])
    """)
    twin = spec("- {seq: [{conv: {out: 4, k: 3, p: 1}}, relu], repeat: 3, name: body}",
                input="3x16x16")
    assert layers_of(path) == layers_of(twin)
    assert layers_of(path)[-1]["name"] == "body.2.relu1"


def test_errors_point_at_the_python_line(tmp_path):
    path = write(tmp_path, """
        from cnncalc.spec.python import net, conv
        SPEC = net("t", "3x8x8", [
            conv(8, 3, stride=0),
        ])
    """)
    r = cli("shapes", path)
    assert r.code == 2
    assert r.err.startswith(f"{path}:4:1: conv conv1: stride expected a positive integer")
    assert r.err.strip().endswith("got 0")
    assert len(r.err.strip().splitlines()) == 1


def test_unknown_kind_and_bad_arguments_raise_spec_errors():
    with pytest.raises(SpecError, match="unknown layer kind 'convv'.*did you mean 'conv"):
        py.layer("convv", 3)
    with pytest.raises(SpecError, match="'out' given twice"):
        py.conv(8, out=8)
    with pytest.raises(SpecError, match="at most 2 positional"):
        py.linear(10, True, 3)
    with pytest.raises(AttributeError):
        py.__getattr__("not_a_kind")


def test_a_file_without_spec_says_what_it_needs(tmp_path):
    r = cli("shapes", write(tmp_path, "x = 1\n"))
    assert r.code == 2
    assert "defines no SPEC (a Python spec sets SPEC = net(...))" in r.err


def test_a_failing_file_is_one_line(tmp_path):
    r = cli("shapes", write(tmp_path, "raise RuntimeError('boom')\n"))
    assert r.code == 2
    assert r.err.strip().endswith("failed while loading: RuntimeError: boom")


def test_file_colon_name_and_input_override(tmp_path):
    path = write(tmp_path, """
        from cnncalc.spec.python import net, conv
        SMALL = net("small", "1x28x28", [conv(6, 5)])
    """)
    rows = layers_of(f"{path}:SMALL", "--input", "1x32x32")
    assert rows[0]["out_shape"] == [6, 32 - 5 + 1, 28]  # = 6×28×28
    r = cli("shapes", f"{path}:BIG")
    assert r.code == 2 and "has no 'BIG'" in r.err


def test_arg_needs_a_python_callable(tmp_path):
    r = cli("shapes", "resnet18", "--arg", "x=1")
    assert r.code == 2 and "--arg is for Python classes and factories" in r.err


def test_source_forms_and_arg_values():
    assert is_python("net.py") and is_python("dir/net.py:Net") and is_python("pkg.mod:make")
    assert not is_python("resnet18") and not is_python("specs/x.yaml")
    assert parse_args(["width=32", "name=wide", "k=[3, 5]", "on=True"]) == \
        {"width": 32, "name": "wide", "k": [3, 5], "on": True}
    with pytest.raises(SpecError, match="write name=value"):
        parse_args(["32"])


def test_python_spec_runs_without_torch(tmp_path):
    path = write(tmp_path, RESNET18)
    code = (
        "import sys\n"
        f"sys.argv = ['cnncalc', 'shapes', {path!r}, '-f', 'json']\n"
        "from cnncalc.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "assert 'torch' not in sys.modules, 'a Python spec imported torch'\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert '"params": 11689512' in r.stdout


def test_python_spec_exports_to_yaml_that_reads_back_the_same(tmp_path):
    from cnncalc.frontends.load import analyze, build, parse_spec
    from cnncalc.report.export_yaml import graph_to_yaml

    g = analyze(write(tmp_path, RESNET18))
    text = graph_to_yaml(g)
    again = build(parse_spec(text, "again.yaml"))
    assert [(x.name, x.kind, x.out_shape, x.params, x.macs) for x in again.layers] == \
        [(x.name, x.kind, x.out_shape, x.params, x.macs) for x in g.layers]
    assert "- {basic" not in text and "name: layer1" in text  # blocks are written out


def test_a_spec_function_takes_arg_values(tmp_path):
    path = write(tmp_path, """
        from cnncalc.spec.python import *
        def make(width=8, classes=10):
            return net("m", "3x16x16", [conv(width, 3, p=1), gap(), flatten(), linear(classes)])
    """)
    rows = layers_of(f"{path}:make", "--arg", "width=4", "--arg", "classes=3")
    assert [r["out_shape"] for r in rows] == [[4, 16, 16], [4, 1, 1], [4], [3]]
    assert rows[0]["params"] == 4 * 3 * 3 * 3 + 4  # = 112
    assert rows[3]["params"] == 4 * 3 + 3  # = 15


def test_the_documented_example_runs(tmp_path):
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "tiny_resnet.py"
    rows = {r["name"]: r for r in layers_of(str(example))}
    assert rows["stem"]["params"] == 16 * 3 * 3 * 3  # = 432, no bias
    assert rows["stage2.0.shortcut.conv"]["out_shape"] == [32, 16, 16]  # auto projection, s2
    assert rows["stage2.0.shortcut.conv"]["params"] == 32 * 16  # 1×1, 16 → 32: 512
    wide = layers_of(f"{example}:make", "--arg", "width=32")
    assert wide[0]["params"] == 32 * 3 * 3 * 3  # = 864
