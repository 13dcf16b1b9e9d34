import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { computeImportanceMap, type BlendMode } from './importance-map.js';
import { padSpatial, type PaddingMode } from './pad.js';

/** Options of {@link slidingWindowInference}, with MONAI's `sliding_window_inference` names and semantics. */
export interface SlidingWindowOptions {
  /**
   * Window size per spatial axis: `[h, w]` for NHWC images, `[d, h, w]` for NDHWC volumes. An
   * entry ≤ 0 takes the image's size on that axis (MONAI's `roi_size=(32, -1)`).
   */
  roiSize: readonly number[];
  /** Windows per predictor call (over all images of the batch). Only speed and memory depend on it. Default 4. */
  swBatchSize?: number;
  /** Fraction of overlap between neighbouring windows in [0, 1), for all axes or per axis. Default 0.25. */
  overlap?: number | readonly number[];
  /** `'constant'` averages overlapping outputs; `'gaussian'` weights window centres more. Default `'constant'`. */
  mode?: BlendMode;
  /** σ of the Gaussian weights as a fraction of the window size, for all axes or per axis. Default 0.125. */
  sigmaScale?: number | readonly number[];
  /** How an image smaller than the window is padded (half before, half after, as MONAI). Default `'constant'`. */
  paddingMode?: PaddingMode;
  /** Fill value of `'constant'` padding. Default 0. */
  cval?: number;
  /** Called after each predictor call with the windows done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Window start positions along one axis, as MONAI's `dense_patch_slices` (the last window is moved back inside). */
export function windowStarts(size: number, roi: number, interval: number): number[] {
  const num = Math.ceil(size / interval);
  let count = 1;
  for (let d = 0; d < num; d++) {
    if (d * interval + roi >= size) {
      count = d + 1;
      break;
    }
  }
  return Array.from({ length: count }, (_, i) => i * interval - Math.max(i * interval + roi - size, 0));
}

/** MONAI's scan interval: ⌊roi·(1 − overlap)⌋ (at least 1), or the roi itself when it spans the axis. */
function scanInterval(size: number, roi: number, overlap: number): number {
  if (roi === size) return roi;
  return Math.max(1, Math.trunc(roi * (1 - overlap)));
}

function perAxis(value: number | readonly number[], n: number, name: string): number[] {
  const list = typeof value === 'number' ? Array.from({ length: n }, () => value) : [...value];
  if (list.length !== n) throw new ValueError(`slidingWindowInference ${name} must be one number or ${n} (one per spatial axis), but got ${JSON.stringify(value)}.`);
  return list;
}

/**
 * Runs `predictor` on overlapping windows of a batch of NHWC images or NDHWC volumes and blends
 * the window outputs into full-size maps, as MONAI's `sliding_window_inference`: a network
 * trained on patches segments whole images or volumes.
 *
 * Semantics follow MONAI 1.5: an input smaller than `roiSize` on an axis is padded by half the
 * difference before and the rest after (with `paddingMode`), and the result cropped back; windows
 * start every ⌊roi·(1 − overlap)⌋ positions, the last one moved back to end at the border; each
 * window's output is weighted by {@link computeImportanceMap} and the sum divided by the summed
 * weights. The predictor must keep the window's spatial size (its channel count may change).
 *
 * Outputs are accumulated in float32 buffers outside the tensor engine, so memory is one output
 * map plus one batch of windows, however many windows a volume has.
 *
 * @param images - `[B, H, W, C]` or `[B, D, H, W, C]`.
 * @param predictor - maps `[n, ...roiSize, C]` to `[n, ...roiSize, K]`.
 * @returns `[B, H, W, K]` or `[B, D, H, W, K]`.
 */
export function slidingWindowInference(images: tf.Tensor4D, predictor: (windows: tf.Tensor4D) => tf.Tensor, options: SlidingWindowOptions): tf.Tensor4D;
export function slidingWindowInference(images: tf.Tensor5D, predictor: (windows: tf.Tensor5D) => tf.Tensor, options: SlidingWindowOptions): tf.Tensor5D;
export function slidingWindowInference(images: tf.Tensor, predictor: (windows: tf.Tensor4D & tf.Tensor5D) => tf.Tensor, options: SlidingWindowOptions): tf.Tensor;
export function slidingWindowInference(images: tf.Tensor, predictor: (windows: never) => tf.Tensor, options: SlidingWindowOptions): tf.Tensor {
  if (images.rank !== 4 && images.rank !== 5) {
    throw new ShapeError(
      `slidingWindowInference images must be NHWC (rank 4) or NDHWC (rank 5), but got shape [${images.shape.join(', ')}].`,
    );
  }
  const nd = images.rank - 2;
  const run = predictor as (windows: tf.Tensor) => tf.Tensor;
  const [b] = images.shape;
  const c = images.shape[images.rank - 1];
  const spatial = images.shape.slice(1, -1);
  if (!Array.isArray(options.roiSize) || options.roiSize.length !== nd || !options.roiSize.every((v) => Number.isInteger(v))) {
    throw new ValueError(`slidingWindowInference roiSize must list ${nd} integers for a rank-${images.rank} input, but got ${JSON.stringify(options.roiSize)}.`);
  }
  const roi = options.roiSize.map((r, i) => (r > 0 ? r : spatial[i]));
  const overlap = perAxis(options.overlap ?? 0.25, nd, 'overlap');
  if (!overlap.every((o) => o >= 0 && o < 1)) throw new ValueError(`slidingWindowInference overlap must be in [0, 1), but got ${JSON.stringify(options.overlap)}.`);
  const swBatch = options.swBatchSize ?? 4;
  if (!Number.isInteger(swBatch) || swBatch < 1) throw new ValueError(`slidingWindowInference swBatchSize must be a positive integer, but got ${swBatch}.`);
  const weight = computeImportanceMap(roi, options.mode ?? 'constant', options.sigmaScale ?? 0.125);

  // Pad half before and the rest after on every axis the window is larger than the image.
  const pads = roi.map((r, i) => {
    const diff = Math.max(r - spatial[i], 0);
    return [Math.floor(diff / 2), diff - Math.floor(diff / 2)] as [number, number];
  });
  const size = spatial.map((s, i) => s + pads[i][0] + pads[i][1]);
  const starts = size.map((s, i) => windowStarts(s, roi[i], scanInterval(s, roi[i], overlap[i])));
  // All windows, first axis slowest (MONAI's meshgrid 'ij' order).
  let windows: number[][] = [[]];
  for (const axisStarts of starts) windows = windows.flatMap((w) => axisStarts.map((s) => [...w, s]));
  const total = windows.length * b;

  // Inner work is done on a 3-D view (a 2-D image is a volume of depth 1).
  const size3 = nd === 3 ? size : [1, ...size];
  const roi3 = nd === 3 ? roi : [1, ...roi];
  const roiVoxels = roi3[0] * roi3[1] * roi3[2];
  const planes = size3[0] * size3[1] * size3[2];
  let acc: Float32Array | null = null;
  let k = 0;
  const count = new Float32Array(planes);
  for (const w of windows) {
    const w3 = nd === 3 ? w : [0, ...w];
    for (let z = 0; z < roi3[0]; z++) {
      for (let y = 0; y < roi3[1]; y++) {
        const src = (z * roi3[1] + y) * roi3[2];
        const dst = ((w3[0] + z) * size3[1] + w3[1] + y) * size3[2] + w3[2];
        for (let x = 0; x < roi3[2]; x++) count[dst + x] += weight[src + x];
      }
    }
  }

  const padded = tf.tidy(() => padSpatial(images, pads, options.paddingMode ?? 'constant', options.cval ?? 0));
  try {
    for (let first = 0; first < total; first += swBatch) {
      const ids = Array.from({ length: Math.min(swBatch, total - first) }, (_, j) => first + j);
      const out = tf.tidy(() => {
        const batch = tf.concat(ids.map((id) => {
          const img = Math.floor(id / windows.length);
          return tf.slice(padded, [img, ...windows[id % windows.length], 0], [1, ...roi, c]);
        }), 0);
        return run(batch);
      });
      const expected = [ids.length, ...roi];
      if (out.rank !== nd + 2 || !expected.every((v, i) => out.shape[i] === v)) {
        const got = out.shape.slice();
        out.dispose();
        throw new ShapeError(
          `slidingWindowInference: the predictor must map [${[ids.length, ...roi, c].join(', ')}] to [${expected.join(', ')}, K], ` +
            `but returned [${got.join(', ')}]. Windows of another size (MONAI's zoomed outputs) are not supported.`,
        );
      }
      const data = out.dataSync() as Float32Array;
      if (acc === null) {
        k = out.shape[nd + 1] as number;
        acc = new Float32Array(b * planes * k);
      }
      out.dispose();
      ids.forEach((id, j) => {
        const img = Math.floor(id / windows.length);
        const w = windows[id % windows.length];
        const w3 = nd === 3 ? w : [0, ...w];
        const base = img * planes;
        const srcBase = j * roiVoxels;
        for (let z = 0; z < roi3[0]; z++) {
          for (let y = 0; y < roi3[1]; y++) {
            const row = (z * roi3[1] + y) * roi3[2];
            const dstRow = base + ((w3[0] + z) * size3[1] + w3[1] + y) * size3[2] + w3[2];
            for (let x = 0; x < roi3[2]; x++) {
              const wt = weight[row + x];
              const s = (srcBase + row + x) * k;
              const d = (dstRow + x) * k;
              for (let ch = 0; ch < k; ch++) (acc as Float32Array)[d + ch] += wt * data[s + ch];
            }
          }
        }
      });
      options.onProgress?.(first + ids.length, total);
    }
  } finally {
    if (padded !== images) padded.dispose();
  }
  const sums = acc as Float32Array;
  for (let i = 0; i < sums.length; i++) sums[i] /= count[Math.floor(i / k) % planes];
  return tf.tidy(() => {
    const full = tf.tensor(sums, [b, ...size, k]);
    if (pads.every(([a, z]) => a === 0 && z === 0)) return full;
    return tf.slice(full, [0, ...pads.map(([a]) => a), 0], [b, ...spatial, k]);
  });
}
