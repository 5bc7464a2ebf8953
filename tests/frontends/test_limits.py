"""Limits on what a spec may ask for: YAML size, nesting and aliases, repeats, self-using blocks,
integers, input sizes and bytes a spec cannot hold; each refused in one line."""

from __future__ import annotations

import re
import time
import tracemalloc

import pytest

from cnncalc.core.errors import SpecError
from cnncalc.frontends.source import MAX_BYTES, MAX_DEPTH, MAX_NODES, load_yaml
from tests.conftest import cli, error_lines, write

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
    assert line == f"{path} is not UTF-8 text (byte 0xff at line 2)"
