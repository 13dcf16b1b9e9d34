import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { formatShape } from '../core/shape.js';

/** Options of {@link Flatten}, as `torch.nn.Flatten` (camelCase). */
export interface FlattenOptions {
  /** First axis to merge (negative counts from the end). Default 1, which keeps the batch axis. */
  startDim?: number;
  /** Last axis to merge (negative counts from the end). Default −1. */
  endDim?: number;
}

/**
 * Merges the axes `startDim..endDim` into one, as `torch.nn.Flatten`: `[n, h, w, c] → [n, h·w·c]`
 * by default.
 *
 * Element order differs from PyTorch on images: an NHWC tensor flattens as (h, w, c) with the
 * channel fastest, while PyTorch's NCHW flattens as (c, h, w). The features are the same but in
 * another order, so a `Linear` that follows a `Flatten` cannot take a PyTorch weight unchanged:
 * its rows must be permuted from (c, h, w) to (h, w, c) order when porting.
 */
export class Flatten extends Module<tf.Tensor, tf.Tensor> {
  /** First merged axis, as given. */
  readonly startDim: number;
  /** Last merged axis, as given. */
  readonly endDim: number;

  /** @param options - the range of axes to merge. */
  constructor(options: FlattenOptions = {}) {
    super();
    this.startDim = options.startDim ?? 1;
    this.endDim = options.endDim ?? -1;
    for (const [name, v] of [['startDim', this.startDim], ['endDim', this.endDim]] as const) {
      if (!Number.isInteger(v)) throw new ValueError(`Flatten: ${name} must be an integer, but got ${v}.`);
    }
  }

  /** Returns `x` with axes `startDim..endDim` merged. */
  forward(x: tf.Tensor): tf.Tensor {
    const rank = Math.max(x.rank, 1);
    const start = this.startDim < 0 ? this.startDim + rank : this.startDim;
    const end = this.endDim < 0 ? this.endDim + rank : this.endDim;
    if (start < 0 || start >= rank || end < 0 || end >= rank) {
      throw new ShapeError(
        `Flatten: startDim ${this.startDim} and endDim ${this.endDim} must be axes of the input, ` +
          `which has rank ${x.rank} (shape ${formatShape(x.shape)}).`,
      );
    }
    if (start > end) {
      throw new ValueError(
        `Flatten: startDim (${this.startDim}, axis ${start}) cannot come after endDim (${this.endDim}, axis ${end}) ` +
          `for an input of rank ${x.rank}.`,
      );
    }
    const shape = x.rank === 0 ? [1] : x.shape;
    const merged = shape.slice(start, end + 1).reduce((a, b) => a * b, 1);
    return tf.reshape(x, [...shape.slice(0, start), merged, ...shape.slice(end + 1)]);
  }

  /** PyTorch-style summary, e.g. `startDim=1, endDim=-1`. */
  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}
