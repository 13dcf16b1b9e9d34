// Helpers shared by the DDPM files; not part of the public API (not re-exported).
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { activeDeferredCheckSink, type DeferredCheckSink } from '../../losses/checks.js';

function labelsMessage(numClasses: number, got: number): string {
  return `classLabels must be integers in [-1, ${numClasses - 1}] (−1 = unconditional), but got ${got}.`;
}

/**
 * Class labels as an int32 `[batch]` tensor (−1 for none), checked against the number of classes.
 * Label tensors given inside a training step are checked on the device (the check is queued with
 * the step's logs, see {@link activeDeferredCheckSink}, and stops the run with the same message);
 * elsewhere they are read back and checked at once.
 */
export function classLabelTensor(labels: tf.Tensor | ArrayLike<number> | number | undefined, batch: number, numClasses: number): tf.Tensor1D {
  let values: number[];
  if (labels === undefined) values = [-1];
  else if (labels instanceof tf.Tensor) {
    if (labels.rank > 1) throw new ShapeError(`classLabels must be a scalar or 1-D, but got shape ${formatShape(labels.shape)}.`);
    const sink = activeDeferredCheckSink();
    if (sink !== null) return deferredLabelTensor(labels, batch, numClasses, sink);
    values = Array.from(labels.dataSync());
  } else values = typeof labels === 'number' ? [labels] : Array.from(labels);
  for (const v of values) {
    if (!Number.isInteger(v) || v < -1 || v >= numClasses) throw new ValueError(labelsMessage(numClasses, v));
  }
  if (values.length === 1 && batch !== 1) values = new Array<number>(batch).fill(values[0]);
  if (values.length !== batch) throw new ShapeError(`Got ${values.length} class labels for a batch of ${batch}; pass one per sample or a single one.`);
  return tf.tensor1d(values, 'int32');
}

/** {@link classLabelTensor} of a label tensor without reading it: the value check goes to `sink`. */
function deferredLabelTensor(labels: tf.Tensor, batch: number, numClasses: number, sink: DeferredCheckSink): tf.Tensor1D {
  if (labels.size !== 1 && labels.size !== batch) {
    throw new ShapeError(`Got ${labels.size} class labels for a batch of ${batch}; pass one per sample or a single one.`);
  }
  // The flag is the first label that is not an integer in [-1, numClasses) (NaN included), or 0
  // when there is none: 0 is always a valid label, so a nonzero flag means a bad batch, and its
  // value goes into the message as the read-back check's did.
  const flag = tf.tidy(() => {
    const x = tf.reshape(tf.cast(labels, 'float32'), [-1]);
    const ok = tf.logicalAnd(tf.logicalAnd(tf.equal(x, tf.floor(x)), tf.greaterEqual(x, -1)), tf.less(x, numClasses));
    const bad = tf.logicalNot(ok);
    const first = tf.argMax(tf.cast(bad, 'int32'));
    return tf.reshape(tf.gather(tf.where(bad, x, tf.zerosLike(x)), tf.reshape(first, [1])), []);
  });
  sink(tf.keep(flag), (got) => labelsMessage(numClasses, got));
  return tf.tidy(() => {
    const ints = tf.reshape(tf.cast(labels, 'int32'), [-1]);
    return (labels.size === batch ? ints : tf.tile(ints, [batch])) as tf.Tensor1D;
  });
}

/**
 * GroupNorm groups for a width: the largest divisor of `channels` that is at most `wanted` and
 * leaves at least two channels per group. With one channel per group GroupNorm removes every
 * per-channel constant, which would erase the time embedding the residual blocks add before their
 * first norm (diffusers' widths, 128 with 32 groups, never hit this; small test models would).
 */
export function groupsFor(channels: number, wanted: number): number {
  let g = Math.max(1, Math.min(wanted, Math.floor(channels / 2)));
  while (channels % g !== 0) g--;
  return g;
}
