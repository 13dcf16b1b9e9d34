import { ValueError } from '../../core/errors.js';
import type { SeedLike } from '../../core/random.js';
import type { ImageArray, Sample } from '../sample.js';

/**
 * A data transform: a function from one {@link Sample} to a new one. Transforms never modify their
 * input (datasets may hand out views of shared memory). Geometric transforms move the image and its
 * mask together; intensity transforms touch only the image.
 *
 * Random transforms are made by factories that take a `seed` (a number or a `Generator`); the
 * factory keeps its own generator, so calling the transform again continues that stream, and two
 * pipelines built with the same seeds produce the same augmentations.
 */
export type Transform = (sample: Sample) => Sample;

/** Options shared by every random transform. */
export interface RandomTransformOptions {
  /** Probability that the transform is applied to a sample (MONAI's `prob`; default 0.1 as in MONAI). */
  prob?: number;
  /** Seed or generator of the transform's randomness (default: the global generator). */
  seed?: SeedLike;
}

/**
 * Chains transforms left to right, as MONAI's / torchvision's `Compose`.
 *
 * @example
 * ```ts
 * const augment = compose([
 *   scaleIntensity(),
 *   randomFlip({ prob: 0.5, spatialAxis: 1, seed: 1 }),
 *   randomAffine({ prob: 0.5, rotateRange: 0.2, seed: 2 }),
 * ]);
 * const train = new MapDataset(slices, augment);
 * ```
 */
export function compose(transforms: readonly Transform[]): Transform {
  for (let i = 0; i < transforms.length; i++) {
    if (typeof transforms[i] !== 'function') {
      throw new ValueError(`compose: element ${i} is not a transform function (got ${typeof transforms[i]}).`);
    }
  }
  const list = transforms.slice();
  return (sample) => list.reduce((s, t) => t(s), sample);
}

/** Applies a transform to a lone image (no mask), e.g. at inference time. */
export function applyToImage(transform: Transform, image: ImageArray): ImageArray {
  return transform({ image }).image;
}

/**
 * How values beyond the image edge are made up, with scipy.ndimage's names (for `abcd`):
 * `'reflect'` (d c b a | a b c d | d c b a, the edge pixel repeated), `'mirror'`
 * (d c b | a b c d | c b a), `'nearest'` (a a a | a b c d | d d d), `'wrap'` (a b c d | a b c d)
 * and `'constant'` (zeros, or the given value).
 */
export type BoundaryMode = 'reflect' | 'mirror' | 'nearest' | 'wrap' | 'constant';
