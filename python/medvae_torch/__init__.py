"""medvae_torch: load medvae's exported networks as PyTorch modules, and save them back.

medvae's ``exportTorch(model, dir)`` writes ``dir/config.json`` (the architecture and its
options) and ``dir/model.safetensors`` (weights with PyTorch names and NCHW/OIHW layouts).
``medvae_torch.load(dir)`` rebuilds the same network in PyTorch with those weights;
``medvae_torch.save(module, dir)`` writes a (for example further trained) module in the same
format, which medvae's ``importTorch`` reads back. Only torch is required.

    import medvae_torch
    net = medvae_torch.load("runs/export").eval()
    logits = net(images)                     # NCHW in, NCHW out
    medvae_torch.save(net, "runs/trained")
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict

import torch
from torch import nn

from .models import ARCHITECTURES
from .safetensors_io import read_safetensors, write_safetensors

__all__ = ["load", "save", "build", "read_config", "read_safetensors", "write_safetensors", "FORMAT", "FORMAT_VERSION"]
__version__ = "0.1.0"

FORMAT = "medvae-torch"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def read_config(directory: str) -> Dict[str, Any]:
    """The parsed ``config.json`` of an export directory, checked for format and version."""
    path = os.path.join(directory, CONFIG_FILE)
    with open(path, "r", encoding="utf-8") as f:
        meta = json.load(f)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a medvae torch export (format {meta.get('format')!r}, expected {FORMAT!r})")
    if meta.get("formatVersion") != FORMAT_VERSION:
        raise ValueError(f"{path}: format version {meta.get('formatVersion')} is not supported (this package reads {FORMAT_VERSION})")
    return meta


def build(architecture: str, config: Dict[str, Any]) -> nn.Module:
    """A freshly initialised network of the given architecture and medvae configuration."""
    if architecture == "MonaiBasicUNet":
        return _monai_basic_unet(config)
    cls = ARCHITECTURES.get(architecture)
    if cls is None:
        known = ", ".join(sorted(list(ARCHITECTURES) + ["MonaiBasicUNet"]))
        raise ValueError(f"unknown architecture {architecture!r}; this package builds {known}")
    return cls(config)


def load(directory: str, map_location: str = "cpu") -> nn.Module:
    """The network exported to ``directory`` by medvae (or saved by :func:`save`), weights loaded."""
    meta = read_config(directory)
    net = build(meta["architecture"], meta["config"])
    state = read_safetensors(os.path.join(directory, WEIGHTS_FILE))
    net.load_state_dict(state, strict=True)
    return net.to(map_location)


def save(module: nn.Module, directory: str, architecture: str = "", config: Dict[str, Any] = None) -> None:
    """Writes ``module``'s state dict and configuration in medvae's export format.

    Modules built by this package carry their architecture and configuration; for others (e.g. a
    MONAI ``BasicUNet``) pass ``architecture`` and ``config``. A ``DistributedDataParallel``
    wrapper is unwrapped.
    """
    inner = module.module if hasattr(module, "module") and isinstance(getattr(module, "module"), nn.Module) else module
    arch = architecture or _architecture_of(inner)
    cfg = config if config is not None else getattr(inner, "config", None)
    if cfg is None:
        raise ValueError(f"{type(inner).__name__} carries no medvae configuration; pass config=")
    os.makedirs(directory, exist_ok=True)
    write_safetensors(os.path.join(directory, WEIGHTS_FILE), inner.state_dict(), {"format": "pt"})
    meta = {"format": FORMAT, "formatVersion": FORMAT_VERSION, "architecture": arch, "config": cfg, "layout": "NCHW",
            "producer": f"medvae_torch {__version__} (torch {torch.__version__})"}
    tmp = os.path.join(directory, CONFIG_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
    os.replace(tmp, os.path.join(directory, CONFIG_FILE))


def _architecture_of(module: nn.Module) -> str:
    for name, cls in ARCHITECTURES.items():
        if type(module) is cls:
            return name
    if type(module).__name__ == "BasicUNet":
        return "MonaiBasicUNet"
    raise ValueError(f"cannot tell the medvae architecture of {type(module).__name__}; pass architecture=")


def monai_basic_unet_args(config: Dict[str, Any]) -> Dict[str, Any]:
    """MONAI ``BasicUNet`` keyword arguments equal to a medvae ``MonaiBasicUNet`` configuration."""
    act = config["act"]
    acts = {"leakyrelu": ("LeakyReLU", {"negative_slope": config["negativeSlope"]}), "relu": "RELU", "prelu": "PRELU", "elu": "ELU", "silu": "SWISH"}
    norm = config["norm"]
    norms = {"instance": ("instance", {"affine": True}), "batch": "batch", "group": ("group", {"num_groups": config["groups"]}), "none": None}
    return dict(spatial_dims=2, in_channels=config["inChannels"], out_channels=config["outChannels"], features=tuple(config["features"]),
                act=acts[act], norm=norms[norm], bias=config["bias"], dropout=config["dropout"], upsample="deconv")


def _monai_basic_unet(config: Dict[str, Any]) -> nn.Module:
    try:
        from monai.networks.nets import BasicUNet  # type: ignore
    except ImportError as e:  # MONAI is optional: only this architecture needs it
        raise ImportError("architecture MonaiBasicUNet is MONAI's BasicUNet: install monai (or put its source on PYTHONPATH)") from e
    net = BasicUNet(**monai_basic_unet_args(config))
    net.config = dict(config)  # type: ignore[attr-defined]
    return net
