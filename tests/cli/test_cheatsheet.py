"""docs/cheatsheet.md is what scripts/cheatsheet.py generates from the commands now: regenerate
it after changing an output."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():  # scripts/ is not a package
    spec = importlib.util.spec_from_file_location("cheatsheet", ROOT / "scripts" / "cheatsheet.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cheatsheet_is_up_to_date():
    script = _script()
    text = script.generate()
    assert script.check(text) == [], "run: python scripts/cheatsheet.py"
    assert "= ⌊(224 + 2·0 − 1·(3−1) − 1)/2⌋ + 1 = 111" in text  # generated, not typed
