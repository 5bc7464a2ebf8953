"""`cnncalc attention`: self-attention's params and MACs with the quadratic term called out."""

from __future__ import annotations

from tests.cli.test_interview import js, ok
from tests.conftest import cli


def test_vit_b_16_block():
    d = js("attention", "--tokens", "197", "--dim", "768", "--heads", "12")
    assert d["params"] == 4 * 768 * 768 + 4 * 768  # = 2,362,368
    assert d["macs_projections"] == 4 * 197 * 768**2  # = 464,781,312
    assert d["macs_attention"] == 2 * 197**2 * 768  # Q·Kᵀ + A·V = 59,610,624
    assert d["macs"] == 524_391_936 and d["flops"] == 2 * 524_391_936
    assert d["attention_scores"] == 12 * 197 * 197  # = 465,708
    assert d["head_dim"] == 64


def test_the_quadratic_term_is_called_out():
    out = ok("attention", "--tokens", "197", "--dim", "768", "--heads", "12", "--explain")
    assert "MACs_attn = 2·N²·C = 2·197²·768 = 59,610,624" in out
    assert "quadruples" in out and "N > 2·C = 1,536" in out


def test_no_bias_and_heads_that_do_not_divide():
    assert js("attention", "-n", "50", "-c", "768", "--heads", "12", "--no-bias")["params"] == \
        4 * 768 * 768
    r = cli("attention", "-n", "50", "-c", "768", "--heads", "10")
    assert r.code == 2 and "not divisible by heads 10" in r.err


def test_projections_only_leaves_the_matmuls_out():
    d = js("attention", "--tokens", "197", "--dim", "768", "--heads", "12",
           "--attention-macs", "projections")
    assert d["macs"] == 4 * 197 * 768**2 == 464_781_312  # Q·Kᵀ and A·V (59,610,624) left out
    assert d["attention_macs"] == "projections"
    out = ok("attention", "-n", "197", "-c", "768", "--heads", "12", "--explain",
             "--attention-macs", "projections")
    assert "MACs = MACs_proj = 464,781,312" in out and "MACs_attn" not in out


def test_shapes_and_zoo_count_the_projections_only_when_asked():
    # vit_b_16: 17,563,828,224 − 12 · 2·197²·768 = 16,848,500,736, FlopCounterMode's count of
    # torchvision's vit_b_16 with autograd on (its attention kernel has no formula)
    d = js("shapes", "vit_b_16", "--attention-macs", "projections")
    assert d["totals"]["macs"] == 17_563_828_224 - 12 * 2 * 197**2 * 768 == 16_848_500_736
    assert "left out" in d["conventions"]["attention_macs"]
    assert js("shapes", "vit_b_16")["totals"]["macs"] == 17_563_828_224
    # swin_t: the 12 blocks' window matmuls, 140,141,568 (tests/core/test_zoo_numbers.py)
    zoo = {m["name"]: m["macs"] for m in js("zoo", "--attention-macs", "projections")["models"]}
    assert zoo["swin_t"] == 4_490_566_656 - 140_141_568 == 4_350_425_088
    assert zoo["resnet50"] == 4_089_184_256  # no attention: unchanged
    assert "(--attention-macs projections)" in ok("shapes", "swin_t", "--attention-macs",
                                                  "projections")


def test_an_unknown_attention_count_is_one_line():
    r = cli("zoo", "--attention-macs", "qk")
    assert r.code == 2 and r.err.strip() == \
        "unknown --attention-macs 'qk'; choose one of all, projections"
