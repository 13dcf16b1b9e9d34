"""PyTorch builds of medvae's prebuilt networks, parameter for parameter.

Each class takes the configuration medvae exports (``config.json``, camelCase keys as medvae's
options) and registers its children under medvae's names, so ``load_state_dict`` takes medvae's
exported weights as they are and a state dict saved from these modules imports back into medvae.
Inputs and outputs are NCHW.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn
import torch.nn.functional as F

from .layers import (
    ConvNormAct,
    FlattenHWC,
    ReshapeHWC,
    ResidualBlock,
    SelfAttention2d,
    SinusoidalTimeEmbedding,
    Upsample,
    groups_for,
    make_act,
    make_norm,
    upsample,
)

Config = Dict[str, Any]


# ----------------------------------------------------------------------------------------- U-Net


class DoubleConv(nn.Module):
    """Two ConvNormAct units (dropout after the first), optionally residual."""

    def __init__(self, cin: int, cout: int, cfg: Config):
        super().__init__()
        dims = cfg.get("spatialDims", 2)
        unit = dict(norm=cfg["norm"], groups=cfg["groups"], activation=cfg["activation"], dims=dims)
        self.body = nn.Sequential(ConvNormAct(cin, cout, dropout=cfg["dropout"], **unit), ConvNormAct(cout, cout, **unit))
        self.residual = bool(cfg["residual"])
        self.skip = (nn.Conv3d if dims == 3 else nn.Conv2d)(cin, cout, 1) if self.residual and cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        if not self.residual:
            return h
        return h + (self.skip(x) if self.skip is not None else x)


class UNet(nn.Module):
    """medvae's ``UNet``: double-conv encoder with max-pooling, upsample + concat + double-conv decoder, 1×1 head.

    2-D (NCHW) or, with ``spatialDims`` 3, 3-D (NCDHW).
    """

    def __init__(self, cfg: Config):
        super().__init__()
        ch: List[int] = cfg["channels"]
        self.config = dict(cfg)
        dims = cfg.get("spatialDims", 2)
        if dims not in (2, 3):
            raise ValueError(f"UNet spatialDims must be 2 or 3, got {dims}")
        conv = nn.Conv3d if dims == 3 else nn.Conv2d
        deconv = nn.ConvTranspose3d if dims == 3 else nn.ConvTranspose2d
        self.pool = F.max_pool3d if dims == 3 else F.max_pool2d
        self.encoders = nn.Sequential(*[DoubleConv(cfg["inChannels"] if i == 0 else ch[i - 1], c, cfg) for i, c in enumerate(ch)])
        ups: List[nn.Module] = []
        decs: List[nn.Module] = []
        for i in range(len(ch) - 2, -1, -1):
            deep, width = ch[i + 1], ch[i]
            if cfg["upsample"] == "transpose":
                ups.append(deconv(deep, width, 2, stride=2))
            else:
                ups.append(nn.Sequential(Upsample(cfg["upsample"]), conv(deep, width, 1)))
            decs.append(DoubleConv(2 * width, width, cfg))
        self.ups = nn.Sequential(*ups)
        self.decoders = nn.Sequential(*decs)
        self.head = conv(ch[0], cfg["outChannels"], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips: List[torch.Tensor] = []
        h = x
        n = len(self.encoders)
        for i, enc in enumerate(self.encoders):
            if i > 0:
                h = self.pool(h, 2)
            h = enc(h)
            if i < n - 1:
                skips.append(h)
        for j, (up, dec) in enumerate(zip(self.ups, self.decoders)):
            h = dec(torch.cat([skips[len(skips) - 1 - j], up(h)], dim=1))
        return self.head(h)


class UNetSegmenter(nn.Module):
    """medvae's ``UNetSegmenter``: a UNet under ``net`` producing class logits."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.config = dict(cfg)
        self.num_classes = cfg["numClasses"]
        self.net = UNet({**cfg, "outChannels": cfg["numClasses"]})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Sigmoid for one class, softmax over classes otherwise (as medvae's ``predict``)."""
        logits = self.forward(x)
        return torch.sigmoid(logits) if self.num_classes == 1 else torch.softmax(logits, dim=1)


# ------------------------------------------------------------------------------------------- VAE


def _level_sizes(size: int, levels: int) -> List[int]:
    out = [size]
    for i in range(levels):
        out.append(-(-out[i] // 2))
    return out


class VAE(nn.Module):
    """medvae's ``VAE`` (conv or MLP): ``encoder``, ``fcMu``, ``fcLogVar``, ``decoder``.

    ``forward`` returns ``(recon, mu, log_var, z)``; in eval mode z = μ, as in medvae.
    """

    def __init__(self, cfg: Config):
        super().__init__()
        self.config = dict(cfg)
        cin, cout, latent = cfg["inChannels"], cfg["outChannels"], cfg["latentDim"]
        h, w = cfg["imageSize"]
        norm, act = cfg["norm"], cfg["activation"]
        if cfg["architecture"] == "conv":
            ch: List[int] = cfg["channels"]
            n = len(ch)
            hs, ws = _level_sizes(h, n), _level_sizes(w, n)
            enc: List[nn.Module] = [ConvNormAct(cin if i == 0 else ch[i - 1], c, 3, 2, 1, norm=norm, activation=act) for i, c in enumerate(ch)]
            enc.append(FlattenHWC())
            features = hs[n] * ws[n] * ch[-1]
            dec: List[nn.Module] = [nn.Linear(latent, features), ReshapeHWC(hs[n], ws[n], ch[-1]), make_act(act)]
            for i in range(n - 1, -1, -1):
                last = i == 0
                oc = cout if last else ch[i - 1]
                op = (hs[i] - 2 * hs[i + 1] + 1, ws[i] - 2 * ws[i + 1] + 1)
                up = nn.ConvTranspose2d(ch[i], oc, 3, stride=2, padding=1, output_padding=op, bias=last or norm in ("none", "group"))
                dec.append(up if last else nn.Sequential(up, make_norm(norm, oc), make_act(act)))
        else:
            hidden: List[int] = cfg["hiddenDims"]
            enc = [FlattenHWC()]
            prev = h * w * cin
            for d in hidden:
                enc += [nn.Linear(prev, d), make_act(act)]
                prev = d
            features = prev
            dec = []
            prev = latent
            for d in reversed(hidden):
                dec += [nn.Linear(prev, d), make_act(act)]
                prev = d
            dec += [nn.Linear(prev, h * w * cout), ReshapeHWC(h, w, cout)]
        self.encoder = nn.Sequential(*enc)
        self.fcMu = nn.Linear(features, latent)
        self.fcLogVar = nn.Linear(features, latent)
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.fcMu(h), self.fcLogVar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Raw decoder output: logits (Bernoulli likelihood) or means (Gaussian)."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor):
        mu, log_var = self.encode(x)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu) if self.training else mu
        return self.decode(z), mu, log_var, z


# ----------------------------------------------------------------------------------------- DCGAN


class DCGANGenerator(nn.Module):
    """medvae's ``DCGANGenerator``: z as a 1×1 map through transposed convs to a Tanh image."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.config = dict(cfg)
        ch: List[int] = cfg["channels"]
        h, w = cfg["imageSize"]
        n = len(ch)
        d = 2 ** n
        self.latent_dim = cfg["latentDim"]
        layers: List[nn.Module] = [nn.ConvTranspose2d(self.latent_dim, ch[0], (h // d, w // d), bias=False), nn.BatchNorm2d(ch[0]), nn.ReLU()]
        for i in range(1, n):
            layers += [nn.ConvTranspose2d(ch[i - 1], ch[i], 4, 2, 1, bias=False), nn.BatchNorm2d(ch[i]), nn.ReLU()]
        layers += [nn.ConvTranspose2d(ch[n - 1], cfg["outChannels"], 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.reshape(z.shape[0], self.latent_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """medvae's ``DCGANDiscriminator``: stride-2 conv blocks with LeakyReLU, then one logit (or a patch map)."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.config = dict(cfg)
        ch: List[int] = cfg["channels"]
        self.patch = bool(cfg["patch"])
        layers: List[nn.Module] = []
        for i, c in enumerate(ch):
            norm = "none" if i == 0 else cfg["norm"]
            layers.append(nn.Conv2d(cfg["inChannels"] if i == 0 else ch[i - 1], c, 4, 2, 1, bias=norm in ("none", "group")))
            if norm != "none":
                layers.append(make_norm(norm, c))
            layers.append(nn.LeakyReLU(cfg["negativeSlope"]))
        if self.patch:
            layers.append(nn.Conv2d(ch[-1], 1, 3, padding=1))
        else:
            h, w = cfg["imageSize"]
            for _ in ch:
                h, w = h // 2, w // 2
            layers.append(nn.Conv2d(ch[-1], 1, (h, w)))
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.main(x)
        return y if self.patch else y.reshape(x.shape[0], 1)


class DCGAN(nn.Module):
    """medvae's ``DCGAN``: ``generator`` and ``discriminator``; ``forward`` generates."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.config = dict(cfg)
        self.generator = DCGANGenerator({"latentDim": cfg["latentDim"], "imageSize": cfg["imageSize"],
                                         "outChannels": cfg["imageChannels"], "channels": cfg["generatorChannels"]})
        self.discriminator = DCGANDiscriminator({"inChannels": cfg["imageChannels"], "imageSize": cfg["imageSize"],
                                                 "channels": cfg["discriminatorChannels"], "norm": cfg["discriminatorNorm"],
                                                 "negativeSlope": 0.2, "patch": False})

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)


# ---------------------------------------------------------------------------------- DiffusionUNet


class TimestepEmbedding(nn.Module):
    def __init__(self, cin: int, dim: int):
        super().__init__()
        self.linear_1 = nn.Linear(cin, dim)
        self.act = nn.SiLU()
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(x)))


class ClassEmbedding(nn.Module):
    """A table of class vectors; label −1 (no class) gives a zero vector, as in medvae."""

    def __init__(self, num_classes: int, dim: int):
        super().__init__()
        self.num_classes = num_classes
        self.weight = nn.Parameter(torch.randn(num_classes, dim))

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        one_hot = (labels.long().reshape(-1, 1) == torch.arange(self.num_classes, device=labels.device).reshape(1, -1))
        return one_hot.to(self.weight.dtype) @ self.weight


class _Resample(nn.Module):
    def __init__(self, channels: int, down: bool):
        super().__init__()
        self.down = down
        self.conv = nn.Conv2d(channels, channels, 3, stride=2 if down else 1, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) if self.down else self.conv(upsample(x, "nearest"))


class DiffusionLevel(nn.Module):
    def __init__(self, ins: List[int], out: int, attention: bool, resample: str, cfg: Config):
        super().__init__()
        g = groups_for(out, cfg["normNumGroups"])
        self.resnets = nn.ModuleList([
            ResidualBlock(c, out, norm="group", groups=g, activation="silu", dropout=cfg["dropout"], time_embedding_dim=cfg["timeEmbeddingDim"])
            for c in ins
        ])
        self.attentions = nn.ModuleList([SelfAttention2d(out, cfg["attentionHeads"], g) for _ in ins]) if attention else None
        self.downsamplers = nn.ModuleList([_Resample(out, True)]) if resample == "down" else None
        self.upsamplers = nn.ModuleList([_Resample(out, False)]) if resample == "up" else None

    def forward(self, x: torch.Tensor, temb: torch.Tensor, skips: Optional[List[torch.Tensor]] = None):
        states: List[torch.Tensor] = []
        h = x
        for i, block in enumerate(self.resnets):
            if skips is not None:
                h = torch.cat([h, skips[i]], dim=1)
            h = block(h, temb)
            if self.attentions is not None:
                h = self.attentions[i](h)
            states.append(h)
        if self.downsamplers is not None:
            h = self.downsamplers[0](h)
            states.append(h)
        if self.upsamplers is not None:
            h = self.upsamplers[0](h)
        return h, states


class DiffusionMidBlock(nn.Module):
    def __init__(self, channels: int, attention: bool, cfg: Config):
        super().__init__()
        g = groups_for(channels, cfg["normNumGroups"])
        opts = dict(norm="group", groups=g, activation="silu", dropout=cfg["dropout"], time_embedding_dim=cfg["timeEmbeddingDim"])
        self.resnets = nn.ModuleList([ResidualBlock(channels, channels, **opts), ResidualBlock(channels, channels, **opts)])
        self.attentions = nn.ModuleList([SelfAttention2d(channels, cfg["attentionHeads"], g)]) if attention else None

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.resnets[0](x, temb)
        if self.attentions is not None:
            h = self.attentions[0](h)
        return self.resnets[1](h, temb)


class DiffusionUNet(nn.Module):
    """medvae's ``DiffusionUNet`` (diffusers-style names): ``forward(x, timesteps, class_labels=None)``."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.config = dict(cfg)
        ch: List[int] = cfg["channels"]
        lpb = cfg["layersPerBlock"]
        levels = len(ch)
        self.time_proj = SinusoidalTimeEmbedding(ch[0], flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(ch[0], cfg["timeEmbeddingDim"])
        self.class_embedding = ClassEmbedding(cfg["numClassEmbeds"], cfg["timeEmbeddingDim"]) if cfg.get("numClassEmbeds") is not None else None
        self.conv_in = nn.Conv2d(cfg["inChannels"], ch[0], 3, padding=1)
        skip_ch = [ch[0]]
        down: List[nn.Module] = []
        prev = ch[0]
        for i in range(levels):
            out = ch[i]
            last = i == levels - 1
            down.append(DiffusionLevel([prev if j == 0 else out for j in range(lpb)], out, i in cfg["attentionLevels"], "none" if last else "down", cfg))
            skip_ch += [out] * lpb + ([] if last else [out])
            prev = out
        self.down_blocks = nn.ModuleList(down)
        self.mid_block = DiffusionMidBlock(prev, cfg["midBlockAttention"], cfg)
        up: List[nn.Module] = []
        for i in range(levels - 1, -1, -1):
            out = ch[i]
            ins = []
            for _ in range(lpb + 1):
                ins.append(prev + skip_ch.pop())
                prev = out
            up.append(DiffusionLevel(ins, out, i in cfg["attentionLevels"], "none" if i == 0 else "up", cfg))
        self.up_blocks = nn.ModuleList(up)
        self.conv_norm_out = nn.GroupNorm(groups_for(ch[0], cfg["normNumGroups"]), ch[0])
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(ch[0], cfg["outChannels"], 3, padding=1)

    def forward(self, x: torch.Tensor, timesteps, class_labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        t = torch.as_tensor(timesteps, dtype=torch.float32, device=x.device).reshape(-1)
        if t.numel() == 1:
            t = t.expand(x.shape[0])
        temb = self.time_embedding(self.time_proj(t))
        if self.class_embedding is not None:
            if class_labels is None:
                raise ValueError("this DiffusionUNet is class-conditional: pass class_labels")
            temb = temb + self.class_embedding(torch.as_tensor(class_labels, device=x.device))
        h = self.conv_in(x)
        skips = [h]
        for level in self.down_blocks:
            h, states = level(h, temb)
            skips += states
        h = self.mid_block(h, temb)
        for level in self.up_blocks:
            n = len(level.resnets)
            own = skips[len(skips) - n:][::-1]
            del skips[len(skips) - n:]
            h, _ = level(h, temb, own)
        return self.conv_out(self.conv_act(self.conv_norm_out(h)))


class DDPM(nn.Module):
    """medvae's ``DDPM`` weights: the noise-prediction ``unet`` (the scheduler settings stay in ``config``)."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.config = dict(cfg)
        self.unet = DiffusionUNet({**cfg, "outChannels": cfg["inChannels"]})

    def forward(self, x: torch.Tensor, timesteps, class_labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.unet(x, timesteps, class_labels)


ARCHITECTURES = {
    "UNet": UNet,
    "UNetSegmenter": UNetSegmenter,
    "VAE": VAE,
    "DCGANGenerator": DCGANGenerator,
    "DCGANDiscriminator": DCGANDiscriminator,
    "DCGAN": DCGAN,
    "DiffusionUNet": DiffusionUNet,
    "DDPM": DDPM,
}
