import type { Tensor } from '@tensorflow/tfjs-core';

/**
 * A dense, row-major, contiguous array with its shape, e.g. `{ data: Float32Array, shape: [2, 64, 64, 1] }`.
 * Lets metrics run on values already read back from a tensor (or produced by another library)
 * without building a tensor first. An `ndarray` object is accepted only when it is contiguous
 * row-major with offset 0, because only `data` and `shape` are read.
 */
export interface NdArrayLike {
  /** The values in row-major (C) order; `data.length` must equal the product of `shape`. */
  readonly data: ArrayLike<number>;
  /** The dimensions, outermost first (batch first for every metric). */
  readonly shape: readonly number[];
}

/**
 * What every metric accepts: a `tf.Tensor` (read back with `dataSync`, so it is not disposed and
 * stays owned by the caller) or a plain {@link NdArrayLike}.
 */
export type MetricInput = Tensor | NdArrayLike;

/** Options shared by every segmentation metric that takes one-hot masks or label maps. */
export interface SegmentationInputOptions {
  /**
   * When set, inputs may be label maps (`[B, H, W]`, `[B, H, W, 1]` or `[B, D, H, W, 1]`) holding
   * integer class indices in `[0, numClasses)`; they are one-hot encoded to `numClasses` channels.
   * An input whose last axis already equals `numClasses` (> 1) is taken as one-hot. Without it,
   * inputs must be binarised one-hot masks `[B, H, W, C]` (or `[B, D, H, W, C]`).
   */
  numClasses?: number;
}

