"""Torch-side failures as one line: torch missing, a kind the backend cannot build, out of memory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_without_torch(code: str) -> subprocess.CompletedProcess[str]:
    prelude = "import sys\nsys.modules['torch'] = None  # `import torch` raises ImportError\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True,
                          timeout=60, env={"PYTHONPATH": str(ROOT / "src")})


def test_torch_missing_is_one_line_from_the_backend():
    r = run_without_torch(
        "from cnncalc.core.errors import BackendError\n"
        "from cnncalc.measure.device import pick_device\n"
        "try:\n    pick_device('cpu')\n"
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
    assert r.returncode == 0 and r.stdout.startswith("name,kind,inputs,in_shape,out_shape"), r.stderr


def test_a_kind_the_backend_cannot_build():
    pytest.importorskip("torch")
    from cnncalc.core.engine import Layer
    from cnncalc.core.errors import BackendError
    from cnncalc.core.rf import RF
    from cnncalc.measure.build import build_layer

    layer = Layer("x", "no_such_kind", {}, ("input",), [(3, 8, 8)], (3, 8, 8), RF.input(8, 8))
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
