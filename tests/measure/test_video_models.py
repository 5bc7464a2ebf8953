"""The reference torch models of the 1-D and 3-D zoo specs (tests/measure/video_models.py)
give the published numbers, measured in torch: params = numel, MACs = FlopCounterMode / 2 at
batch 1, and WaveNet's receptive field by gradient support.

These are the oracle for the zoo specs r3d_18, mc3_18, r2plus1d_18, wavenet, m5 and unet3d
(issue 18); tests/cli/test_zoo_nd.py asserts the same numbers from the specs.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from tests.measure import video_models  # noqa: E402  (after the importorskip)

# torchvision.models.video at 3×16×112×112 (torchvision's published 40.70 / 43.34 / 40.52
# GFLOPS are these MACs)
VIDEO = {
    "r3d_18": (33_371_472, 40_696_553_472),
    "mc3_18": (11_695_440, 43_342_635_008),
    "r2plus1d_18": (31_505_325, 40_519_080_960),
}


def _wavenet(t: int = 16000, r: int = 64, g: int = 64, s: int = 256, classes: int = 256,
             layers: int = 10) -> tuple[int, int]:
    """1×1 input conv, ten layers of two k=2 convs (filter, gate) + 1×1 res + 1×1 skip, and
    the head's two 1×1 convs; every conv has a bias, every output has t samples."""
    per_layer = 2 * (r * g * 2 + g) + (g * r + r) + (g * s + s)
    params = (1 * r + r) + layers * per_layer + (s * s + s) + (s * classes + classes)
    macs = t * (1 * r + layers * (2 * r * g * 2 + g * r + g * s) + s * s + s * classes)
    return params, macs


def _m5() -> tuple[int, int]:
    """Conv 80/4 (8000 → 2000 samples), then 3-sample convs at 500, 125 and 31 samples, a BN
    after each conv, and the linear 512 → 10."""
    convs = [(1, 128, 80, 2000), (128, 128, 3, 500), (128, 256, 3, 125), (256, 512, 3, 31)]
    params = sum(ci * co * k + co + 2 * co for ci, co, k, _ in convs) + 512 * 10 + 10
    macs = sum(ci * co * k * n for ci, co, k, n in convs) + 512 * 10
    return params, macs


def _unet3d() -> tuple[int, int]:
    """Double 3×3×3 convs (no bias, BN) at 32×64×64, 16×32×32 and 8×16×16 voxels, 2×2×2
    up-convs (bias) and a 1×1×1 head (bias) to 3 labels."""
    v1, v2, v3 = 32 * 64 * 64, 16 * 32 * 32, 8 * 16 * 16

    def dc(ci: int, mid: int, out: int, v: int) -> tuple[int, int]:
        return 27 * (ci * mid + mid * out) + 2 * (mid + out), 27 * (ci * mid + mid * out) * v

    def up(ci: int, co: int, v_in: int) -> tuple[int, int]:
        return 8 * ci * co + co, 8 * ci * co * v_in

    parts = [dc(1, 16, 32, v1), dc(32, 32, 64, v2), dc(64, 64, 128, v3), up(128, 128, v3),
             dc(128 + 64, 64, 64, v2), up(64, 64, v2), dc(64 + 32, 32, 32, v1),
             (32 * 3 + 3, 32 * 3 * v1)]
    return sum(p for p, _ in parts), sum(m for _, m in parts)


WAVENET, M5, UNET3D = _wavenet(), _m5(), _unet3d()
EXPECTED = {**VIDEO, "wavenet": WAVENET, "m5": M5, "unet3d": UNET3D}
OUTPUTS = {  # output shape at batch 1
    "r3d_18": (1, 400), "mc3_18": (1, 400), "r2plus1d_18": (1, 400),
    "wavenet": (1, 256, 16000),  # 256 μ-law classes for every sample
    "m5": (1, 10),
    "unet3d": (1, 3, 32, 64, 64),  # 3 labels for every voxel
}


def test_the_zoo_numbers_are_these():
    from tests.core.test_zoo_numbers import ND

    assert ND == EXPECTED


def test_the_arithmetic_is_what_the_comments_say():
    assert WAVENET == (504_832, 7_996_416_000)
    assert M5 == (559_114, 69_538_816)
    assert UNET3D == (1_147_123, 26_468_155_392)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_params_and_macs_in_torch(name):
    assert video_models.count(name) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_output_shapes(name):
    build, shape = video_models.MODELS[name]
    with torch.device("meta"):
        out = build().eval()(torch.empty(1, *shape))
    assert tuple(out.shape) == OUTPUTS[name]


def test_r2plus1d_midplanes_keep_the_3d_conv_params():
    # M = ⌊27·in·out / (9·in + 3·out)⌋ per block, from the block's input and output widths,
    # used by both of its convs (layer4.0's second conv is 512 → 921 → 512, not 1152)
    net = video_models.r2plus1d_18()
    mids = [(name, m.out_channels) for name, m in net.named_modules()
            if name.endswith("conv1.0.0") or name.endswith("conv2.0.0")]
    assert [c for _, c in mids] == [144, 144, 144, 144, 230, 230, 288, 288,
                                    460, 460, 576, 576, 921, 921, 1152, 1152]


def test_m5_lengths_are_the_papers_over_four():
    net = video_models.m5()
    lengths = []
    for i in range(1, 5):
        getattr(net, f"pool{i}").register_forward_hook(
            lambda m, a, out: lengths.append(out.shape[-1]))
    with torch.device("meta"):
        net.to("meta")(torch.empty(1, 1, 8000))
    assert lengths == [500, 125, 31, 7]  # the paper's 2000, 500, 125, 31 at 32,000 samples


def _support(net: torch.nn.Module, length: int, t: int) -> tuple[int, int]:
    """First and last input sample whose gradient reaches output sample t (all channels)."""
    x = torch.randn(1, 1, length, dtype=torch.float64, requires_grad=True)
    net(x)[0, :, t].sum().backward()
    nonzero = torch.nonzero(x.grad[0, 0]).flatten()
    return int(nonzero.min()), int(nonzero.max())


def test_wavenet_receptive_field_is_1024_samples_by_gradient():
    torch.manual_seed(0)
    net = video_models.wavenet().double().eval()
    assert video_models.WAVENET_RF == 1 + sum(2 ** i * (2 - 1) for i in range(10)) == 1024
    first, last = _support(net, 2048, 2047)
    assert (first, last) == (2047 - 1023, 2047)
    assert last - first + 1 == 1024
    # causal: sample 1500 sees 477 … 1500, nothing after it
    assert _support(net, 2048, 1500) == (1500 - 1023, 1500)
    # near the start the field is cut by the left padding: sample 100 sees 0 … 100
    assert _support(net, 2048, 100) == (0, 100)
