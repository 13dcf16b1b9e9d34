import { ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { checkReduction, readImagePair } from './input.js';
import { reduceImageMetric, type ImageReduction, type ReducedImageMetric } from './reduction.js';
import type { MetricInput } from './types.js';

/** Options of {@link ssim}; names and defaults as MONAI's `SSIMMetric`. */
export interface SsimOptions<R extends ImageReduction = 'mean'> {
  /** Value range of the images (max − min possible value); sets the stabilisers c1, c2. Default 1. */
  dataRange?: number;
  /** Window size, one number or `[height, width]`. Default 11. */
  kernelSize?: number | readonly [number, number];
  /** Standard deviation of the Gaussian window, one number or `[height, width]`. Default 1.5. */
  kernelSigma?: number | readonly [number, number];
  /** Luminance stabiliser factor: c1 = (k1·dataRange)². Default 0.01. */
  k1?: number;
  /** Contrast stabiliser factor: c2 = (k2·dataRange)². Default 0.03. */
  k2?: number;
  /** `'gaussian'` (default) or `'uniform'` (box) window. */
  kernelType?: 'gaussian' | 'uniform';
  /** Reduction over the batch (see {@link ImageReduction}); default `'mean'` as MONAI. */
  reduction?: R;
}

function pair(v: number | readonly [number, number], name: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (typeof v !== 'number' && v.length !== 2) throw new ValueError(`ssim: ${name} must be a number or [height, width], but got [${v.join(', ')}].`);
  return p;
}

/** Normalised 1-D window of MONAI: Gaussian samples at offsets (1 − k)/2 … (k − 1)/2, or a box. */
function window1d(size: number, sigma: number, type: 'gaussian' | 'uniform'): Float64Array {
  const w = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = (1 - size) / 2 + i;
    w[i] = type === 'gaussian' ? Math.exp(-((x / sigma) ** 2) / 2) : 1;
    sum += w[i];
  }
  for (let i = 0; i < size; i++) w[i] /= sum;
  return w;
}

/**
 * Valid-mode separable filtering of one channel: rows with `wy`, then columns with `wx`.
 * `src` is read with a stride (the channel count) so channels need not be copied out.
 */
function filterValid(
  src: (i: number) => number, h: number, w: number, wy: Float64Array, wx: Float64Array, tmp: Float64Array, out: Float64Array,
): void {
  const oh = h - wy.length + 1;
  const ow = w - wx.length + 1;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = 0; k < wy.length; k++) s += wy[k] * src((y + k) * w + x);
      tmp[y * w + x] = s;
    }
  }
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < wx.length; k++) s += wx[k] * tmp[y * w + x + k];
      out[y * ow + x] = s;
    }
  }
}

/**
 * Structural similarity per image, as MONAI's `SSIMMetric` (2-D): local means, variances and
 * covariance under a Gaussian (or box) window give the SSIM map
 * `((2μxμy + c1)(2σxy + c2)) / ((μx² + μy² + c1)(σx² + σy² + c2))` over the valid region (no
 * padding, so borders do not mix in zeros); the image's SSIM is the mean of that map over all
 * positions and channels.
 *
 * @param pred - images `[B, H, W, C]` (channel-last; H and W at least the window size).
 * @param target - reference images, same shape.
 * @returns one number (default `'mean'` over the batch), or `number[]` per image with `reduction: 'none'`.
 */
export function ssim<R extends ImageReduction = 'mean'>(pred: MetricInput, target: MetricInput, options: SsimOptions<R> = {}): ReducedImageMetric<R> {
  const reduction = (options.reduction ?? 'mean') as R;
  checkReduction(reduction, ['none', 'mean', 'sum'], 'ssim');
  const dataRange = options.dataRange ?? 1;
  const k1 = options.k1 ?? 0.01;
  const k2 = options.k2 ?? 0.03;
  const type = options.kernelType ?? 'gaussian';
  if (type !== 'gaussian' && type !== 'uniform') throw new ValueError(`ssim: kernelType must be 'gaussian' or 'uniform', but got '${type}'.`);
  const [kh, kw] = pair(options.kernelSize ?? 11, 'kernelSize');
  const [sh, sw] = pair(options.kernelSigma ?? 1.5, 'kernelSigma');
  if (![kh, kw].every((k) => Number.isInteger(k) && k >= 1)) throw new ValueError(`ssim: kernelSize must hold positive integers, but got [${kh}, ${kw}].`);
  if (type === 'gaussian' && ![sh, sw].every((s) => Number.isFinite(s) && s > 0)) {
    throw new ValueError(`ssim: kernelSigma must be positive, but got [${sh}, ${sw}].`);
  }
  if (!(Number.isFinite(dataRange) && dataRange > 0)) throw new ValueError(`ssim: dataRange must be positive, but got ${dataRange}.`);
  const { p, t, batch } = readImagePair(pred, target, 'ssim');
  if (p.shape.length !== 4) {
    throw new ShapeError(`ssim takes 2-D images [B, H, W, C] (channel-last), but got shape ${formatShape(p.shape)}.`);
  }
  const [, h, w, ch] = p.shape;
  if (h < kh || w < kw) {
    throw new ShapeError(`ssim: images (${h}×${w}) must be at least as large as the window (${kh}×${kw}). Use a smaller kernelSize.`);
  }
  const c1 = (k1 * dataRange) ** 2;
  const c2 = (k2 * dataRange) ** 2;
  const wy = window1d(kh, sh, type);
  const wx = window1d(kw, sw, type);
  const oh = h - kh + 1;
  const ow = w - kw + 1;
  const tmp = new Float64Array(oh * w);
  const maps = Array.from({ length: 5 }, () => new Float64Array(oh * ow));
  const out: number[] = [];
  const pd = p.data;
  const td = t.data;
  for (let b = 0; b < batch; b++) {
    let total = 0;
    for (let c = 0; c < ch; c++) {
      const base = b * h * w * ch + c;
      const xAt = (i: number): number => pd[base + i * ch];
      const yAt = (i: number): number => td[base + i * ch];
      filterValid(xAt, h, w, wy, wx, tmp, maps[0]);
      filterValid(yAt, h, w, wy, wx, tmp, maps[1]);
      filterValid((i) => xAt(i) * xAt(i), h, w, wy, wx, tmp, maps[2]);
      filterValid((i) => yAt(i) * yAt(i), h, w, wy, wx, tmp, maps[3]);
      filterValid((i) => xAt(i) * yAt(i), h, w, wy, wx, tmp, maps[4]);
      const [mx, my, mxx, myy, mxy] = maps;
      for (let i = 0; i < oh * ow; i++) {
        const sx = mxx[i] - mx[i] * mx[i];
        const sy = myy[i] - my[i] * my[i];
        const sxy = mxy[i] - mx[i] * my[i];
        const cs = (2 * sxy + c2) / (sx + sy + c2);
        total += ((2 * mx[i] * my[i] + c1) / (mx[i] * mx[i] + my[i] * my[i] + c1)) * cs;
      }
    }
    out.push(total / (ch * oh * ow));
  }
  return reduceImageMetric(out, reduction);
}
