"""Issue 15's acceptance check: `cnncalc shapes` on each hostile input of the issue, in a fresh
process capped at 500 MB of address space and 5 s, exits 0 or 2 with no traceback."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
H = "input: 3x8x8\n"
CORPUS = {
    "injection": "name: 'resnet\"\"\"; import os; os.system(\"echo PWNED\"); \"\"\"'\n" + H
                 + "layers: [relu]\n",
    "escapes": 'name: "x\\e[2J\\e]0;pwn\\a"\n' + H + "layers: [relu]\n",
    "markup": 'name: "[/dim] [bold red]x"\n' + H + "layers: [relu]\n",
    "empty repeats": H + "layers:\n  - {seq: [{seq: [{seq: [], repeat: 10000}], repeat: 10000}]"
                     ", repeat: 10000}\n  - relu\n",
    "blocks": H + "blocks:\n  b0: {body: [{relu: , if: false}]}\n" + "".join(
        f"  b{i}: {{body: [{{b{i - 1}: , repeat: 10}}]}}\n" for i in range(1, 10))
        + "layers: [b9, relu]\n",
    "upsample": "input: 1x1x1\nlayers: [{upsample: 1000000}]\n",
    "convT": "input: 1x1x1\nlayers: [{convT: {out: 1, k: 2, s: 1000000}}, "
             "{convT: {out: 1, k: 2, s: 1000000}}]\n",
    "adaptive": "input: 1x1000x1000\nlayers: [{upsample: 1000}, {adaptive_avgpool: 1000000}, "
                "{adaptive_avgpool: 999999}]\n",
    "jump": "input: 1x1x1\nlayers: [{conv: {out: 1, k: 1, s: 1000000}, repeat: 1000}]\n",
    "literal": H + "layers: [{conv: {out: " + "9" * 5000 + ", k: 1}}]\n",
    "octal": H + "layers: [{conv: {out: 010, k: 1}}]\n",
    "inf": H + "layers: [{dropout: 1e999}, {leakyrelu: -1e999}]\n",
    "expression": H + "blocks: {b: {args: {c: 8}, body: [{conv: {out: "
                  "'((((2**64)**64)**64)**64) + $c', k: 1}}]}}\nlayers: [b]\n",
    "round": H + "blocks: {b: {args: {c: 8}, body: [{conv: {out: 'round($c, -10**9)', k: 1}}]}}"
             "\nlayers: [b]\n",
}


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (500 << 20, 500 << 20))


@pytest.mark.skipif(os.name != "posix", reason="resource limits")
@pytest.mark.parametrize("name", CORPUS)
def test_shapes_finishes_within_5_s_and_500_mb_or_refuses(tmp_path, name):
    path = tmp_path / "s.yaml"
    path.write_text(CORPUS[name])
    for fmt in ("table", "json"):
        r = subprocess.run([sys.executable, "-m", "cnncalc", "shapes", str(path), "-f", fmt],
                           capture_output=True, text=True, timeout=5, preexec_fn=limited,
                           env={**os.environ, "PYTHONPATH": SRC})
        assert r.returncode in (0, 2), (name, r.returncode, r.stderr[-500:])
        assert "Traceback" not in r.stderr
        if r.returncode == 2:
            assert len(r.stderr.splitlines()) == 1 and r.stdout == ""
