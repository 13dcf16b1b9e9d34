"""PyTorch counterpart of bench/unet3d.ts: a training step of medvae's 3-D U-Net.

The network is medvae's UNet with spatialDims 3 and norm 'batch' (channels 8/16/32/64 by default): per
level two (3x3x3 conv without bias -> BatchNorm3d -> ReLU) units, 2x2x2 max-pool, 2x2x2 stride-2
transposed conv (with bias), skip concatenation (skip first), 1x1x1 head with bias, `classes` output
channels. The loss is medvae's default for two classes, MONAI's DiceCELoss(softmax=True,
to_onehot_y=True) with its defaults (include_background, smooth_nr = smooth_dr = 1e-5, mean over batch
and classes; cross-entropy mean over pixels), written out here with torch ops. Adam, lr 1e-3.

Serve mode (--serve), driven one step at a time by bench/unet3d.ts so that it can interleave PyTorch
steps with medvae's: one JSON command per line on stdin, one JSON line back on stdout:
    {"cmd": "setup", "batch": 2, "size": 64, "channels": [8, 16, 32, 64], "classes": 2}
        -> {"ok": true, "params": ..., "torch": "1.13..."}
    {"cmd": "step", "threads": 1}  -> {"ms": 456.0, "loss": 1.2, "cpuMs": 450.0}
    {"cmd": "quit"}

Standalone: /usr/bin/python3 bench/unet3d.py --threads 1 --repeats 3
"""
import argparse
import json
import statistics
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F


def unit(cin, cout):
    return [nn.Conv3d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm3d(cout), nn.ReLU()]


class UNetSegmenter(nn.Module):
    def __init__(self, cin, classes, channels):
        super().__init__()
        self.encoders = nn.ModuleList(
            nn.Sequential(*unit(cin if i == 0 else channels[i - 1], c), *unit(c, c)) for i, c in enumerate(channels)
        )
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for i in range(len(channels) - 2, -1, -1):
            self.ups.append(nn.ConvTranspose3d(channels[i + 1], channels[i], 2, stride=2))
            self.decoders.append(nn.Sequential(*unit(2 * channels[i], channels[i]), *unit(channels[i], channels[i])))
        self.head = nn.Conv3d(channels[0], classes, 1)
        self.pool = nn.MaxPool3d(2)

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


def dice_ce(logits, labels, smooth=1e-5):
    """MONAI DiceCELoss(softmax=True, to_onehot_y=True) defaults; logits [B, C, D, H, W], labels [B, D, H, W] int64."""
    classes = logits.shape[1]
    p = torch.softmax(logits, 1)
    t = F.one_hot(labels, classes).permute(0, 4, 1, 2, 3).to(p.dtype)
    axes = (2, 3, 4)
    inter = (p * t).sum(axes)
    denom = p.sum(axes) + t.sum(axes)
    dice = (1 - (2 * inter + smooth) / (denom + smooth)).mean()
    return dice + F.cross_entropy(logits, labels)


class Bench:
    def __init__(self, batch, size, channels, classes):
        torch.manual_seed(0)
        self.net = UNetSegmenter(1, classes, channels)
        self.net.train()
        self.x = torch.rand(batch, 1, size, size, size)
        self.y = (self.x[:, 0] < 0.4).long()
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.params = sum(p.numel() for p in self.net.parameters())

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


def serve():
    bench = None
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "quit":
            break
        if msg["cmd"] == "setup":
            bench = Bench(msg["batch"], msg["size"], msg["channels"], msg["classes"])
            reply = {"ok": True, "params": bench.params, "torch": torch.__version__}
        elif msg["cmd"] == "step":
            # The thread count can change between steps, so one worker serves the 1- and 2-thread contenders.
            torch.set_num_threads(msg.get("threads", torch.get_num_threads()))
            ms, loss = bench.step()
            reply = {"ms": ms, "loss": loss, "cpuMs": bench.cpu_ms}
        else:
            reply = {"error": f"unknown command {msg['cmd']}"}
        print(json.dumps(reply), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help="answer JSON commands on stdin (see the module docstring)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.serve:
        serve()
        return
    bench = Bench(args.batch, args.size, [8, 16, 32, 64], 2)
    bench.step()  # warm-up
    times = [bench.step()[0] for _ in range(args.repeats)]
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {bench.params} parameters, batch {args.batch}, {args.size}^3")
    print(f"median {statistics.median(times):.1f} ms/step over {len(times)} steps")


if __name__ == "__main__":
    main()
