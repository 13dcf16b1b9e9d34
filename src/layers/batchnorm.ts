import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { assertFloat, assertShape } from '../core/shape.js';
import { nonNegativeNumber, positiveInt } from '../core/validate.js';
import { batchNormTrain } from './batchnorm-train.js';

/** Options of {@link BatchNorm2d}, with PyTorch's names and defaults. */
export interface BatchNorm2dOptions {
  /** Added to the variance before the square root, for numerical stability. Default 1e-5. */
  eps?: number;
  /**
   * Weight of the new batch statistic in the running average: `running = (1 − momentum)·running +
   * momentum·batch`. `null` uses a cumulative average over all batches seen (as PyTorch's
   * `momentum=None`). Default 0.1.
   */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` and shift `bias`. Default true. */
  affine?: boolean;
  /**
   * Keep running mean/variance for evaluation. When false, batch statistics are used in both modes
   * and no buffers exist. Default true.
   */
  trackRunningStats?: boolean;
}

/**
 * Batch normalisation over channels-last images (`[N, H, W, C]`) or volumes (`[N, D, H, W, C]`):
 * the shared implementation of {@link BatchNorm2d} and {@link BatchNorm3d} (see those).
 */
export abstract class BatchNormNd extends Module<tf.Tensor, tf.Tensor> {
  /** Number of channels C (last axis of the input). */
  readonly numFeatures: number;
  /** Variance stabiliser. */
  readonly eps: number;
  /** Running-average factor (`null`: cumulative average). */
  readonly momentum: number | null;
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
  /** Number of training batches seen, a scalar int32 (null unless `trackRunningStats`). */
  readonly numBatchesTracked: tf.Variable | null;
  /** Spatial axes of the input: 2 (NHWC) or 3 (NDHWC). */
  readonly spatialDims: 2 | 3;
  private readonly layerName: string;

  /**
   * @param numFeatures - number of channels C.
   * @param options - see {@link BatchNorm2dOptions}.
   * @param spatialDims - 2 for images, 3 for volumes.
   * @param layerName - the class name used in error messages.
   */
  protected constructor(numFeatures: number, options: BatchNorm2dOptions, spatialDims: 2 | 3, layerName: string) {
    super();
    this.spatialDims = spatialDims;
    this.layerName = layerName;
    positiveInt(numFeatures, `${layerName} numFeatures`);
    this.numFeatures = numFeatures;
    this.eps = nonNegativeNumber(options.eps ?? 1e-5, `${layerName} eps`);
    const momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (momentum !== null && !(momentum >= 0 && momentum <= 1)) {
      throw new ValueError(`${layerName} momentum must be in [0, 1] or null, but got ${momentum}.`);
    }
    this.momentum = momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    this.weight = this.affine ? this.registerParameter('weight', tf.ones([numFeatures])) : null;
    this.bias = this.affine ? this.registerParameter('bias', tf.zeros([numFeatures])) : null;
    if (this.trackRunningStats) {
      this.runningMean = this.registerBuffer('running_mean', tf.zeros([numFeatures]));
      this.runningVar = this.registerBuffer('running_var', tf.ones([numFeatures]));
      this.numBatchesTracked = this.registerBuffer('num_batches_tracked', tf.scalar(0, 'int32'));
    } else {
      this.runningMean = null;
      this.runningVar = null;
      this.numBatchesTracked = null;
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
    const useBatchStats = this.training || this.runningMean === null;
    if (!useBatchStats) {
      return tf.tidy(() => this.normalize(x, this.runningMean as tf.Tensor, this.runningVar as tf.Tensor));
    }
    const count = x.size / this.numFeatures;
    if (count <= 1) {
      throw new ValueError(
        `${this.layerName} needs more than one value per channel in training mode, but got input shape [${x.shape.join(', ')}]. ` +
          'Use a larger batch or spatial size, or call eval() to use the running statistics.',
      );
    }
    // One customGrad with a closed-form backward (batchnorm-train.ts) in place of tf.moments +
    // normalise, whose automatic gradient runs about three times as many whole-tensor kernels.
    const { y, stats } = tf.tidy(() => batchNormTrain(x, this.weight as tf.Tensor1D | null, this.bias as tf.Tensor1D | null, this.eps));
    try {
      if (this.training && this.runningMean !== null) this.updateRunningStats(stats.mean, stats.variance, count);
    } finally {
      tf.dispose([stats.mean, stats.variance]);
    }
    return y;
  }

  private normalize(x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor): tf.Tensor {
    let scale = tf.rsqrt(tf.add(variance, this.eps));
    if (this.weight !== null) scale = tf.mul(scale, this.weight);
    let y = tf.mul(tf.sub(x, mean), scale);
    if (this.bias !== null) y = tf.add(y, this.bias);
    return y;
  }

  private updateRunningStats(mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    const runningMean = this.runningMean as tf.Variable;
    const runningVar = this.runningVar as tf.Variable;
    const tracked = this.numBatchesTracked as tf.Variable;
    // The new values branch off the batch statistics but never feed the output, so gradients
    // through the output are unaffected; the tidy frees the temporaries (assign keeps its own ref).
    tf.tidy(() => {
      tracked.assign(tf.add(tracked, tf.scalar(1, 'int32')));
      // The cumulative average (momentum null) weighs the batch by 1/n with the updated count n,
      // computed on the device so a training step reads nothing back. float32 1/n and (n − 1)/n
      // are the float32 roundings of the host's float64 1/n and 1 − 1/n (for n < 2^24), so the
      // statistics are the ones a host-side factor gave.
      let factor: number | tf.Tensor;
      let keep: number | tf.Tensor;
      if (this.momentum !== null) {
        factor = this.momentum;
        keep = 1 - this.momentum;
      } else {
        const n = tf.cast(tracked, 'float32');
        factor = tf.div(1, n);
        keep = tf.div(tf.sub(n, 1), n);
      }
      const unbiased = tf.mul(variance, count / (count - 1));
      runningMean.assign(tf.add(tf.mul(runningMean, keep), tf.mul(mean, factor)));
      runningVar.assign(tf.add(tf.mul(runningVar, keep), tf.mul(unbiased, factor)));
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/**
 * Batch normalisation over an NHWC batch, as PyTorch's `nn.BatchNorm2d`.
 *
 * In training mode each channel is normalised with the mean and the biased variance of the batch
 * (over N, H and W), and the running statistics are moved towards the batch mean and the
 * *unbiased* variance, as PyTorch does. In evaluation mode the running statistics are used.
 *
 * Parameters: `weight` (ones) and `bias` (zeros), each `[numFeatures]`, when `affine`. Buffers:
 * `running_mean`, `running_var` and `num_batches_tracked` (int32), when `trackRunningStats`.
 *
 * The running statistics are written with `Variable.assign` from tensors that do not lie on the
 * path to the output, so calling the layer inside `tf.variableGrads` gives the same gradients as
 * without the update.
 *
 * @example
 * ```ts
 * const bn = new BatchNorm2d(16);
 * const y = bn.forward(x);          // x: [N, H, W, 16]
 * bn.eval();
 * const yEval = bn.forward(x);      // uses running_mean / running_var
 * ```
 */
export class BatchNorm2d extends BatchNormNd {
  /**
   * @param numFeatures - number of channels C.
   * @param options - see {@link BatchNorm2dOptions}.
   */
  constructor(numFeatures: number, options: BatchNorm2dOptions = {}) {
    super(numFeatures, options, 2, 'BatchNorm2d');
  }
}

/** Options of {@link BatchNorm3d}: the same as {@link BatchNorm2dOptions}. */
export type BatchNorm3dOptions = BatchNorm2dOptions;

/**
 * Batch normalisation over an NDHWC volume batch `[N, D, H, W, C]`, as PyTorch's
 * `nn.BatchNorm3d`: statistics over N, D, H and W per channel, otherwise as {@link BatchNorm2d}
 * (same options, parameters and buffers, so PyTorch state dicts map name for name).
 */
export class BatchNorm3d extends BatchNormNd {
  /**
   * @param numFeatures - number of channels C.
   * @param options - see {@link BatchNorm2dOptions}.
   */
  constructor(numFeatures: number, options: BatchNorm3dOptions = {}) {
    super(numFeatures, options, 3, 'BatchNorm3d');
  }
}
