import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { checkVolumeInput, formatTriple, padSpatial3d, toTriple, type IntTriple } from './conv-utils3d.js';

/** Options of {@link AvgPool3d}, with PyTorch's names (camelCase) and defaults. */
export interface AvgPool3dOptions {
  /** Step of the window, per axis or for all three. Default: the kernel size. */
  stride?: IntTriple;
  /** Zero padding on both sides of each axis; at most half the kernel size. Default 0. */
  padding?: IntTriple;
  /** Whether padded cells count in the divisor (PyTorch's `count_include_pad`). Default true. */
  countIncludePad?: boolean;
}

/**
 * 3-D average pooling over an NDHWC batch, as `torch.nn.AvgPool3d` (floor mode).
 *
 * @example
 * ```ts
 * new AvgPool3d(2).forward(tf.zeros([1, 32, 32, 32, 8])).shape; // [1, 16, 16, 16, 8]
 * ```
 */
export class AvgPool3d extends Module<tf.Tensor, tf.Tensor> {
  /** Window size `[kd, kh, kw]`. */
  readonly kernelSize: [number, number, number];
  /** Stride `[sd, sh, sw]`. */
  readonly stride: [number, number, number];
  /** Padding `[pd, ph, pw]`. */
  readonly padding: [number, number, number];
  /** Whether padded cells count in the divisor. */
  readonly countIncludePad: boolean;

  /** @param kernelSize - window size, per axis or for all three. */
  constructor(kernelSize: IntTriple, options: AvgPool3dOptions = {}) {
    super();
    this.kernelSize = toTriple(kernelSize, 'kernelSize', 'AvgPool3d', 1);
    this.stride = toTriple(options.stride ?? this.kernelSize, 'stride', 'AvgPool3d', 1);
    this.padding = toTriple(options.padding ?? 0, 'padding', 'AvgPool3d', 0);
    this.countIncludePad = options.countIncludePad ?? true;
    if (this.padding.some((p, i) => p > Math.floor(this.kernelSize[i] / 2))) {
      throw new ValueError(
        `AvgPool3d: padding must be at most half the kernel size (as in PyTorch), but got padding ` +
          `${formatTriple(this.padding)} with kernelSize ${formatTriple(this.kernelSize)}.`,
      );
    }
  }

  /** Pools `[n, d, h, w, c]` to `[n, ⌊(d + 2p − k)/s⌋ + 1, …, c]`. */
  forward(x: tf.Tensor): tf.Tensor {
    checkVolumeInput(x, 'AvgPool3d');
    const spatial = x.shape.slice(1, 4);
    if (spatial.some((s, i) => s + 2 * this.padding[i] < this.kernelSize[i])) {
      throw new ShapeError(
        `AvgPool3d: input shape [${x.shape.join(', ')}] is smaller than the ${this.kernelSize.join('×')} window ` +
          `(padding ${formatTriple(this.padding)}). Use a larger input or a smaller kernelSize.`,
      );
    }
    return tf.tidy(() => {
      const pads = this.padding.map((p) => [p, p] as [number, number]);
      // Zero-pad explicitly and pool 'valid': every window then divides by kd·kh·kw (PyTorch's default).
      const mean = tf.avgPool3d(padSpatial3d(x, pads) as tf.Tensor5D, this.kernelSize, this.stride, 'valid');
      if (this.countIncludePad || this.padding.every((p) => p === 0)) return mean;
      // Rescale by the share of real cells in each window (a constant: no gradient flows into it).
      const ones = tf.ones([1, spatial[0], spatial[1], spatial[2], 1]);
      const share = tf.avgPool3d(padSpatial3d(ones, pads) as tf.Tensor5D, this.kernelSize, this.stride, 'valid');
      return tf.div(mean, share);
    });
  }

  /** PyTorch-style summary. */
  override extraRepr(): string {
    let s = `kernelSize=${formatTriple(this.kernelSize)}, stride=${formatTriple(this.stride)}, padding=${formatTriple(this.padding)}`;
    if (!this.countIncludePad) s += ', countIncludePad=false';
    return s;
  }
}
