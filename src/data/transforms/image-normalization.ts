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
 * - `{ kind: 'histogram', numBins?, min?, max? }`: `HistogramNormalize` (histogram equalisation):
 *   each value maps through the image's cumulative histogram (`numBins` equal bins between its
 *   minimum and maximum, default 256, interpolated linearly between bin centres), rescaled to
 *   `[min, max]`. MONAI's defaults are `min` 0 and `max` 255, an 8-bit range; here they are 0 and
 *   1, a network's input range;
 * - `'none'`: the values as given.
 *
 * Per-image scaling makes a model indifferent to a global gain (×255 for an 8-bit export) and,
 * for the percentile and z-score kinds, to an offset. Histogram equalisation depends only on the
 * order of the values (up to its binning), so it is also nearly indifferent to any increasing
 * change of contrast, such as a gamma curve or another scanner's transfer function.
 */
export type IntensityNormalization =
  | 'none'
  | { kind: 'percentiles'; lower: number; upper: number; bMin?: number; bMax?: number; clip?: boolean }
  | { kind: 'zscore'; nonzero?: boolean }
  | { kind: 'range'; aMin: number; aMax: number; bMin?: number; bMax?: number; clip?: boolean }
  | { kind: 'histogram'; numBins?: number; min?: number; max?: number };

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Checks a normalisation (it may come from an edited model.json) and returns it unchanged.
 * @throws ValueError naming the field that is wrong.
 */
export function checkIntensityNormalization(spec: unknown, what: string): IntensityNormalization {
  const fail = (problem: string): never => {
    throw new ValueError(
      `${what} intensity ${problem}, but got ${JSON.stringify(spec)}. Use 'none', { kind: 'percentiles', lower: 1, upper: 99 }, { kind: 'zscore' }, { kind: 'range', aMin, aMax } or { kind: 'histogram' }.`,
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
    case 'histogram':
      if (s.numBins !== undefined && !(Number.isInteger(s.numBins) && (s.numBins as number) >= 1)) fail('numBins must be a positive integer');
      for (const k of ['min', 'max']) if (s[k] !== undefined && !finite(s[k])) fail(`${k} must be a finite number`);
      break;
    default:
      fail("kind must be 'percentiles', 'zscore', 'range' or 'histogram'");
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

/** The linear normalisations (every kind but `'histogram'`). */
type LinearNormalization = Exclude<IntensityNormalization, { kind: 'histogram' }>;

/** The map `spec` means for one image's `values`. */
export function intensityMapOf(values: ArrayLike<number>, spec: LinearNormalization): IntensityMap {
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
  if (spec.kind === 'histogram') {
    // A per-value curve, not a linear map: computed on the host and uploaded.
    const data = values ?? images.dataSync();
    const out = new Float32Array(images.size);
    for (let i = 0; i < b; i++) out.set(equalizeHistogram(data.subarray(i * per, (i + 1) * per), spec), i * per);
    return tf.tensor(out, images.shape, 'float32');
  }
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

/**
 * MONAI's `equalize_hist` on one image's `values`: a histogram of `numBins` equal bins over
 * `[min(values), max(values)]` (numpy's binning, the last bin closed), its cumulative counts
 * rescaled to `[min, max]`, and every value mapped through them by linear interpolation between
 * bin centres (values beyond the outer centres take the end values, as `np.interp` does).
 */
export function equalizeHistogram(values: ArrayLike<number>, spec: { numBins?: number; min?: number; max?: number }): Float32Array {
  const numBins = spec.numBins ?? 256;
  const outMin = spec.min ?? 0;
  const outMax = spec.max ?? 1;
  const n = values.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    if (values[i] < lo) lo = values[i];
    if (values[i] > hi) hi = values[i];
  }
  // numpy widens an empty range to ±0.5 around the value.
  if (lo === hi) { lo -= 0.5; hi += 0.5; }
  // The bin edges and centres, once: every value is compared against them.
  const edges = Float64Array.from({ length: numBins + 1 }, (_, k) => (k === numBins ? hi : lo + (k * (hi - lo)) / numBins));
  const centres = Float64Array.from({ length: numBins }, (_, k) => (edges[k] + edges[k + 1]) / 2);
  const counts = new Float64Array(numBins);
  const norm = numBins / (hi - lo);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    let k = Math.min(Math.floor((v - lo) * norm), numBins - 1);
    // Rounding can put a value one bin off its edges; numpy corrects it the same way.
    if (v < edges[k]) k--;
    else if (k !== numBins - 1 && v >= edges[k + 1]) k++;
    counts[k]++;
  }
  const cum = new Float64Array(numBins);
  for (let k = 0, run = 0; k < numBins; k++) cum[k] = run += counts[k];
  // MONAI's rescale_array: min-max to [outMin, outMax]; a flat cumulative histogram becomes cum·outMin.
  const cMin = cum[0];
  const cMax = cum[numBins - 1];
  for (let k = 0; k < numBins; k++) cum[k] = cMax === cMin ? cum[k] * outMin : ((cum[k] - cMin) / (cMax - cMin)) * (outMax - outMin) + outMin;
  const first = centres[0];
  const last = centres[numBins - 1];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!(v > first)) { out[i] = cum[0]; continue; }
    if (v >= last) { out[i] = cum[numBins - 1]; continue; }
    // Centres are evenly spaced; step back or forward when rounding lands beside the right pair.
    let k = Math.min(Math.floor((v - first) * norm), numBins - 2);
    while (k > 0 && v < centres[k]) k--;
    while (k < numBins - 2 && v >= centres[k + 1]) k++;
    const t = (v - centres[k]) / (centres[k + 1] - centres[k]);
    out[i] = cum[k] + t * (cum[k + 1] - cum[k]);
  }
  return out;
}
