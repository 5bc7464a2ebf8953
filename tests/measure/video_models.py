"""Reference torch models for the 1-D and 3-D zoo specs (issue 18), as plain `nn.Module`s.

No torchvision: the three video ResNets are written here to match
`torchvision.models.video.resnet` module for module (same structure, so the same state_dict
names: `stem.0`, `layer1.0.conv1.0`, `layer2.0.downsample.0`, `fc`), and the other three
follow their papers. The zoo specs under src/cnncalc/zoo mirror these layer for layer;
tests/measure/test_video_models.py holds their numbers.

| model | input | params | MACs (FlopCounterMode / 2) | RF |
|---|---|---:|---:|---|
| r3d_18 | 3×16×112×112 | 33,371,472 | 40,696,553,472 | |
| mc3_18 | 3×16×112×112 | 11,695,440 | 43,342,635,008 | |
| r2plus1d_18 | 3×16×112×112 | 31,505,325 | 40,519,080,960 | |
| wavenet | 1×16000 | 504,832 | 7,996,416,000 | 1,024 samples |
| m5 | 1×8000 | 559,114 | 69,538,816 | |
| unet3d | 1×32×64×64 | 1,147,123 | 26,468,155,392 | |
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

# ---------------------------------------------------------------------------------------------
# Video ResNets — Tran et al., "A Closer Look at Spatiotemporal Convolutions for Action
# Recognition", CVPR 2018 (torchvision.models.video.resnet). Input N×3×T×H×W.


class Conv3DSimple(nn.Conv3d):
    """A full 3×3×3 convolution (R3D)."""

    def __init__(self, in_planes: int, out_planes: int, midplanes: int | None = None,
                 stride: int = 1, padding: int = 1) -> None:
        super().__init__(in_planes, out_planes, kernel_size=(3, 3, 3), stride=stride,
                         padding=padding, bias=False)

    @staticmethod
    def get_downsample_stride(stride: int) -> tuple[int, int, int]:
        return stride, stride, stride


class Conv2Plus1D(nn.Sequential):
    """(2+1)-D: a 1×3×3 spatial conv to `midplanes`, BN, ReLU, then a 3×1×1 temporal conv."""

    def __init__(self, in_planes: int, out_planes: int, midplanes: int, stride: int = 1,
                 padding: int = 1) -> None:
        super().__init__(
            nn.Conv3d(in_planes, midplanes, kernel_size=(1, 3, 3), stride=(1, stride, stride),
                      padding=(0, padding, padding), bias=False),
            nn.BatchNorm3d(midplanes),
            nn.ReLU(inplace=True),
            nn.Conv3d(midplanes, out_planes, kernel_size=(3, 1, 1), stride=(stride, 1, 1),
                      padding=(padding, 0, 0), bias=False),
        )

    @staticmethod
    def get_downsample_stride(stride: int) -> tuple[int, int, int]:
        return stride, stride, stride


class Conv3DNoTemporal(nn.Conv3d):
    """A 1×3×3 convolution: 2-D per frame, no temporal extent or stride (MC3's upper layers)."""

    def __init__(self, in_planes: int, out_planes: int, midplanes: int | None = None,
                 stride: int = 1, padding: int = 1) -> None:
        super().__init__(in_planes, out_planes, kernel_size=(1, 3, 3), stride=(1, stride, stride),
                         padding=(0, padding, padding), bias=False)

    @staticmethod
    def get_downsample_stride(stride: int) -> tuple[int, int, int]:
        return 1, stride, stride


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, conv_builder: type, stride: int = 1,
                 downsample: nn.Module | None = None) -> None:
        super().__init__()
        # one midplanes for both convs, from the block's *input* and output widths
        midplanes = (inplanes * planes * 3 * 3 * 3) // (inplanes * 3 * 3 + 3 * planes)
        self.conv1 = nn.Sequential(conv_builder(inplanes, planes, midplanes, stride),
                                   nn.BatchNorm3d(planes), nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(conv_builder(planes, planes, midplanes),
                                   nn.BatchNorm3d(planes))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.conv1(x))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


class BasicStem(nn.Sequential):
    """R3D / MC3 stem: 3×7×7 conv, stride 1×2×2, BN, ReLU."""

    def __init__(self) -> None:
        super().__init__(
            nn.Conv3d(3, 64, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3),
                      bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
        )


class R2Plus1dStem(nn.Sequential):
    """R(2+1)D stem: 1×7×7 spatial conv to 45 channels, then 3×1×1 temporal conv to 64."""

    def __init__(self) -> None:
        super().__init__(
            nn.Conv3d(3, 45, kernel_size=(1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3),
                      bias=False),
            nn.BatchNorm3d(45),
            nn.ReLU(inplace=True),
            nn.Conv3d(45, 64, kernel_size=(3, 1, 1), stride=(1, 1, 1), padding=(1, 0, 0),
                      bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
        )


class VideoResNet(nn.Module):
    def __init__(self, conv_makers: list[type], layers: list[int], stem: type,
                 num_classes: int = 400) -> None:
        super().__init__()
        self.inplanes = 64
        self.stem = stem()
        self.layer1 = self._make_layer(conv_makers[0], 64, layers[0], stride=1)
        self.layer2 = self._make_layer(conv_makers[1], 128, layers[1], stride=2)
        self.layer3 = self._make_layer(conv_makers[2], 256, layers[2], stride=2)
        self.layer4 = self._make_layer(conv_makers[3], 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(512 * BasicBlock.expansion, num_classes)

    def _make_layer(self, conv_builder: type, planes: int, blocks: int,
                    stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * BasicBlock.expansion:
            ds_stride = conv_builder.get_downsample_stride(stride)
            downsample = nn.Sequential(
                nn.Conv3d(self.inplanes, planes * BasicBlock.expansion, kernel_size=1,
                          stride=ds_stride, bias=False),
                nn.BatchNorm3d(planes * BasicBlock.expansion),
            )
        layers = [BasicBlock(self.inplanes, planes, conv_builder, stride, downsample)]
        self.inplanes = planes * BasicBlock.expansion
        layers += [BasicBlock(self.inplanes, planes, conv_builder) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def r3d_18(num_classes: int = 400) -> VideoResNet:
    return VideoResNet([Conv3DSimple] * 4, [2, 2, 2, 2], BasicStem, num_classes)


def mc3_18(num_classes: int = 400) -> VideoResNet:
    return VideoResNet([Conv3DSimple] + [Conv3DNoTemporal] * 3, [2, 2, 2, 2], BasicStem,
                       num_classes)


def r2plus1d_18(num_classes: int = 400) -> VideoResNet:
    return VideoResNet([Conv2Plus1D] * 4, [2, 2, 2, 2], R2Plus1dStem, num_classes)


VIDEO_INPUT = (3, 16, 112, 112)  # C, T, H, W: Kinetics-400 clips of 16 frames

# ---------------------------------------------------------------------------------------------
# WaveNet — van den Oord et al., "WaveNet: A Generative Model for Raw Audio", 2016.
# One stack of causal dilated convolutions, k = 2, dilations 1, 2, 4, …, 512: each output
# sample sees 1 + Σ d·(k − 1) = 1,024 input samples, all in its past. Input N×1×T (raw audio).


class CausalConv1d(nn.Conv1d):
    """A Conv1d padded on the left only, by d·(k − 1): output t sees inputs ≤ t."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 dilation: int = 1) -> None:
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
        self.left = dilation * (kernel_size - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (self.left, 0)))


class WaveNetLayer(nn.Module):
    """Gated activation tanh(W_f ∗ x) ⊙ σ(W_g ∗ x), then a 1×1 residual conv (added to x)
    and a 1×1 skip conv (summed over the layers)."""

    def __init__(self, residual: int, gate: int, skip: int, dilation: int) -> None:
        super().__init__()
        self.filter = CausalConv1d(residual, gate, 2, dilation)
        self.gate = CausalConv1d(residual, gate, 2, dilation)
        self.res = nn.Conv1d(gate, residual, 1)
        self.skip = nn.Conv1d(gate, skip, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.tanh(self.filter(x)) * torch.sigmoid(self.gate(x))
        return x + self.res(h), self.skip(h)


class WaveNet(nn.Module):
    def __init__(self, in_channels: int = 1, residual: int = 64, gate: int = 64,
                 skip: int = 256, classes: int = 256, layers: int = 10) -> None:
        super().__init__()
        self.input_conv = nn.Conv1d(in_channels, residual, 1)  # 1×1: adds nothing to the field
        self.layers = nn.ModuleList(WaveNetLayer(residual, gate, skip, 2 ** i)
                                    for i in range(layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv1d(skip, skip, 1), nn.ReLU(),
                                  nn.Conv1d(skip, classes, 1))  # 256 μ-law classes a sample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input_conv(x)
        skips = []
        for layer in self.layers:
            x, s = layer(x)
            skips.append(s)
        return self.head(sum(skips))


def wavenet() -> WaveNet:
    return WaveNet()


WAVENET_INPUT = (1, 16000)  # one second at 16 kHz
WAVENET_RF = 1024

# ---------------------------------------------------------------------------------------------
# M5 — Dai, Dai, Qu, Li, Das, "Very Deep Convolutional Neural Networks for Raw Waveforms",
# ICASSP 2017, Table 1. Input N×1×8000: one second at 8 kHz (the paper's UrbanSound8k clips
# are four seconds, 32,000 samples; every length below is the paper's divided by 4).


class M5(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        # 80/4 with "same" padding as in the paper (8000 → 2000): p = 38
        self.conv1 = nn.Conv1d(1, 128, kernel_size=80, stride=4, padding=38)
        self.bn1 = nn.BatchNorm1d(128)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool1d(4)
        self.conv2 = nn.Conv1d(128, 128, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm1d(128)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool1d(4)
        self.conv3 = nn.Conv1d(128, 256, kernel_size=3, padding=1)
        self.bn3 = nn.BatchNorm1d(256)
        self.relu3 = nn.ReLU()
        self.pool3 = nn.MaxPool1d(4)
        self.conv4 = nn.Conv1d(256, 512, kernel_size=3, padding=1)
        self.bn4 = nn.BatchNorm1d(512)
        self.relu4 = nn.ReLU()
        self.pool4 = nn.MaxPool1d(4)
        self.avgpool = nn.AdaptiveAvgPool1d(1)  # global average pooling
        self.fc = nn.Linear(512, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, 5):
            for part in ("conv", "bn", "relu", "pool"):
                x = getattr(self, f"{part}{i}")(x)
        return self.fc(self.avgpool(x).flatten(1))


def m5() -> M5:
    return M5()


M5_INPUT = (1, 8000)

# ---------------------------------------------------------------------------------------------
# 3-D U-Net — Çiçek, Abdulkadir, Lienkamp, Brox, Ronneberger, "3D U-Net: Learning Dense
# Volumetric Segmentation from Sparse Annotation", MICCAI 2016. The paper's pattern (each
# analysis level doubles its channels in the second conv, BN before every ReLU, 2×2×2 max
# pools, 2×2×2 up-convolutions that keep the channels, concatenated skips, a 1×1×1 head to
# 3 labels) at two poolings instead of three, half the width, and padded convs.
# Input N×1×32×64×64 (D, H, W).


class DoubleConv(nn.Module):
    def __init__(self, in_channels: int, mid: int, out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(in_channels, mid, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm3d(mid)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv3d(mid, out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(out)
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu1(self.bn1(self.conv1(x)))
        return self.relu2(self.bn2(self.conv2(x)))


class UNet3D(nn.Module):
    def __init__(self, in_channels: int = 1, classes: int = 3) -> None:
        super().__init__()
        self.enc1 = DoubleConv(in_channels, 16, 32)  # 32 × 32×64×64
        self.pool1 = nn.MaxPool3d(2)
        self.enc2 = DoubleConv(32, 32, 64)  # 64 × 16×32×32
        self.pool2 = nn.MaxPool3d(2)
        self.bottleneck = DoubleConv(64, 64, 128)  # 128 × 8×16×16
        self.up2 = nn.ConvTranspose3d(128, 128, 2, stride=2)
        self.dec2 = DoubleConv(128 + 64, 64, 64)
        self.up1 = nn.ConvTranspose3d(64, 64, 2, stride=2)
        self.dec1 = DoubleConv(64 + 32, 32, 32)
        self.head = nn.Conv3d(32, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool1(e1))
        b = self.bottleneck(self.pool2(e2))
        d2 = self.dec2(torch.cat([e2, self.up2(b)], 1))
        d1 = self.dec1(torch.cat([e1, self.up1(d2)], 1))
        return self.head(d1)


def unet3d() -> UNet3D:
    return UNet3D()


UNET3D_INPUT = (1, 32, 64, 64)

MODELS = {  # name: (builder, input shape without the batch)
    "r3d_18": (r3d_18, VIDEO_INPUT),
    "mc3_18": (mc3_18, VIDEO_INPUT),
    "r2plus1d_18": (r2plus1d_18, VIDEO_INPUT),
    "wavenet": (wavenet, WAVENET_INPUT),
    "m5": (m5, M5_INPUT),
    "unet3d": (unet3d, UNET3D_INPUT),
}


def count(name: str) -> tuple[int, int]:
    """(params, MACs) of a model at batch 1: numel, and FlopCounterMode's total / 2, run on
    the meta device (no memory, no data)."""
    from torch.utils.flop_counter import FlopCounterMode

    build, shape = MODELS[name]
    with torch.device("meta"):
        net = build().eval()
        x = torch.empty(1, *shape)
    params = sum(p.numel() for p in net.parameters())
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(x)
    return params, counter.get_total_flops() // 2
