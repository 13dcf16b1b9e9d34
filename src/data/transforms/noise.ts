import { ValueError } from '../../core/errors.js';
import { toGenerator } from '../../core/random.js';
import type { ImageArray } from '../sample.js';
import type { RandomTransformOptions, Transform } from './transform.js';
import { checkProb, withFields } from './util.js';

/** Options of {@link gaussianNoise} (MONAI `RandGaussianNoise`). */
export interface GaussianNoiseOptions extends RandomTransformOptions {
  /** Mean of the noise (default 0). */
  mean?: number;
  /** Standard deviation of the noise (default 0.1). */
  std?: number;
}

/**
 * With probability `prob`, adds i.i.d. N(mean, std²) noise to every image value (the mask is
 * untouched), as MONAI's `RandGaussianNoise` with a fixed `std`. Output is float32.
 */
export function gaussianNoise(options: GaussianNoiseOptions = {}): Transform {
  const prob = checkProb(options.prob ?? 0.1, 'gaussianNoise');
  const mean = options.mean ?? 0;
  const std = options.std ?? 0.1;
  if (!(std >= 0)) throw new ValueError(`gaussianNoise std must be non-negative, but got ${std}.`);
  const g = toGenerator(options.seed);
  return (s) => {
    if (!(g.random() < prob)) return s;
    const noise = g.normalArray(s.image.data.length, mean, std);
    for (let i = 0; i < noise.length; i++) noise[i] += s.image.data[i];
    return withFields(s, { data: noise, shape: s.image.shape }, s.mask);
  };
}

/** MONAI's contrast curve: rescale to [0, 1] by the image's own range, raise to `gamma`, scale back. */
function gammaCurve(img: ImageArray, gamma: number): ImageArray {
  const d = img.data;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < d.length; i++) {
    if (d[i] < lo) lo = d[i];
    if (d[i] > hi) hi = d[i];
  }
  const range = hi - lo;
  const out = new Float32Array(d.length);
  const eps = 1e-7;
  for (let i = 0; i < d.length; i++) out[i] = ((d[i] - lo) / (range + eps)) ** gamma * range + lo;
  return { data: out, shape: img.shape };
}

/** Options of {@link adjustGamma} (MONAI `AdjustContrast`). */
export interface AdjustGammaOptions {
  /** The exponent: below 1 brightens mid-tones, above 1 darkens them. */
  gamma: number;
}

/**
 * Gamma contrast change that keeps the image's min and max:
 * `((x − min) / (max − min + 1e-7))^gamma · (max − min) + min`, as MONAI's `AdjustContrast`.
 */
export function adjustGamma(options: AdjustGammaOptions): Transform {
  const { gamma } = options;
  if (!(gamma > 0)) throw new ValueError(`adjustGamma gamma must be positive, but got ${gamma}.`);
  return (s) => withFields(s, gammaCurve(s.image, gamma), s.mask);
}

/** Options of {@link randomGamma} (MONAI `RandAdjustContrast`). */
export interface RandomGammaOptions extends RandomTransformOptions {
  /** Range `[low, high]` gamma is drawn from uniformly; a number `g` means `[0.5, g]` (default `[0.5, 4.5]`). */
  gamma?: number | readonly [number, number];
}

/** With probability `prob`, applies {@link adjustGamma} with a gamma drawn from the range, as MONAI's `RandAdjustContrast`. */
export function randomGamma(options: RandomGammaOptions = {}): Transform {
  const prob = checkProb(options.prob ?? 0.1, 'randomGamma');
  const gamma = options.gamma ?? [0.5, 4.5];
  let range: [number, number];
  if (typeof gamma === 'number') {
    if (!(gamma > 0.5)) throw new ValueError(`randomGamma: a single gamma g means the range [0.5, g], so g must exceed 0.5, but got ${gamma}.`);
    range = [0.5, gamma];
  } else {
    range = [gamma[0], gamma[1]];
  }
  if (!(range[0] > 0 && range[1] >= range[0])) {
    throw new ValueError(`randomGamma needs 0 < low ≤ high, but got [${range.join(', ')}].`);
  }
  const g = toGenerator(options.seed);
  return (s) => {
    if (!(g.random() < prob)) return s;
    const value = range[0] + (range[1] - range[0]) * g.random();
    return withFields(s, gammaCurve(s.image, value), s.mask);
  };
}
