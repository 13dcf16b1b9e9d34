import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { assertFloat } from '../core/shape.js';
import { nonNegativeNumber, positiveInt } from '../core/validate.js';

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
 *
 * Forward and backward are written out by hand (one `tf.customGrad`) with every reduction over
 * positions done as a product with a row of ones: tfjs's automatic gradient of the broadcasting
 * formulation reduces over non-innermost axes, which the wasm backend does by transposing whole
 * activations, several times per call.
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
    positiveInt(numGroups, 'GroupNorm numGroups');
    positiveInt(numChannels, 'GroupNorm numChannels');
    if (numChannels % numGroups !== 0) {
      throw new ValueError(
        `GroupNorm numChannels (${numChannels}) must be divisible by numGroups (${numGroups}); ` +
          'pick a number of groups that divides the channel count.',
      );
    }
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = nonNegativeNumber(options.eps ?? 1e-5, 'GroupNorm eps');
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
    return tf.tidy(() => {
      const x3 = tf.reshape(x, [n, spatial, this.numChannels]) as tf.Tensor3D;
      const y = this.weight !== null && this.bias !== null
        ? groupNormAffine(this.numGroups, this.eps)(x3, this.weight, this.bias)
        : groupNormPlain(this.numGroups, this.eps)(x3);
      return tf.reshape(y, x.shape);
    });
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine}`;
  }
}

// ---------------------------------------------------------------------------------------------
// The normalisation on x viewed as [N, S, C] (S = positions), with its gradient written out:
//   x̂ = (x − μ_g)·r_g,  r_g = 1/√(σ²_g + eps),  y = x̂·w + b
//   dx = r_g·(dy·w − mean_g(dy·w) − x̂·mean_g(dy·w·x̂)),  dw = Σ dy·x̂,  db = Σ dy
// where μ_g, σ²_g and mean_g(·) run over the group's channels and all positions of one sample.
// The backward recomputes x̂ and r_g from the saved input rather than saving them: that keeps its
// result a differentiable function of x, so second derivatives (gradient penalties on a critic with
// GroupNorm) stay right, and the forward keeps no extra activation alive.

/** Per-sample sums over positions: [N, S, C] → [N, 1, C], as ones[N, 1, S] · t (no transpose). */
function sumOverPositions(t: tf.Tensor3D): tf.Tensor3D {
  const [n, s] = t.shape;
  return tf.matMul(tf.ones([n, 1, s]), t);
}

/** Per-channel sums [N, 1, C] → the mean over each group's channels and the S positions, repeated per channel: [N, 1, C]. */
function groupMeanPerChannel(channelSums: tf.Tensor3D, groups: number, positions: number): tf.Tensor3D {
  const [n, , c] = channelSums.shape;
  const perGroup = c / groups;
  const means = tf.div(tf.sum(tf.reshape(channelSums, [n, groups, perGroup]), 2, true), positions * perGroup);
  return tf.reshape(tf.tile(means, [1, 1, perGroup]), [n, 1, c]);
}

/** Forward statistics: centred input, 1/σ per channel [N, 1, C] and x̂. */
function normalise(x: tf.Tensor3D, groups: number, eps: number): { xhat: tf.Tensor3D; rstd: tf.Tensor3D } {
  const s = x.shape[1];
  const centred = tf.sub(x, groupMeanPerChannel(sumOverPositions(x), groups, s)) as tf.Tensor3D;
  const variance = groupMeanPerChannel(sumOverPositions(tf.square(centred)), groups, s);
  const rstd = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor3D;
  return { xhat: tf.mul(centred, rstd), rstd };
}

/** dx from dy·w, x̂, 1/σ and the per-sample position sums of dy·w and dy·w·x̂ (see the formula above). */
function inputGrad(dyw: tf.Tensor, xhat: tf.Tensor3D, rstd: tf.Tensor3D, sumDyw: tf.Tensor3D, sumDywXhat: tf.Tensor3D, groups: number): tf.Tensor {
  const s = xhat.shape[1];
  const a = groupMeanPerChannel(sumDyw, groups, s);
  const b = groupMeanPerChannel(sumDywXhat, groups, s);
  return tf.mul(tf.sub(tf.sub(dyw, a), tf.mul(xhat, b)), rstd);
}

function groupNormPlain(groups: number, eps: number): (x: tf.Tensor3D) => tf.Tensor3D {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor3D, tf.GradSaveFunc];
    save([x]);
    return {
      value: normalise(x, groups, eps).xhat,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const { xhat, rstd } = normalise(saved[0] as tf.Tensor3D, groups, eps);
        const d = dy as tf.Tensor3D;
        return [inputGrad(d, xhat, rstd, sumOverPositions(d), sumOverPositions(tf.mul(d, xhat)), groups)];
      },
    };
  }) as (x: tf.Tensor3D) => tf.Tensor3D;
}

function groupNormAffine(groups: number, eps: number): (x: tf.Tensor3D, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor3D {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, weight, bias, save] = args as [tf.Tensor3D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    save([x, weight]);
    return {
      value: tf.add(tf.mul(normalise(x, groups, eps).xhat, weight), bias) as tf.Tensor3D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [x0, w] = saved as [tf.Tensor3D, tf.Tensor1D];
        const { xhat, rstd } = normalise(x0, groups, eps);
        const d = dy as tf.Tensor3D;
        const sumDy = sumOverPositions(d);
        const sumDyXhat = sumOverPositions(tf.mul(d, xhat));
        // Both affine gradients and both group means come from these two [N, 1, C] sums (w is per channel).
        const dWeight = tf.sum(sumDyXhat, [0, 1]);
        const dBias = tf.sum(sumDy, [0, 1]);
        return [inputGrad(tf.mul(d, w), xhat, rstd, tf.mul(sumDy, w) as tf.Tensor3D, tf.mul(sumDyXhat, w) as tf.Tensor3D, groups), dWeight, dBias];
      },
    };
  }) as (x: tf.Tensor3D, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor3D;
}
