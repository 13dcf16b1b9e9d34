"""PyTorch counterparts of medvae's layers, with medvae's child names and semantics.

medvae computes in NHWC; these modules compute in NCHW (PyTorch's layout) and give the same
numbers. Where medvae's result depends on the memory order of a feature map (flattening a map
into a vector, reshaping a vector into a map), the modules here use medvae's order, height ×
width × channels, so the dense weights carry over unchanged.
"""

from __future__ import annotations

import math
from typing import List, Optional

import torch
from torch import nn
import torch.nn.functional as F


def make_norm(kind: str, channels: int, groups: int = 8, dims: int = 2) -> nn.Module:
    """medvae's ``createNorm``: batch, affine instance, group (largest divisor ≤ groups) or none; 2-D or 3-D."""
    if kind == "batch":
        return nn.BatchNorm3d(channels) if dims == 3 else nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm3d(channels, affine=True) if dims == 3 else nn.InstanceNorm2d(channels, affine=True)
    if kind == "group":
        g = min(groups, channels)
        while channels % g != 0:
            g -= 1
        return nn.GroupNorm(g, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm '{kind}'; expected batch, instance, group or none")


def make_act(kind: str, negative_slope: float = 0.01) -> nn.Module:
    """medvae's ``createActivation``."""
    if kind == "relu":
        return nn.ReLU()
    if kind == "leakyrelu":
        return nn.LeakyReLU(negative_slope)
    if kind == "silu":
        return nn.SiLU()
    if kind == "gelu":
        return nn.GELU()
    if kind == "tanh":
        return nn.Tanh()
    raise ValueError(f"unknown activation '{kind}'; expected relu, leakyrelu, silu, gelu or tanh")


class ConvNormAct(nn.Module):
    """Conv → norm → activation (→ dropout); the conv has a bias only before group norm or none (2-D or 3-D)."""

    def __init__(self, cin: int, cout: int, kernel_size: int = 3, stride: int = 1, padding: Optional[int] = None,
                 norm: str = "batch", groups: int = 8, activation: str = "relu", negative_slope: float = 0.01,
                 dropout: float = 0.0, dims: int = 2):
        super().__init__()
        pad = (kernel_size - 1) // 2 if padding is None else padding
        conv = nn.Conv3d if dims == 3 else nn.Conv2d
        self.conv = conv(cin, cout, kernel_size, stride=stride, padding=pad, bias=norm in ("none", "group"))
        self.norm = make_norm(norm, cout, groups, dims)
        self.act = make_act(activation, negative_slope)
        self.drop = nn.Dropout(dropout) if dropout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.norm(self.conv(x)))
        return self.drop(h) if self.drop is not None else h


class FlattenHWC(nn.Module):
    """medvae's ``Flatten`` of an NHWC map: features ordered height, width, channel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)
        return x.reshape(x.shape[0], -1)


class ReshapeHWC(nn.Module):
    """medvae's ``Reshape([h, w, c])``: a vector read as an h × w × c map, returned as NCHW."""

    def __init__(self, h: int, w: int, c: int):
        super().__init__()
        self.shape = (h, w, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w, c = self.shape
        return x.reshape(x.shape[0], h, w, c).permute(0, 3, 1, 2)


def groups_for(channels: int, wanted: int) -> int:
    """The DiffusionUNet's group count: at most ``wanted`` and half the channels, dividing them."""
    g = max(1, min(wanted, channels // 2))
    while channels % g != 0:
        g -= 1
    return g


class SinusoidalTimeEmbedding(nn.Module):
    """Transformer-style timestep features (frequencies rounded to float32 as medvae does)."""

    def __init__(self, dim: int, max_period: float = 10000.0, flip_sin_to_cos: bool = False,
                 downscale_freq_shift: float = 1.0, scale: float = 1.0):
        super().__init__()
        half = dim // 2
        freqs = [math.exp(-math.log(max_period) * i / (half - downscale_freq_shift)) for i in range(half)]
        self.register_buffer("frequencies", torch.tensor(freqs, dtype=torch.float32), persistent=False)
        self.dim = dim
        self.flip = flip_sin_to_cos
        self.scale = scale

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        args = t.float().reshape(-1, 1) * self.frequencies.reshape(1, -1)
        if self.scale != 1:
            args = args * self.scale
        parts = [torch.cos(args), torch.sin(args)] if self.flip else [torch.sin(args), torch.cos(args)]
        if self.dim % 2 == 1:
            parts.append(torch.zeros(args.shape[0], 1, dtype=args.dtype, device=args.device))
        return torch.cat(parts, dim=1)


class ResidualBlock(nn.Module):
    """medvae's ``ResidualBlock``: conv1 (+ time) → norm1 → act → dropout → conv2 → norm2, act(h + skip)."""

    def __init__(self, cin: int, cout: int, norm: str = "batch", groups: int = 8, activation: str = "relu",
                 negative_slope: float = 0.01, dropout: float = 0.0, time_embedding_dim: Optional[int] = None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm1 = None if norm == "none" else self._norm(norm, cout, groups)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.norm2 = None if norm == "none" else self._norm(norm, cout, groups)
        self.time_emb_proj = nn.Linear(time_embedding_dim, cout) if time_embedding_dim is not None else None
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.act = nn.ReLU() if activation == "relu" else nn.SiLU() if activation == "silu" else nn.LeakyReLU(negative_slope)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None

    @staticmethod
    def _norm(kind: str, channels: int, groups: int) -> nn.Module:
        if kind == "group":
            return nn.GroupNorm(groups, channels)
        return make_norm(kind, channels, groups)

    def forward(self, x: torch.Tensor, temb: Optional[torch.Tensor] = None) -> torch.Tensor:
        h = self.conv1(x)
        if temb is not None and self.time_emb_proj is not None:
            h = h + self.time_emb_proj(self.act(temb))[:, :, None, None]
        if self.norm1 is not None:
            h = self.norm1(h)
        h = self.act(h)
        if self.dropout is not None:
            h = self.dropout(h)
        h = self.conv2(h)
        if self.norm2 is not None:
            h = self.norm2(h)
        skip = self.conv_shortcut(x) if self.conv_shortcut is not None else x
        return self.act(h + skip)


class SelfAttention2d(nn.Module):
    """Multi-head self-attention over the pixels of a map, with group norm and a residual."""

    def __init__(self, channels: int, num_heads: int = 1, norm_groups: int = 32):
        super().__init__()
        g = min(norm_groups, channels)
        while channels % g != 0:
            g -= 1
        self.num_heads = num_heads
        self.norm = nn.GroupNorm(g, channels)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, hgt, wid = x.shape
        heads = self.num_heads
        d = c // heads
        h = self.norm(x)

        def split(t: torch.Tensor) -> torch.Tensor:
            # channel c = head·d + j, as medvae splits C into (heads, d)
            return t.reshape(n, heads, d, hgt * wid).transpose(2, 3)

        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        attn = torch.softmax(q @ k.transpose(2, 3) * (1.0 / math.sqrt(d)), dim=-1)
        out = (attn @ v).transpose(2, 3).reshape(n, c, hgt, wid)
        return x + self.proj_out(out)


def upsample(x: torch.Tensor, mode: str) -> torch.Tensor:
    """×2 resize as medvae's ``Upsample`` (nearest, or (tri)linear with half-pixel centres)."""
    if mode == "nearest":
        return F.interpolate(x, scale_factor=2, mode="nearest")
    return F.interpolate(x, scale_factor=2, mode="trilinear" if x.dim() == 5 else "bilinear", align_corners=False)


class Upsample(nn.Module):
    """A parameter-free ×2 resize (a child so Sequential indices match medvae's)."""

    def __init__(self, mode: str):
        super().__init__()
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upsample(x, self.mode)

