import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { formatShape } from '../core/shape.js';

/**
 * Reshapes every sample of a batch to `shape`, keeping the batch axis: `[n, ...] → [n, ...shape]`.
 * One entry of `shape` may be −1 (inferred). The usual use is turning a `Linear` output into a
 * feature map, e.g. `new Reshape([7, 7, 64])` in a decoder (NHWC, so channels last).
 */
export class Reshape extends Module<tf.Tensor, tf.Tensor> {
  /** Target per-sample shape, as given. */
  readonly shape: readonly number[];

  /** @param shape - the shape of one sample (without the batch axis); at most one −1. */
  constructor(shape: readonly number[]) {
    super();
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d >= 0 || d === -1)) || shape.filter((d) => d === -1).length > 1) {
      throw new ValueError(
        `Reshape: shape must list non-negative integers with at most one −1, but got ${JSON.stringify(shape)}.`,
      );
    }
    this.shape = [...shape];
  }

  /** Returns `x` reshaped to `[x.shape[0], ...shape]`. */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank < 1) throw new ShapeError('Reshape input must have a batch axis, but got a scalar.');
    const per = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const known = this.shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const hasFree = this.shape.includes(-1);
    const fits = hasFree ? known > 0 && per % known === 0 : known === per;
    if (!fits) {
      throw new ShapeError(
        `Reshape: a sample of shape ${formatShape(x.shape.slice(1))} has ${per} elements, which cannot be ` +
          `reshaped to ${formatShape(this.shape.map((d) => (d === -1 ? null : d)))}` +
          `${hasFree ? ` (a multiple of ${known} is needed)` : ` (${known} elements)`}. Check the layer before it.`,
      );
    }
    const target = this.shape.map((d) => (d === -1 ? per / known : d));
    return tf.reshape(x, [x.shape[0], ...target]);
  }

  /** PyTorch-style summary, e.g. `shape=[7,7,64]`. */
  override extraRepr(): string {
    return `shape=[${this.shape.join(',')}]`;
  }
}
