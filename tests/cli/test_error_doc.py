"""Every message in docs/errors.md is produced by its example (tests/cli/error_cases.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from tests.cli.error_cases import CASES, SPEC, produce

ROOT = Path(__file__).resolve().parents[2]
LOC = re.compile(rf"^{re.escape(SPEC)}:\d+:\d+: ")


@pytest.mark.parametrize("case", CASES, ids=[c.title for c in CASES])
def test_example_produces_its_message(case):
    if "torch" in case.section.lower():
        pytest.importorskip("torch")
        if case.title == "No CUDA":
            import torch

            if torch.cuda.is_available():
                pytest.skip("this machine has CUDA")
    lines = produce(case)
    assert case.expect in "\n".join(lines), lines
    if case.spec is not None and case.section not in ("The command line",) and \
            case.title not in ("Not UTF-8 text", "File too large", "Bad input size"):
        assert all(LOC.match(x) for x in lines if not x.startswith("stopped after")), lines


def load_script():
    spec = importlib.util.spec_from_file_location("errors_doc", ROOT / "scripts" / "errors_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_errors_doc_is_current():
    pytest.importorskip("torch")
    old = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert load_script().render() == old, "docs/errors.md is stale: run python scripts/errors_doc.py"


def test_every_message_in_the_doc_is_a_case():
    doc = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert doc.count("\nFix: ") == len(CASES)
    for case in CASES:
        assert case.expect in doc, case.title
