import { ValueError } from '../core/errors.js';
import { readInput } from './input.js';
import { resolveSpacing, squaredDistanceToFeatures } from './lower-envelope.js';
import type { MetricInput } from './types.js';

/** Options of {@link distanceTransformEdt}. */
export interface DistanceTransformOptions {
  /**
   * Pixel spacing along each axis (scipy's `sampling`): one number for all axes, or one per axis,
   * outermost first (e.g. `[rowSpacing, colSpacing]` in mm). Default 1.
   */
  sampling?: number | readonly number[];
}

/**
 * Exact Euclidean distance transform, as `scipy.ndimage.distance_transform_edt(input, sampling)`:
 * every non-zero element gets its distance to the nearest zero element, zeros get 0. Runs on CPU
 * in O(n) (Felzenszwalb–Huttenlocher lower envelope, one pass per axis), any rank.
 *
 * @param input - an array of any rank (no batch axis is assumed), e.g. a `[H, W]` mask.
 * @returns distances as a `Float64Array` in the same row-major layout as `input`. Where the input
 *   has no zero at all the distance is undefined; those elements are `Infinity` (scipy returns
 *   arbitrary large values there).
 */
export function distanceTransformEdt(input: MetricInput, options: DistanceTransformOptions = {}): Float64Array {
  const { data, shape } = readInput(input, 'distanceTransformEdt input');
  const spacing = resolveSpacing(options.sampling, shape.length, 'distanceTransformEdt');
  const sq = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (Number.isNaN(x)) {
      throw new ValueError(`distanceTransformEdt input contains NaN at flat index ${i}; zeros mark the features, NaN is neither.`);
    }
    sq[i] = x === 0 ? 0 : Infinity;
  }
  squaredDistanceToFeatures(sq, shape, spacing);
  for (let i = 0; i < sq.length; i++) sq[i] = Math.sqrt(sq[i]);
  return sq;
}
