import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { checkVolumeInput, formatTriple, padSpatial3d, toTriple, type IntTriple } from './conv-utils3d.js';

/** Options of {@link MaxPool3d}, with PyTorch's names (camelCase) and defaults. */
export interface MaxPool3dOptions {
  /** Step of the window, per axis or for all three. Default: the kernel size. */
  stride?: IntTriple;
  /** Implicit −∞ padding on both sides of each axis; at most half the kernel size. Default 0. */
  padding?: IntTriple;
}

/**
 * 3-D max pooling over an NDHWC batch, as `torch.nn.MaxPool3d` (floor mode, no dilation).
 *
 * @example
 * ```ts
 * new MaxPool3d(2).forward(tf.zeros([1, 32, 32, 32, 8])).shape; // [1, 16, 16, 16, 8]
 * ```
 */
export class MaxPool3d extends Module<tf.Tensor, tf.Tensor> {
  /** Window size `[kd, kh, kw]`. */
  readonly kernelSize: [number, number, number];
  /** Stride `[sd, sh, sw]`. */
  readonly stride: [number, number, number];
  /** Padding `[pd, ph, pw]`. */
  readonly padding: [number, number, number];

  /** @param kernelSize - window size, per axis or for all three. */
  constructor(kernelSize: IntTriple, options: MaxPool3dOptions = {}) {
    super();
    this.kernelSize = toTriple(kernelSize, 'kernelSize', 'MaxPool3d', 1);
    this.stride = toTriple(options.stride ?? this.kernelSize, 'stride', 'MaxPool3d', 1);
    this.padding = toTriple(options.padding ?? 0, 'padding', 'MaxPool3d', 0);
    if (this.padding.some((p, i) => p > Math.floor(this.kernelSize[i] / 2))) {
      throw new ValueError(
        `MaxPool3d: padding must be at most half the kernel size (as in PyTorch), but got padding ` +
          `${formatTriple(this.padding)} with kernelSize ${formatTriple(this.kernelSize)}.`,
      );
    }
  }

  /** Pools `[n, d, h, w, c]` to `[n, ⌊(d + 2p − k)/s⌋ + 1, …, c]`. */
  forward(x: tf.Tensor): tf.Tensor {
    checkVolumeInput(x, 'MaxPool3d');
    if (x.shape.slice(1, 4).some((s, i) => s + 2 * this.padding[i] < this.kernelSize[i])) {
      throw new ShapeError(
        `MaxPool3d: input shape [${x.shape.join(', ')}] is smaller than the ${this.kernelSize.join('×')} window ` +
          `(padding ${formatTriple(this.padding)}). Use a larger input or a smaller kernelSize.`,
      );
    }
    return tf.tidy(() => {
      // −∞ padding before a 'valid' pool keeps PyTorch's semantics: padded cells never win.
      const padded = padSpatial3d(x, this.padding.map((p) => [p, p] as [number, number]), -Infinity);
      return tf.maxPool3d(padded as tf.Tensor5D, this.kernelSize, this.stride, 'valid');
    });
  }

  /** PyTorch-style summary. */
  override extraRepr(): string {
    return `kernelSize=${formatTriple(this.kernelSize)}, stride=${formatTriple(this.stride)}, padding=${formatTriple(this.padding)}`;
  }
}
