"""Hardening: the schema, the limits, several errors at once, and torch-side failures as one line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml

from cnncalc.core.errors import ErrorList, SpecError, SpecErrors
from cnncalc.frontends.load import ZOO, parse_spec, zoo_names
from cnncalc.frontends.schema import schema_text, spec_schema
from cnncalc.frontends.source import MAX_BYTES, MAX_DEPTH, MAX_NODES, load_yaml
from tests.conftest import cli

ROOT = Path(__file__).resolve().parents[2]
MODELINE = "# yaml-language-server: $schema=../../../docs/schema.json"


def error_lines(*args: str) -> list[str]:
    r = cli(*args)
    assert r.code == 2, (r.code, r.out, r.err)
    assert r.out == ""
    return r.err.strip().splitlines()


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# The schema ------------------------------------------------------------------------------------

def validator():
    # the schema tests need a validator (a dev dependency); the rest of this file does not
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft7Validator(spec_schema())


def test_docs_schema_is_current():
    assert (ROOT / "docs" / "schema.json").read_text() == schema_text(), \
        "run: PYTHONPATH=src python -m cnncalc schema > docs/schema.json"


def test_schema_command_prints_it():
    r = cli("schema")
    assert r.code == 0 and json.loads(r.out) == spec_schema()


def test_schema_is_valid_draft7_and_accepts_every_zoo_spec():
    v = validator()
    type(v).check_schema(spec_schema())
    for name in zoo_names():
        doc = yaml.safe_load((ZOO / f"{name}.yaml").read_text())
        assert [e.message for e in v.iter_errors(doc)] == [], name


@pytest.mark.parametrize(("text", "path"), [
    ("input: 3x8x8\nlayrs: [relu]\n", []),                          # misspelt top key
    ("input: 3x8x8\nlayers: [{conv: {out: 8, kernal: 3}}]\n", ["layers", 0]),
    ("input: 3x8x8\nlayers: [{conv: {out: yes, k: 3}}]\n", ["layers", 0]),   # a bool
    ("input: 3x8x8\nlayers: [{conv: {k: 3}}]\n", ["layers", 0]),     # out missing
    ("input: 3x8x8\nlayers: [{conv: {out: 0, k: 3}}]\n", ["layers", 0]),
    ("input: 3x8x8\nlayers: [{linear: 10, repeat: -1}]\n", ["layers", 0]),
    ("input: {channels: 3, size: [8, 8, 8]}\nlayers: [relu]\n", ["input"]),
])
def test_schema_rejects_what_cnncalc_rejects(text, path):
    errors = list(validator().iter_errors(yaml.safe_load(text)))
    assert errors and [list(e.path) for e in errors][0] == path


def test_schema_accepts_aliases_primaries_and_expressions():
    doc = yaml.safe_load("input: 3x8x8\nblocks: {b: {args: [c], body: [{conv2d: {out_channels: "
                         "'$c * 2', k: [3, 3], p: same}}]}}\nlayers: [{linear: 10}, {b: 4}, "
                         "{residual: {body: [relu], shortcut: identity}}, {maxpool: 2}]\n")
    assert list(validator().iter_errors(doc)) == []


def test_every_zoo_spec_carries_the_modeline():
    for name in zoo_names():
        first = (ZOO / f"{name}.yaml").read_text().splitlines()[0]
        assert first == MODELINE, name
    # the relative path resolves from the zoo folder to the generated schema
    assert (ZOO / "../../../docs/schema.json").resolve() == (ROOT / "docs" / "schema.json")


# Limits --------------------------------------------------------------------------------------

BILLION_LAUGHS = "".join(
    f"{a}: &{a} [{', '.join([f'*{p}'] * 9 if p else ['lol'] * 9)}]\n"
    for p, a in zip(["", "a", "b", "c", "d", "e", "f", "g", "h"], "abcdefghi"))


def test_billion_laughs_is_refused_fast_with_bounded_memory():
    # 9 levels of 9 aliases would expand to 9**9 = 387,420,489 strings
    tracemalloc.start()
    t = time.perf_counter()
    with pytest.raises(SpecError) as e:
        load_yaml(BILLION_LAUGHS, "lol.yaml")
    seconds = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # refused at line 6 (9**5 = 59,049 values so far + 9 aliases of 59,049 each passes 200,000):
    # lines 7-9, which would hold 387 million values, are never composed
    assert str(e.value).startswith("lol.yaml:6:")
    assert f"spec expands to more than {MAX_NODES:,} values" in str(e.value)
    assert peak < 5_000_000  # bytes allocated at the peak: no expansion happened
    print(f"billion laughs refused in {seconds:.4f} s, peak {peak:,} bytes allocated")


def test_billion_laughs_through_the_cli(tmp_path):
    (line,) = error_lines("shapes", write(tmp_path, BILLION_LAUGHS))
    assert re.search(r"s\.yaml:\d+:\d+: spec expands to more than 200,000 values", line)


def test_alias_reuse_within_the_limit_still_works(tmp_path):
    text = "input: 3x8x8\nblocks: {b: {body: &body [relu, bn]}}\nlayers: *body\n"
    r = cli("shapes", write(tmp_path, text), "-f", "json")
    assert r.code == 0 and [x["kind"] for x in r.json()["layers"]] == ["relu", "bn"]


def test_document_size_and_depth_limits():
    with pytest.raises(SpecError, match=f"larger than {MAX_BYTES:,} bytes"):
        load_yaml("#" * (MAX_BYTES + 1))
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(SpecError, match=f"nested deeper than {MAX_DEPTH} levels") as e:
        load_yaml(deep, "d.yaml")
    assert str(e.value).startswith(f"d.yaml:1:{MAX_DEPTH + 1}: ")  # the 65th '[' is column 65
    load_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH)  # 64 levels are fine


def test_very_deep_nesting_is_refused_without_recursion_error(tmp_path):
    text = "input: 3x8x8\nlayers: " + "[" * 100_000 + "]" * 100_000 + "\n"
    (line,) = error_lines("shapes", write(tmp_path, text))
    assert "nested deeper than 64 levels" in line


@pytest.mark.parametrize(("layers", "message"), [
    ("[{relu: , repeat: 10001}]", "2:27: repeat must be an integer from 0 to 10,000, got 10001"),
    ("[{relu: , repeat: 2.0}]", "repeat must be an integer from 0 to 10,000, got 2.0"),
    ("[{relu: , repeat: yes}]", "repeat must be an integer from 0 to 10,000, got 'yes'"),
    # 200 × 100 = 20,000 relus: refused once the graph passes 10,000 layers
    ("[{seq: [{relu: , repeat: 100}], repeat: 200}]",
     "spec expands to more than 10,000 layers (lower a repeat count)"),
])
def test_repeat_limits(tmp_path, layers, message):
    (line,) = error_lines("shapes", write(tmp_path, f"input: 3x8x8\nlayers: {layers}\n"))
    assert message in line


@pytest.mark.parametrize(("blocks", "cycle"), [
    ("{a: {body: [a]}}", "block 'a' uses itself (a → a)"),
    ("{a: {body: [b]}, b: {body: [c]}, c: {body: [relu, a]}}", "block 'a' uses itself (a → b → c → a)"),
])
def test_blocks_that_use_themselves(tmp_path, blocks, cycle):
    text = f"input: 3x8x8\nblocks: {blocks}\nlayers: [a]\n"
    (line,) = error_lines("shapes", write(tmp_path, text))
    assert cycle in line


@pytest.mark.parametrize(("value", "message"), [
    ("yes", "got 'yes' (YAML 1.1 reads this as a boolean; cnncalc reads it as text)"),
    ("true", "got True (a boolean is not a number)"),
    ("0x10", "got '0x10' (write decimal 16)"),
    ("1_000", "got '1_000' (write decimal 1000)"),
    ("1e3", "got 1000.0 (write 1000; in an expression use // for integer division)"),
    ("-8", "got -8"),
    ("0", "got 0"),
    ("2000000", "got 2000000 (at most 1,000,000)"),
])
def test_integers_mean_decimal_integers(tmp_path, value, message):
    text = f"input: 3x8x8\nlayers: [{{conv: {{out: {value}, k: 1}}}}]\n"
    (line,) = error_lines("shapes", write(tmp_path, text))
    assert line.endswith(f"conv conv1: out expected a positive integer, {message}"), line


def test_huge_activations_warn_with_bytes(tmp_path):
    text = "input: 3x100000x100000\nlayers: [{conv: {out: 64, k: 1}}]\n"
    r = cli("shapes", write(tmp_path, text), "-f", "md")
    assert r.code == 0
    values = 64 * 100_000 * 100_000  # = 640,000,000,000 float32 values
    assert f"{values * 4:,} bytes" in r.out  # 2,560,000,000,000 bytes
    small = cli("shapes", "lenet5", "-f", "md")
    assert "activations take" not in small.out


def test_absurd_input_sizes(tmp_path):
    for size in ("0", "-3", "100001", "1e5", "yes"):
        text = f"input: {{channels: 3, size: {size}}}\nlayers: [relu]\n"
        (line,) = error_lines("shapes", write(tmp_path, text))
        assert "input channels and size must be positive integers up to 100,000" in line


def test_control_characters_are_one_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"input: 3x8x8\nlayers: [relu, \x00]\n")
    (line,) = error_lines("shapes", str(path))
    assert line.endswith("c.yaml:2:16: YAML cannot hold the character '\\x00' (code 0x0) "
                         "(remove it; a spec is plain text)")


def test_not_utf8_is_one_line(tmp_path):
    path = tmp_path / "l.yaml"
    path.write_bytes(b"input: 3x8x8\nlayers: [relu] # \xff\n")
    (line,) = error_lines("shapes", str(path))
    assert line.startswith(f"cannot read {path}: 'utf-8' codec can't decode byte 0xff")


# Several errors at once -----------------------------------------------------------------------

def test_independent_errors_are_reported_together(tmp_path):
    text = ("input: 3x8x8\n"
            "layers:\n"
            "  - {conv: {out: 8, kernal: 3}}\n"
            "  - convv\n"
            "  - {linear: {outt: 3}}\n"
            "  - bn\n")
    lines = error_lines("shapes", write(tmp_path, text))
    assert [re.match(r"\S+:(\d+:\d+):", x)[1] for x in lines] == ["3:21", "4:5", "5:15"]
    assert "did you mean 'kernel'" in lines[0]
    assert "unknown layer kind 'convv' (did you mean 'conv'?)" in lines[1]
    assert "did you mean 'out'" in lines[2]


def test_a_shape_error_after_a_skipped_layer_is_not_reported(tmp_path):
    # conv1 is skipped, so the add sees 3 channels against 8: a consequence, not a new mistake
    text = ("input: 3x8x8\nlayers:\n  - {conv: {out: 8, k: 1, strid: 1}, name: c}\n"
            "  - {add: [[{conv: {out: 8, k: 1}}], []]}\n")
    (line,) = error_lines("shapes", write(tmp_path, text))
    assert "unknown argument 'strid'" in line


def test_a_block_used_many_times_reports_its_mistake_once(tmp_path):
    text = ("input: 3x8x8\nblocks: {b: {body: [{conv: {out: 8, kk: 1}}]}}\n"
            "layers: [{b: , repeat: 5}]\n")
    (line,) = error_lines("shapes", write(tmp_path, text))
    assert "unknown argument 'kk'" in line


def test_errors_stop_at_the_limit(tmp_path):
    items = "".join(f"  - bad{n}\n" for n in range(25))
    lines = error_lines("shapes", write(tmp_path, f"input: 3x8x8\nlayers:\n{items}"))
    assert len(lines) == 11  # 10 errors and the line saying where it stopped
    assert lines[-1] == "stopped after 10 errors; fix these and run again"


def test_header_errors_are_reported_together(tmp_path):
    text = "name: [1]\ninpt: 3x8x8\nlayers: 3\n"
    lines = error_lines("shapes", write(tmp_path, text))
    # in the order they stand in the file
    assert [x.split(": ", 1)[1] for x in lines] == [
        "'name' is a line of text, got [1]",
        "unknown top-level key 'inpt'; allowed: name, description, info, input, blocks, layers "
        "(did you mean 'input'?)",
        "'layers' is a non-empty list of layers",
    ]


def test_error_list_semantics():
    errs = ErrorList(limit=3)
    errs.check()  # nothing collected: nothing raised
    errs.add(SpecError("a"))
    with pytest.raises(SpecError, match="^a$"):
        errs.check()  # one error is raised as itself
    errs.add(SpecError("b"))
    with pytest.raises(SpecErrors, match="^a\nb$"):
        errs.check()
    with pytest.raises(SpecErrors, match="stopped after 3 errors"):
        errs.add(SpecError("c"))


def test_parse_spec_is_unchanged_for_good_specs():
    spec = parse_spec("input: 3x8x8\nlayers: [relu]\n", "g.yaml")
    assert spec.input_shape == (3, 8, 8) and spec.name == "g"


# Torch-side failures as one line ------------------------------------------------------------

def run_without_torch(code: str) -> subprocess.CompletedProcess[str]:
    prelude = "import sys\nsys.modules['torch'] = None  # `import torch` raises ImportError\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True,
                          timeout=60, env={"PYTHONPATH": str(ROOT / "src")})


def test_torch_missing_is_one_line_from_the_backend():
    r = run_without_torch(
        "from cnncalc.core.errors import BackendError\n"
        "try:\n    from cnncalc.measure.device import pick_device\n"
        "except BackendError as e:\n    print(e)\n")
    assert r.stdout == "torch is not installed: pip install 'cnncalc[torch]'\n", r.stderr


def test_torch_missing_through_a_command_is_one_line_and_exit_2():
    # a command that needs torch imports the backend inside its body; handle_errors turns the
    # BackendError into one line
    r = run_without_torch(
        "from cnncalc.cli.app import app, handle_errors\n"
        "@app.command()\n@handle_errors\ndef needs_torch() -> None:\n"
        "    from cnncalc.measure.build import build_module  # noqa: F401\n"
        "sys.argv = ['cnncalc', 'needs-torch']\n"
        "from cnncalc.cli.main import main\nmain()\n")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == "torch is not installed: pip install 'cnncalc[torch]'\n"


def test_shapes_works_without_torch():
    r = run_without_torch("sys.argv = ['cnncalc', 'shapes', 'lenet5', '-f', 'csv']\n"
                          "from cnncalc.cli.main import main\nmain()\n")
    assert r.returncode == 0 and r.stdout.startswith("Layer,Kind,Output"), r.stderr


def test_a_kind_the_backend_cannot_build():
    pytest.importorskip("torch")
    from cnncalc.core.engine import Layer
    from cnncalc.core.errors import BackendError
    from cnncalc.measure.build import build_layer

    layer = Layer("x", "no_such_kind", {}, ("input",), [(3, 8, 8)], (3, 8, 8))
    with pytest.raises(BackendError, match="^layer x: the torch backend cannot build kind "
                                           "'no_such_kind'$"):
        build_layer(layer)


def test_out_of_memory_names_the_batch_from_a_real_allocation():
    torch = pytest.importorskip("torch")
    from cnncalc.core.errors import BackendError
    from cnncalc.measure.device import out_of_memory

    def too_big(batch: int) -> None:
        # Python's MemoryError is what a CPU allocation far beyond RAM raises
        raise MemoryError(f"cannot allocate {batch * 2**40} bytes")

    with pytest.raises(BackendError, match="^out of memory at batch 4096$"):
        with out_of_memory("at batch 4096"):
            too_big(4096)
    assert torch.zeros(1).sum().item() == 0  # torch still usable after


def test_explain_of_a_flatten_on_a_vector(tmp_path):
    # found by benchmarks/fuzz.py (seed 1, case 1224): a second flatten sees a 192-vector
    # (3·8·8 = 192) and --explain assumed C×H×W
    text = "input: 3x8x8\nlayers: [flatten, flatten, {linear: 10}]\n"
    r = cli("shapes", write(tmp_path, text), "--explain", "-f", "json")
    assert r.code == 0, r.err
    r = cli("shapes", write(tmp_path, text), "--explain", "-l", "flatten2")
    assert r.code == 0 and "flatten2 (flatten): 192 → 192" in r.out


def test_the_readme_example_of_several_mistakes():
    path = str(ROOT / "tests" / "data" / "mistakes.yaml")
    lines = error_lines("shapes", path)
    assert [x.removeprefix(path + ":") for x in lines] == [
        "5:22: conv conv1: unknown argument 'kernal'; allowed: out, kernel_size, stride, padding, "
        "dilation, groups, bias (did you mean 'kernel'?)",
        "6:18: conv conv2: out expected a positive integer, got 'yes' (YAML 1.1 reads this as a "
        "boolean; cnncalc reads it as text)",
        "7:18: conv conv3: out expected a positive integer, got '0x40' (write decimal 64)",
        "8:5: unknown layer kind 'rleu' (did you mean 'relu'?)",
    ]
