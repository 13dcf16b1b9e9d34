"""PyTorch counterpart of bench/main-job.ts: the training step of the main example's model.

The network, loss, optimizer and serve protocol are bench/torch_unet.py's (2-D): medvae's
UNetSegmenter with BatchNorm, MONAI's DiceCELoss(softmax=True, to_onehot_y=True) written out, Adam.
Serve mode (--serve) is driven one step at a time by bench/main-job.ts.

Standalone: /usr/bin/python3 bench/main_job.py --threads 1 --repeats 5
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from torch_unet import main  # noqa: E402

if __name__ == "__main__":
    main(__doc__, dims=2, batch=16, size=128, channels=[16, 32, 64, 128], repeats=5, labels_from_input=False)
