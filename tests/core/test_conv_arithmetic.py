"""The seed numbers of the project, straight out of the commands, arithmetic beside each."""

from __future__ import annotations

import pytest

from tests.conftest import cli, layers_of


@pytest.mark.parametrize(("size", "k", "s", "p", "expected"), [
    (224, 3, 2, 0, (224 + 2 * 0 - 1 * (3 - 1) - 1) // 2 + 1),  # = 111
    (32, 3, 1, 1, (32 + 2 * 1 - 1 * (3 - 1) - 1) // 1 + 1),  # = 32
    (32, 3, 2, 1, (32 + 2 * 1 - 1 * (3 - 1) - 1) // 2 + 1),  # = 16
    (8, 3, 1, 0, (8 + 2 * 0 - 1 * (3 - 1) - 1) // 1 + 1),  # = 6
    (8, 3, 2, 0, (8 + 2 * 0 - 1 * (3 - 1) - 1) // 2 + 1),  # = 3
])
def test_output_size(spec, size, k, s, p, expected):
    path = spec(f"- {{conv: {{out: 8, k: {k}, s: {s}, p: {p}}}}}", input=f"3x{size}x{size}")
    (layer,) = layers_of(path)
    assert layer["out_shape"] == [8, expected, expected]
    assert expected == {224: 111, 32: 32 if s == 1 else 16, 8: 6 if s == 1 else 3}[size]


def test_seven_3x3_convs_see_15(spec):
    path = spec("- {conv: {out: 8, k: 3, p: 1}, repeat: 7}", input="3x64x64")
    layers = layers_of(path)
    assert [x["rf"]["size"][0] for x in layers] == [1 + n * (3 - 1) for n in range(1, 8)]
    assert layers[-1]["rf"]["size"] == [15, 15]  # 1 + 7·(3−1)


def test_dilations_1_2_4_8_grow_3_7_15_31(spec):
    path = spec("""
        - {conv: {out: 8, k: 3, d: 1, p: 1}}
        - {conv: {out: 8, k: 3, d: 2, p: 2}}
        - {conv: {out: 8, k: 3, d: 4, p: 4}}
        - {conv: {out: 8, k: 3, d: 8, p: 8}}
    """, input="3x64x64")
    sizes = [x["rf"]["size"][0] for x in layers_of(path)]
    assert sizes == [1 + 2 * 1, 3 + 2 * 2, 7 + 2 * 4, 15 + 2 * 8]  # 3, 7, 15, 31


def test_conv_32_64_3_with_bias_has_18496_params(spec):
    (layer,) = layers_of(spec("- {conv: {out: 64, k: 3}}", input="32x16x16"))
    assert layer["params"] == 64 * 32 * 3 * 3 + 64  # = 18,496


def test_patch_embedding(spec):
    (layer,) = layers_of(spec("- {conv: {out: 768, k: 16, s: 16}}"))
    assert layer["out_shape"] == [768, 224 // 16, 224 // 16]  # 768×14×14


def test_floor_that_drops_a_row_is_a_warning(spec):
    r = cli("shapes", spec("- {conv: {out: 8, k: 3, s: 2}}"), "-f", "json")
    (w,) = r.json()["warnings"]
    assert w["code"] == "floor-drop" and "221 is not a multiple of stride 2" in w["message"]
