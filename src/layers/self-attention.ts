import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { toGenerator, type SeedLike } from '../core/random.js';
import { checkImageInput } from './conv-utils.js';
import { Conv2d } from './conv2d.js';
import { GroupNorm } from './groupnorm.js';

/** Options of {@link SelfAttention2d}. */
export interface SelfAttention2dOptions {
  /** Number of attention heads; must divide `channels`. Default 1. */
  numHeads?: number;
  /**
   * Groups of the input GroupNorm. Default 32, lowered to the largest divisor of `channels` that
   * does not exceed it, so small test models work without extra configuration.
   */
  normGroups?: number;
  /** Seeds the initialisation of the four 1×1 convolutions. */
  seed?: SeedLike;
}

/**
 * Spatial self-attention block of diffusion U-Nets (DDPM, Latent Diffusion's `AttnBlock`), NHWC:
 *
 * ```
 * h = norm(x)                                   GroupNorm
 * q, k, v = q(h), k(h), v(h)                    1×1 convolutions, channels split into numHeads heads
 * a = softmax(q·kᵀ / √(channels/numHeads))      over the H·W positions, per head
 * y = x + proj_out(a·v)
 * ```
 *
 * Every position attends to every other, so cost grows with (H·W)²: use it at low resolutions.
 *
 * Children: `norm`, `q`, `k`, `v`, `proj_out` (the names of Latent Diffusion's `AttnBlock`).
 */
export class SelfAttention2d extends Module<tf.Tensor, tf.Tensor> {
  /** Channels of input and output. */
  readonly channels: number;
  /** Number of heads. */
  readonly numHeads: number;
  /** The GroupNorm applied before the projections. */
  readonly norm: GroupNorm;
  /** Query projection (1×1). */
  readonly q: Conv2d;
  /** Key projection (1×1). */
  readonly k: Conv2d;
  /** Value projection (1×1). */
  readonly v: Conv2d;
  /** Output projection (1×1), added to the input. */
  readonly projOut: Conv2d;

  /**
   * @param channels - channels C of the input `[N, H, W, C]`.
   * @param options - see {@link SelfAttention2dOptions}.
   */
  constructor(channels: number, options: SelfAttention2dOptions = {}) {
    super();
    if (!Number.isInteger(channels) || channels < 1) {
      throw new ValueError(`SelfAttention2d channels must be a positive integer, but got ${channels}.`);
    }
    const numHeads = options.numHeads ?? 1;
    if (!Number.isInteger(numHeads) || numHeads < 1 || channels % numHeads !== 0) {
      throw new ValueError(
        `SelfAttention2d numHeads (${numHeads}) must be a positive integer dividing channels (${channels}).`,
      );
    }
    const wanted = options.normGroups ?? 32;
    if (!Number.isInteger(wanted) || wanted < 1) {
      throw new ValueError(`SelfAttention2d normGroups must be a positive integer, but got ${wanted}.`);
    }
    let groups = Math.min(wanted, channels);
    while (channels % groups !== 0) groups--;
    this.channels = channels;
    this.numHeads = numHeads;
    const gen = toGenerator(options.seed);
    this.norm = this.registerModule('norm', new GroupNorm(groups, channels));
    this.q = this.registerModule('q', new Conv2d(channels, channels, 1, { seed: gen }));
    this.k = this.registerModule('k', new Conv2d(channels, channels, 1, { seed: gen }));
    this.v = this.registerModule('v', new Conv2d(channels, channels, 1, { seed: gen }));
    this.projOut = this.registerModule('proj_out', new Conv2d(channels, channels, 1, { seed: gen }));
  }

  /** Applies the block to `x` `[N, H, W, channels]`; the output has the same shape. */
  forward(x: tf.Tensor): tf.Tensor {
    checkImageInput(x, 'SelfAttention2d', this.channels);
    const [n, hgt, wid, c] = x.shape;
    const heads = this.numHeads;
    const d = c / heads;
    const len = hgt * wid;
    return tf.tidy(() => {
      const h = this.norm.forward(x);
      // [N, H, W, C] → [N·heads, H·W, d]; channel c = head·d + j, as a reshape of C into (heads, d).
      const split = (t: tf.Tensor): tf.Tensor3D =>
        tf.reshape(tf.transpose(tf.reshape(t, [n, len, heads, d]), [0, 2, 1, 3]), [n * heads, len, d]);
      const q = split(this.q.forward(h));
      const k = split(this.k.forward(h));
      const v = split(this.v.forward(h));
      const scores = tf.mul(tf.matMul(q, tf.transpose(k, [0, 2, 1])), 1 / Math.sqrt(d));
      const attn = tf.softmax(scores, -1);
      const out = tf.matMul(attn, v);
      const merged = tf.reshape(tf.transpose(tf.reshape(out, [n, heads, len, d]), [0, 2, 1, 3]), [n, hgt, wid, c]);
      return tf.add(x, this.projOut.forward(merged));
    });
  }

  override extraRepr(): string {
    return `${this.channels}, numHeads=${this.numHeads}, normGroups=${this.norm.numGroups}`;
  }
}
