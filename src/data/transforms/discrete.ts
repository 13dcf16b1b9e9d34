import { ShapeError, ValueError } from '../../core/errors.js';
import type { ImageArray, Sample } from '../sample.js';
import type { Transform } from './transform.js';
import { withFields } from './util.js';

/** Which field of a sample a transform acts on. */
export type SampleKey = 'image' | 'mask';

function onKey(name: string, key: SampleKey, fn: (img: ImageArray) => ImageArray): Transform {
  if (key !== 'image' && key !== 'mask') throw new ValueError(`${name}: key must be 'image' or 'mask', but got '${String(key)}'.`);
  return (s: Sample) => {
    if (key === 'image') return withFields(s, fn(s.image), s.mask);
    if (!s.mask) throw new ValueError(`${name}: the sample has no mask to act on; pass key: 'image' or give the samples masks.`);
    return withFields(s, s.image, fn(s.mask));
  };
}

/** Options of {@link binarize}. */
export interface BinarizeOptions {
  /** Values `>= threshold` become 1, others 0 (default 0.5, as MONAI's `AsDiscrete(threshold=0.5)`). */
  threshold?: number;
  /** The field to binarize (default `'mask'`, e.g. to turn a resampled or soft mask into 0/1). */
  key?: SampleKey;
}

/** Thresholds to 0/1 (uint8 for masks, float32 for images), as MONAI's `AsDiscrete(threshold=…)`. */
export function binarize(options: BinarizeOptions = {}): Transform {
  const threshold = options.threshold ?? 0.5;
  const key = options.key ?? 'mask';
  return onKey('binarize', key, (img) => {
    const out = key === 'mask' ? new Uint8Array(img.data.length) : new Float32Array(img.data.length);
    for (let i = 0; i < out.length; i++) out[i] = img.data[i] >= threshold ? 1 : 0;
    return { data: out, shape: img.shape };
  });
}

/** Options of {@link thresholdIntensity} (MONAI `ThresholdIntensity`). */
export interface ThresholdIntensityOptions {
  /** The threshold. */
  threshold: number;
  /** Keep values above the threshold (default true) or below it (false). */
  above?: boolean;
  /** Value given to the others (default 0). */
  cval?: number;
}

/**
 * Keeps image values above (or below) `threshold` and sets the rest to `cval`, as MONAI's
 * `ThresholdIntensity`: e.g. suppress background noise without rescaling tissue.
 */
export function thresholdIntensity(options: ThresholdIntensityOptions): Transform {
  const { threshold, above = true, cval = 0 } = options;
  if (!Number.isFinite(threshold)) throw new ValueError(`thresholdIntensity threshold must be finite, but got ${threshold}.`);
  return onKey('thresholdIntensity', 'image', (img) => {
    const out = new Float32Array(img.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = img.data[i];
      out[i] = (above ? v > threshold : v < threshold) ? v : cval;
    }
    return { data: out, shape: img.shape };
  });
}

/** Options of {@link oneHot}. */
export interface OneHotOptions {
  /** Number of classes; values must be integers in `[0, numClasses)`. */
  numClasses: number;
  /** The field to encode (default `'mask'`). */
  key?: SampleKey;
}

/**
 * Turns a one-channel label map into `numClasses` 0/1 channels (`[H, W, 1]` → `[H, W, numClasses]`,
 * uint8), as MONAI's `AsDiscrete(to_onehot=n)`; what multi-class Dice losses expect.
 */
export function oneHot(options: OneHotOptions): Transform {
  const { numClasses, key = 'mask' } = options;
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new ValueError(`oneHot numClasses must be a positive integer, but got ${numClasses}.`);
  return onKey('oneHot', key, (img) => {
    const [h, w, c] = img.shape;
    if (c !== 1) throw new ShapeError(`oneHot expects a one-channel label map, but the ${key} has ${c} channels (shape [${h}, ${w}, ${c}]).`);
    const out = new Uint8Array(h * w * numClasses);
    for (let i = 0; i < h * w; i++) {
      const v = img.data[i];
      if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
        throw new ValueError(`oneHot: pixel ${i} has label ${v}, outside 0 … ${numClasses - 1}. Check numClasses or binarize the mask first.`);
      }
      out[i * numClasses + v] = 1;
    }
    return { data: out, shape: [h, w, numClasses] };
  });
}
