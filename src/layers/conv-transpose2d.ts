import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { pytorchDefaultInit } from '../core/init.js';
import { Module } from '../core/module.js';
import type { SeedLike } from '../core/random.js';
import { checkImageInput, dilateKernel, explicitPad, formatPair, toPair, type IntPair } from './conv-utils.js';

/** Options of {@link ConvTranspose2d}, with PyTorch's names (camelCase) and defaults. */
export interface ConvTranspose2dOptions {
  /** Upsampling step, per axis or for both. Default 1. */
  stride?: IntPair;
  /**
   * Rows/columns removed from both sides of the full transposed output (PyTorch's `padding`: the
   * padding of the convolution this layer is the transpose of). Default 0.
   */
  padding?: IntPair;
  /**
   * Extra rows/columns added at the bottom/right to pick among the output sizes that a strided
   * convolution maps to the same input size. Must be smaller than stride or dilation. Default 0.
   */
  outputPadding?: IntPair;
  /** Spacing between kernel taps. Default 1. */
  dilation?: IntPair;
  /** Whether to add a learnable bias. Default true. */
  bias?: boolean;
  /** Seed or generator for the default initialisation (global generator when omitted). */
  seed?: SeedLike;
}

/**
 * Transposed 2-D convolution ("deconvolution") over an NHWC batch, as `torch.nn.ConvTranspose2d`
 * (without groups). Output size per axis follows PyTorch:
 * `out = (in − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1`.
 *
 * Parameters: `weight` of shape `[kh, kw, outChannels, inChannels]` (tfjs's `conv2dTranspose`
 * layout; PyTorch stores `[in, out, kh, kw]`, so a PyTorch weight maps here with
 * `permute(2, 3, 1, 0)`), and `bias` of shape `[outChannels]`. Initialisation is PyTorch's
 * default, whose fan-in for transposed convolutions is read from weight dimension 1, i.e.
 * fanIn = outChannels·kh·kw (not inChannels): bounds are 1/√fanIn for weight and bias.
 *
 * @example
 * ```ts
 * const up = new ConvTranspose2d(64, 32, 2, { stride: 2 });
 * up.forward(tf.zeros([1, 16, 16, 64])).shape; // [1, 32, 32, 32]
 * ```
 */
export class ConvTranspose2d extends Module<tf.Tensor, tf.Tensor> {
  /** Channels of the input (last axis). */
  readonly inChannels: number;
  /** Channels produced. */
  readonly outChannels: number;
  /** Kernel `[kh, kw, outChannels, inChannels]`. */
  readonly weight: tf.Variable;
  /** Bias `[outChannels]`, or null when built with `bias: false`. */
  readonly bias: tf.Variable | null;
  /** Kernel size `[kh, kw]`. */
  readonly kernelSize: [number, number];
  /** Stride `[sh, sw]`. */
  readonly stride: [number, number];
  /** Padding `[ph, pw]`. */
  readonly padding: [number, number];
  /** Output padding `[oh, ow]`. */
  readonly outputPadding: [number, number];
  /** Dilation `[dh, dw]`. */
  readonly dilation: [number, number];

  /**
   * @param inChannels - channels of the input (last axis).
   * @param outChannels - channels produced.
   * @param kernelSize - kernel size, per axis or for both.
   */
  constructor(inChannels: number, outChannels: number, kernelSize: IntPair, options: ConvTranspose2dOptions = {}) {
    super();
    for (const [name, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`ConvTranspose2d: ${name} must be a positive integer, but got ${v}.`);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = toPair(kernelSize, 'kernelSize', 'ConvTranspose2d', 1);
    this.stride = toPair(options.stride ?? 1, 'stride', 'ConvTranspose2d', 1);
    this.padding = toPair(options.padding ?? 0, 'padding', 'ConvTranspose2d', 0);
    this.outputPadding = toPair(options.outputPadding ?? 0, 'outputPadding', 'ConvTranspose2d', 0);
    this.dilation = toPair(options.dilation ?? 1, 'dilation', 'ConvTranspose2d', 1);
    for (const i of [0, 1]) {
      if (this.outputPadding[i] >= Math.max(this.stride[i], this.dilation[i])) {
        throw new ValueError(
          `ConvTranspose2d: outputPadding must be smaller than stride or dilation on each axis (as in PyTorch), ` +
            `but got outputPadding ${formatPair(this.outputPadding)} with stride ${formatPair(this.stride)} ` +
            `and dilation ${formatPair(this.dilation)}.`,
        );
      }
    }
    const [kh, kw] = this.kernelSize;
    const fanIn = outChannels * kh * kw;
    const init = pytorchDefaultInit([kh, kw, outChannels, inChannels], options.bias === false ? null : [outChannels], fanIn, options.seed);
    this.weight = this.registerParameter('weight', init.weight);
    this.bias = init.bias ? this.registerParameter('bias', init.bias) : null;
  }

  /** Output spatial size `[h', w']` for an input of spatial size `[h, w]`, by PyTorch's rule. */
  outputSize(h: number, w: number): [number, number] {
    const size = (n: number, i: 0 | 1): number =>
      (n - 1) * this.stride[i] - 2 * this.padding[i] + this.dilation[i] * (this.kernelSize[i] - 1) + this.outputPadding[i] + 1;
    return [size(h, 0), size(w, 1)];
  }

  /** Maps an NHWC batch `[n, h, w, inChannels]` to `[n, h', w', outChannels]`. */
  forward(x: tf.Tensor): tf.Tensor {
    checkImageInput(x, 'ConvTranspose2d', this.inChannels);
    const [n, h, w] = x.shape;
    const [outH, outW] = this.outputSize(h, w);
    if (outH < 1 || outW < 1) {
      throw new ShapeError(
        `ConvTranspose2d: input shape [${x.shape.join(', ')}] gives an empty output (${outH}×${outW}) ` +
          `with padding ${formatPair(this.padding)}. Use a larger input or less padding.`,
      );
    }
    // The result is the gradient of a convolution with input size out and padding [p, p − op]
    // (top/left, bottom/right), which crops exactly PyTorch's window of the full transposed output.
    // Where op > p the bottom rows lie beyond the full output; they are zeros (plus bias), added by
    // an explicit pad because tfjs padding cannot be negative.
    const [ph, pw] = this.padding;
    const bottom = ph - this.outputPadding[0];
    const right = pw - this.outputPadding[1];
    const extraH = Math.max(0, -bottom);
    const extraW = Math.max(0, -right);
    return tf.tidy(() => {
      const dilated = this.dilation[0] > 1 || this.dilation[1] > 1;
      const kernel = dilated ? dilateKernel(this.weight as tf.Tensor4D, this.dilation[0], this.dilation[1]) : (this.weight as tf.Tensor4D);
      let y: tf.Tensor4D = tf.conv2dTranspose(
        x as tf.Tensor4D,
        kernel,
        [n, outH - extraH, outW - extraW, this.outChannels],
        this.stride,
        explicitPad(ph, Math.max(0, bottom), pw, Math.max(0, right)),
      );
      if (extraH > 0 || extraW > 0) y = tf.pad(y, [[0, 0], [0, extraH], [0, extraW], [0, 0]]);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }

  /** PyTorch-style summary, e.g. `64, 32, kernelSize=[2,2], stride=[2,2]`. */
  /** PyTorch stores `weight` as `[in, out, kh, kw]`; medvae as `[kh, kw, out, in]`. */
  override torchLayout(name: string): readonly number[] | null {
    return name === 'weight' ? [2, 3, 1, 0] : null;
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernelSize=${formatPair(this.kernelSize)}, stride=${formatPair(this.stride)}`;
    if (this.padding[0] !== 0 || this.padding[1] !== 0) s += `, padding=${formatPair(this.padding)}`;
    if (this.outputPadding[0] !== 0 || this.outputPadding[1] !== 0) s += `, outputPadding=${formatPair(this.outputPadding)}`;
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) s += `, dilation=${formatPair(this.dilation)}`;
    if (!this.bias) s += ', bias=false';
    return s;
  }
}
