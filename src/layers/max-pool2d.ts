import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { checkImageInput, formatPair, toPair, type IntPair } from './conv-utils.js';

/** Options of {@link MaxPool2d}, with PyTorch's names (camelCase) and defaults. */
export interface MaxPool2dOptions {
  /** Step of the window, per axis or for both. Default: the kernel size (non-overlapping windows). */
  stride?: IntPair;
  /**
   * Implicit −∞ padding on both sides of each axis: padded cells never win the max. At most half
   * the kernel size, as in PyTorch. Default 0.
   */
  padding?: IntPair;
}

/**
 * 2-D max pooling over an NHWC batch, as `torch.nn.MaxPool2d` (floor mode, no dilation). The
 * gradient goes to the first maximal element of each window, as in PyTorch.
 *
 * @example
 * ```ts
 * new MaxPool2d(2).forward(tf.zeros([1, 64, 64, 16])).shape; // [1, 32, 32, 16]
 * ```
 */
export class MaxPool2d extends Module<tf.Tensor, tf.Tensor> {
  /** Window size `[kh, kw]`. */
  readonly kernelSize: [number, number];
  /** Stride `[sh, sw]`. */
  readonly stride: [number, number];
  /** Padding `[ph, pw]`. */
  readonly padding: [number, number];

  /** @param kernelSize - window size, per axis or for both. */
  constructor(kernelSize: IntPair, options: MaxPool2dOptions = {}) {
    super();
    this.kernelSize = toPair(kernelSize, 'kernelSize', 'MaxPool2d', 1);
    this.stride = toPair(options.stride ?? this.kernelSize, 'stride', 'MaxPool2d', 1);
    this.padding = toPair(options.padding ?? 0, 'padding', 'MaxPool2d', 0);
    if (this.padding[0] > Math.floor(this.kernelSize[0] / 2) || this.padding[1] > Math.floor(this.kernelSize[1] / 2)) {
      throw new ValueError(
        `MaxPool2d: padding must be at most half the kernel size (as in PyTorch), but got padding ` +
          `${formatPair(this.padding)} with kernelSize ${formatPair(this.kernelSize)}.`,
      );
    }
  }

  /** Pools `[n, h, w, c]` to `[n, ⌊(h + 2p − k)/s⌋ + 1, ⌊(w + 2p − k)/s⌋ + 1, c]`. */
  forward(x: tf.Tensor): tf.Tensor {
    checkImageInput(x, 'MaxPool2d');
    const [ph, pw] = this.padding;
    const [kh, kw] = this.kernelSize;
    const [, h, w] = x.shape;
    if (h + 2 * ph < kh || w + 2 * pw < kw) {
      throw new ShapeError(
        `MaxPool2d: input shape [${x.shape.join(', ')}] is smaller than the ${kh}×${kw} window ` +
          `(padding ${formatPair(this.padding)}). Use a larger input or a smaller kernelSize.`,
      );
    }
    return tf.tidy(() => {
      // Padding with −∞ before a 'valid' pool keeps PyTorch's semantics on every backend.
      const padded = ph > 0 || pw > 0 ? tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]], -Infinity) : x;
      return tf.maxPool(padded as tf.Tensor4D, this.kernelSize, this.stride, 'valid');
    });
  }

  /** PyTorch-style summary, e.g. `kernelSize=[2,2], stride=[2,2], padding=[0,0]`. */
  override extraRepr(): string {
    return `kernelSize=${formatPair(this.kernelSize)}, stride=${formatPair(this.stride)}, padding=${formatPair(this.padding)}`;
  }
}
