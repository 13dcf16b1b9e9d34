import { ValueError } from '../core/errors.js';
import { checkReduction, extractChannel, prepareSegmentation } from './input.js';
import { resolveSpacing, squaredDistanceToFeatures } from './lower-envelope.js';
import { reduceMetric, type MetricReduction, type ReducedMetric } from './reduction.js';
import type { MetricInput, SegmentationInputOptions } from './types.js';

/** Options shared by the surface-distance metrics. */
export interface SurfaceDistanceOptions<R extends MetricReduction = 'mean'> extends SegmentationInputOptions {
  /** Keep channel 0 (the background). MONAI default `false`; ignored for single-channel masks. */
  includeBackground?: boolean;
  /**
   * Pixel spacing per spatial axis, outermost first (`[rowSpacing, colSpacing]`, or
   * `[depth, row, col]` for volumes), or one number for all. Distances come out in these units.
   * Default 1 (pixels).
   */
  spacing?: number | readonly number[];
  /**
   * Reduction over samples and classes (see {@link MetricReduction}); default `'mean'`, as MONAI's
   * `HausdorffDistanceMetric` / `SurfaceDistanceMetric`. NaN entries (empty masks) are skipped.
   */
  reduction?: R;
}

/** Options of {@link hausdorffDistance}. */
export interface HausdorffDistanceOptions<R extends MetricReduction = 'mean'> extends SurfaceDistanceOptions<R> {
  /**
   * Percentile in [0, 100] of the surface distances to report instead of their maximum (95 gives
   * HD95), interpolated linearly between order statistics as `numpy.percentile`. Default: maximum.
   */
  percentile?: number;
  /** Only the distances from the prediction's surface to the target's. Default `false` (both ways). */
  directed?: boolean;
}

/** Options of {@link averageSurfaceDistance}. */
export interface AverageSurfaceDistanceOptions<R extends MetricReduction = 'mean'> extends SurfaceDistanceOptions<R> {
  /**
   * Average the distances of both surfaces to each other (pooled), rather than only prediction →
   * target. MONAI default `false`.
   */
  symmetric?: boolean;
}

/**
 * Crops both masks to the bounding box of their union. This changes no result (everything outside
 * the box is background in both, and erosion treats the image border as background too) but makes
 * small structures in large images cheap.
 */
function cropToUnion(a: Uint8Array, b: Uint8Array, shape: readonly number[]): { a: Uint8Array; b: Uint8Array; shape: number[] } {
  const rank = shape.length;
  const lo = shape.map((n) => n);
  const hi = shape.map(() => -1);
  const coord = new Array<number>(rank).fill(0);
  for (let i = 0; i < a.length; i++) {
    if (a[i] | b[i]) {
      for (let d = 0; d < rank; d++) {
        if (coord[d] < lo[d]) lo[d] = coord[d];
        if (coord[d] > hi[d]) hi[d] = coord[d];
      }
    }
    for (let d = rank - 1; d >= 0; d--) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
  const cshape = lo.map((l, d) => hi[d] - l + 1);
  if (cshape.every((n, d) => n === shape[d])) return { a, b, shape: cshape };
  const size = cshape.reduce((x, y) => x * y, 1);
  const ca = new Uint8Array(size);
  const cb = new Uint8Array(size);
  const strides = new Array<number>(rank);
  let st = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = st;
    st *= shape[d];
  }
  const c = new Array<number>(rank).fill(0);
  for (let i = 0; i < size; i++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += (c[d] + lo[d]) * strides[d];
    ca[i] = a[src];
    cb[i] = b[src];
    for (let d = rank - 1; d >= 0; d--) {
      if (++c[d] < cshape[d]) break;
      c[d] = 0;
    }
  }
  return { a: ca, b: cb, shape: cshape };
}

/**
 * Surface voxels of a binary mask: the mask XOR its binary erosion with the cross-shaped
 * (face-connected) structuring element and a background border, as MONAI's `get_mask_edges`
 * (scipy's `binary_erosion` defaults). A foreground voxel is on the surface when any face
 * neighbour is background or lies outside the image.
 */
function maskEdges(mask: Uint8Array, shape: readonly number[]): Uint8Array {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let st = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = st;
    st *= shape[d];
  }
  const edges = new Uint8Array(mask.length);
  const coord = new Array<number>(rank).fill(0);
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) {
      let edge = false;
      for (let d = 0; d < rank && !edge; d++) {
        const x = coord[d];
        if (x === 0 || x === shape[d] - 1 || !mask[i - strides[d]] || !mask[i + strides[d]]) edge = true;
      }
      if (edge) edges[i] = 1;
    }
    for (let d = rank - 1; d >= 0; d--) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
  return edges;
}

/** Distances from every `from` surface voxel to the nearest `to` surface voxel. */
function directedDistances(from: Uint8Array, to: Uint8Array, shape: readonly number[], spacing: readonly number[]): Float64Array {
  const sq = new Float64Array(to.length);
  let count = 0;
  for (let i = 0; i < to.length; i++) {
    sq[i] = to[i] ? 0 : Infinity;
    count += from[i];
  }
  squaredDistanceToFeatures(sq, shape, spacing);
  const out = new Float64Array(count);
  for (let i = 0, k = 0; i < from.length; i++) if (from[i]) out[k++] = Math.sqrt(sq[i]);
  return out;
}

/** Linear-interpolation percentile of the values, as `numpy.percentile(x, q)` (default method). */
function percentileOf(values: Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function maxOf(values: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return m;
}

/**
 * Runs `perPair` on the surface distances of every sample and reported class; a pair where the
 * prediction or the target is empty gets NaN without calling it.
 */
function surfaceMetricTable(
  pred: MetricInput,
  target: MetricInput,
  options: SurfaceDistanceOptions<MetricReduction>,
  fn: string,
  symmetric: boolean,
  perPair: (distances: Float64Array[]) => number,
): number[][] {
  const pair = prepareSegmentation(pred, target, { numClasses: options.numClasses, includeBackground: options.includeBackground ?? false }, fn);
  if (pair.spatial.length < 1) throw new ValueError(`${fn} needs at least one spatial axis.`);
  const spacing = resolveSpacing(options.spacing, pair.spatial.length, fn);
  const table: number[][] = [];
  for (let b = 0; b < pair.batch; b++) {
    const row: number[] = [];
    for (const c of pair.classes) {
      const p = extractChannel(pair.pred, pair, b, c);
      const t = extractChannel(pair.target, pair, b, c);
      if (!p.includes(1) || !t.includes(1)) {
        row.push(NaN);
        continue;
      }
      const crop = cropToUnion(p, t, pair.spatial);
      const ep = maskEdges(crop.a, crop.shape);
      const et = maskEdges(crop.b, crop.shape);
      const dists = [directedDistances(ep, et, crop.shape, spacing)];
      if (symmetric) dists.push(directedDistances(et, ep, crop.shape, spacing));
      row.push(perPair(dists));
    }
    table.push(row);
  }
  return table;
}

/**
 * Hausdorff distance between the surfaces of prediction and target, per sample and class, as
 * MONAI's `compute_hausdorff_distance` (Euclidean): surfaces are the masks XOR their erosion;
 * each direction's distances are summarised by their maximum (or `percentile`), and the larger of
 * the two directions is reported (only prediction → target when `directed`).
 *
 * An empty prediction or an empty target gives NaN (skipped by the reduction). This is medvae's
 * choice and differs from MONAI: MONAI 1.4 and 1.5 return inf (with a warning) when exactly one of
 * prediction and target is empty — an empty prediction included — and nan only when both are.
 * medvae reports NaN because a distance to a surface that does not exist is undefined, not
 * infinitely bad, and an inf would turn every mean into inf. Count such cases separately (e.g.
 * with {@link computeDice} and `ignoreEmpty: false`).
 *
 * @param pred - binarised prediction, one-hot `[B, H, W, C]` (or `[B, D, H, W, C]`), or a label map with `numClasses`.
 * @param target - ground truth, same form.
 * @returns by `reduction` (default `'mean'`: one number); `'none'` gives `[B][C]` (`number[][]`),
 *   see {@link MetricReduction}. Distances are in `spacing` units.
 */
export function hausdorffDistance<R extends MetricReduction = 'mean'>(
  pred: MetricInput,
  target: MetricInput,
  options: HausdorffDistanceOptions<R> = {},
): ReducedMetric<R> {
  const reduction = (options.reduction ?? 'mean') as R;
  checkReduction(reduction, undefined, 'hausdorffDistance');
  const { percentile } = options;
  if (percentile !== undefined && !(percentile >= 0 && percentile <= 100)) {
    throw new ValueError(`hausdorffDistance: percentile must be in [0, 100], but got ${percentile}.`);
  }
  const table = surfaceMetricTable(pred, target, options, 'hausdorffDistance', !options.directed, (dists) =>
    Math.max(...dists.map((d) => (percentile === undefined ? maxOf(d) : percentileOf(d, percentile)))),
  );
  return reduceMetric(table, reduction);
}

/**
 * The 95th-percentile Hausdorff distance (HD95): {@link hausdorffDistance} with `percentile: 95`,
 * which is robust to a few stray voxels that would dominate the maximum.
 */
export function hausdorffDistance95<R extends MetricReduction = 'mean'>(
  pred: MetricInput,
  target: MetricInput,
  options: Omit<HausdorffDistanceOptions<R>, 'percentile'> = {},
): ReducedMetric<R> {
  return hausdorffDistance(pred, target, { ...options, percentile: 95 });
}

/**
 * Average surface distance per sample and class, as MONAI's `compute_average_surface_distance`
 * (Euclidean): the mean distance from each prediction surface voxel to the target surface, or,
 * with `symmetric`, the mean over both directions' distances pooled together.
 *
 * An empty prediction or target gives NaN, for the reasons given at {@link hausdorffDistance}
 * (MONAI 1.4/1.5 give inf when exactly one of them is empty).
 *
 * @returns by `reduction` (default `'mean'`: one number); `'none'` gives `[B][C]`, see {@link MetricReduction}.
 */
export function averageSurfaceDistance<R extends MetricReduction = 'mean'>(
  pred: MetricInput,
  target: MetricInput,
  options: AverageSurfaceDistanceOptions<R> = {},
): ReducedMetric<R> {
  const reduction = (options.reduction ?? 'mean') as R;
  checkReduction(reduction, undefined, 'averageSurfaceDistance');
  const table = surfaceMetricTable(pred, target, options, 'averageSurfaceDistance', options.symmetric ?? false, (dists) => {
    let s = 0;
    let n = 0;
    for (const d of dists) {
      for (let i = 0; i < d.length; i++) s += d[i];
      n += d.length;
    }
    return s / n;
  });
  return reduceMetric(table, reduction);
}
