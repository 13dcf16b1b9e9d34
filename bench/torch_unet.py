"""The PyTorch side shared by bench/main_job.py (2-D) and bench/unet3d.py (3-D); bench/unet_step.py
builds its network on the same U-Net skeleton (`UNet`).

medvae's UNetSegmenter with norm 'batch', in 2-D or 3-D: per level two (3x3[x3] conv without bias ->
BatchNorm -> ReLU) units, 2x2[x2] max-pool, 2x2[x2] stride-2 transposed conv (with bias), skip
concatenation (skip first), 1x1[x1] head with bias, `classes` output channels. The loss is medvae's
default for two classes, MONAI's DiceCELoss(softmax=True, to_onehot_y=True) with its defaults
(include_background, smooth_nr = smooth_dr = 1e-5, mean over batch and classes; cross-entropy mean over
pixels), written out here with torch ops. Adam, lr 1e-3.

Serve mode: one JSON command per line on stdin, one JSON line back on stdout, so that the TypeScript
benchmark can interleave PyTorch steps with medvae's:
    {"cmd": "setup", "batch": 16, "size": 128, "channels": [16, 32, 64, 128], "classes": 2}
        -> {"ok": true, "params": ..., "torch": "1.13..."}
    {"cmd": "step", "threads": 1}  -> {"ms": 456.0, "loss": 1.2, "cpuMs": 450.0}
    {"cmd": "quit"}
"""
import argparse
import json
import statistics
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

LAYERS = {
    2: (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.ConvTranspose2d),
    3: (nn.Conv3d, nn.BatchNorm3d, nn.MaxPool3d, nn.ConvTranspose3d),
}


def unit(cin, cout, dims):
    conv, norm, _, _ = LAYERS[dims]
    return [conv(cin, cout, 3, padding=1, bias=False), norm(cout), nn.ReLU()]


class UNet(nn.Module):
    """The U-Net skeleton of every PyTorch benchmark network: `block(cin, cout)` at each level (encoder
    and decoder), 2x max-pool, 2x stride-2 transposed conv (with bias), skip concatenation (skip
    first), 1x1 head with bias. Modules are built in a fixed order (encoders, then each level's
    transposed conv and decoder, then the head), so a seeded build draws the same weights."""

    def __init__(self, cin, cout, channels, block, dims=2):
        super().__init__()
        conv, _, pool, up = LAYERS[dims]
        self.encoders = nn.ModuleList(block(cin if i == 0 else channels[i - 1], c) for i, c in enumerate(channels))
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for i in range(len(channels) - 2, -1, -1):
            self.ups.append(up(channels[i + 1], channels[i], 2, stride=2))
            self.decoders.append(block(2 * channels[i], channels[i]))
        self.head = conv(channels[0], cout, 1)
        self.pool = pool(2)

    def forward(self, x):
        skips = []
        h = x
        for i, enc in enumerate(self.encoders):
            if i > 0:
                h = self.pool(h)
            h = enc(h)
            if i < len(self.encoders) - 1:
                skips.append(h)
        for j, (up, dec) in enumerate(zip(self.ups, self.decoders)):
            h = dec(torch.cat([skips[-1 - j], up(h)], 1))
        return self.head(h)


class UNetSegmenter(UNet):
    """medvae's UNetSegmenter with norm 'batch': two (conv -> BatchNorm -> ReLU) units per level."""

    def __init__(self, cin, classes, channels, dims=2):
        super().__init__(cin, classes, channels, lambda a, b: nn.Sequential(*unit(a, b, dims), *unit(b, b, dims)), dims)


def dice_ce(logits, labels, smooth=1e-5):
    """MONAI DiceCELoss(softmax=True, to_onehot_y=True) defaults; logits [B, C, *spatial], labels [B, *spatial] int64."""
    classes = logits.shape[1]
    spatial = tuple(range(2, logits.dim()))
    p = torch.softmax(logits, 1)
    t = F.one_hot(labels, classes).permute(0, logits.dim() - 1, *range(1, logits.dim() - 1)).to(p.dtype)
    inter = (p * t).sum(spatial)
    denom = p.sum(spatial) + t.sum(spatial)
    dice = (1 - (2 * inter + smooth) / (denom + smooth)).mean()
    return dice + F.cross_entropy(logits, labels)


class Bench:
    """One network, batch and optimizer; `step` times a training step (wall and all-thread CPU time)."""

    def __init__(self, batch, size, channels, classes, dims, labels_from_input):
        torch.manual_seed(0)
        self.net = UNetSegmenter(1, classes, channels, dims)
        self.net.train()
        self.x = torch.rand(batch, 1, *([size] * dims))
        # Each caller keeps the labels its medvae side was written against (same draws as before).
        self.y = (self.x[:, 0] < 0.4).long() if labels_from_input else (torch.rand(batch, *([size] * dims)) < 0.4).long()
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.params = sum(p.numel() for p in self.net.parameters())
        self.cpu_ms = 0.0

    def step(self):
        t0 = time.perf_counter()
        c0 = time.process_time()
        self.opt.zero_grad(set_to_none=True)
        loss = dice_ce(self.net(self.x), self.y)
        loss.backward()
        self.opt.step()
        value = loss.item()
        # CPU time of all threads, which a loaded machine disturbs far less than the wall time.
        self.cpu_ms = (time.process_time() - c0) * 1000
        return (time.perf_counter() - t0) * 1000, value


def serve(dims, labels_from_input):
    bench = None
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "quit":
            break
        if msg["cmd"] == "setup":
            bench = Bench(msg["batch"], msg["size"], msg["channels"], msg["classes"], dims, labels_from_input)
            reply = {"ok": True, "params": bench.params, "torch": torch.__version__}
        elif msg["cmd"] == "step":
            # The thread count can change between steps, so one worker serves the 1- and 2-thread contenders.
            torch.set_num_threads(msg.get("threads", torch.get_num_threads()))
            ms, loss = bench.step()
            reply = {"ms": ms, "loss": loss, "cpuMs": bench.cpu_ms}
        else:
            reply = {"error": f"unknown command {msg['cmd']}"}
        print(json.dumps(reply), flush=True)


def main(doc, dims, batch, size, channels, repeats, labels_from_input):
    """Command line of a benchmark script: --serve, or a standalone timing with the given defaults."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=batch)
    parser.add_argument("--size", type=int, default=size)
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--serve", action="store_true", help="answer JSON commands on stdin (see bench/torch_unet.py)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.serve:
        serve(dims, labels_from_input)
        return
    bench = Bench(args.batch, args.size, channels, 2, dims, labels_from_input)
    bench.step()  # warm-up
    times = [bench.step()[0] for _ in range(args.repeats)]
    shape = "x".join([str(args.size)] * dims)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {bench.params} parameters, batch {args.batch}, {shape}")
    print(f"median {statistics.median(times):.1f} ms/step over {len(times)} steps")
