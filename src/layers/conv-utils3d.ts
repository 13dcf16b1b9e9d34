import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { assertFloat, assertRank, assertShape, formatShape } from '../core/shape.js';

/**
 * A size given once for the three spatial axes or per axis as `[depth, height, width]`, as
 * PyTorch's `int | tuple[int, int, int]` arguments of the 3-D layers.
 */
export type IntTriple = number | readonly [number, number, number];

/** Normalises an {@link IntTriple} to `[d, h, w]`, checking that all are integers ≥ `min`. */
export function toTriple(value: IntTriple, option: string, layer: string, min: number): [number, number, number] {
  const t: readonly number[] = typeof value === 'number' ? [value, value, value] : value;
  if (!Array.isArray(t) || t.length !== 3 || !t.every((v) => Number.isInteger(v) && v >= min)) {
    throw new ValueError(
      `${layer}: ${option} must be an integer ≥ ${min} or a triple [depth, height, width] of such integers, ` +
        `but got ${JSON.stringify(value)}.`,
    );
  }
  return [t[0], t[1], t[2]];
}

/** `[3,3,3]`, the compact form used by `extraRepr`. */
export function formatTriple(t: readonly number[]): string {
  return `[${t.join(',')}]`;
}

/**
 * Checks an NDHWC volume batch: rank 5, float32, and (when given) the channel count. A tensor whose
 * axis 1 holds the expected channel count is most likely NCDHW, so the message says how to convert.
 */
export function checkVolumeInput(x: tf.Tensor, layer: string, channels?: number): void {
  const name = `${layer} input`;
  assertRank(x, 5, name, 'NDHWC ([batch, depth, height, width, channels])');
  assertFloat(x, name);
  if (channels !== undefined && x.shape[4] !== channels && x.shape[1] === channels) {
    throw new ShapeError(
      `${name}: channels (axis 4) must be ${channels}, but got ${x.shape[4]} (shape ${formatShape(x.shape)}). ` +
        `Axis 1 has ${channels} entries, so this looks like an NCDHW (PyTorch) tensor; medvae is NDHWC: ` +
        'convert it with tf.transpose(x, [0, 2, 3, 4, 1]).',
    );
  }
  if (channels !== undefined) {
    assertShape(x, [null, null, null, null, channels], name, ['batch', 'depth', 'height', 'width', 'channels']);
  }
}

/**
 * Spreads a `[kd, kh, kw, a, b]` kernel to its dilated footprint by inserting zeros between taps
 * along each spatial axis. tfjs-core has no gradient for dilated 3-D convolutions, so dilation is
 * applied to the kernel with reshape/concat/slice, whose gradients every backend has.
 */
export function dilateKernel3d(kernel: tf.Tensor5D, dilation: readonly [number, number, number]): tf.Tensor5D {
  return tf.tidy(() => {
    let k: tf.Tensor = kernel;
    for (let axis = 0; axis < 3; axis++) {
      const d = dilation[axis];
      if (d === 1) continue;
      const shape = k.shape;
      const n = shape[axis];
      const before = shape.slice(0, axis).reduce((p, v) => p * v, 1);
      const after = shape.slice(axis + 1).reduce((p, v) => p * v, 1);
      // [before, n, 1, after] ++ zeros [before, n, d − 1, after] → [before, n·d, after], drop the tail gap.
      const taps = tf.reshape(k, [before, n, 1, after]);
      const gaps = tf.zeros([before, n, d - 1, after]);
      const spread = tf.reshape(tf.concat([taps, gaps], 2), [before, n * d, after]);
      const kept = tf.slice(spread, [0, 0, 0], [before, (n - 1) * d + 1, after]);
      const next = shape.slice();
      next[axis] = (n - 1) * d + 1;
      k = tf.reshape(kept, next);
    }
    return (k === kernel ? tf.clone(kernel) : k) as tf.Tensor5D;
  });
}

/** Zero (or `value`) padding of the three spatial axes of an NDHWC tensor; the input itself when all pads are 0. */
export function padSpatial3d(x: tf.Tensor, pads: readonly [number, number][], value = 0): tf.Tensor {
  if (pads.every(([a, b]) => a === 0 && b === 0)) return x;
  return tf.pad(x, [[0, 0], ...pads.map(([a, b]) => [a, b] as [number, number]), [0, 0]], value);
}
