import { ShapeError, ValueError } from '../../core/errors.js';
import { toGenerator } from '../../core/random.js';
import { assertSameGrid, type ImageArray, type PixelArray, type Sample } from '../sample.js';
import type { BoundaryMode, RandomTransformOptions, Transform } from './transform.js';
import { boundaryIndex, checkProb, sameType, withFields } from './util.js';

/** Applies one geometric operation to the image and (with the same parameters) to the mask. */
function geometric(name: string, s: Sample, image: (img: ImageArray) => ImageArray, mask: (m: ImageArray) => ImageArray): Sample {
  if (s.mask) assertSameGrid(s.image, s.mask, name);
  return withFields(s, image(s.image), s.mask ? mask(s.mask) : undefined);
}

function sizeArg(size: readonly [number, number], name: string, img: ImageArray): [number, number] {
  if (!Array.isArray(size) || size.length !== 2) {
    throw new ValueError(`${name}: size must be a [height, width] pair, but got ${JSON.stringify(size)}.`);
  }
  const out: [number, number] = [size[0], size[1]];
  for (let d = 0; d < 2; d++) {
    // MONAI's convention: a non-positive size keeps the input's size along that axis.
    if (out[d] <= 0) out[d] = img.shape[d];
    if (!Number.isInteger(out[d])) throw new ValueError(`${name}: sizes must be integers, but got [${size.join(', ')}].`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Resize

/** Interpolation used for images by {@link resize}. Masks are always resized with `'nearest'`. */
export type InterpolationMode = 'bilinear' | 'nearest';

/** Options of {@link resize} (MONAI `Resize`). */
export interface ResizeOptions {
  /** Output `[height, width]`; a non-positive entry keeps that axis's size. */
  spatialSize: readonly [number, number];
  /** Interpolation for the image (default `'bilinear'`); masks always use `'nearest'`. */
  mode?: InterpolationMode;
  /**
   * Bilinear sampling convention, as PyTorch's `align_corners` (default false: pixel areas are
   * aligned, like `F.interpolate` and OpenCV; true: corner pixel centres are aligned, like
   * `scipy.ndimage.zoom(order=1)`).
   */
  alignCorners?: boolean;
}

/** Source coordinate of output index `dst` for linear resampling (PyTorch's rules). */
function linearSource(dst: number, inSize: number, outSize: number, alignCorners: boolean): number {
  if (alignCorners) return outSize > 1 ? (dst * (inSize - 1)) / (outSize - 1) : 0;
  const src = ((dst + 0.5) * inSize) / outSize - 0.5;
  return src < 0 ? 0 : src;
}

/** Bilinear resize of an `[H, W, C]` image to `[oh, ow, C]` (float32 output). */
function resizeBilinear(img: ImageArray, oh: number, ow: number, alignCorners = false): ImageArray {
  const [h, w, c] = img.shape;
  const out = new Float32Array(oh * ow * c);
  const x0s = new Int32Array(ow);
  const x1s = new Int32Array(ow);
  const fxs = new Float64Array(ow);
  for (let x = 0; x < ow; x++) {
    const sx = linearSource(x, w, ow, alignCorners);
    const x0 = Math.min(Math.floor(sx), w - 1);
    x0s[x] = x0;
    x1s[x] = Math.min(x0 + 1, w - 1);
    fxs[x] = sx - x0;
  }
  const d = img.data;
  for (let y = 0; y < oh; y++) {
    const sy = linearSource(y, h, oh, alignCorners);
    const y0 = Math.min(Math.floor(sy), h - 1);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = sy - y0;
    for (let x = 0; x < ow; x++) {
      const fx = fxs[x];
      const a = (y0 * w + x0s[x]) * c;
      const b = (y0 * w + x1s[x]) * c;
      const e = (y1 * w + x0s[x]) * c;
      const f = (y1 * w + x1s[x]) * c;
      const o = (y * ow + x) * c;
      for (let k = 0; k < c; k++) {
        const top = d[a + k] + (d[b + k] - d[a + k]) * fx;
        const bottom = d[e + k] + (d[f + k] - d[e + k]) * fx;
        out[o + k] = top + (bottom - top) * fy;
      }
    }
  }
  return { data: out, shape: [oh, ow, c] };
}

/**
 * Nearest-neighbour resize, index `floor(dst · in/out)` with float32 arithmetic as PyTorch's
 * `F.interpolate(mode='nearest')`, keeping the input's array type (so label values survive).
 */
function resizeNearest(img: ImageArray, oh: number, ow: number): ImageArray {
  const [h, w, c] = img.shape;
  const out = sameType(img.data, oh * ow * c);
  const sy = Math.fround(h / oh);
  const sx = Math.fround(w / ow);
  const xs = new Int32Array(ow);
  for (let x = 0; x < ow; x++) xs[x] = Math.min(Math.floor(Math.fround(x * sx)), w - 1);
  for (let y = 0; y < oh; y++) {
    const yy = Math.min(Math.floor(Math.fround(y * sy)), h - 1);
    for (let x = 0; x < ow; x++) {
      const src = (yy * w + xs[x]) * c;
      const dst = (y * ow + x) * c;
      for (let k = 0; k < c; k++) out[dst + k] = img.data[src + k];
    }
  }
  return { data: out, shape: [oh, ow, c] };
}

/**
 * Resizes one {@link ImageArray} to `[height, width]` outside of a transform pipeline (e.g. for
 * a single volume slice), with the same interpolation rules as {@link resize}.
 */
export function resizeImageArray(
  img: ImageArray,
  size: readonly [number, number],
  options: { mode?: InterpolationMode; alignCorners?: boolean } = {},
): ImageArray {
  const [oh, ow] = sizeArg(size, 'resizeImageArray', img);
  return (options.mode ?? 'bilinear') === 'bilinear' ? resizeBilinear(img, oh, ow, options.alignCorners ?? false) : resizeNearest(img, oh, ow);
}

/**
 * Resizes image and mask to `spatialSize`: bilinear (or nearest) for the image, nearest for the
 * mask so label values are never blended. As MONAI's `Resize` with `mode='bilinear'`.
 */
export function resize(options: ResizeOptions): Transform {
  const { spatialSize, mode = 'bilinear', alignCorners = false } = options;
  if (mode !== 'bilinear' && mode !== 'nearest') throw new ValueError(`resize mode must be 'bilinear' or 'nearest', but got '${String(mode)}'.`);
  return (s) => {
    const [oh, ow] = sizeArg(spatialSize, 'resize', s.image);
    return geometric(
      'resize',
      s,
      (img) => (mode === 'bilinear' ? resizeBilinear(img, oh, ow, alignCorners) : resizeNearest(img, oh, ow)),
      (m) => resizeNearest(m, oh, ow),
    );
  };
}

// ---------------------------------------------------------------------------------------------
// Crops

function crop(img: ImageArray, top: number, left: number, ch: number, cw: number): ImageArray {
  const [, w, c] = img.shape;
  const out = sameType(img.data, ch * cw * c);
  for (let y = 0; y < ch; y++) {
    const src = ((top + y) * w + left) * c;
    out.set(img.data.subarray(src, src + cw * c), y * cw * c);
  }
  return { data: out, shape: [ch, cw, c] };
}

function checkCrop(name: string, img: ImageArray, ch: number, cw: number): void {
  if (ch > img.shape[0] || cw > img.shape[1]) {
    throw new ShapeError(
      `${name}: cannot crop ${ch}×${cw} out of a ${img.shape[0]}×${img.shape[1]} image. ` +
        'Pad first (spatialPad) or choose a smaller roiSize.',
    );
  }
}

/** Options of {@link centerCrop} (MONAI `CenterSpatialCrop`). */
export interface CenterCropOptions {
  /** Output `[height, width]`; a non-positive entry keeps that axis. */
  roiSize: readonly [number, number];
}

/**
 * Crops the central `roiSize` region of image and mask. The start is `floor(dim/2) − floor(size/2)`
 * along each axis, as MONAI's `CenterSpatialCrop`.
 */
export function centerCrop(options: CenterCropOptions): Transform {
  return (s) => {
    const [ch, cw] = sizeArg(options.roiSize, 'centerCrop', s.image);
    checkCrop('centerCrop', s.image, ch, cw);
    const top = Math.floor(s.image.shape[0] / 2) - Math.floor(ch / 2);
    const left = Math.floor(s.image.shape[1] / 2) - Math.floor(cw / 2);
    return geometric('centerCrop', s, (img) => crop(img, top, left, ch, cw), (m) => crop(m, top, left, ch, cw));
  };
}

/** Options of {@link randomCrop} (MONAI `RandSpatialCrop` with a fixed size). */
export interface RandomCropOptions extends Omit<RandomTransformOptions, 'prob'> {
  /** Output `[height, width]`; a non-positive entry keeps that axis. */
  roiSize: readonly [number, number];
}

/** Crops a `roiSize` region at a uniformly random position, the same region of image and mask. */
export function randomCrop(options: RandomCropOptions): Transform {
  const g = toGenerator(options.seed);
  return (s) => {
    const [ch, cw] = sizeArg(options.roiSize, 'randomCrop', s.image);
    checkCrop('randomCrop', s.image, ch, cw);
    const top = g.randint(0, s.image.shape[0] - ch + 1);
    const left = g.randint(0, s.image.shape[1] - cw + 1);
    return geometric('randomCrop', s, (img) => crop(img, top, left, ch, cw), (m) => crop(m, top, left, ch, cw));
  };
}

// ---------------------------------------------------------------------------------------------
// Padding

/** Options of {@link pad}. */
export interface PadOptions {
  /** Pixels to add: one number for all sides, or `[top, bottom, left, right]`. */
  padding: number | readonly [number, number, number, number];
  /** How new pixels are filled (default `'constant'`). */
  mode?: BoundaryMode;
  /** Fill value of the image in `'constant'` mode (default 0; masks are always filled with 0). */
  value?: number;
}

function padImage(img: ImageArray, top: number, bottom: number, left: number, right: number, mode: BoundaryMode, value: number): ImageArray {
  const [h, w, c] = img.shape;
  const oh = h + top + bottom;
  const ow = w + left + right;
  const out: PixelArray = sameType(img.data, oh * ow * c);
  if (mode === 'constant' && value !== 0) out.fill(value);
  for (let y = 0; y < oh; y++) {
    const sy = boundaryIndex(y - top, h, mode);
    if (sy < 0) continue;
    for (let x = 0; x < ow; x++) {
      const sx = boundaryIndex(x - left, w, mode);
      if (sx < 0) continue;
      const src = (sy * w + sx) * c;
      const dst = (y * ow + x) * c;
      for (let k = 0; k < c; k++) out[dst + k] = img.data[src + k];
    }
  }
  return { data: out, shape: [oh, ow, c] };
}

function padSample(name: string, s: Sample, t: number, b: number, l: number, r: number, mode: BoundaryMode, value: number): Sample {
  return geometric(name, s, (img) => padImage(img, t, b, l, r, mode, value), (m) => padImage(m, t, b, l, r, mode, 0));
}

/** Pads image and mask by explicit amounts on each side. */
export function pad(options: PadOptions): Transform {
  const p = typeof options.padding === 'number' ? [options.padding, options.padding, options.padding, options.padding] : options.padding;
  if (p.length !== 4 || p.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new ValueError(`pad: padding must be a non-negative integer or [top, bottom, left, right], but got ${JSON.stringify(options.padding)}.`);
  }
  const mode = options.mode ?? 'constant';
  const value = options.value ?? 0;
  return (s) => padSample('pad', s, p[0], p[1], p[2], p[3], mode, value);
}

/** Options of {@link spatialPad} (MONAI `SpatialPad`). */
export interface SpatialPadOptions {
  /** Minimum output `[height, width]`; axes already at least this large are left alone. */
  spatialSize: readonly [number, number];
  /** `'symmetric'` splits the padding between both sides (extra pixel after), `'end'` pads after (default `'symmetric'`). */
  method?: 'symmetric' | 'end';
  /** How new pixels are filled (default `'constant'`). */
  mode?: BoundaryMode;
  /** Fill value of the image in `'constant'` mode (default 0). */
  value?: number;
}

/** Pads image and mask up to at least `spatialSize`, as MONAI's `SpatialPad`. */
export function spatialPad(options: SpatialPadOptions): Transform {
  const { spatialSize, method = 'symmetric', mode = 'constant', value = 0 } = options;
  return (s) => {
    const [th, tw] = sizeArg(spatialSize, 'spatialPad', s.image);
    const dh = Math.max(th - s.image.shape[0], 0);
    const dw = Math.max(tw - s.image.shape[1], 0);
    const top = method === 'symmetric' ? Math.floor(dh / 2) : 0;
    const left = method === 'symmetric' ? Math.floor(dw / 2) : 0;
    return padSample('spatialPad', s, top, dh - top, left, dw - left, mode, value);
  };
}

/** Options of {@link divisiblePad} (MONAI `DivisiblePad`). */
export interface DivisiblePadOptions {
  /** Output sizes become multiples of `k` (one number, or `[rows, cols]`). */
  k: number | readonly [number, number];
  /** How new pixels are filled (default `'constant'`). */
  mode?: BoundaryMode;
  /** `'symmetric'` (default) or `'end'`. */
  method?: 'symmetric' | 'end';
}

/** Pads image and mask so height and width are multiples of `k` (what a U-Net with `log2 k` downsamplings needs). */
export function divisiblePad(options: DivisiblePadOptions): Transform {
  const [ky, kx] = typeof options.k === 'number' ? [options.k, options.k] : options.k;
  if (!Number.isInteger(ky) || !Number.isInteger(kx) || ky < 1 || kx < 1) {
    throw new ValueError(`divisiblePad k must be a positive integer or pair, but got ${JSON.stringify(options.k)}.`);
  }
  return (s) => {
    const th = Math.ceil(s.image.shape[0] / ky) * ky;
    const tw = Math.ceil(s.image.shape[1] / kx) * kx;
    return spatialPad({ spatialSize: [th, tw], mode: options.mode, method: options.method })(s);
  };
}

// ---------------------------------------------------------------------------------------------
// Flips and 90° rotations

function normalizeAxes(spatialAxis: number | readonly number[] | undefined, name: string): number[] {
  const axes = spatialAxis === undefined ? [0, 1] : typeof spatialAxis === 'number' ? [spatialAxis] : spatialAxis.slice();
  for (const a of axes) {
    if (a !== 0 && a !== 1) throw new ValueError(`${name}: spatial axes are 0 (rows) and 1 (columns), but got ${a}.`);
  }
  return axes;
}

function flipImage(img: ImageArray, rows: boolean, cols: boolean): ImageArray {
  const [h, w, c] = img.shape;
  const out = sameType(img.data, h * w * c);
  for (let y = 0; y < h; y++) {
    const sy = rows ? h - 1 - y : y;
    for (let x = 0; x < w; x++) {
      const sx = cols ? w - 1 - x : x;
      const src = (sy * w + sx) * c;
      const dst = (y * w + x) * c;
      for (let k = 0; k < c; k++) out[dst + k] = img.data[src + k];
    }
  }
  return { data: out, shape: [h, w, c] };
}

/** Options of {@link flip} (MONAI `Flip`). */
export interface FlipOptions {
  /** Axis or axes to reverse: 0 = rows (up–down), 1 = columns (left–right); default both. */
  spatialAxis?: number | readonly number[];
}

/** Reverses image and mask along the given spatial axes. */
export function flip(options: FlipOptions = {}): Transform {
  const axes = normalizeAxes(options.spatialAxis, 'flip');
  const rows = axes.includes(0);
  const cols = axes.includes(1);
  return (s) => geometric('flip', s, (img) => flipImage(img, rows, cols), (m) => flipImage(m, rows, cols));
}

/** Options of {@link randomFlip} (MONAI `RandFlip`). */
export interface RandomFlipOptions extends RandomTransformOptions, FlipOptions {}

/** With probability `prob`, reverses image and mask along `spatialAxis` (both axes when omitted), as MONAI's `RandFlip`. */
export function randomFlip(options: RandomFlipOptions = {}): Transform {
  const prob = checkProb(options.prob ?? 0.1, 'randomFlip');
  const g = toGenerator(options.seed);
  const apply = flip({ spatialAxis: options.spatialAxis });
  return (s) => (g.random() < prob ? apply(s) : s);
}

function rot90Image(img: ImageArray, k: number): ImageArray {
  const [h, w, c] = img.shape;
  const q = ((k % 4) + 4) % 4;
  if (q === 0) return { data: img.data.slice(), shape: [h, w, c] };
  if (q === 2) return flipImage(img, true, true);
  const oh = w;
  const ow = h;
  const out = sameType(img.data, h * w * c);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      // numpy.rot90 (counter-clockwise as displayed): k=1 reads m[x, W−1−y], k=3 reads m[H−1−x, y].
      const sy = q === 1 ? x : h - 1 - x;
      const sx = q === 1 ? w - 1 - y : y;
      const src = (sy * w + sx) * c;
      const dst = (y * ow + x) * c;
      for (let j = 0; j < c; j++) out[dst + j] = img.data[src + j];
    }
  }
  return { data: out, shape: [oh, ow, c] };
}

/** Options of {@link rotate90} (MONAI `Rotate90`). */
export interface Rotate90Options {
  /** Number of quarter turns (default 1). */
  k?: number;
  /** Rotation plane, from the first axis towards the second (default `[0, 1]`, counter-clockwise on screen; `[1, 0]` turns the other way). */
  spatialAxes?: readonly [number, number];
}

function rotationSign(spatialAxes: readonly [number, number] | undefined, name: string): number {
  const axes = spatialAxes ?? [0, 1];
  if (axes.length !== 2 || !((axes[0] === 0 && axes[1] === 1) || (axes[0] === 1 && axes[1] === 0))) {
    throw new ValueError(`${name}: spatialAxes must be [0, 1] or [1, 0], but got ${JSON.stringify(spatialAxes)}.`);
  }
  return axes[0] === 0 ? 1 : -1;
}

/** Rotates image and mask by `k` quarter turns, as `numpy.rot90` / MONAI's `Rotate90`. */
export function rotate90(options: Rotate90Options = {}): Transform {
  const k = options.k ?? 1;
  if (!Number.isInteger(k)) throw new ValueError(`rotate90 k must be an integer, but got ${k}.`);
  const turns = k * rotationSign(options.spatialAxes, 'rotate90');
  return (s) => geometric('rotate90', s, (img) => rot90Image(img, turns), (m) => rot90Image(m, turns));
}

/** Options of {@link randomRotate90} (MONAI `RandRotate90`). */
export interface RandomRotate90Options extends RandomTransformOptions {
  /** The number of quarter turns is drawn uniformly from 1 … maxK (default 3). */
  maxK?: number;
  /** Rotation plane (default `[0, 1]`). */
  spatialAxes?: readonly [number, number];
}

/** With probability `prob`, rotates image and mask by 1 … maxK quarter turns, as MONAI's `RandRotate90`. */
export function randomRotate90(options: RandomRotate90Options = {}): Transform {
  const prob = checkProb(options.prob ?? 0.1, 'randomRotate90');
  const maxK = options.maxK ?? 3;
  if (!Number.isInteger(maxK) || maxK < 1) throw new ValueError(`randomRotate90 maxK must be a positive integer, but got ${maxK}.`);
  const sign = rotationSign(options.spatialAxes, 'randomRotate90');
  const g = toGenerator(options.seed);
  return (s) => {
    if (!(g.random() < prob)) return s;
    const turns = sign * g.randint(1, maxK + 1);
    return geometric('randomRotate90', s, (img) => rot90Image(img, turns), (m) => rot90Image(m, turns));
  };
}
