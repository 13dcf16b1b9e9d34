import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { checkImageInput, formatPair, toPair, type IntPair } from './conv-utils.js';

/** Options of {@link AvgPool2d}, with PyTorch's names (camelCase) and defaults. */
export interface AvgPool2dOptions {
  /** Step of the window, per axis or for both. Default: the kernel size (non-overlapping windows). */
  stride?: IntPair;
  /** Zero padding on both sides of each axis; at most half the kernel size, as in PyTorch. Default 0. */
  padding?: IntPair;
  /**
   * Whether padded cells count in the divisor (PyTorch's `count_include_pad`). With `true` every
   * window is divided by kh·kw; with `false` by the number of real input cells it covers. Default true.
   */
  countIncludePad?: boolean;
}

/**
 * 2-D average pooling over an NHWC batch, as `torch.nn.AvgPool2d` (floor mode).
 *
 * @example
 * ```ts
 * new AvgPool2d(2).forward(tf.zeros([1, 64, 64, 16])).shape; // [1, 32, 32, 16]
 * ```
 */
export class AvgPool2d extends Module<tf.Tensor, tf.Tensor> {
  /** Window size `[kh, kw]`. */
  readonly kernelSize: [number, number];
  /** Stride `[sh, sw]`. */
  readonly stride: [number, number];
  /** Padding `[ph, pw]`. */
  readonly padding: [number, number];
  /** Whether padded cells count in the divisor. */
  readonly countIncludePad: boolean;

  /** @param kernelSize - window size, per axis or for both. */
  constructor(kernelSize: IntPair, options: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = toPair(kernelSize, 'kernelSize', 'AvgPool2d', 1);
    this.stride = toPair(options.stride ?? this.kernelSize, 'stride', 'AvgPool2d', 1);
    this.padding = toPair(options.padding ?? 0, 'padding', 'AvgPool2d', 0);
    this.countIncludePad = options.countIncludePad ?? true;
    if (this.padding[0] > Math.floor(this.kernelSize[0] / 2) || this.padding[1] > Math.floor(this.kernelSize[1] / 2)) {
      throw new ValueError(
        `AvgPool2d: padding must be at most half the kernel size (as in PyTorch), but got padding ` +
          `${formatPair(this.padding)} with kernelSize ${formatPair(this.kernelSize)}.`,
      );
    }
  }

  /** Pools `[n, h, w, c]` to `[n, ⌊(h + 2p − k)/s⌋ + 1, ⌊(w + 2p − k)/s⌋ + 1, c]`. */
  forward(x: tf.Tensor): tf.Tensor {
    checkImageInput(x, 'AvgPool2d');
    const [ph, pw] = this.padding;
    const [kh, kw] = this.kernelSize;
    const [, h, w] = x.shape;
    if (h + 2 * ph < kh || w + 2 * pw < kw) {
      throw new ShapeError(
        `AvgPool2d: input shape [${x.shape.join(', ')}] is smaller than the ${kh}×${kw} window ` +
          `(padding ${formatPair(this.padding)}). Use a larger input or a smaller kernelSize.`,
      );
    }
    return tf.tidy(() => {
      if (ph === 0 && pw === 0) return tf.avgPool(x as tf.Tensor4D, this.kernelSize, this.stride, 'valid');
      // Zero-pad explicitly and pool 'valid': every window then divides by kh·kw, PyTorch's default.
      const pads: [number, number][] = [[0, 0], [ph, ph], [pw, pw], [0, 0]];
      const mean = tf.avgPool(tf.pad(x, pads) as tf.Tensor4D, this.kernelSize, this.stride, 'valid');
      if (this.countIncludePad) return mean;
      // Rescale by the share of real cells in each window (a constant, so no gradient flows into it).
      const share = tf.avgPool(tf.pad(tf.ones([1, h, w, 1]), pads) as tf.Tensor4D, this.kernelSize, this.stride, 'valid');
      return tf.div(mean, share);
    });
  }

  /** PyTorch-style summary, e.g. `kernelSize=[2,2], stride=[2,2], padding=[0,0]`. */
  override extraRepr(): string {
    let s = `kernelSize=${formatPair(this.kernelSize)}, stride=${formatPair(this.stride)}, padding=${formatPair(this.padding)}`;
    if (!this.countIncludePad) s += ', countIncludePad=false';
    return s;
  }
}
