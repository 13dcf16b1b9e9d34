import { ValueError } from '../../core/errors.js';
import { toGenerator } from '../../core/random.js';
import { assertSameGrid, type ImageArray, type Sample } from '../sample.js';
import type { InterpolationMode } from './spatial.js';
import type { RandomTransformOptions, Transform } from './transform.js';
import { checkProb, pair, sameType, withFields } from './util.js';

/** How {@link affine} fills pixels that map outside the input (PyTorch `grid_sample` names). */
export type AffinePaddingMode = 'zeros' | 'border' | 'reflection';

/** The parameters of one 2D affine map about the image centre. */
export interface AffineParams {
  /** Rotation in radians; positive turns the content counter-clockwise on screen (like {@link rotate90}). */
  rotate?: number;
  /** Zoom factor per axis `[rows, cols]` (or one for both); above 1 enlarges the content. */
  scale?: number | readonly [number, number];
  /** Shift of the content in pixels, `[down, right]`. */
  translate?: readonly [number, number];
}

/** Options of {@link affine}. */
export interface AffineOptions extends AffineParams {
  /** Image interpolation (default `'bilinear'`); masks always use `'nearest'`. */
  mode?: InterpolationMode;
  /** How pixels that come from outside the input are filled (default `'reflection'`, MONAI's `RandAffine` default). */
  paddingMode?: AffinePaddingMode;
}

/** Maps a continuous coordinate onto `[−0.5, n − 0.5]` (or clamps it) per padding mode; NaN = outside. */
function foldCoordinate(v: number, n: number, mode: AffinePaddingMode): number {
  if (mode === 'zeros') return v;
  if (mode === 'border') return Math.min(Math.max(v, 0), n - 1);
  // Reflection about the outer pixel edges (−0.5 and n − 0.5), then kept inside the pixel centres.
  const period = 2 * n;
  let t = (((v + 0.5) % period) + period) % period;
  if (t > n) t = period - t;
  return Math.min(Math.max(t - 0.5, 0), n - 1);
}

/** Resamples `img` at output grid positions mapped by `inv` (output (y, x) → input (y, x)). */
function warp(
  img: ImageArray,
  inv: (y: number, x: number) => [number, number],
  mode: InterpolationMode,
  padding: AffinePaddingMode,
): ImageArray {
  const [h, w, c] = img.shape;
  const d = img.data;
  const out = mode === 'nearest' ? sameType(d, h * w * c) : new Float32Array(h * w * c);
  const at = (yy: number, xx: number, k: number): number => (yy < 0 || yy >= h || xx < 0 || xx >= w ? 0 : d[(yy * w + xx) * c + k]);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [ry, rx] = inv(y, x);
      const sy = foldCoordinate(ry, h, padding);
      const sx = foldCoordinate(rx, w, padding);
      const o = (y * w + x) * c;
      if (mode === 'nearest') {
        const ny = Math.round(sy);
        const nx = Math.round(sx);
        for (let k = 0; k < c; k++) out[o + k] = at(ny, nx, k);
      } else {
        const y0 = Math.floor(sy);
        const x0 = Math.floor(sx);
        const fy = sy - y0;
        const fx = sx - x0;
        for (let k = 0; k < c; k++) {
          const top = at(y0, x0, k) * (1 - fx) + at(y0, x0 + 1, k) * fx;
          const bottom = at(y0 + 1, x0, k) * (1 - fx) + at(y0 + 1, x0 + 1, k) * fx;
          out[o + k] = top * (1 - fy) + bottom * fy;
        }
      }
    }
  }
  return { data: out, shape: [h, w, c] };
}

/**
 * The inverse map of "scale, then rotate, then translate, about the image centre", from output
 * pixel (row, col) to the input position it samples.
 */
function inverseMap(h: number, w: number, p: AffineParams): (y: number, x: number) => [number, number] {
  const theta = p.rotate ?? 0;
  const [sy, sx] = pair(p.scale ?? 1, 'affine scale');
  const [ty, tx] = p.translate ?? [0, 0];
  if (!(sy > 0 && sx > 0)) throw new ValueError(`affine scale factors must be positive, but got [${sy}, ${sx}].`);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  // Forward (x right, y down, counter-clockwise on screen): x' = cos·x + sin·y, y' = −sin·x + cos·y.
  return (y, x) => {
    const u = x - cx - tx;
    const v = y - cy - ty;
    const rx = cos * u - sin * v;
    const ry = sin * u + cos * v;
    return [ry / sy + cy, rx / sx + cx];
  };
}

function applyAffine(name: string, s: Sample, params: AffineParams, mode: InterpolationMode, padding: AffinePaddingMode): Sample {
  if (s.mask) assertSameGrid(s.image, s.mask, name);
  const [h, w] = s.image.shape;
  const inv = inverseMap(h, w, params);
  return withFields(s, warp(s.image, inv, mode, padding), s.mask ? warp(s.mask, inv, 'nearest', padding) : undefined);
}

function checkModes(name: string, mode: InterpolationMode, padding: AffinePaddingMode): void {
  if (mode !== 'bilinear' && mode !== 'nearest') throw new ValueError(`${name}: mode must be 'bilinear' or 'nearest', but got '${String(mode)}'.`);
  if (padding !== 'zeros' && padding !== 'border' && padding !== 'reflection') {
    throw new ValueError(`${name}: paddingMode must be 'zeros', 'border' or 'reflection', but got '${String(padding)}'.`);
  }
}

/**
 * A fixed affine warp of image and mask about the image centre (output keeps the input size).
 * Masks are resampled with nearest neighbour so labels stay labels.
 */
export function affine(options: AffineOptions): Transform {
  const mode = options.mode ?? 'bilinear';
  const padding = options.paddingMode ?? 'reflection';
  checkModes('affine', mode, padding);
  return (s) => applyAffine('affine', s, options, mode, padding);
}

/** Options of {@link randomAffine} (MONAI `RandAffine`). */
export interface RandomAffineOptions extends RandomTransformOptions {
  /** Rotation drawn from U(−r, r), radians (default 0). */
  rotateRange?: number;
  /** Zoom drawn as 1 + U(−s, s), per axis when a `[rows, cols]` pair (default 0; one draw for both axes when a number). */
  scaleRange?: number | readonly [number, number];
  /** Shift drawn from U(−t, t) pixels per axis, `[rows, cols]` or one number for both (default 0). */
  translateRange?: number | readonly [number, number];
  /** Image interpolation (default `'bilinear'`); masks always use `'nearest'`. */
  mode?: InterpolationMode;
  /** Fill of pixels from outside the input (default `'reflection'`, as MONAI). */
  paddingMode?: AffinePaddingMode;
}

/**
 * With probability `prob`, warps image and mask by one random small rotation, zoom and shift, the
 * same for both, as MONAI's `RandAffine`. Ranges are symmetric around "no change".
 */
export function randomAffine(options: RandomAffineOptions = {}): Transform {
  const prob = checkProb(options.prob ?? 0.1, 'randomAffine');
  const rotateRange = options.rotateRange ?? 0;
  const scaleRange = options.scaleRange ?? 0;
  const [try_, trx] = pair(options.translateRange ?? 0, 'randomAffine translateRange');
  const mode = options.mode ?? 'bilinear';
  const padding = options.paddingMode ?? 'reflection';
  checkModes('randomAffine', mode, padding);
  const g = toGenerator(options.seed);
  const sym = (r: number): number => (r === 0 ? 0 : (2 * g.random() - 1) * r);
  return (s) => {
    if (!(g.random() < prob)) return s;
    const rotate = sym(rotateRange);
    let scale: [number, number];
    if (typeof scaleRange === 'number') {
      const z = 1 + sym(scaleRange);
      scale = [z, z];
    } else {
      const [sr, sc] = pair(scaleRange, 'randomAffine scaleRange');
      scale = [1 + sym(sr), 1 + sym(sc)];
    }
    const translate: [number, number] = [sym(try_), sym(trx)];
    return applyAffine('randomAffine', s, { rotate, scale, translate }, mode, padding);
  };
}
