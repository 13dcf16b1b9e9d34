import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { assertFloat, assertShape } from '../core/shape.js';
import { nonNegativeNumber, numberInRange, positiveInt } from '../core/validate.js';

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
 * Instance normalisation over channels-last images or volumes: the shared implementation of
 * {@link InstanceNorm2d} and {@link InstanceNorm3d}.
 */
export abstract class InstanceNormNd extends Module<tf.Tensor, tf.Tensor> {
  /** Number of channels C (last axis of the input). */
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
  /** Spatial axes of the input: 2 (NHWC) or 3 (NDHWC). */
  readonly spatialDims: 2 | 3;
  private readonly layerName: string;

  /**
   * @param numFeatures - number of channels C.
   * @param options - see {@link InstanceNorm2dOptions}.
   * @param spatialDims - 2 for images, 3 for volumes.
   * @param layerName - the class name used in error messages.
   */
  protected constructor(numFeatures: number, options: InstanceNorm2dOptions, spatialDims: 2 | 3, layerName: string) {
    super();
    this.spatialDims = spatialDims;
    this.layerName = layerName;
    positiveInt(numFeatures, `${layerName} numFeatures`);
    this.numFeatures = numFeatures;
    this.eps = nonNegativeNumber(options.eps ?? 1e-5, `${layerName} eps`);
    this.momentum = numberInRange(options.momentum ?? 0.1, `${layerName} momentum`, 0, 1);
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

  /** Normalises `x` of shape `[N, H, W, numFeatures]` (2-D) or `[N, D, H, W, numFeatures]` (3-D). */
  forward(x: tf.Tensor): tf.Tensor {
    const name = `${this.layerName} input`;
    if (this.spatialDims === 3) {
      assertShape(x, [null, null, null, null, this.numFeatures], name, ['batch', 'depth', 'height', 'width', 'channels']);
    } else {
      assertShape(x, [null, null, null, this.numFeatures], name, ['batch', 'height', 'width', 'channels']);
    }
    assertFloat(x, name);
    const useInstanceStats = this.training || this.runningMean === null;
    if (!useInstanceStats) {
      return tf.tidy(() => this.affineTransform(
        tf.mul(tf.sub(x, this.runningMean as tf.Tensor), tf.rsqrt(tf.add(this.runningVar as tf.Tensor, this.eps))),
      ));
    }
    const axes = x.shape.slice(1, -1).map((_, i) => i + 1);
    const count = x.size / (x.shape[0] * this.numFeatures);
    if (count <= 1) {
      throw new ValueError(
        `${this.layerName} needs more than one spatial position per channel, but got input shape [${x.shape.join(', ')}].`,
      );
    }
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, axes, true);
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
export class InstanceNorm2d extends InstanceNormNd {
  /**
   * @param numFeatures - number of channels C.
   * @param options - see {@link InstanceNorm2dOptions}.
   */
  constructor(numFeatures: number, options: InstanceNorm2dOptions = {}) {
    super(numFeatures, options, 2, 'InstanceNorm2d');
  }
}

/** Options of {@link InstanceNorm3d}: the same as {@link InstanceNorm2dOptions}. */
export type InstanceNorm3dOptions = InstanceNorm2dOptions;

/**
 * Instance normalisation over NDHWC volumes `[N, D, H, W, C]`, as PyTorch's `nn.InstanceNorm3d`:
 * statistics per sample and channel over D×H×W, otherwise as {@link InstanceNorm2d}.
 */
export class InstanceNorm3d extends InstanceNormNd {
  /**
   * @param numFeatures - number of channels C.
   * @param options - see {@link InstanceNorm2dOptions}.
   */
  constructor(numFeatures: number, options: InstanceNorm3dOptions = {}) {
    super(numFeatures, options, 3, 'InstanceNorm3d');
  }
}
