"""PyTorch counterpart of bench/model-steps.ts: the training steps of the VAE and DDPM examples.

The networks are not written here: bench/model-steps.ts exports each medvae model with
`exportTorch` to a temporary directory, and this worker rebuilds it with
`medvae_torch.load(dir)` (python/medvae_torch), so both sides train the same architecture from the
same initial weights.

  vae   medvae's VAE (examples/vae-mnist.ts: conv 32/64, latent 128): negative ELBO with a Bernoulli
        likelihood (binary cross-entropy on the decoder's logits, summed over pixels) + KL(q(z|x) || N(0, I)),
        both mean over the batch, one posterior sample; Adam lr 1e-3.
  ddpm  medvae's DDPM (examples/ddpm-generation.ts): random t in [0, T) and eps ~ N(0, I) per step,
        x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, MSE against the prediction target (eps, or
        v = sqrt(abar_t) eps - sqrt(1 - abar_t) x0), gradient norm clipped to 1, Adam, EMA of the weights.

Serve mode (--serve): one JSON command per line on stdin, one JSON line back on stdout:
    {"cmd": "setup", "name": "vae", "kind": "vae", "dir": "/tmp/x", "batch": 128, "lr": 1e-3}
        -> {"ok": true, "params": ..., "torch": "1.13..."}
    {"cmd": "setup", "name": "ddpm", "kind": "ddpm", "dir": "/tmp/y", "batch": 16, "lr": 1e-3,
     "clip": 1, "ema": 0.999}
    {"cmd": "step", "name": "vae", "threads": 1}  -> {"ms": 123.0, "cpuMs": 120.5, "loss": 543.2}
    {"cmd": "quit"}
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import medvae_torch  # noqa: E402


def alphas_cumprod(config):
    """diffusers' beta schedules for the ones medvae's examples use (linear, squaredcos_cap_v2)."""
    T = config["numTrainTimesteps"]
    name = config["betaSchedule"]
    if name in ("cosine", "squaredcos_cap_v2"):
        f = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
        betas = torch.tensor([min(1 - f((i + 1) / T) / f(i / T), 0.999) for i in range(T)], dtype=torch.float32)
    elif name == "linear":
        betas = torch.linspace(config["betaStart"], config["betaEnd"], T, dtype=torch.float32)
    else:
        raise ValueError(f"beta schedule {name!r} is not set up in bench/model_steps.py")
    return torch.cumprod(1 - betas, 0)


class VaeStep:
    def __init__(self, net, batch, lr):
        torch.manual_seed(0)
        self.net = net.train()
        cfg = net.config
        h, w = cfg["imageSize"]
        self.x = torch.rand(batch, cfg["inChannels"], h, w).round()
        self.opt = torch.optim.Adam(net.parameters(), lr=lr)

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        logits, mu, log_var, _ = self.net(self.x)
        rec = F.binary_cross_entropy_with_logits(logits, self.x, reduction="none").sum((1, 2, 3)).mean()
        kl = (0.5 * (mu * mu + log_var.exp() - 1 - log_var)).sum(1).mean()
        loss = rec + kl
        loss.backward()
        self.opt.step()
        return loss.item()


class DdpmStep:
    def __init__(self, net, batch, lr, clip, ema):
        torch.manual_seed(0)
        self.net = net.train()
        cfg = net.config
        size = cfg["sampleSize"]
        size = size if isinstance(size, int) else size[0]
        self.x0 = torch.rand(batch, cfg["inChannels"], size, size) * 2 - 1
        self.abar = alphas_cumprod(cfg)
        self.prediction = cfg["predictionType"]
        self.params = [p for p in net.parameters() if p.requires_grad]
        self.opt = torch.optim.Adam(self.params, lr=lr)
        self.clip = clip
        self.decay = ema
        self.shadow = [p.detach().clone() for p in self.params]

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        b = self.x0.shape[0]
        t = torch.randint(0, self.abar.shape[0], (b,))
        eps = torch.randn_like(self.x0)
        a = self.abar[t].sqrt().reshape(-1, 1, 1, 1)
        s = (1 - self.abar[t]).sqrt().reshape(-1, 1, 1, 1)
        xt = a * self.x0 + s * eps
        target = eps if self.prediction == "epsilon" else a * eps - s * self.x0
        loss = F.mse_loss(self.net(xt, t), target)
        loss.backward()
        if self.clip is not None:
            torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        self.opt.step()
        with torch.no_grad():
            # shadow = decay * shadow + (1 - decay) * weights, all tensors in one multi-tensor call each.
            torch._foreach_mul_(self.shadow, self.decay)
            torch._foreach_add_(self.shadow, [p.detach() for p in self.params], alpha=1 - self.decay)
        return loss.item()


def serve():
    benches = {}
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "quit":
            break
        try:
            if msg["cmd"] == "setup":
                net = medvae_torch.load(msg["dir"])
                if msg["kind"] == "vae":
                    bench = VaeStep(net, msg["batch"], msg["lr"])
                elif msg["kind"] == "ddpm":
                    bench = DdpmStep(net, msg["batch"], msg["lr"], msg.get("clip"), msg["ema"])
                else:
                    raise ValueError(f"unknown kind {msg['kind']!r} (vae or ddpm)")
                benches[msg["name"]] = bench
                reply = {"ok": True, "params": sum(p.numel() for p in net.parameters()), "torch": torch.__version__}
            elif msg["cmd"] == "step":
                # One worker serves both thread counts: the count is set before every step.
                torch.set_num_threads(msg["threads"])
                t0, c0 = time.perf_counter(), time.process_time()
                loss = benches[msg["name"]].step()
                # process_time: CPU time of all the process's threads, which a loaded machine disturbs less than wall time.
                reply = {"ms": (time.perf_counter() - t0) * 1000, "cpuMs": (time.process_time() - c0) * 1000, "loss": loss}
            else:
                reply = {"error": f"unknown command {msg['cmd']}"}
        except Exception as e:  # reported to the benchmark, which rejects with it
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    if "--serve" not in sys.argv:
        sys.exit("bench/model_steps.py is driven by bench/model-steps.ts: run `npm run bench:model-steps`")
    serve()
