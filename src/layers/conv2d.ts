import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { pytorchDefaultInit } from '../core/init.js';
import { Module } from '../core/module.js';
import type { SeedLike } from '../core/random.js';
import { checkImageInput, dilateKernel, explicitPad, formatPair, toPair, type IntPair } from './conv-utils.js';

/** Options of {@link Conv2d}, with PyTorch's names (camelCase) and defaults. */
export interface Conv2dOptions {
  /** Step of the sliding window, per axis or for both. Default 1. */
  stride?: IntPair;
  /**
   * Zero padding: a size added on both sides of each axis (symmetric, as in PyTorch), `'valid'`
   * (none) or `'same'` (output size = input size; only with stride 1, as in PyTorch, which pads
   * the extra row/column of an even kernel at the bottom/right). Default 0.
   */
  padding?: IntPair | 'same' | 'valid';
  /** Spacing between kernel taps (atrous convolution). Default 1. */
  dilation?: IntPair;
  /** Whether to add a learnable bias. Default true. */
  bias?: boolean;
  /** Seed or generator for the default initialisation (global generator when omitted). */
  seed?: SeedLike;
}

/**
 * 2-D convolution over an NHWC batch, as `torch.nn.Conv2d` (without groups).
 *
 * Parameters: `weight` of shape `[kh, kw, inChannels, outChannels]` (tfjs layout; PyTorch stores
 * `[out, in, kh, kw]`, so a PyTorch weight maps here with `permute(2, 3, 1, 0)`), and `bias` of
 * shape `[outChannels]`. Initialisation is PyTorch's default: Kaiming-uniform with a = √5 for the
 * weight and U(±1/√fanIn) for the bias, fanIn = inChannels·kh·kw.
 *
 * @example
 * ```ts
 * const conv = new Conv2d(1, 16, 3, { padding: 'same', seed: 0 });
 * const y = conv.forward(tf.zeros([8, 64, 64, 1])); // [8, 64, 64, 16]
 * ```
 */
export class Conv2d extends Module<tf.Tensor, tf.Tensor> {
  /** Channels of the input (last axis). */
  readonly inChannels: number;
  /** Channels produced. */
  readonly outChannels: number;
  /** Kernel `[kh, kw, inChannels, outChannels]`. */
  readonly weight: tf.Variable;
  /** Bias `[outChannels]`, or null when built with `bias: false`. */
  readonly bias: tf.Variable | null;
  /** Kernel size `[kh, kw]`. */
  readonly kernelSize: [number, number];
  /** Stride `[sh, sw]`. */
  readonly stride: [number, number];
  /** Dilation `[dh, dw]`. */
  readonly dilation: [number, number];
  /** The padding as given (after normalising numbers to `[ph, pw]`). */
  readonly padding: [number, number] | 'same' | 'valid';
  // [top, bottom, left, right], resolved once from `padding`.
  private readonly pads: [number, number, number, number];

  /**
   * @param inChannels - channels of the input (last axis).
   * @param outChannels - channels produced.
   * @param kernelSize - kernel size, per axis or for both.
   */
  constructor(inChannels: number, outChannels: number, kernelSize: IntPair, options: Conv2dOptions = {}) {
    super();
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    for (const [name, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`Conv2d: ${name} must be a positive integer, but got ${v}.`);
    }
    this.kernelSize = toPair(kernelSize, 'kernelSize', 'Conv2d', 1);
    this.stride = toPair(options.stride ?? 1, 'stride', 'Conv2d', 1);
    this.dilation = toPair(options.dilation ?? 1, 'dilation', 'Conv2d', 1);
    const padding = options.padding ?? 0;
    const [kh, kw] = this.kernelSize;
    const [dh, dw] = this.dilation;
    if (padding === 'same') {
      if (this.stride[0] !== 1 || this.stride[1] !== 1) {
        throw new ValueError(
          `Conv2d: padding 'same' needs stride 1 (as in PyTorch), but got stride ${formatPair(this.stride)}. ` +
            'Give an explicit padding such as (kernelSize − 1) / 2 instead.',
        );
      }
      const th = dh * (kh - 1);
      const tw = dw * (kw - 1);
      this.padding = 'same';
      this.pads = [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
    } else if (padding === 'valid') {
      this.padding = 'valid';
      this.pads = [0, 0, 0, 0];
    } else if (typeof padding === 'number' || Array.isArray(padding)) {
      const [ph, pw] = toPair(padding, 'padding', 'Conv2d', 0);
      this.padding = [ph, pw];
      this.pads = [ph, ph, pw, pw];
    } else {
      throw new ValueError(`Conv2d: padding must be a number, [ph, pw], 'same' or 'valid', but got ${JSON.stringify(padding)}.`);
    }
    const fanIn = inChannels * kh * kw;
    const init = pytorchDefaultInit([kh, kw, inChannels, outChannels], options.bias === false ? null : [outChannels], fanIn, options.seed);
    this.weight = this.registerParameter('weight', init.weight);
    this.bias = init.bias ? this.registerParameter('bias', init.bias) : null;
  }

  /** Convolves an NHWC batch `[n, h, w, inChannels]` into `[n, h', w', outChannels]`. */
  forward(x: tf.Tensor): tf.Tensor {
    checkImageInput(x, 'Conv2d', this.inChannels);
    const [top, bottom, left, right] = this.pads;
    const effH = this.dilation[0] * (this.kernelSize[0] - 1) + 1;
    const effW = this.dilation[1] * (this.kernelSize[1] - 1) + 1;
    const [, h, w] = x.shape;
    if (h + top + bottom < effH || w + left + right < effW) {
      throw new ShapeError(
        `Conv2d: the padded input (${h + top + bottom}×${w + left + right}) is smaller than the ` +
          `${this.dilation[0] > 1 || this.dilation[1] > 1 ? 'dilated ' : ''}kernel (${effH}×${effW}); ` +
          `input shape [${x.shape.join(', ')}]. Use a larger input, more padding or a smaller kernel.`,
      );
    }
    return tf.tidy(() => {
      const dilated = this.dilation[0] > 1 || this.dilation[1] > 1;
      const kernel = dilated ? dilateKernel(this.weight as tf.Tensor4D, this.dilation[0], this.dilation[1]) : (this.weight as tf.Tensor4D);
      const y = tf.conv2d(x as tf.Tensor4D, kernel, this.stride, explicitPad(top, bottom, left, right));
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }

  /** PyTorch-style summary, e.g. `1, 16, kernelSize=[3,3], stride=[1,1], padding=same`. */
  /** PyTorch stores `weight` as `[out, in, kh, kw]`; medvae as `[kh, kw, in, out]`. */
  override torchLayout(name: string): readonly number[] | null {
    return name === 'weight' ? [2, 3, 1, 0] : null;
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernelSize=${formatPair(this.kernelSize)}, stride=${formatPair(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding[0] !== 0 || this.padding[1] !== 0) s += `, padding=${formatPair(this.padding)}`;
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) s += `, dilation=${formatPair(this.dilation)}`;
    if (!this.bias) s += ', bias=false';
    return s;
  }
}
