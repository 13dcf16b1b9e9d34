import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { assertFloat, assertShape } from '../core/shape.js';
import { checkEps, checkMomentum, checkPositiveInt } from './norm-checks.js';

/** Options of {@link InstanceNorm2d}, with PyTorch's names and defaults. */
export interface InstanceNorm2dOptions {
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /** Running-average factor for the running statistics (used only with `trackRunningStats`). Default 0.1. */
  momentum?: number;
  /** Learn a per-channel scale `weight` and shift `bias`. Default false (as PyTorch). */
  affine?: boolean;
  /**
   * Keep running mean/variance (averaged over the instances of each batch) and use them in
   * evaluation mode. Default false: every sample is normalised by its own statistics in both modes.
   */
  trackRunningStats?: boolean;
}

/**
 * Instance normalisation over NHWC images, as PyTorch's `nn.InstanceNorm2d`: each sample and
 * channel is normalised with the mean and biased variance over its H×W positions. Common in
 * style-transfer and GAN discriminators, where batch statistics would mix samples.
 *
 * Parameters `weight`/`bias` `[numFeatures]` exist when `affine`; buffers `running_mean`,
 * `running_var` and `num_batches_tracked` when `trackRunningStats`. As in PyTorch, the running
 * variance is updated with the batch mean of the per-instance *unbiased* variances, and
 * `num_batches_tracked` is kept for state-dict compatibility but not incremented.
 */
export class InstanceNorm2d extends Module<tf.Tensor, tf.Tensor> {
  /** Number of channels C of the input `[N, H, W, C]`. */
  readonly numFeatures: number;
  /** Variance stabiliser. */
  readonly eps: number;
  /** Running-average factor. */
  readonly momentum: number;
  /** Whether `weight` and `bias` exist. */
  readonly affine: boolean;
  /** Whether running statistics are kept and used in evaluation mode. */
  readonly trackRunningStats: boolean;
  /** Per-channel scale `[C]` (null unless `affine`). */
  readonly weight: tf.Variable | null;
  /** Per-channel shift `[C]` (null unless `affine`). */
  readonly bias: tf.Variable | null;
  /** Running mean `[C]` (null unless `trackRunningStats`). */
  readonly runningMean: tf.Variable | null;
  /** Running unbiased variance `[C]` (null unless `trackRunningStats`). */
  readonly runningVar: tf.Variable | null;

  /**
   * @param numFeatures - number of channels C.
   * @param options - see {@link InstanceNorm2dOptions}.
   */
  constructor(numFeatures: number, options: InstanceNorm2dOptions = {}) {
    super();
    checkPositiveInt(numFeatures, 'InstanceNorm2d numFeatures');
    this.numFeatures = numFeatures;
    this.eps = checkEps(options.eps ?? 1e-5, 'InstanceNorm2d');
    this.momentum = checkMomentum(options.momentum ?? 0.1, 'InstanceNorm2d');
    this.affine = options.affine ?? false;
    this.trackRunningStats = options.trackRunningStats ?? false;
    this.weight = this.affine ? this.registerParameter('weight', tf.ones([numFeatures])) : null;
    this.bias = this.affine ? this.registerParameter('bias', tf.zeros([numFeatures])) : null;
    if (this.trackRunningStats) {
      this.runningMean = this.registerBuffer('running_mean', tf.zeros([numFeatures]));
      this.runningVar = this.registerBuffer('running_var', tf.ones([numFeatures]));
      this.registerBuffer('num_batches_tracked', tf.scalar(0, 'int32'));
    } else {
      this.runningMean = null;
      this.runningVar = null;
    }
  }

  /** Normalises `x` of shape `[N, H, W, numFeatures]`. */
  forward(x: tf.Tensor): tf.Tensor {
    assertShape(x, [null, null, null, this.numFeatures], 'InstanceNorm2d input', ['batch', 'height', 'width', 'channels']);
    assertFloat(x, 'InstanceNorm2d input');
    const useInstanceStats = this.training || this.runningMean === null;
    if (!useInstanceStats) {
      return tf.tidy(() => this.affineTransform(
        tf.mul(tf.sub(x, this.runningMean as tf.Tensor), tf.rsqrt(tf.add(this.runningVar as tf.Tensor, this.eps))),
      ));
    }
    const [, h, w] = x.shape as number[];
    const count = h * w;
    if (count <= 1) {
      throw new ValueError(
        `InstanceNorm2d needs more than one spatial position per channel, but got input shape [${x.shape.join(', ')}].`,
      );
    }
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, [1, 2], true);
      if (this.training && this.runningMean !== null) this.updateRunningStats(mean, variance, count);
      return this.affineTransform(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps))));
    });
  }

  private affineTransform(normed: tf.Tensor): tf.Tensor {
    let y = normed;
    if (this.weight !== null) y = tf.mul(y, this.weight);
    if (this.bias !== null) y = tf.add(y, this.bias);
    return y;
  }

  private updateRunningStats(mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    const runningMean = this.runningMean as tf.Variable;
    const runningVar = this.runningVar as tf.Variable;
    const m = this.momentum;
    // Off the output's path, so gradients are unaffected (see BatchNorm2d).
    tf.tidy(() => {
      const batchMean = tf.mean(tf.reshape(mean, [-1, this.numFeatures]), 0);
      const batchVar = tf.mul(tf.mean(tf.reshape(variance, [-1, this.numFeatures]), 0), count / (count - 1));
      runningMean.assign(tf.add(tf.mul(runningMean, 1 - m), tf.mul(batchMean, m)));
      runningVar.assign(tf.add(tf.mul(runningVar, 1 - m), tf.mul(batchVar, m)));
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}
