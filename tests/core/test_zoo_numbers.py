"""The zoo reproduces its published numbers exactly (`cnncalc zoo` is tested in tests/cli).

The oracle for the torchvision models is torchvision's reference implementations with
weights=None, counted in torch: params = sum(p.numel()), MACs = FlopCounterMode / 2 (conv and
linear multiply-accumulates, bias excluded), batch 1, 224×224 unless the spec says otherwise.
"""

from __future__ import annotations

import pytest

from cnncalc.frontends.load import analyze, zoo_names

TORCHVISION = {  # name: (params, MACs)
    "alexnet": (61_100_840, 714_188_480),
    "vgg16": (138_357_544, 15_470_264_320),
    "vgg19": (143_667_240, 19_632_062_464),
    "resnet18": (11_689_512, 1_814_073_344),
    "resnet34": (21_797_672, 3_663_761_408),
    "resnet50": (25_557_032, 4_089_184_256),
    "resnet101": (44_549_160, 7_801_405_440),
    "resnext50_32x4d": (25_028_904, 4_230_479_872),
    "wide_resnet50_2": (68_883_240, 11_398_021_120),
    "densenet121": (7_978_856, 2_834_161_664),
    "googlenet": (6_624_904, 1_498_376_192),  # no auxiliary heads
    "inception_v3": (23_834_568, 5_713_216_096),  # 299×299, no auxiliary head
    "mobilenet_v2": (3_504_872, 300_774_272),
    "mobilenet_v3_large": (5_483_032, 216_589_760),
    "mobilenet_v3_small": (2_542_856, 56_510_400),
    "efficientnet_b0": (5_288_548, 385_814_752),
    "convnext_tiny": (28_589_128, 4_455_531_264),
    "squeezenet1_0": (1_248_424, 818_924_576),
    "squeezenet1_1": (1_235_496, 349_151_936),
    "shufflenet_v2_x1_0": (2_278_604, 144_907_992),
    "regnet_y_400mf": (4_344_144, 401_842_848),
}

# LeNet-5, 1×32×32, full C3 connections: (out, in, k) per conv, then the two linears.
LENET5 = (
    (6 * 1 * 5 * 5 + 6) + (16 * 6 * 5 * 5 + 16) + (120 * 16 * 5 * 5 + 120)  # c1, c3, c5
    + (120 * 84 + 84) + (84 * 10 + 10),  # f6, output  = 61,706
    6 * 1 * 25 * 28**2 + 16 * 6 * 25 * 10**2 + 120 * 16 * 25 * 1**2  # c1, c3, c5
    + 120 * 84 + 84 * 10,  # = 416,520
)

# MobileNet v1 from the paper's Table 1: depthwise-separable rows (in, out, output size).
_DW_SEP = [(32, 64, 112), (64, 128, 56), (128, 128, 56), (128, 256, 28), (256, 256, 28),
           (256, 512, 14), *[(512, 512, 14)] * 5, (512, 1024, 7), (1024, 1024, 7)]
MOBILENET_V1 = (
    3 * 32 * 9  # first conv, no bias: 864
    + sum(9 * c for c, _, _ in _DW_SEP)  # depthwise 3×3: 9 · 4,960 = 44,640
    + sum(c * c2 for c, c2, _ in _DW_SEP)  # pointwise 1×1: 3,139,584
    + 1024 * 1000 + 1000  # classifier: 1,025,000
    + 2 * (32 + sum(c + c2 for c, c2, _ in _DW_SEP)),  # BN γ, β: 2 · 10,944 = 21,888
    # = 4,231,976 (the paper's "4.2 M" counts the 4,209,088 conv and FC weights)
    3 * 32 * 9 * 112**2  # first conv: 10,838,016
    + sum(9 * c * n**2 + c * c2 * n**2 for c, c2, n in _DW_SEP)  # depthwise + pointwise
    + 1024 * 1000,  # = 568,740,352 (the paper's "569 M mult-adds")
)


def _double(ci: int, c: int) -> int:  # two 3×3 convs with bias
    return 9 * ci * c + c + 9 * c * c + c


def _up(ci: int, c: int) -> int:  # 2×2 transposed conv with bias
    return 4 * ci * c + c


def _double_macs(ci: int, c: int, n: int) -> int:
    return 9 * ci * c * n**2 + 9 * c * c * n**2


# The small U-Net, 1×128×128: encoder 16…256, decoder convs see the skip concatenated (2c in).
UNET = (
    _double(1, 16) + _double(16, 32) + _double(32, 64) + _double(64, 128) + _double(128, 256)
    + _up(256, 128) + _up(128, 64) + _up(64, 32) + _up(32, 16)
    + _double(256, 128) + _double(128, 64) + _double(64, 32) + _double(32, 16)
    + 16 * 2 + 2,  # = 1,940,834
    _double_macs(1, 16, 128) + _double_macs(16, 32, 64) + _double_macs(32, 64, 32)
    + _double_macs(64, 128, 16) + _double_macs(128, 256, 8)
    + 4 * 256 * 128 * 8**2 + 4 * 128 * 64 * 16**2 + 4 * 64 * 32 * 32**2 + 4 * 32 * 16 * 64**2
    + _double_macs(256, 128, 16) + _double_macs(128, 64, 32) + _double_macs(64, 32, 64)
    + _double_macs(32, 16, 128) + 16 * 2 * 128**2,  # = 753,664,000
)



def _vit(patch: int, c: int = 768, depth: int = 12, mlp: int = 3072, classes: int = 1000
         ) -> tuple[int, int]:
    """ViT-B/patch at 224×224 by hand: n patches, t = n + 1 tokens (the class token)."""
    n = (224 // patch) ** 2
    t = n + 1
    block_params = (2 * c  # ln_1
                    + 4 * c * c + 4 * c  # Q, K, V, output projections with biases
                    + 2 * c  # ln_2
                    + c * mlp + mlp + mlp * c + c)  # the MLP
    params = (c * 3 * patch * patch + c  # conv_proj
              + c + t * c  # class token, position embedding
              + depth * block_params + 2 * c  # blocks, final ln
              + c * classes + classes)  # head
    block_macs = (4 * t * c * c  # the projections
                  + t * t * c  # Q·Kᵀ: heads · t · t · (c/heads)
                  + t * t * c  # A·V
                  + 2 * t * c * mlp)  # the MLP
    macs = c * 3 * patch * patch * n + depth * block_macs + c * classes
    return params, macs


VIT_B_16 = _vit(16)  # t = 197: 2·197²·768 = 59,610,624 attention-matmul MACs a block
VIT_B_32 = _vit(32)  # t = 50: 2·50²·768 = 3,840,000 a block


def swin_window_matmuls(n: int, c: int, m: int = 7) -> int:
    """Q·Kᵀ and A·V of one block on an n×n grid in m×m windows: (n/m)² windows, each
    heads · m² · m² · (c/heads) per matmul."""
    return 2 * (n // m) ** 2 * m**4 * c


def _swin_t(c0: int = 96, depths=(2, 2, 6, 2), heads=(3, 6, 12, 24), m: int = 7,
            classes: int = 1000) -> tuple[int, int]:
    """Swin-T at 224×224 by hand: a 56×56 grid of 96 features after the 4×4 patch embedding."""
    params = c0 * 3 * 4 * 4 + c0 + 2 * c0  # patch embedding conv and its layernorm
    macs = c0 * 3 * 4 * 4 * 56 * 56
    n = 56
    for stage, (depth, h) in enumerate(zip(depths, heads)):
        c = c0 * 2**stage
        block_params = (2 * c  # norm1
                        + 4 * c * c + 4 * c  # Q, K, V, output projections with biases
                        + (2 * m - 1) ** 2 * h  # the relative-position bias table
                        + 2 * c  # norm2
                        + c * 4 * c + 4 * c + 4 * c * c + c)  # the MLP
        block_macs = 4 * n * n * c * c + swin_window_matmuls(n, c, m) + 2 * n * n * c * 4 * c
        params += depth * block_params
        macs += depth * block_macs
        if stage < len(depths) - 1:  # patch merging: layernorm(4C), linear 4C -> 2C no bias
            n //= 2
            params += 2 * 4 * c + 4 * c * 2 * c
            macs += 4 * c * 2 * c * n * n
    params += 2 * 8 * c0 + 8 * c0 * classes + classes  # final layernorm, head
    macs += 8 * c0 * classes
    return params, macs


SWIN_T = _swin_t()

# 1-D and 3-D (issue 18): torchvision.models.video at 3×16×112×112 (its published 40.70 / 43.34 /
# 40.52 GFLOPS are these MACs), and the WaveNet stack (1×16000), M5 (1×8000) and small 3-D U-Net
# (1×32×64×64) of tests/measure/video_models.py, whose test derives these by hand and in torch.
ND = {
    "r3d_18": (33_371_472, 40_696_553_472),
    "mc3_18": (11_695_440, 43_342_635_008),
    "r2plus1d_18": (31_505_325, 40_519_080_960),
    "wavenet": (504_832, 7_996_416_000),
    "m5": (559_114, 69_538_816),
    "unet3d": (1_147_123, 26_468_155_392),
}
EXPECTED = {**TORCHVISION, "lenet5": LENET5, "mobilenet_v1": MOBILENET_V1, "unet": UNET,
            "vit_b_16": VIT_B_16, "vit_b_32": VIT_B_32, "swin_t": SWIN_T, **ND}


def test_the_arithmetic_is_what_the_comments_say():
    assert LENET5 == (61_706, 416_520)
    assert MOBILENET_V1 == (4_231_976, 568_740_352)
    assert UNET == (1_940_834, 753_664_000)
    # torchvision's vit_b_16 and vit_b_32 (params in torch; MACs = FlopCounterMode / 2 where
    # it sees the attention matmuls: 16,848,500,736 without them + 12 · 59,610,624)
    assert VIT_B_16 == (86_567_656, 17_563_828_224)
    assert VIT_B_32 == (88_224_232, 4_409_186_304)
    assert 17_563_828_224 - 12 * 2 * 197**2 * 768 == 16_848_500_736
    # torchvision's swin_t (params in torch; FlopCounterMode / 2 sees every matmul: its
    # windows are written out); the window matmuls are 2·56²·7²·96 a block in stage 1, halving
    # each stage: 2·29,503,488 + 2·14,751,744 + 6·7,375,872 + 2·3,687,936 = 140,141,568
    assert SWIN_T == (28_288_354, 4_490_566_656)
    assert swin_window_matmuls(56, 96) == 2 * 56**2 * 7**2 * 96 == 29_503_488
    assert sum(d * swin_window_matmuls(56 >> i, 96 << i) for i, d in enumerate((2, 2, 6, 2))) \
        == 140_141_568


def test_every_zoo_spec_has_expected_numbers():
    assert sorted(EXPECTED) == zoo_names()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_params_and_macs_exact(name):
    t = analyze(name).totals()
    assert (t.params, t.macs) == EXPECTED[name]


def test_inputs():
    assert analyze("inception_v3").input_shape == (3, 299, 299)
    assert analyze("lenet5").input_shape == (1, 32, 32)
    assert analyze("unet").output.out_shape == (2, 128, 128)  # two class scores per pixel
