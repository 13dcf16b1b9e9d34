import { ValueError } from '../core/errors.js';
import { checkReduction, readImagePair } from './input.js';
import { reduceImageMetric, type ImageReduction, type ReducedImageMetric } from './reduction.js';
import type { MetricInput } from './types.js';

/** Options of {@link psnr}. */
export interface PsnrOptions<R extends ImageReduction = 'mean'> {
  /** The largest possible pixel value (1 for images in [0, 1], 255 for 8-bit). MONAI's `max_val`; default 1. */
  maxVal?: number;
  /** Reduction over the batch (see {@link ImageReduction}); default `'mean'` as MONAI's `PSNRMetric`. */
  reduction?: R;
}

/**
 * Peak signal-to-noise ratio per image, as MONAI's `PSNRMetric`:
 * `20·log10(maxVal) − 10·log10(MSE)`, the MSE taken over all pixels and channels of the image.
 * Identical images give `Infinity` (MSE 0), as in MONAI.
 *
 * @param pred - images `[B, ...]` (batch first, e.g. `[B, H, W, C]`).
 * @param target - reference images, same shape.
 * @returns one number (default `'mean'` over the batch), or `number[]` per image with `reduction: 'none'`.
 */
export function psnr<R extends ImageReduction = 'mean'>(pred: MetricInput, target: MetricInput, options: PsnrOptions<R> = {}): ReducedImageMetric<R> {
  const reduction = (options.reduction ?? 'mean') as R;
  checkReduction(reduction, ['none', 'mean', 'sum'], 'psnr');
  const maxVal = options.maxVal ?? 1;
  if (!(Number.isFinite(maxVal) && maxVal > 0)) throw new ValueError(`psnr: maxVal must be positive and finite, but got ${maxVal}.`);
  const { p, t, batch, perImage } = readImagePair(pred, target, 'psnr');
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    let se = 0;
    for (let i = b * perImage, end = i + perImage; i < end; i++) {
      const d = p.data[i] - t.data[i];
      se += d * d;
    }
    out.push(20 * Math.log10(maxVal) - 10 * Math.log10(se / perImage));
  }
  return reduceImageMetric(out, reduction);
}
