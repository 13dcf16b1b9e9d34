import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { pytorchDefaultInit } from '../core/init.js';
import { Module } from '../core/module.js';
import type { SeedLike } from '../core/random.js';
import { conv3dTransposeValid } from './conv3d-ops.js';
import { checkVolumeInput, dilateKernel3d, formatTriple, toTriple, type IntTriple } from './conv-utils3d.js';

/** Options of {@link ConvTranspose3d}, with PyTorch's names (camelCase) and defaults. */
export interface ConvTranspose3dOptions {
  /** Upsampling step, per axis `[d, h, w]` or for all three. Default 1. */
  stride?: IntTriple;
  /** Planes removed from both ends of each axis of the full transposed output (PyTorch's `padding`). Default 0. */
  padding?: IntTriple;
  /** Extra planes added at the end of each axis; must be smaller than stride or dilation. Default 0. */
  outputPadding?: IntTriple;
  /** Spacing between kernel taps. Default 1. */
  dilation?: IntTriple;
  /** Whether to add a learnable bias. Default true. */
  bias?: boolean;
  /** Seed or generator for the default initialisation (global generator when omitted). */
  seed?: SeedLike;
}

type Triple = [number, number, number];

/**
 * Transposed 3-D convolution over an NDHWC batch, as `torch.nn.ConvTranspose3d` (without groups).
 * Output size per axis: `(in − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1`.
 *
 * Parameters: `weight` `[kd, kh, kw, outChannels, inChannels]` (tfjs's `conv3dTranspose` layout;
 * PyTorch stores `[in, out, kd, kh, kw]`, mapped with `permute(2, 3, 4, 1, 0)`) and `bias`
 * `[outChannels]`. Initialisation as PyTorch: fanIn = outChannels·kd·kh·kw.
 *
 * tfjs-core registers no gradient for `Conv3DBackpropInputV2` (the kernel behind
 * `conv3dTranspose`), and tfjs-backend-wasm 4.22 computes that kernel wrongly, so the full
 * ('valid') transposed convolution is one 2-D transposed convolution of all input planes with every
 * kernel depth tap as extra output channels, the taps then placed on their output planes (see
 * conv3d-ops.ts); tfjs differentiates that composition. PyTorch's `padding`/`outputPadding` are then
 * a crop and a zero pad.
 *
 * @example
 * ```ts
 * new ConvTranspose3d(16, 8, 2, { stride: 2 }).forward(tf.zeros([1, 8, 8, 8, 16])).shape; // [1, 16, 16, 16, 8]
 * ```
 */
export class ConvTranspose3d extends Module<tf.Tensor, tf.Tensor> {
  /** Channels of the input (last axis). */
  readonly inChannels: number;
  /** Channels produced. */
  readonly outChannels: number;
  /** Kernel `[kd, kh, kw, outChannels, inChannels]`. */
  readonly weight: tf.Variable;
  /** Bias `[outChannels]`, or null when built with `bias: false`. */
  readonly bias: tf.Variable | null;
  /** Kernel size `[kd, kh, kw]`. */
  readonly kernelSize: Triple;
  /** Stride `[sd, sh, sw]`. */
  readonly stride: Triple;
  /** Padding `[pd, ph, pw]`. */
  readonly padding: Triple;
  /** Output padding `[od, oh, ow]`. */
  readonly outputPadding: Triple;
  /** Dilation `[dd, dh, dw]`. */
  readonly dilation: Triple;

  /**
   * @param inChannels - channels of the input (last axis).
   * @param outChannels - channels produced.
   * @param kernelSize - kernel size, per axis or for all three.
   */
  constructor(inChannels: number, outChannels: number, kernelSize: IntTriple, options: ConvTranspose3dOptions = {}) {
    super();
    for (const [name, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`ConvTranspose3d: ${name} must be a positive integer, but got ${v}.`);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = toTriple(kernelSize, 'kernelSize', 'ConvTranspose3d', 1);
    this.stride = toTriple(options.stride ?? 1, 'stride', 'ConvTranspose3d', 1);
    this.padding = toTriple(options.padding ?? 0, 'padding', 'ConvTranspose3d', 0);
    this.outputPadding = toTriple(options.outputPadding ?? 0, 'outputPadding', 'ConvTranspose3d', 0);
    this.dilation = toTriple(options.dilation ?? 1, 'dilation', 'ConvTranspose3d', 1);
    for (let i = 0; i < 3; i++) {
      if (this.outputPadding[i] >= Math.max(this.stride[i], this.dilation[i])) {
        throw new ValueError(
          `ConvTranspose3d: outputPadding must be smaller than stride or dilation on each axis (as in PyTorch), ` +
            `but got outputPadding ${formatTriple(this.outputPadding)} with stride ${formatTriple(this.stride)} ` +
            `and dilation ${formatTriple(this.dilation)}.`,
        );
      }
    }
    const [kd, kh, kw] = this.kernelSize;
    const fanIn = outChannels * kd * kh * kw;
    const init = pytorchDefaultInit([kd, kh, kw, outChannels, inChannels], options.bias === false ? null : [outChannels], fanIn, options.seed);
    this.weight = this.registerParameter('weight', init.weight);
    this.bias = init.bias ? this.registerParameter('bias', init.bias) : null;
  }

  /** Output spatial size `[d', h', w']` for an input of spatial size `[d, h, w]`, by PyTorch's rule. */
  outputSize(d: number, h: number, w: number): Triple {
    return [d, h, w].map(
      (n, i) => (n - 1) * this.stride[i] - 2 * this.padding[i] + this.dilation[i] * (this.kernelSize[i] - 1) + this.outputPadding[i] + 1,
    ) as Triple;
  }

  /** Maps an NDHWC batch `[n, d, h, w, inChannels]` to `[n, d', h', w', outChannels]`. */
  forward(x: tf.Tensor): tf.Tensor {
    checkVolumeInput(x, 'ConvTranspose3d', this.inChannels);
    const [n, d, h, w] = x.shape;
    const out = this.outputSize(d, h, w);
    if (out.some((s) => s < 1)) {
      throw new ShapeError(
        `ConvTranspose3d: input shape [${x.shape.join(', ')}] gives an empty output (${out.join('×')}) ` +
          `with padding ${formatTriple(this.padding)}. Use a larger input or less padding.`,
      );
    }
    return tf.tidy(() => {
      const dilated = this.dilation.some((v) => v > 1);
      const kernel = dilated ? dilateKernel3d(this.weight as tf.Tensor5D, this.dilation) : (this.weight as tf.Tensor5D);
      const full = conv3dTransposeValid(x as tf.Tensor5D, kernel, this.stride);
      // Crop `padding` from the start; the end loses padding − outputPadding planes, or gains zeros
      // where outputPadding exceeds padding (those planes lie beyond the full transposed output).
      const begin = this.padding;
      const keep = full.shape.slice(1, 4).map((s, i) => Math.min(out[i], s - begin[i]));
      const whole = begin.every((b, i) => b === 0 && keep[i] === full.shape[i + 1]);
      let y: tf.Tensor = whole ? full : tf.slice(full, [0, ...begin, 0], [n, ...keep, this.outChannels]);
      const extra = out.map((o, i) => o - keep[i]);
      if (extra.some((e) => e > 0)) y = tf.pad(y, [[0, 0], [0, extra[0]], [0, extra[1]], [0, extra[2]], [0, 0]]);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }

  /** PyTorch stores `weight` as `[in, out, kd, kh, kw]`; medvae as `[kd, kh, kw, out, in]`. */
  override torchLayout(name: string): readonly number[] | null {
    return name === 'weight' ? [2, 3, 4, 1, 0] : null;
  }

  /** PyTorch-style summary, e.g. `16, 8, kernelSize=[2,2,2], stride=[2,2,2]`. */
  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernelSize=${formatTriple(this.kernelSize)}, stride=${formatTriple(this.stride)}`;
    if (this.padding.some((v) => v !== 0)) s += `, padding=${formatTriple(this.padding)}`;
    if (this.outputPadding.some((v) => v !== 0)) s += `, outputPadding=${formatTriple(this.outputPadding)}`;
    if (this.dilation.some((v) => v !== 1)) s += `, dilation=${formatTriple(this.dilation)}`;
    if (!this.bias) s += ', bias=false';
    return s;
  }
}
