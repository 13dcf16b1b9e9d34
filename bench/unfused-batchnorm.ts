// For before/after measurements of the fused BatchNorm (src/layers/batchnorm-train.ts) in one run:
// swaps BatchNormNd's training forward back to the composition it replaced (tf.moments + normalise,
// differentiated by tfjs itself) while `set(true)`, and restores the layer's own forward with
// `set(false)`. Eval mode and layers without running statistics keep the layer's own code path
// for eval. Bench-only; not part of the library.
import * as tf from '@tensorflow/tfjs-core';
import { BatchNormNd } from '../src/layers/batchnorm.js';

const fusedForward = BatchNormNd.prototype.forward;

function unfusedForward(this: BatchNormNd, x: tf.Tensor): tf.Tensor {
  if (!this.training) return fusedForward.call(this, x);
  const count = x.size / this.numFeatures;
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, x.shape.slice(0, -1).map((_, i) => i));
    if (this.runningMean && this.runningVar && this.numBatchesTracked) {
      const [rm, rv, tracked] = [this.runningMean, this.runningVar, this.numBatchesTracked];
      tf.tidy(() => {
        tracked.assign(tf.add(tracked, tf.scalar(1, 'int32')));
        const f = this.momentum ?? 1 / (tracked.dataSync()[0] as number);
        rm.assign(tf.add(tf.mul(rm, 1 - f), tf.mul(mean, f)));
        rv.assign(tf.add(tf.mul(rv, 1 - f), tf.mul(tf.mul(variance, count / (count - 1)), f)));
      });
    }
    let scale = tf.rsqrt(tf.add(variance, this.eps));
    if (this.weight) scale = tf.mul(scale, this.weight);
    let y = tf.mul(tf.sub(x, mean), scale);
    if (this.bias) y = tf.add(y, this.bias);
    return y;
  });
}

/** Whether BatchNorm layers train through the unfused composition (true) or the fused op (false). */
export function useUnfusedBatchNorm(on: boolean): void {
  BatchNormNd.prototype.forward = on ? unfusedForward : fusedForward;
}
