import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { assertFloat, assertShape } from '../core/shape.js';
import { checkEps, checkPositiveInt } from './norm-checks.js';

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
export class BatchNorm2d extends Module<tf.Tensor, tf.Tensor> {
  /** Number of channels C of the input `[N, H, W, C]`. */
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

  /**
   * @param numFeatures - number of channels C.
   * @param options - see {@link BatchNorm2dOptions}.
   */
  constructor(numFeatures: number, options: BatchNorm2dOptions = {}) {
    super();
    checkPositiveInt(numFeatures, 'BatchNorm2d numFeatures');
    this.numFeatures = numFeatures;
    this.eps = checkEps(options.eps ?? 1e-5, 'BatchNorm2d');
    const momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (momentum !== null && !(momentum >= 0 && momentum <= 1)) {
      throw new ValueError(`BatchNorm2d momentum must be in [0, 1] or null, but got ${momentum}.`);
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

  /** Normalises `x` of shape `[N, H, W, numFeatures]`. */
  forward(x: tf.Tensor): tf.Tensor {
    assertShape(x, [null, null, null, this.numFeatures], 'BatchNorm2d input', ['batch', 'height', 'width', 'channels']);
    assertFloat(x, 'BatchNorm2d input');
    const useBatchStats = this.training || this.runningMean === null;
    if (!useBatchStats) {
      return tf.tidy(() => this.normalize(x, this.runningMean as tf.Tensor, this.runningVar as tf.Tensor));
    }
    const [n, h, w] = x.shape as number[];
    const count = n * h * w;
    if (count <= 1) {
      throw new ValueError(
        `BatchNorm2d needs more than one value per channel in training mode, but got input shape [${x.shape.join(', ')}]. ` +
          'Use a larger batch or spatial size, or call eval() to use the running statistics.',
      );
    }
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      if (this.training && this.runningMean !== null) this.updateRunningStats(mean, variance, count);
      return this.normalize(x, mean, variance);
    });
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
      // The cumulative average needs the updated count; reading one int32 scalar is cheap.
      const factor = this.momentum ?? 1 / (tracked.dataSync()[0] as number);
      const unbiased = tf.mul(variance, count / (count - 1));
      runningMean.assign(tf.add(tf.mul(runningMean, 1 - factor), tf.mul(mean, factor)));
      runningVar.assign(tf.add(tf.mul(runningVar, 1 - factor), tf.mul(unbiased, factor)));
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}
