// Internal helpers of the transforms (not exported from the package).
import { ValueError } from '../../core/errors.js';
import type { ImageArray, PixelArray, Sample } from '../sample.js';
import type { BoundaryMode } from './transform.js';

/** Checks a probability option. */
export function checkProb(prob: number, name: string): number {
  if (!(prob >= 0 && prob <= 1)) throw new ValueError(`${name}: prob must be in [0, 1], but got ${prob}.`);
  return prob;
}

/** A copy of `sample` with image and mask replaced (an undefined mask is left out, not set to undefined). */
export function withFields(sample: Sample, image: ImageArray, mask: ImageArray | undefined): Sample {
  const out: { image: ImageArray; mask?: ImageArray; label?: number } = { image };
  if (mask !== undefined) out.mask = mask;
  if (sample.label !== undefined) out.label = sample.label;
  return out;
}

/** A zero-filled array of the same type as `like`, of length `n`. */
export function sameType(like: PixelArray, n: number): PixelArray {
  const ctor = like.constructor as new (n: number) => PixelArray;
  return new ctor(n);
}

/**
 * Maps an index that may lie outside `[0, n)` onto the image, per the boundary mode; −1 means
 * "outside, use the constant".
 */
export function boundaryIndex(i: number, n: number, mode: BoundaryMode): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'constant':
      return -1;
    case 'nearest':
      return i < 0 ? 0 : n - 1;
    case 'wrap':
      return ((i % n) + n) % n;
    case 'reflect': {
      const p = 2 * n;
      const j = ((i % p) + p) % p;
      return j < n ? j : p - 1 - j;
    }
    case 'mirror': {
      if (n === 1) return 0;
      const p = 2 * n - 2;
      const j = ((i % p) + p) % p;
      return j < n ? j : p - j;
    }
    default:
      throw new ValueError(`Unknown boundary mode '${String(mode)}'; use 'reflect', 'mirror', 'nearest', 'wrap' or 'constant'.`);
  }
}

/** Normalises a number-or-pair option to a `[rows, cols]` pair. */
export function pair(v: number | readonly [number, number], name: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2) return [v[0], v[1]];
  throw new ValueError(`${name} must be a number or a [rows, cols] pair, but got ${JSON.stringify(v)}.`);
}

/**
 * The `q`-th percentile (0–100) of `values` with linear interpolation between order statistics,
 * numpy's default method.
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 100)) throw new ValueError(`percentile q must be in [0, 100], but got ${q}.`);
  if (values.length === 0) throw new ValueError('percentile of an empty array is undefined.');
  const sorted = Float64Array.from(values).sort();
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The sampled, normalised 1D Gaussian kernel scipy uses (radius `floor(truncate·sigma + 0.5)`). */
export function gaussianKernel1d(sigma: number, truncate = 4): Float64Array {
  if (!(sigma >= 0)) throw new ValueError(`Gaussian sigma must be non-negative, but got ${sigma}.`);
  const radius = Math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  if (sigma === 0) {
    k[radius] = 1;
    return k;
  }
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    k[i + radius] = Math.exp((-0.5 * i * i) / (sigma * sigma));
    sum += k[i + radius];
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}
