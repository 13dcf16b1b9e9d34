// Helpers shared by the DDPM files; not part of the public API (not re-exported).
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';

/** Class labels as an int32 `[batch]` tensor (−1 for none), checked against the number of classes. */
export function classLabelTensor(labels: tf.Tensor | ArrayLike<number> | number | undefined, batch: number, numClasses: number): tf.Tensor1D {
  let values: number[];
  if (labels === undefined) values = [-1];
  else if (labels instanceof tf.Tensor) {
    if (labels.rank > 1) throw new ShapeError(`classLabels must be a scalar or 1-D, but got shape ${formatShape(labels.shape)}.`);
    values = Array.from(labels.dataSync());
  } else values = typeof labels === 'number' ? [labels] : Array.from(labels);
  for (const v of values) {
    if (!Number.isInteger(v) || v < -1 || v >= numClasses) {
      throw new ValueError(`classLabels must be integers in [-1, ${numClasses - 1}] (−1 = unconditional), but got ${v}.`);
    }
  }
  if (values.length === 1 && batch !== 1) values = new Array<number>(batch).fill(values[0]);
  if (values.length !== batch) throw new ShapeError(`Got ${values.length} class labels for a batch of ${batch}; pass one per sample or a single one.`);
  return tf.tensor1d(values, 'int32');
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
