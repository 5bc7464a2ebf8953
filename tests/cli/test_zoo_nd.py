"""The 1-D and 3-D zoo specs (issue 18) through the CLI: `shapes` gives each one's params and
MACs exactly, `rf wavenet` gives WaveNet's 1,024 samples, `zoo` lists them, and `verify`
agrees with torch on every one.

The numbers are the reference torch models' (tests/measure/video_models.py, asserted in
tests/measure/test_video_models.py): torchvision's r3d_18, mc3_18 and r2plus1d_18 at
3×16×112×112, the WaveNet stack at 1×16000, M5 at 1×8000, the 3-D U-Net at 1×32×64×64.
"""

from __future__ import annotations

import pytest

from tests.conftest import cli
from tests.core.test_zoo_numbers import ND

INPUTS = {  # the spec's input (C, then the spatial axes) and the network's output
    "r3d_18": ([3, 16, 112, 112], [400]),
    "mc3_18": ([3, 16, 112, 112], [400]),
    "r2plus1d_18": ([3, 16, 112, 112], [400]),
    "wavenet": ([1, 16000], [256, 16000]),  # 256 μ-law classes for every sample
    "m5": ([1, 8000], [10]),
    "unet3d": ([1, 32, 64, 64], [3, 32, 64, 64]),  # 3 labels for every voxel
}

# The theoretical field of the last spatial layer (`zoo`'s RF column), per axis (T, H, W):
# - r3d_18 / r2plus1d_18, time: the stem's 3, layer1's four 3s at jump 1 (+8), then per stage a
#   stride-2 conv and three more: 3 + 8 + (2 + 3·4) + (4 + 3·8) + (8 + 3·16) = 109 at jump 8;
#   space as in the 2-D ResNet-18 without its max pool: 7 + 4·2·2 + (2·2 + 3·2·4) + (2·4 + 3·2·8)
#   + (2·8 + 3·2·16) = 219 at jump 16. (R(2+1)D's factorised convs see the same.)
# - mc3_18: 3-D only in the stem and layer1: time 3 + 4·2 = 11 at jump 1.
# - wavenet: 1 + (1 + 2 + … + 512) = 1,024 samples, all in the past.
# - m5: 80 at jump 4, pool +3·4, conv +2·16, pool +3·16, conv +2·64, pool +3·64, conv +2·256,
#   pool +3·256 = 1,772 at jump 1,024.
# - unet3d: the 2-D U-Net arithmetic on every axis: 44 at jump 1.
FINAL_RF = {
    "r3d_18": ([109, 219, 219], [8, 16, 16]),
    "mc3_18": ([11, 219, 219], [1, 16, 16]),
    "r2plus1d_18": ([109, 219, 219], [8, 16, 16]),
    "wavenet": ([1024], [1]),
    "m5": ([1772], [1024]),
    "unet3d": ([44, 44, 44], [1, 1, 1]),
}
YEARS = {"r3d_18": 2018, "mc3_18": 2018, "r2plus1d_18": 2018, "wavenet": 2016, "m5": 2017,
         "unet3d": 2016}

# verify runs the torch model (a forward, a backward per measured field): small inputs keep it
# to seconds. Video: 8 frames of 32×32 still reach 1×2×2 at layer4; the U-Net needs sides
# divisible by 4; WaveNet needs over 2 × 1,024 samples for a centred unit with a full field.
VERIFY_INPUT = {
    "r3d_18": "3x8x32x32",
    "mc3_18": "3x8x32x32",
    "r2plus1d_18": "3x8x32x32",
    "wavenet": "1x4096",
    "m5": "1x8000",
    "unet3d": "1x8x16x16",
}


def test_the_tables_cover_the_new_specs():
    assert set(ND) == set(INPUTS) == set(FINAL_RF) == set(YEARS) == set(VERIFY_INPUT)
    assert 1 + sum(2**i for i in range(10)) == 1024
    assert 3 + 8 + (2 + 3 * 4) + (4 + 3 * 8) + (8 + 3 * 16) == 109
    assert 7 + 4 * 2 * 2 + (2 * 2 + 3 * 2 * 4) + (2 * 4 + 3 * 2 * 8) + (2 * 8 + 3 * 2 * 16) == 219
    assert 80 + 3 * 4 + 2 * 16 + 3 * 16 + 2 * 64 + 3 * 64 + 2 * 256 + 3 * 256 == 1772


@pytest.mark.parametrize("name", sorted(ND))
def test_shapes_gives_params_and_macs(name):
    r = cli("shapes", name, "-f", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert (doc["totals"]["params"], doc["totals"]["macs"]) == ND[name]
    assert doc["input"] == INPUTS[name][0]
    assert doc["layers"][-1]["out_shape"] == INPUTS[name][1]


def test_shapes_table_of_r3d_18():
    r = cli("shapes", "r3d_18")
    assert r.code == 0, r.err
    assert "33,371,472" in r.out and "40,696,553,472" in r.out
    assert "64×16×56×56" in r.out  # the stem: stride 1×2×2


def test_layer_names_read_like_torchvision():
    rows = {x["name"]: x for x in cli("shapes", "r2plus1d_18", "-f", "json").json()["layers"]}
    # (2+1)-D: 1×3×3 to M = ⌊27·256·512 / (9·256 + 3·512)⌋ = 921 channels, then 3×1×1;
    # layer4.0's second conv keeps the block's M (torchvision computes it once per block)
    assert rows["layer4.0.conv1.spatial"]["out_shape"] == [921, 4, 7, 7]
    assert rows["layer4.0.conv1.temporal"]["out_shape"] == [512, 2, 7, 7]
    assert rows["layer4.0.conv2.spatial"]["out_shape"] == [921, 2, 7, 7]
    assert rows["layer4.0.shortcut.conv"]["args"]["stride"] in (2, [2, 2, 2])
    mc3 = {x["name"]: x for x in cli("shapes", "mc3_18", "-f", "json").json()["layers"]}
    assert mc3["layer4.1.relu2"]["out_shape"] == [512, 16, 7, 7]  # no temporal stride
    assert mc3["layer2.0.shortcut.conv"]["args"]["stride"] == [1, 2, 2]


def test_m5_lengths_are_the_papers_over_four():
    rows = {x["name"]: x for x in cli("shapes", "m5", "-f", "json").json()["layers"]}
    assert [rows[f"pool{i}"]["out_shape"] for i in range(1, 5)] == [
        [128, 500], [128, 125], [256, 31], [512, 7]]
    assert rows["conv1"]["out_shape"] == [128, 2000]


def test_rf_wavenet_is_1024_samples_in_the_past():
    r = cli("rf", "wavenet", "-f", "json")
    assert r.code == 0, r.err
    rows = {x["name"]: x for x in r.json()["layers"]}
    head = rows["head.conv2"]["rf"]
    assert head["size"] == [1024] and head["jump"] == [1]
    # causal: the centre of sample 0's field [−1023, 0] is −511.5 (a centred field would be 0)
    assert head["start"] == [-511.5]
    # each layer doubles the dilation: the field after layer i is 2^(i+1) samples
    assert [rows[f"layers.{i}.mul1"]["rf"]["size"] for i in range(10)] == [
        [2 ** (i + 1)] for i in range(10)]


def test_rf_wavenet_table_says_1024():
    r = cli("rf", "wavenet")
    assert r.code == 0, r.err
    assert "1024" in r.out.replace(",", "")


def test_zoo_lists_the_new_specs_with_their_numbers():
    r = cli("zoo", "-f", "json")
    assert r.code == 0, r.err
    by_name = {m["name"]: m for m in r.json()["models"]}
    for name, (params, macs) in ND.items():
        m = by_name[name]
        assert (m["params"], m["macs"]) == (params, macs), name
        assert m["input"] == INPUTS[name][0], name
        assert m["year"] == YEARS[name], name
        assert m["paper"] and m["idea"], name
        assert (m["rf"]["size"], m["rf"]["jump"]) == FINAL_RF[name], name
        assert m["rf"]["global"] is False, name


def test_zoo_md_has_a_row_for_each():
    r = cli("zoo", "-f", "md")
    assert r.code == 0, r.err
    rows = [x for x in r.out.splitlines() if x.startswith("| `")]
    for name in ND:
        assert any(x.startswith(f"| `{name}` |") for x in rows), name
    r3d = next(x for x in rows if x.startswith("| `r3d_18` |"))
    assert "| 3×16×112×112 | 33,371,472 | 40,696,553,472 |" in r3d


@pytest.mark.parametrize("name", sorted(ND))
def test_verify_agrees(name):
    pytest.importorskip("torch")
    r = cli("verify", name, "--input", VERIFY_INPUT[name], "--no-fvcore", "-f", "json")
    assert r.code == 0, r.out
    doc = r.json()
    assert doc["agree"] and doc["disagreements"] == 0


def test_verify_measures_wavenets_field_by_gradient():
    pytest.importorskip("torch")
    r = cli("verify", "wavenet", "--input", "1x4096", "--rf", "stages", "--no-fvcore",
            "-f", "json")
    assert r.code == 0, r.out
    rows = {x["name"]: x for x in r.json()["layers"]}
    measured = rows["head.conv2"]["rf"]["measured"]
    assert measured["size"] == [1024] and measured["jump"] == [1]
    assert rows["head.conv2"]["rf"]["ok"] is True


def test_verify_r3d_18_at_its_own_input_without_fields():
    pytest.importorskip("torch")
    r = cli("verify", "r3d_18", "--rf", "none", "--no-fvcore", "-f", "json")
    assert r.code == 0, r.out
    rows = {x["name"]: x for x in r.json()["layers"]}
    assert rows["fc"]["macs"]["measured"] == 512 * 400
    assert sum(x["macs"]["measured"] for x in rows.values()
               if isinstance(x["macs"].get("measured"), int)) == ND["r3d_18"][1]
