import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { pytorchDefaultInit } from '../core/init.js';
import { Module } from '../core/module.js';
import type { SeedLike } from '../core/random.js';
import { conv3dPadded } from './conv3d-ops.js';
import { checkVolumeInput, dilateKernel3d, formatTriple, toTriple, type IntTriple } from './conv-utils3d.js';

/** Options of {@link Conv3d}, with PyTorch's names (camelCase) and defaults. */
export interface Conv3dOptions {
  /** Step of the sliding window, per axis `[d, h, w]` or for all three. Default 1. */
  stride?: IntTriple;
  /**
   * Zero padding added on both sides of each axis (symmetric, as in PyTorch), `'valid'` (none) or
   * `'same'` (output size = input size; stride 1 only, as in PyTorch, which puts the extra plane of
   * an even kernel at the end). Default 0.
   */
  padding?: IntTriple | 'same' | 'valid';
  /** Spacing between kernel taps. Default 1. */
  dilation?: IntTriple;
  /** Whether to add a learnable bias. Default true. */
  bias?: boolean;
  /** Seed or generator for the default initialisation (global generator when omitted). */
  seed?: SeedLike;
}

/**
 * 3-D convolution over an NDHWC batch, as `torch.nn.Conv3d` (without groups).
 *
 * Parameters: `weight` of shape `[kd, kh, kw, inChannels, outChannels]` (tfjs layout; PyTorch
 * stores `[out, in, kd, kh, kw]`, mapped here with `permute(2, 3, 4, 1, 0)`), and `bias`
 * `[outChannels]`. Initialisation is PyTorch's default (Kaiming-uniform with a = √5, bias
 * U(±1/√fanIn), fanIn = inChannels·kd·kh·kw).
 *
 * The convolution runs as one 2-D convolution over depth-stacked input planes (see conv3d-ops.ts):
 * tfjs-backend-wasm 4.22's 3-D kernels are slow loops and its Conv3DBackpropInputV2 is wrong, while
 * its 2-D convolutions and their gradients run on XNNPACK (or OpenBLAS with medvae-native). Height
 * and width padding go to the 2-D convolution, depth padding is a pad of the stacked planes.
 *
 * @example
 * ```ts
 * const conv = new Conv3d(1, 8, 3, { padding: 1, seed: 0 });
 * conv.forward(tf.zeros([2, 16, 16, 16, 1])).shape; // [2, 16, 16, 16, 8]
 * ```
 */
export class Conv3d extends Module<tf.Tensor, tf.Tensor> {
  /** Channels of the input (last axis). */
  readonly inChannels: number;
  /** Channels produced. */
  readonly outChannels: number;
  /** Kernel `[kd, kh, kw, inChannels, outChannels]`. */
  readonly weight: tf.Variable;
  /** Bias `[outChannels]`, or null when built with `bias: false`. */
  readonly bias: tf.Variable | null;
  /** Kernel size `[kd, kh, kw]`. */
  readonly kernelSize: [number, number, number];
  /** Stride `[sd, sh, sw]`. */
  readonly stride: [number, number, number];
  /** Dilation `[dd, dh, dw]`. */
  readonly dilation: [number, number, number];
  /** The padding as given (numbers normalised to `[pd, ph, pw]`). */
  readonly padding: [number, number, number] | 'same' | 'valid';
  // [before, after] per spatial axis, resolved once from `padding`.
  private readonly pads: [number, number][];

  /**
   * @param inChannels - channels of the input (last axis).
   * @param outChannels - channels produced.
   * @param kernelSize - kernel size, per axis or for all three.
   */
  constructor(inChannels: number, outChannels: number, kernelSize: IntTriple, options: Conv3dOptions = {}) {
    super();
    for (const [name, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`Conv3d: ${name} must be a positive integer, but got ${v}.`);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = toTriple(kernelSize, 'kernelSize', 'Conv3d', 1);
    this.stride = toTriple(options.stride ?? 1, 'stride', 'Conv3d', 1);
    this.dilation = toTriple(options.dilation ?? 1, 'dilation', 'Conv3d', 1);
    const padding = options.padding ?? 0;
    if (padding === 'same') {
      if (this.stride.some((s) => s !== 1)) {
        throw new ValueError(
          `Conv3d: padding 'same' needs stride 1 (as in PyTorch), but got stride ${formatTriple(this.stride)}. ` +
            'Give an explicit padding such as (kernelSize − 1) / 2 instead.',
        );
      }
      this.padding = 'same';
      this.pads = this.kernelSize.map((k, i) => {
        const total = this.dilation[i] * (k - 1);
        return [Math.floor(total / 2), total - Math.floor(total / 2)] as [number, number];
      });
    } else if (padding === 'valid') {
      this.padding = 'valid';
      this.pads = [[0, 0], [0, 0], [0, 0]];
    } else if (typeof padding === 'number' || Array.isArray(padding)) {
      this.padding = toTriple(padding, 'padding', 'Conv3d', 0);
      this.pads = this.padding.map((p) => [p, p] as [number, number]);
    } else {
      throw new ValueError(`Conv3d: padding must be a number, [pd, ph, pw], 'same' or 'valid', but got ${JSON.stringify(padding)}.`);
    }
    const [kd, kh, kw] = this.kernelSize;
    const fanIn = inChannels * kd * kh * kw;
    const init = pytorchDefaultInit([kd, kh, kw, inChannels, outChannels], options.bias === false ? null : [outChannels], fanIn, options.seed);
    this.weight = this.registerParameter('weight', init.weight);
    this.bias = init.bias ? this.registerParameter('bias', init.bias) : null;
  }

  /** Convolves an NDHWC batch `[n, d, h, w, inChannels]` into `[n, d', h', w', outChannels]`. */
  forward(x: tf.Tensor): tf.Tensor {
    checkVolumeInput(x, 'Conv3d', this.inChannels);
    const eff = this.kernelSize.map((k, i) => this.dilation[i] * (k - 1) + 1);
    const padded = x.shape.slice(1, 4).map((s, i) => s + this.pads[i][0] + this.pads[i][1]);
    if (padded.some((s, i) => s < eff[i])) {
      throw new ShapeError(
        `Conv3d: the padded input (${padded.join('×')}) is smaller than the kernel footprint (${eff.join('×')}); ` +
          `input shape [${x.shape.join(', ')}]. Use a larger input, more padding or a smaller kernel.`,
      );
    }
    return tf.tidy(() => {
      const dilated = this.dilation.some((d) => d > 1);
      const kernel = dilated ? dilateKernel3d(this.weight as tf.Tensor5D, this.dilation) : (this.weight as tf.Tensor5D);
      const y = conv3dPadded(x as tf.Tensor5D, kernel, this.stride, this.pads);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }

  /** PyTorch stores `weight` as `[out, in, kd, kh, kw]`; medvae as `[kd, kh, kw, in, out]`. */
  override torchLayout(name: string): readonly number[] | null {
    return name === 'weight' ? [2, 3, 4, 1, 0] : null;
  }

  /** PyTorch-style summary, e.g. `1, 8, kernelSize=[3,3,3], stride=[1,1,1], padding=[1,1,1]`. */
  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernelSize=${formatTriple(this.kernelSize)}, stride=${formatTriple(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding.some((p) => p !== 0)) s += `, padding=${formatTriple(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${formatTriple(this.dilation)}`;
    if (!this.bias) s += ', bias=false';
    return s;
  }
}
