import { ValueError } from '../../core/errors.js';
import type { ImageArray, Sample } from '../sample.js';
import type { Transform } from './transform.js';
import { percentile, withFields } from './util.js';

/** Runs `fn` on each channel's values (when `channelWise`) or on all values at once. */
function perChannel(img: ImageArray, channelWise: boolean, fn: (values: Float32Array) => Float32Array): ImageArray {
  const [h, w, c] = img.shape;
  if (!channelWise || c === 1) {
    const data = fn(Float32Array.from(img.data));
    return { data, shape: [h, w, c] };
  }
  const n = h * w;
  const out = new Float32Array(n * c);
  const ch = new Float32Array(n);
  for (let k = 0; k < c; k++) {
    for (let i = 0; i < n; i++) ch[i] = img.data[i * c + k];
    const r = fn(ch);
    for (let i = 0; i < n; i++) out[i * c + k] = r[i];
  }
  return { data: out, shape: [h, w, c] };
}

function imageOnly(fn: (img: ImageArray) => ImageArray): Transform {
  return (s: Sample) => withFields(s, fn(s.image), s.mask);
}

/** Options of {@link normalizeIntensity} (MONAI `NormalizeIntensity`). */
export interface NormalizeIntensityOptions {
  /** Value to subtract (default: the mean). */
  subtrahend?: number;
  /** Value to divide by (default: the standard deviation, population form; 1 when it is 0). */
  divisor?: number;
  /** Use and change only non-zero pixels, leaving background at 0 (default false). */
  nonzero?: boolean;
  /** Normalise each channel on its own (default false: one mean/std over all channels). */
  channelWise?: boolean;
}

/**
 * Z-score normalisation, `(x − mean) / std`, as MONAI's `NormalizeIntensity`. With `nonzero`,
 * statistics come from the non-zero pixels only and zeros stay zero, the usual choice for
 * skull-stripped MRI whose background would otherwise dominate the mean.
 */
export function normalizeIntensity(options: NormalizeIntensityOptions = {}): Transform {
  const { subtrahend, divisor, nonzero = false, channelWise = false } = options;
  return imageOnly((img) =>
    perChannel(img, channelWise, (v) => {
      let count = 0;
      let sum = 0;
      for (let i = 0; i < v.length; i++) {
        if (nonzero && v[i] === 0) continue;
        sum += v[i];
        count++;
      }
      if (count === 0) return v;
      const mean = sum / count;
      let sq = 0;
      for (let i = 0; i < v.length; i++) {
        if (nonzero && v[i] === 0) continue;
        sq += (v[i] - mean) ** 2;
      }
      let std = Math.sqrt(sq / count);
      if (std === 0) std = 1;
      const sub = subtrahend ?? mean;
      const div = divisor ?? std;
      const out = new Float32Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = nonzero && v[i] === 0 ? 0 : (v[i] - sub) / div;
      return out;
    }),
  );
}

/** Options of {@link scaleIntensity} (MONAI `ScaleIntensity`). */
export interface ScaleIntensityOptions {
  /** Output minimum (default 0). */
  minv?: number;
  /** Output maximum (default 1). */
  maxv?: number;
  /** Scale each channel on its own (default false). */
  channelWise?: boolean;
}

/**
 * Min–max scaling to `[minv, maxv]`, as MONAI's `ScaleIntensity`. A constant image becomes
 * `x · minv` (MONAI's choice, so an all-zero image stays zero).
 */
export function scaleIntensity(options: ScaleIntensityOptions = {}): Transform {
  const { minv = 0, maxv = 1, channelWise = false } = options;
  return imageOnly((img) =>
    perChannel(img, channelWise, (v) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < v.length; i++) {
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
      }
      const out = new Float32Array(v.length);
      if (hi === lo) {
        for (let i = 0; i < v.length; i++) out[i] = v[i] * minv;
        return out;
      }
      const k = (maxv - minv) / (hi - lo);
      for (let i = 0; i < v.length; i++) out[i] = (v[i] - lo) * k + minv;
      return out;
    }),
  );
}

/** Options of {@link scaleIntensityRange} (MONAI `ScaleIntensityRange`). */
export interface ScaleIntensityRangeOptions {
  /** Input value mapped to `bMin`. */
  aMin: number;
  /** Input value mapped to `bMax`. */
  aMax: number;
  /** Output value of `aMin` (default 0). */
  bMin?: number;
  /** Output value of `aMax` (default 1). */
  bMax?: number;
  /** Clip the output to `[bMin, bMax]` (default false). */
  clip?: boolean;
}

function rangeMap(v: Float32Array, aMin: number, aMax: number, bMin: number, bMax: number, clip: boolean): Float32Array {
  const out = new Float32Array(v.length);
  if (aMax === aMin) {
    // MONAI's fallback for a degenerate input range: shift only.
    for (let i = 0; i < v.length; i++) out[i] = v[i] - aMin + bMin;
  } else {
    const k = (bMax - bMin) / (aMax - aMin);
    for (let i = 0; i < v.length; i++) out[i] = (v[i] - aMin) * k + bMin;
  }
  if (clip) {
    const lo = Math.min(bMin, bMax);
    const hi = Math.max(bMin, bMax);
    for (let i = 0; i < out.length; i++) out[i] = out[i] < lo ? lo : out[i] > hi ? hi : out[i];
  }
  return out;
}

/** Linear map of `[aMin, aMax]` onto `[bMin, bMax]`, as MONAI's `ScaleIntensityRange`. */
export function scaleIntensityRange(options: ScaleIntensityRangeOptions): Transform {
  const { aMin, aMax, bMin = 0, bMax = 1, clip = false } = options;
  if (!Number.isFinite(aMin) || !Number.isFinite(aMax)) {
    throw new ValueError(`scaleIntensityRange needs finite aMin and aMax, but got ${aMin} and ${aMax}.`);
  }
  return imageOnly((img) => perChannel(img, false, (v) => rangeMap(v, aMin, aMax, bMin, bMax, clip)));
}

/** Options of {@link ctWindow}. */
export interface CtWindowOptions {
  /** Window centre (level), e.g. 40 HU for brain, −600 for lung. */
  center: number;
  /** Window width, e.g. 80 HU for brain, 1500 for lung. */
  width: number;
  /** Output value at the window's lower edge (default 0). */
  bMin?: number;
  /** Output value at the window's upper edge (default 1). */
  bMax?: number;
}

/**
 * CT windowing: maps `[center − width/2, center + width/2]` onto `[bMin, bMax]` and clips, as a
 * radiologist's window/level setting does on screen.
 */
export function ctWindow(options: CtWindowOptions): Transform {
  const { center, width, bMin = 0, bMax = 1 } = options;
  if (!(width > 0)) throw new ValueError(`ctWindow width must be positive, but got ${width}.`);
  return scaleIntensityRange({ aMin: center - width / 2, aMax: center + width / 2, bMin, bMax, clip: true });
}

/** Options of {@link scaleIntensityRangePercentiles} (MONAI `ScaleIntensityRangePercentiles`). */
export interface ScaleIntensityRangePercentilesOptions {
  /** Lower percentile (0–100), mapped to `bMin`. */
  lower: number;
  /** Upper percentile (0–100), mapped to `bMax`. */
  upper: number;
  /** Output value at the lower percentile (default 0). */
  bMin?: number;
  /** Output value at the upper percentile (default 1). */
  bMax?: number;
  /** Clip the output to `[bMin, bMax]` (default false, as MONAI). */
  clip?: boolean;
  /**
   * Map to the same percentiles of the output range instead, i.e. `bMin + (bMax − bMin)·lower/100`
   * … `bMin + (bMax − bMin)·upper/100` (default false).
   */
  relative?: boolean;
  /** Use each channel's own percentiles (default false). */
  channelWise?: boolean;
}

/**
 * Robust intensity scaling between two percentiles, as MONAI's `ScaleIntensityRangePercentiles`:
 * bright outliers (vessels, fat, scanner artefacts) no longer compress the tissue range.
 */
export function scaleIntensityRangePercentiles(options: ScaleIntensityRangePercentilesOptions): Transform {
  const { lower, upper, bMin = 0, bMax = 1, clip = false, relative = false, channelWise = false } = options;
  if (!(lower >= 0 && upper <= 100 && lower <= upper)) {
    throw new ValueError(`scaleIntensityRangePercentiles needs 0 ≤ lower ≤ upper ≤ 100, but got lower=${lower}, upper=${upper}.`);
  }
  const outMin = relative ? bMin + ((bMax - bMin) * lower) / 100 : bMin;
  const outMax = relative ? bMin + ((bMax - bMin) * upper) / 100 : bMax;
  return imageOnly((img) =>
    perChannel(img, channelWise, (v) => rangeMap(v, percentile(v, lower), percentile(v, upper), outMin, outMax, clip)),
  );
}
