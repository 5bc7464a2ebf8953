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
