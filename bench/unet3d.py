"""PyTorch counterpart of bench/unet3d.ts: a training step of medvae's 3-D U-Net.

The network, loss, optimizer and serve protocol are bench/torch_unet.py's (3-D): medvae's
UNetSegmenter with BatchNorm, MONAI's DiceCELoss(softmax=True, to_onehot_y=True) written out, Adam.
Serve mode (--serve) is driven one step at a time by bench/unet3d.ts.

Standalone: /usr/bin/python3 bench/unet3d.py --threads 1 --repeats 3
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from torch_unet import main  # noqa: E402

if __name__ == "__main__":
    main(__doc__, dims=3, batch=2, size=64, channels=[8, 16, 32, 64], repeats=3, labels_from_input=True)
