"""Self-attention written with F.scaled_dot_product_attention, as timm's `Attention` writes it
(timm is not a dependency): qkv linear, SDPA, proj linear, on B×N×C tokens."""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    def __init__(self, dim, num_heads=8, qkv_bias=False, qk_norm=False):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.q_norm = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()
        self.k_norm = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()
        self.attn_drop = nn.Dropout(0.0)
        self.proj = nn.Linear(dim, dim, bias=qkv_bias)
        self.proj_drop = nn.Dropout(0.0)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q, k = self.q_norm(q), self.k_norm(k)
        x = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class PatchAttention(nn.Module):
    """4×4 patches of 8×8 pixels as tokens, then one attention."""

    def __init__(self, dim=16, heads=2, qk_norm=False):
        super().__init__()
        self.conv = nn.Conv2d(3, dim, 8, 8)
        self.attn = Attention(dim, heads, qkv_bias=True, qk_norm=qk_norm)

    def forward(self, x):
        return self.attn(self.conv(x).flatten(2).transpose(1, 2))


class BareSDPA(nn.Module):
    """SDPA on the tokens themselves, no projections: nothing to read as the attention kind."""

    def forward(self, x):
        t = x.flatten(2).transpose(1, 2)
        return F.scaled_dot_product_attention(t, t, t)
