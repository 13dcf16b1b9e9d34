import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { assertFloat } from '../core/shape.js';
import { checkEps, checkPositiveInt } from './norm-checks.js';

/** Options of {@link GroupNorm}, with PyTorch's names and defaults. */
export interface GroupNormOptions {
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /** Learn a per-channel scale `weight` and shift `bias`. Default true. */
  affine?: boolean;
}

/**
 * Group normalisation, as PyTorch's `nn.GroupNorm`, for channels-last input `[N, ..., C]`
 * (NHWC images, or `[N, C]`).
 *
 * The C channels are split into `numGroups` consecutive groups; each sample is normalised per
 * group with the mean and biased variance over the group's channels and all spatial positions.
 * Unlike BatchNorm it does not depend on the batch, so it behaves the same in training and
 * evaluation and works with batch size 1. `numGroups = 1` normalises over all of a sample (as
 * LayerNorm over C·H·W with per-channel affine); `numGroups = C` is InstanceNorm with affine.
 *
 * Parameters: `weight` (ones) and `bias` (zeros), each `[numChannels]`, when `affine`.
 */
export class GroupNorm extends Module<tf.Tensor, tf.Tensor> {
  /** Number of groups the channels are split into. */
  readonly numGroups: number;
  /** Number of channels C (last axis of the input). */
  readonly numChannels: number;
  /** Variance stabiliser. */
  readonly eps: number;
  /** Whether `weight` and `bias` exist. */
  readonly affine: boolean;
  /** Per-channel scale `[C]` (null unless `affine`). */
  readonly weight: tf.Variable | null;
  /** Per-channel shift `[C]` (null unless `affine`). */
  readonly bias: tf.Variable | null;

  /**
   * @param numGroups - number of groups; must divide `numChannels`.
   * @param numChannels - number of channels C.
   * @param options - see {@link GroupNormOptions}.
   */
  constructor(numGroups: number, numChannels: number, options: GroupNormOptions = {}) {
    super();
    checkPositiveInt(numGroups, 'GroupNorm numGroups');
    checkPositiveInt(numChannels, 'GroupNorm numChannels');
    if (numChannels % numGroups !== 0) {
      throw new ValueError(
        `GroupNorm numChannels (${numChannels}) must be divisible by numGroups (${numGroups}); ` +
          'pick a number of groups that divides the channel count.',
      );
    }
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = checkEps(options.eps ?? 1e-5, 'GroupNorm');
    this.affine = options.affine ?? true;
    this.weight = this.affine ? this.registerParameter('weight', tf.ones([numChannels])) : null;
    this.bias = this.affine ? this.registerParameter('bias', tf.zeros([numChannels])) : null;
  }

  /** Normalises `x` of shape `[N, ..., numChannels]`. */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank < 2 || x.shape[x.rank - 1] !== this.numChannels) {
      throw new ShapeError(
        `GroupNorm input must have shape [N, ..., ${this.numChannels}] (channels last), ` +
          `but got [${x.shape.join(', ')}].`,
      );
    }
    assertFloat(x, 'GroupNorm input');
    const n = x.shape[0];
    const spatial = x.size / (n * this.numChannels);
    const perGroup = this.numChannels / this.numGroups;
    return tf.tidy(() => {
      const grouped = tf.reshape(x, [n, spatial, this.numGroups, perGroup]);
      const { mean, variance } = tf.moments(grouped, [1, 3], true);
      const normed = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, this.eps)));
      let y = tf.reshape(normed, x.shape);
      if (this.weight !== null) y = tf.mul(y, this.weight);
      if (this.bias !== null) y = tf.add(y, this.bias);
      return y;
    });
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine}`;
  }
}
