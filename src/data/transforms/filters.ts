import { ValueError } from '../../core/errors.js';
import type { ImageArray } from '../sample.js';
import type { BoundaryMode, Transform } from './transform.js';
import { boundaryIndex, gaussianKernel1d, pair, withFields } from './util.js';

/** Options of {@link medianFilter} (MONAI `MedianSmooth`). */
export interface MedianFilterOptions {
  /** Window half-size: the window is `(2r+1) × (2r+1)` (default 1, i.e. 3×3). One number or `[rows, cols]`. */
  radius?: number | readonly [number, number];
  /** Edge handling (default `'reflect'`, as `scipy.ndimage.median_filter`). */
  mode?: BoundaryMode;
}

/**
 * The median of each pixel's neighbourhood, per channel: removes salt-and-pepper and speckle noise
 * while keeping edges. Matches `scipy.ndimage.median_filter(x, size=(2r+1, 2r+1, 1))` (constant
 * mode pads with 0).
 */
export function medianFilter(options: MedianFilterOptions = {}): Transform {
  const [ry, rx] = pair(options.radius ?? 1, 'medianFilter radius');
  const mode = options.mode ?? 'reflect';
  if (!Number.isInteger(ry) || !Number.isInteger(rx) || ry < 0 || rx < 0) {
    throw new ValueError(`medianFilter radius must be a non-negative integer, but got ${JSON.stringify(options.radius)}.`);
  }
  return (s) => withFields(s, median(s.image, ry, rx, mode), s.mask);
}

function median(img: ImageArray, ry: number, rx: number, mode: BoundaryMode): ImageArray {
  const [h, w, c] = img.shape;
  const out = new Float32Array(h * w * c);
  const win = new Float64Array((2 * ry + 1) * (2 * rx + 1));
  const mid = (win.length - 1) >> 1;
  for (let k = 0; k < c; k++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let n = 0;
        for (let dy = -ry; dy <= ry; dy++) {
          const yy = boundaryIndex(y + dy, h, mode);
          for (let dx = -rx; dx <= rx; dx++) {
            const xx = boundaryIndex(x + dx, w, mode);
            win[n++] = yy < 0 || xx < 0 ? 0 : img.data[(yy * w + xx) * c + k];
          }
        }
        win.sort();
        // An odd window always; scipy takes the middle order statistic.
        out[(y * w + x) * c + k] = win[mid];
      }
    }
  }
  return { data: out, shape: [h, w, c] };
}

/** Options of {@link gaussianSmooth} (MONAI `GaussianSmooth`). */
export interface GaussianSmoothOptions {
  /** Standard deviation in pixels, one or `[rows, cols]` (default 1). */
  sigma?: number | readonly [number, number];
  /** The kernel is cut at `truncate · sigma` (default 4, as scipy). */
  truncate?: number;
  /** Edge handling (default `'reflect'`, as `scipy.ndimage.gaussian_filter`). */
  mode?: BoundaryMode;
}

function convolveAxis(src: Float64Array, h: number, w: number, c: number, kernel: Float64Array, axis: 0 | 1, mode: BoundaryMode): Float64Array {
  const out = new Float64Array(src.length);
  const r = (kernel.length - 1) >> 1;
  const n = axis === 0 ? h : w;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const pos = axis === 0 ? y : x;
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (let t = -r; t <= r; t++) {
          const j = boundaryIndex(pos + t, n, mode);
          if (j < 0) continue;
          const idx = axis === 0 ? (j * w + x) * c + k : (y * w + j) * c + k;
          acc += kernel[t + r] * src[idx];
        }
        out[(y * w + x) * c + k] = acc;
      }
    }
  }
  return out;
}

/**
 * Gaussian blur of the image, per channel, with a separable sampled kernel: a denoiser for
 * Gaussian-like noise. Matches `scipy.ndimage.gaussian_filter(x, sigma=(sy, sx, 0))`.
 */
export function gaussianSmooth(options: GaussianSmoothOptions = {}): Transform {
  const [sy, sx] = pair(options.sigma ?? 1, 'gaussianSmooth sigma');
  const truncate = options.truncate ?? 4;
  const mode = options.mode ?? 'reflect';
  const ky = gaussianKernel1d(sy, truncate);
  const kx = gaussianKernel1d(sx, truncate);
  return (s) => {
    const [h, w, c] = s.image.shape;
    const rows = convolveAxis(Float64Array.from(s.image.data), h, w, c, ky, 0, mode);
    const both = convolveAxis(rows, h, w, c, kx, 1, mode);
    return withFields(s, { data: Float32Array.from(both), shape: [h, w, c] }, s.mask);
  };
}
