import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { assertRank } from '../core/shape.js';

/** Options of {@link slidingWindowInference}, as MONAI's `sliding_window_inference`. */
export interface SlidingWindowOptions {
  /** Window size `[height, width]` the predictor is run on. */
  roiSize: [number, number];
  /** Fraction of overlap between neighbouring windows, in [0, 1). Default 0.25. */
  overlap?: number;
  /** How overlapping window outputs are blended: `'gaussian'` weights window centres more (reduces seams); `'constant'` averages. Default `'constant'` (MONAI's default). */
  mode?: 'constant' | 'gaussian';
  /** Standard deviation of the Gaussian weight as a fraction of the window size. Default 0.125. */
  sigmaScale?: number;
  /** Windows predicted per call. Default 4. */
  swBatchSize?: number;
}

function windowStarts(size: number, roi: number, overlap: number): number[] {
  if (size <= roi) return [0];
  const stride = Math.max(1, Math.floor(roi * (1 - overlap)));
  const starts: number[] = [];
  for (let s = 0; ; s += stride) {
    if (s + roi >= size) {
      starts.push(size - roi);
      break;
    }
    starts.push(s);
  }
  return starts;
}

function blendWeights(roi: [number, number], mode: 'constant' | 'gaussian', sigmaScale: number): tf.Tensor4D {
  if (mode === 'constant') return tf.ones([1, roi[0], roi[1], 1]);
  const axis = (n: number) => {
    const sigma = sigmaScale * n;
    const c = (n - 1) / 2;
    return Float32Array.from({ length: n }, (_, i) => Math.exp(-((i - c) ** 2) / (2 * sigma * sigma)));
  };
  const [wy, wx] = [axis(roi[0]), axis(roi[1])];
  const out = new Float32Array(roi[0] * roi[1]);
  let max = 0;
  for (let y = 0; y < roi[0]; y++) for (let x = 0; x < roi[1]; x++) max = Math.max(max, (out[y * roi[1] + x] = wy[y] * wx[x]));
  // Keep weights away from zero so border pixels covered by a single window are still defined.
  for (let i = 0; i < out.length; i++) out[i] = Math.max(out[i] / max, 1e-3);
  return tf.tensor4d(out, [1, roi[0], roi[1], 1]);
}

/**
 * Runs `predictor` on overlapping `roiSize` windows of NHWC `images` and blends the window outputs
 * into a full-size map, so a network trained on small patches can segment larger images. Images
 * smaller than the window are zero-padded and the result is cropped back.
 *
 * @param images - `[B, H, W, C]`.
 * @param predictor - maps `[n, roiH, roiW, C]` to `[n, roiH, roiW, K]`.
 * @returns `[B, H, W, K]`, the weighted average of the window outputs.
 */
export function slidingWindowInference(images: tf.Tensor, predictor: (windows: tf.Tensor4D) => tf.Tensor, options: SlidingWindowOptions): tf.Tensor4D {
  assertRank(images, 4, 'slidingWindowInference images', 'NHWC');
  const overlap = options.overlap ?? 0.25;
  if (!(overlap >= 0 && overlap < 1)) throw new ValueError(`slidingWindowInference overlap must be in [0, 1), but got ${overlap}.`);
  const [roiH, roiW] = options.roiSize;
  if (!(Number.isInteger(roiH) && Number.isInteger(roiW) && roiH > 0 && roiW > 0)) {
    throw new ValueError(`slidingWindowInference roiSize must be two positive integers, but got [${options.roiSize.join(', ')}].`);
  }
  const swBatch = options.swBatchSize ?? 4;
  return tf.tidy(() => {
    const [b, h, w, c] = images.shape as number[];
    const ph = Math.max(roiH, h);
    const pw = Math.max(roiW, w);
    const padded = ph > h || pw > w ? tf.pad(images, [[0, 0], [0, ph - h], [0, pw - w], [0, 0]]) : images;
    const weight = blendWeights([roiH, roiW], options.mode ?? 'constant', options.sigmaScale ?? 0.125);
    const boxes: [number, number][] = [];
    for (const y of windowStarts(ph, roiH, overlap)) for (const x of windowStarts(pw, roiW, overlap)) boxes.push([y, x]);
    let acc: tf.Tensor | null = null;
    let norm: tf.Tensor | null = null;
    for (let i = 0; i < boxes.length; i += swBatch) {
      const group = boxes.slice(i, i + swBatch);
      // Windows of every image in the batch, window-major: [group.length * b, roiH, roiW, c].
      const windows = tf.concat(group.map(([y, x]) => tf.slice(padded, [0, y, x, 0], [b, roiH, roiW, c])), 0) as tf.Tensor4D;
      const out = predictor(windows);
      const k = out.shape[3] as number;
      group.forEach(([y, x], j) => {
        const piece = tf.mul(tf.slice(out, [j * b, 0, 0, 0], [b, roiH, roiW, k]), weight);
        const pads: [number, number][] = [[0, 0], [y, ph - y - roiH], [x, pw - x - roiW], [0, 0]];
        const placed = tf.pad(piece, pads);
        const placedW = tf.pad(weight, pads);
        const nextAcc: tf.Tensor = acc ? tf.add(acc, placed) : placed;
        const nextNorm: tf.Tensor = norm ? tf.add(norm, placedW) : placedW;
        if (acc) acc.dispose();
        if (norm) norm.dispose();
        acc = tf.keep(nextAcc);
        norm = tf.keep(nextNorm);
      });
    }
    const result = tf.div(acc as unknown as tf.Tensor, norm as unknown as tf.Tensor);
    tf.dispose([acc as unknown as tf.Tensor, norm as unknown as tf.Tensor]);
    return tf.slice(result, [0, 0, 0, 0], [b, h, w, result.shape[3] as number]) as tf.Tensor4D;
  });
}
