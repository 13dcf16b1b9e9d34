import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../../core/errors.js';
import { percentile } from './util.js';

/**
 * An intensity normalisation a model carries with it (saved in its config) and applies to every
 * image it trains on or predicts, per image over all its voxels and channels. Semantics and
 * defaults are MONAI's:
 *
 * - `{ kind: 'percentiles', lower, upper, bMin?, bMax?, clip? }`: `ScaleIntensityRangePercentiles`:
 *   the image's `lower`th and `upper`th percentiles (numpy's linear interpolation) map to `bMin`
 *   (default 0) and `bMax` (default 1), clipped to that range when `clip` (default false);
 * - `{ kind: 'zscore', nonzero? }`: `NormalizeIntensity`: `(x − mean) / std` (population std, 1
 *   when 0); with `nonzero`, statistics come from the non-zero voxels and zeros stay 0;
 * - `{ kind: 'range', aMin, aMax, bMin?, bMax?, clip? }`: `ScaleIntensityRange` with fixed input
 *   bounds (CT windows, or 0…255 for 8-bit exports);
 * - `'none'`: the values as given.
 *
 * Per-image scaling makes a model indifferent to a global gain (×255 for an 8-bit export) and,
 * for the percentile and z-score kinds, to an offset.
 */
export type IntensityNormalization =
  | 'none'
  | { kind: 'percentiles'; lower: number; upper: number; bMin?: number; bMax?: number; clip?: boolean }
  | { kind: 'zscore'; nonzero?: boolean }
  | { kind: 'range'; aMin: number; aMax: number; bMin?: number; bMax?: number; clip?: boolean };

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Checks a normalisation (it may come from an edited model.json) and returns it unchanged.
 * @throws ValueError naming the field that is wrong.
 */
export function checkIntensityNormalization(spec: unknown, what: string): IntensityNormalization {
  const fail = (problem: string): never => {
    throw new ValueError(
      `${what} intensity ${problem}, but got ${JSON.stringify(spec)}. Use 'none', { kind: 'percentiles', lower: 1, upper: 99 }, { kind: 'zscore' } or { kind: 'range', aMin, aMax }.`,
    );
  };
  if (spec === 'none') return spec;
  if (spec === null || typeof spec !== 'object') return fail("must be 'none' or an object with a kind");
  const s = spec as Record<string, unknown>;
  for (const k of ['bMin', 'bMax']) if (s[k] !== undefined && !finite(s[k])) fail(`${k} must be a finite number`);
  if (s.clip !== undefined && typeof s.clip !== 'boolean') fail('clip must be true or false');
  switch (s.kind) {
    case 'percentiles':
      if (!finite(s.lower) || !finite(s.upper) || !(s.lower >= 0 && s.lower <= s.upper && s.upper <= 100)) fail('needs 0 ≤ lower ≤ upper ≤ 100');
      break;
    case 'zscore':
      if (s.nonzero !== undefined && typeof s.nonzero !== 'boolean') fail('nonzero must be true or false');
      break;
    case 'range':
      if (!finite(s.aMin) || !finite(s.aMax)) fail('needs finite aMin and aMax');
      break;
    default:
      fail("kind must be 'percentiles', 'zscore' or 'range'");
  }
  return spec as IntensityNormalization;
}

/** What one image's normalisation is: `v ↦ v·scale + offset`, then clipped to `[lo, hi]` when given; zeros kept when `keepZeros`. */
export interface IntensityMap {
  scale: number;
  offset: number;
  clip?: [number, number];
  keepZeros?: boolean;
}

/** MONAI `ScaleIntensityRange` as a linear map (its degenerate `aMax = aMin` case shifts only). */
function rangeMap(aMin: number, aMax: number, bMin: number, bMax: number, clip: boolean): IntensityMap {
  const k = aMax === aMin ? 1 : (bMax - bMin) / (aMax - aMin);
  return { scale: k, offset: bMin - aMin * k, clip: clip ? [Math.min(bMin, bMax), Math.max(bMin, bMax)] : undefined };
}

/** The map `spec` means for one image's `values`. */
export function intensityMapOf(values: ArrayLike<number>, spec: IntensityNormalization): IntensityMap {
  if (spec === 'none') return { scale: 1, offset: 0 };
  if (spec.kind === 'range') return rangeMap(spec.aMin, spec.aMax, spec.bMin ?? 0, spec.bMax ?? 1, spec.clip ?? false);
  if (spec.kind === 'percentiles') {
    return rangeMap(percentile(values, spec.lower), percentile(values, spec.upper), spec.bMin ?? 0, spec.bMax ?? 1, spec.clip ?? false);
  }
  const nonzero = spec.nonzero ?? false;
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) if (!nonzero || values[i] !== 0) { n++; sum += values[i]; }
  // MONAI returns the image unchanged when no voxel qualifies.
  if (n === 0) return { scale: 1, offset: 0 };
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < values.length; i++) if (!nonzero || values[i] !== 0) sq += (values[i] - mean) ** 2;
  const std = Math.sqrt(sq / n) || 1;
  return { scale: 1 / std, offset: -mean / std, keepZeros: nonzero };
}

/**
 * Normalises each image of a batch `[B, ...spatial, C]` on its own (statistics over all its
 * voxels and channels) and returns a new float32 tensor; `'none'` returns the input itself.
 * The statistics (percentiles, z-score) are computed on the host from `values`, the images'
 * values when the caller has read them already (e.g. asynchronously, as a training step does),
 * else from one synchronous read of `images`.
 */
export function normalizeImages(images: tf.Tensor, spec: IntensityNormalization, values?: tf.TypedArray): tf.Tensor {
  if (spec === 'none') return images;
  const b = images.shape[0] as number;
  const per = images.size / b;
  const maps: IntensityMap[] = [];
  if (spec.kind === 'range') {
    const m = intensityMapOf([], spec);
    for (let i = 0; i < b; i++) maps.push(m);
  } else {
    const data = values ?? images.dataSync();
    for (let i = 0; i < b; i++) maps.push(intensityMapOf(data.subarray(i * per, (i + 1) * per), spec));
  }
  return tf.tidy(() => {
    const bshape = [b, ...images.shape.slice(1).map(() => 1)];
    const x = tf.cast(images, 'float32');
    let y = tf.add(tf.mul(x, tf.tensor(maps.map((m) => m.scale), bshape)), tf.tensor(maps.map((m) => m.offset), bshape));
    const clip = maps[0].clip;
    if (clip) y = tf.clipByValue(y, clip[0], clip[1]);
    if (maps.some((m) => m.keepZeros)) y = tf.where(tf.equal(x, 0), tf.zerosLike(y), y);
    return y;
  });
}
