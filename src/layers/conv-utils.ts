import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { assertFloat, assertRank, assertShape, formatShape } from '../core/shape.js';

/**
 * A size given once for both spatial axes or per axis as `[height, width]`, as PyTorch's
 * `int | tuple[int, int]` arguments (`kernel_size`, `stride`, `padding`, `dilation`).
 */
export type IntPair = number | readonly [number, number];

/** Normalises an {@link IntPair} to `[h, w]`, checking that both are integers ≥ `min`. */
export function toPair(value: IntPair, option: string, layer: string, min: number): [number, number] {
  const pair: readonly number[] = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((v) => Number.isInteger(v) && v >= min)) {
    throw new ValueError(
      `${layer}: ${option} must be an integer ≥ ${min} or a pair [height, width] of such integers, ` +
        `but got ${JSON.stringify(value)}.`,
    );
  }
  return [pair[0], pair[1]];
}

/** `[3,3]`, the compact form used by `extraRepr`. */
export function formatPair(pair: readonly [number, number]): string {
  return `[${pair[0]},${pair[1]}]`;
}

/**
 * Checks an NHWC image batch: rank 4, float32, and (when given) the channel count. A tensor whose
 * axis 1 holds the expected channel count is most likely NCHW, so the message says how to convert.
 */
export function checkImageInput(x: tf.Tensor, layer: string, channels?: number): void {
  const name = `${layer} input`;
  assertRank(x, 4, name, 'NHWC ([batch, height, width, channels])');
  assertFloat(x, name);
  if (channels !== undefined && x.shape[3] !== channels && x.shape[1] === channels) {
    throw new ShapeError(
      `${name}: channels (axis 3) must be ${channels}, but got ${x.shape[3]} (shape ${formatShape(x.shape)}). ` +
        `Axis 1 has ${channels} entries, so this looks like an NCHW (PyTorch) tensor; medvae is NHWC: ` +
        'convert it with tf.transpose(x, [0, 2, 3, 1]).',
    );
  }
  if (channels !== undefined) assertShape(x, [null, null, null, channels], name, ['batch', 'height', 'width', 'channels']);
}

/**
 * Spreads a `[kh, kw, a, b]` kernel to its dilated footprint `[(kh−1)·dh+1, (kw−1)·dw+1, a, b]` by
 * inserting zeros between taps. tfjs-core has no gradient for dilated convolutions, so dilation is
 * done on the kernel instead; the zero-insertion is made of reshape/concat/slice, whose gradients
 * every backend has, and the gradient reaching the kernel is exactly that of the taps.
 */
export function dilateKernel(kernel: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  return tf.tidy(() => {
    let k: tf.Tensor4D = kernel;
    const [kh, kw, a, b] = k.shape;
    if (dh > 1) {
      const rows = tf.reshape(k, [kh, 1, kw * a * b]);
      const gaps = tf.zeros([kh, dh - 1, kw * a * b]);
      const spread = tf.reshape(tf.concat([rows, gaps], 1), [kh * dh, kw, a, b]);
      k = tf.slice(spread, [0, 0, 0, 0], [(kh - 1) * dh + 1, kw, a, b]) as tf.Tensor4D;
    }
    if (dw > 1) {
      const h = k.shape[0];
      const cols = tf.reshape(k, [h, kw, 1, a * b]);
      const gaps = tf.zeros([h, kw, dw - 1, a * b]);
      const spread = tf.reshape(tf.concat([cols, gaps], 2), [h, kw * dw, a, b]);
      k = tf.slice(spread, [0, 0, 0, 0], [h, (kw - 1) * dw + 1, a, b]) as tf.Tensor4D;
    }
    return k === kernel ? tf.clone(kernel) : k;
  });
}

/** A tfjs explicit padding array for NHWC, or `'valid'` when it is all zeros. */
export function explicitPad(top: number, bottom: number, left: number, right: number): 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return 'valid';
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}
