"""The torch side of Swin's kinds, as source text written once: the builder (measure/windows.py)
compiles it, `export --to torch` writes it into the exported file, so the two cannot drift.

Both modules take and give N×C×H×W maps (the grid convention of core/layers/windows.py) and hold
torchvision's parameters in torchvision's order (ShiftedWindowAttention: the bias table, then qkv
and proj; PatchMerging: reduction, then norm). `WindowAttention(..., uniform=True)` is the
linearised copy used to measure receptive fields: every allowed (unmasked) position of a window
weighs the same, instead of the softmax. Standard library only: this is text.
"""

WINDOW_ATTENTION = '''
class WindowAttention(nn.Module):
    """Shifted-window multi-head self-attention on N×C×H×W (torchvision's swin_t blocks)."""

    def __init__(self, dim, heads, window, shift=0, bias=True, uniform=False):
        super().__init__()
        self.heads, self.window, self.shift, self.uniform = heads, window, shift, uniform
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window - 1) ** 2, heads))
        self.qkv = nn.Linear(dim, 3 * dim, bias=bias)
        self.proj = nn.Linear(dim, dim, bias=bias)
        r = torch.arange(window)
        yx = torch.stack(torch.meshgrid(r, r, indexing="ij")).flatten(1)
        rel = (yx[:, :, None] - yx[:, None, :]).permute(1, 2, 0) + (window - 1)
        index = (rel[:, :, 0] * (2 * window - 1) + rel[:, :, 1]).flatten()
        self.register_buffer("relative_position_index", index, persistent=False)

    def regions(self, n, shift):
        """Per padded position along an axis, its piece of the rolled grid (torchvision's
        mask slices): tokens attend only within their piece."""
        r = torch.zeros(n, dtype=torch.long)
        if shift:
            r[n - self.window:n - shift] = 1
            r[n - shift:] = 2
        return r

    def forward(self, x):
        b, c, h, w = x.shape
        m, heads = self.window, self.heads
        pad = (0, 0, 0, (m - w % m) % m, 0, (m - h % m) % m)
        x = nn.functional.pad(x.permute(0, 2, 3, 1), pad)
        hp, wp = x.shape[1], x.shape[2]
        sh = self.shift if m < hp else 0
        sw = self.shift if m < wp else 0
        if sh or sw:
            x = torch.roll(x, (-sh, -sw), (1, 2))
        x = x.view(b, hp // m, m, wp // m, m, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, m * m, c)
        qkv = self.qkv(x).reshape(x.shape[0], m * m, 3, heads, c // heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).contiguous()  # one copy kept at any batch
        label = self.regions(hp, sh)[:, None] * 3 + self.regions(wp, sw)[None, :]
        label = label.view(hp // m, m, wp // m, m).permute(0, 2, 1, 3).reshape(-1, m * m)
        allowed = (label[:, :, None] == label[:, None, :]).to(x.device)
        windows = allowed.shape[0]
        if self.uniform:
            a = allowed.to(x.dtype) / allowed.sum(-1, keepdim=True)
            a = a[None, :, None].expand(b, windows, heads, m * m, m * m)
            a = a.reshape(-1, heads, m * m, m * m)
        else:
            bias = self.relative_position_bias_table[self.relative_position_index]
            bias = bias.view(m * m, m * m, heads).permute(2, 0, 1)
            a = (q * (c // heads) ** -0.5) @ k.transpose(-2, -1) + bias
            if sh or sw:
                mask = torch.zeros(allowed.shape, dtype=x.dtype, device=x.device)
                mask = mask.masked_fill(~allowed, -100.0)[None, :, None]
                a = (a.view(b, windows, heads, m * m, m * m) + mask).view(a.shape)
            a = a.softmax(-1)
        x = self.proj((a @ v).transpose(1, 2).reshape(-1, m * m, c))
        x = x.view(b, hp // m, wp // m, m, m, c).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, c)
        if sh or sw:
            x = torch.roll(x, (sh, sw), (1, 2))
        return x[:, :h, :w].permute(0, 3, 1, 2)
'''

PATCH_MERGE = '''
class PatchMerge(nn.Module):
    """Swin's patch merging on N×C×H×W: 2×2 neighbourhoods concatenated (torchvision's order),
    layernorm(4C), linear 4C -> 2C without bias."""

    def __init__(self, dim):
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.pad(x, (0, 0, 0, x.shape[2] % 2, 0, x.shape[1] % 2))
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]],
                      -1)
        return self.reduction(self.norm(x)).permute(0, 3, 1, 2)
'''

SOURCES = {"window_attention": ("WindowAttention", WINDOW_ATTENTION),
           "patch_merge": ("PatchMerge", PATCH_MERGE)}
