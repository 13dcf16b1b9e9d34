import type { Tensor } from '@tensorflow/tfjs-core';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import type { MetricInput, SegmentationInputOptions } from './types.js';

/**
 * Internal helpers shared by the metric files: reading inputs back to CPU, validating them, and
 * one-hot encoding label maps. Not part of the public surface (the barrel does not re-export it).
 */

/** A read-back input: values and shape. */
export interface DenseArray {
  data: ArrayLike<number>;
  shape: number[];
}

function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && typeof (x as Tensor).dataSync === 'function' && Array.isArray((x as Tensor).shape);
}

/** Reads a metric input back to CPU values without copying when it can. */
export function readInput(x: MetricInput, name: string): DenseArray {
  if (isTensor(x)) {
    if (x.isDisposed) {
      throw new ValueError(`${name} is a disposed tensor. Compute the metric before disposing the tensor.`);
    }
    if (x.dtype === 'string' || x.dtype === 'complex64') {
      throw new DTypeError(`${name} must be a numeric tensor (float32, int32 or bool), but got ${x.dtype}.`);
    }
    return { data: x.dataSync() as ArrayLike<number>, shape: x.shape.slice() };
  }
  if (typeof x === 'object' && x !== null && 'data' in x && 'shape' in x) {
    const shape = Array.from(x.shape);
    const size = shape.reduce((a, b) => a * b, 1);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ShapeError(`${name}.shape must hold non-negative integers, but got ${formatShape(shape)}.`);
    }
    if (x.data.length !== size) {
      throw new ShapeError(
        `${name}.data has ${x.data.length} values but its shape ${formatShape(shape)} needs ${size}. ` +
          'Pass a contiguous row-major array whose length matches the shape.',
      );
    }
    return { data: x.data, shape };
  }
  throw new ValueError(`${name} must be a tf.Tensor or an object { data, shape }, but got ${typeof x}.`);
}

/** Throws a {@link ValueError} naming the first NaN or infinite value. */
export function assertFiniteValues(data: ArrayLike<number>, name: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      throw new ValueError(
        `${name} contains ${Number.isNaN(v) ? 'NaN' : v} at flat index ${i}. ` +
          'Metrics need finite values: check the model output (or mask NaNs) before computing the metric.',
      );
    }
  }
}

/** A pair of binary channel-last masks ready for counting, with the classes to report. */
export interface SegmentationPair {
  /** Binary prediction `[B, ...spatial, C]` (0/1), all C classes. */
  pred: Uint8Array;
  /** Binary ground truth, same layout. */
  target: Uint8Array;
  batch: number;
  spatial: number[];
  /** Number of voxels per sample and channel (product of `spatial`). */
  voxels: number;
  /** Total number of channels C. */
  channels: number;
  /** The channel indices reported, in order (all of them, or all but 0). */
  classes: number[];
}

function toBinaryMask(arr: DenseArray, name: string): Uint8Array {
  const { data } = arr;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === 1) out[i] = 1;
    else if (v !== 0) {
      const what = Number.isNaN(v) ? 'NaN' : String(v);
      throw new ValueError(
        `${name} must be binary (0 or 1 everywhere), but has ${what} at flat index ${i}. ` +
          'Threshold probabilities first (e.g. tf.greater(probs, 0.5)) or one-hot encode an argmax; ' +
          'for integer label maps pass { numClasses }.',
      );
    }
  }
  return out;
}

function labelMapToOneHot(arr: DenseArray, numClasses: number, name: string): Uint8Array {
  const { data } = arr;
  const out = new Uint8Array(data.length * numClasses);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      const what = Number.isNaN(v) ? 'NaN' : String(v);
      throw new ValueError(
        `${name} is read as a label map with numClasses = ${numClasses}, so every value must be an integer in ` +
          `[0, ${numClasses - 1}], but has ${what} at flat index ${i}.`,
      );
    }
    out[i * numClasses + v] = 1;
  }
  return out;
}

/** Returns the one-hot `[B, ...spatial, C]` mask and its shape. */
function toOneHot(arr: DenseArray, name: string, numClasses: number | undefined): { mask: Uint8Array; shape: number[] } {
  const { shape } = arr;
  if (numClasses === undefined) {
    if (shape.length !== 4 && shape.length !== 5) {
      throw new ShapeError(
        `${name} must be a binarised one-hot mask [B, H, W, C] (or [B, D, H, W, C]), but got shape ${formatShape(shape)}. ` +
          'For an integer label map pass { numClasses }.',
      );
    }
    return { mask: toBinaryMask(arr, name), shape };
  }
  const last = shape[shape.length - 1];
  if ((shape.length === 4 || shape.length === 5) && last === numClasses && numClasses > 1) {
    return { mask: toBinaryMask(arr, name), shape };
  }
  if (shape.length === 3) {
    return { mask: labelMapToOneHot(arr, numClasses, name), shape: [...shape, numClasses] };
  }
  if ((shape.length === 4 || shape.length === 5) && last === 1) {
    return { mask: labelMapToOneHot(arr, numClasses, name), shape: [...shape.slice(0, -1), numClasses] };
  }
  throw new ShapeError(
    `${name} with numClasses = ${numClasses} must be a label map [B, H, W], [B, H, W, 1] or [B, D, H, W, 1], ` +
      `or a one-hot mask whose last axis is ${numClasses}, but got shape ${formatShape(shape)}.`,
  );
}

/**
 * Reads, validates and one-hot encodes a prediction/target pair, and picks the reported classes.
 * With a single channel `includeBackground: false` is ignored (as MONAI's DiceHelper does), because
 * a binary `[B, H, W, 1]` mask has no background channel to drop.
 */
export function prepareSegmentation(
  pred: MetricInput,
  target: MetricInput,
  options: SegmentationInputOptions & { includeBackground: boolean },
  fn: string,
): SegmentationPair {
  const { numClasses, includeBackground } = options;
  if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses < 1)) {
    throw new ValueError(`${fn}: numClasses must be a positive integer, but got ${numClasses}.`);
  }
  const p = toOneHot(readInput(pred, `${fn} prediction`), `${fn} prediction`, numClasses);
  const t = toOneHot(readInput(target, `${fn} target`), `${fn} target`, numClasses);
  const same = p.shape.length === t.shape.length && p.shape.every((d, i) => d === t.shape[i]);
  if (!same) {
    throw new ShapeError(
      `${fn}: prediction and target must have the same (one-hot) shape, but prediction is ${formatShape(p.shape)} ` +
        `and target is ${formatShape(t.shape)}.`,
    );
  }
  const shape = p.shape;
  const channels = shape[shape.length - 1];
  const spatial = shape.slice(1, -1);
  if (channels < 1 || shape[0] < 1) {
    throw new ShapeError(`${fn}: batch and channel sizes must be at least 1, but got shape ${formatShape(shape)}.`);
  }
  const first = includeBackground || channels === 1 ? 0 : 1;
  const classes: number[] = [];
  for (let c = first; c < channels; c++) classes.push(c);
  return {
    pred: p.mask,
    target: t.mask,
    batch: shape[0],
    spatial,
    voxels: spatial.reduce((a, b) => a * b, 1),
    channels,
    classes,
  };
}

/** Copies channel `c` of sample `b` out of a channel-last mask into a contiguous spatial mask. */
export function extractChannel(mask: Uint8Array, pair: SegmentationPair, b: number, c: number): Uint8Array {
  const { voxels, channels } = pair;
  const out = new Uint8Array(voxels);
  let j = b * voxels * channels + c;
  for (let i = 0; i < voxels; i++, j += channels) out[i] = mask[j];
  return out;
}

/** Per-sample, per-reported-class overlap counts: |P ∩ T|, |P|, |T|, each `[B][C']`. */
export interface OverlapCounts {
  intersection: number[][];
  predSum: number[][];
  targetSum: number[][];
}

/** Counts overlaps of every sample and reported class in one pass over the masks. */
export function overlapCounts(pair: SegmentationPair): OverlapCounts {
  const { batch, voxels, channels, classes } = pair;
  const res: OverlapCounts = { intersection: [], predSum: [], targetSum: [] };
  for (let b = 0; b < batch; b++) {
    const inter = new Float64Array(channels);
    const ps = new Float64Array(channels);
    const ts = new Float64Array(channels);
    let j = b * voxels * channels;
    for (let v = 0; v < voxels; v++) {
      for (let c = 0; c < channels; c++, j++) {
        const p = pair.pred[j];
        const t = pair.target[j];
        inter[c] += p & t;
        ps[c] += p;
        ts[c] += t;
      }
    }
    res.intersection.push(classes.map((c) => inter[c]));
    res.predSum.push(classes.map((c) => ps[c]));
    res.targetSum.push(classes.map((c) => ts[c]));
  }
  return res;
}

/** Reads an image pair, checking equal shapes (batch first), finiteness and a non-empty batch. */
export function readImagePair(pred: MetricInput, target: MetricInput, fn: string): { p: DenseArray; t: DenseArray; batch: number; perImage: number } {
  const p = readInput(pred, `${fn} prediction`);
  const t = readInput(target, `${fn} target`);
  const same = p.shape.length === t.shape.length && p.shape.every((d, i) => d === t.shape[i]);
  if (!same) {
    throw new ShapeError(
      `${fn}: prediction and target must have the same shape, but prediction is ${formatShape(p.shape)} and target is ${formatShape(t.shape)}.`,
    );
  }
  if (p.shape.length < 2 || p.shape[0] < 1) {
    throw new ShapeError(`${fn} needs a batch of images [B, H, W, C] (batch first, B ≥ 1), but got shape ${formatShape(p.shape)}.`);
  }
  assertFiniteValues(p.data, `${fn} prediction`);
  assertFiniteValues(t.data, `${fn} target`);
  const batch = p.shape[0];
  return { p, t, batch, perImage: p.data.length / batch };
}

const REDUCTIONS: readonly string[] = ['none', 'mean', 'sum', 'mean_batch', 'sum_batch', 'mean_channel', 'sum_channel'];

/** Throws a {@link ValueError} unless `r` is a known reduction. */
export function checkReduction(r: string, allowed: readonly string[] = REDUCTIONS, fn = 'metric'): void {
  if (!allowed.includes(r)) {
    throw new ValueError(`${fn}: reduction must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, but got '${r}'.`);
  }
}
