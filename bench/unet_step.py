"""PyTorch reference for bench/unet-step.ts and bench/scaling.ts: one U-Net training step (MSE + Adam).

The network is medvae's benchmark U-Net (bench/unet-contenders.ts): depth 3 (channels 16/32/64, bottleneck 128), two 3x3
conv + ReLU per level, 2x2 max-pool, 2x2 stride-2 transposed conv, skip concatenation, 1x1 head;
481,745 parameters for 1 input and 1 output channel.

Run standalone (prints ms/step medians):
    /usr/bin/python3 bench/unet_step.py --threads 2 --batch 16 --size 64 --repeats 10

Or as a worker (--serve), which the TypeScript benchmarks use to interleave PyTorch steps with
their own: it reads one command per line on stdin and answers one line of JSON on stdout:
    {"cmd": "setup", "batch": 16, "size": 64}      -> {"ok": true, "params": 481745}
    {"cmd": "step", "format": "nchw"}              -> {"ms": 251.3, "loss": 0.33}
    {"cmd": "step", "format": "channels_last", "threads": 1}  -> {"ms": 262.0, "loss": 0.33}
    {"cmd": "quit"}
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch_unet  # noqa: E402


class DoubleConv(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())


class UNet(torch_unet.UNet):
    def __init__(self, cin=1, cout=1, channels=(16, 32, 64, 128)):
        super().__init__(cin, cout, channels, DoubleConv)


class Bench:
    """One network, optimizer and batch per memory format, built once per (batch, size)."""

    def __init__(self, batch, size):
        torch.manual_seed(0)
        self.setups = {}
        for fmt in ("nchw", "channels_last"):
            torch.manual_seed(0)
            net = UNet()
            x = torch.rand(batch, 1, size, size)
            y = torch.rand(batch, 1, size, size)
            if fmt == "channels_last":
                net = net.to(memory_format=torch.channels_last)
                x = x.contiguous(memory_format=torch.channels_last)
                y = y.contiguous(memory_format=torch.channels_last)
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)
            self.setups[fmt] = (net, opt, x, y)
        self.params = sum(p.numel() for p in self.setups["nchw"][0].parameters())

    def step(self, fmt):
        net, opt, x, y = self.setups[fmt]
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        value = loss.item()
        return (time.perf_counter() - t0) * 1000, value


def serve():
    bench = None
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "quit":
            break
        if msg["cmd"] == "setup":
            bench = Bench(msg["batch"], msg["size"])
            reply = {"ok": True, "params": bench.params, "threads": torch.get_num_threads(), "torch": torch.__version__}
        elif msg["cmd"] == "step":
            # Thread count can change between steps, so one worker serves 1- and 2-thread contenders.
            torch.set_num_threads(msg.get("threads", torch.get_num_threads()))
            ms, loss = bench.step(msg["format"])
            reply = {"ms": ms, "loss": loss}
        else:
            reply = {"error": f"unknown command {msg['cmd']}"}
        print(json.dumps(reply), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--serve", action="store_true", help="answer JSON commands on stdin (see the module docstring)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.serve:
        serve()
        return
    bench = Bench(args.batch, args.size)
    times = {"nchw": [], "channels_last": []}
    for fmt in times:
        bench.step(fmt)  # warm-up
    for _ in range(args.repeats):
        for fmt in times:
            times[fmt].append(bench.step(fmt)[0])
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {bench.params} parameters, batch {args.batch}, {args.size}x{args.size}")
    for fmt, ts in times.items():
        print(f"{fmt}: median {statistics.median(ts):.1f} ms/step over {len(ts)} steps")


if __name__ == "__main__":
    main()
