"""Continue training a medvae UNetSegmenter in PyTorch with DistributedDataParallel.

Launched by examples/scale-out/scale-out.ts as
    python3 -m torch.distributed.run --nproc_per_node 2 examples/scale-out/train_ddp.py \
        --export DIR --data FILE --out DIR [--epochs N] [--batch-size N] [--lr X] [--seed N]
(gloo backend, CPU, localhost; PYTHONPATH must hold the repository's python/ folder).

--export is medvae's exportTorch directory, --data a safetensors file with train_images
[N, 1, H, W], train_masks [N, H, W] (class indices), val_images, val_masks. Every process builds
the network with medvae_torch.load, DistributedDataParallel averages the gradients, and a
DistributedSampler gives each process its share of every epoch. Rank 0 reports the held-out Dice
before and after (per image, foreground class, images without foreground skipped: the rule of
medvae's UNetSegmenter.evaluate) and writes the trained network with medvae_torch.save to --out
and the numbers to --out/torch-result.json.
"""

import argparse
import json
import os
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

import medvae_torch


def dice_ce_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy plus soft Dice over all classes (MONAI DiceCELoss with softmax and one-hot targets)."""
    ce = F.cross_entropy(logits, target)
    probs = torch.softmax(logits, dim=1)
    onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).to(probs.dtype)
    dims = (2, 3)
    inter = (probs * onehot).sum(dims)
    denom = probs.sum(dims) + onehot.sum(dims)
    dice = 1.0 - (2.0 * inter + 1e-5) / (denom + 1e-5)
    return ce + dice.mean()


@torch.no_grad()
def held_out_dice(net: torch.nn.Module, images: torch.Tensor, masks: torch.Tensor, batch: int = 8) -> float:
    """Mean per-image foreground Dice of argmax predictions, skipping images without foreground."""
    was_training = net.training
    net.eval()
    total, count = 0.0, 0
    for i in range(0, images.shape[0], batch):
        pred = torch.softmax(net(images[i : i + batch]), dim=1).argmax(dim=1)
        for p, g in zip(pred == 1, masks[i : i + batch] == 1):
            gt = int(g.sum())
            if gt == 0:
                continue
            total += 2.0 * int((p & g).sum()) / (int(p.sum()) + gt)
            count += 1
    net.train(was_training)
    return total / count if count else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--export", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=8, help="per process")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(1)  # one core per process
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(args.seed)

    data = medvae_torch.read_safetensors(args.data)
    train = TensorDataset(data["train_images"].float(), data["train_masks"].long())
    val_images, val_masks = data["val_images"].float(), data["val_masks"].long()

    net = medvae_torch.load(args.export)
    before = held_out_dice(net, val_images, val_masks) if rank == 0 else float("nan")
    if rank == 0:
        print(f"[torch] {world} processes (gloo, CPU); {len(train)} training slices, {val_images.shape[0]} held out", flush=True)
        print(f"[torch] held-out Dice of the exported model: {before:.6f}", flush=True)
    model = DistributedDataParallel(net)
    sampler = DistributedSampler(train, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(train, batch_size=args.batch_size, sampler=sampler)
    print(f"[torch] rank {rank}/{world}: {len(sampler)} of {len(train)} training slices per epoch", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    history = []
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        started = time.time()
        model.train()
        sums = torch.zeros(2, dtype=torch.float64)
        for x, y in loader:
            opt.zero_grad()
            loss = dice_ce_loss(model(x), y)
            loss.backward()  # DDP all-reduces (averages) the gradients across processes here
            opt.step()
            sums += torch.tensor([loss.item() * x.shape[0], x.shape[0]], dtype=torch.float64)
        dist.all_reduce(sums)
        mean_loss = float(sums[0] / sums[1])
        if rank == 0:
            dice = held_out_dice(model.module, val_images, val_masks)
            history.append({"epoch": epoch + 1, "loss": mean_loss, "heldOutDice": dice, "seconds": time.time() - started})
            print(f"[torch] epoch {epoch + 1}/{args.epochs}: loss {mean_loss:.4f}, held-out Dice {dice:.6f} ({time.time() - started:.1f} s)", flush=True)
    if rank == 0:
        after = held_out_dice(model.module, val_images, val_masks)
        medvae_torch.save(model.module, args.out)
        result = {"processes": world, "backend": "gloo", "torch": torch.__version__, "epochs": args.epochs, "batchSizePerProcess": args.batch_size,
                  "lr": args.lr, "heldOutDiceBefore": before, "heldOutDiceAfter": after, "history": history}
        with open(os.path.join(args.out, "torch-result.json"), "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
        print(f"[torch] held-out Dice after DDP training: {after:.6f}; saved to {args.out}", flush=True)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
