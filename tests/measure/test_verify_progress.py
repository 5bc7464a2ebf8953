"""verify reports the field measurement's progress: (done, total) after each group measured."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

import cnncalc  # noqa: E402


def test_field_progress_counts_up_to_the_selected_layers():
    seen: list[tuple[int, int]] = []
    v = cnncalc.verify("lenet5", rf="all", fvcore=False,
                       progress=lambda done, total: seen.append((done, total)))
    assert v.agrees
    assert seen and seen[-1][0] == seen[-1][1] == 12  # every one of lenet5's 12 layers
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
