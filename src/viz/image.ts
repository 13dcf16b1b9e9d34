import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import type { ImageData2D } from '../data/readers/types.js';

/** Options of {@link toDisplayImage}. */
export interface DisplayRangeOptions {
  /** Value shown as black. Default: the image's minimum. */
  min?: number;
  /** Value shown as white. Default: the image's maximum. */
  max?: number;
}

/**
 * Converts one image `[H, W]`, `[H, W, C]` (C = 1 or 3) or `[1, H, W, C]` to 8-bit for display,
 * mapping `[min, max]` linearly to `[0, 255]`.
 */
export function toDisplayImage(image: tf.Tensor, options: DisplayRangeOptions = {}): ImageData2D {
  const shape = image.shape.filter((d, i) => !(i === 0 && image.rank === 4 && d === 1));
  if (shape.length === 2) shape.push(1);
  const [h, w, c] = shape;
  if (shape.length !== 3 || (c !== 1 && c !== 3)) {
    throw new ShapeError(`toDisplayImage needs one image [H, W], [H, W, 1|3] or [1, H, W, 1|3], but got shape [${image.shape.join(', ')}].`);
  }
  const values = image.dataSync();
  let lo = options.min ?? Infinity;
  let hi = options.max ?? -Infinity;
  if (options.min === undefined || options.max === undefined) {
    for (const v of values) {
      if (options.min === undefined && v < lo) lo = v;
      if (options.max === undefined && v > hi) hi = v;
    }
  }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const data = new Uint8Array(h * w * c);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round((values[i] - lo) * scale)));
  return { width: w, height: h, channels: c, data, bitDepth: 8 };
}

/** An RGB colour, components 0–255. */
export type RGB = readonly [number, number, number];

/** Options of {@link overlayMasks}. */
export interface OverlayOptions {
  /** Colour of the first mask's outline (ground truth). Default green. */
  truthColor?: RGB;
  /** Colour of the second mask's outline (prediction). Default red. */
  predColor?: RGB;
  /** Opacity of the filled prediction region. Default 0.25. */
  fillAlpha?: number;
}

function outline(mask: ArrayLike<number>, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (mask[i] <= 0) continue;
      const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 || mask[i - 1] <= 0 || mask[i + 1] <= 0 || mask[i - w] <= 0 || mask[i + w] <= 0;
      if (edge) out[i] = 1;
    }
  }
  return out;
}

/**
 * Draws a grey image with a ground-truth mask outlined (green) and a predicted mask filled and
 * outlined (red), the usual way to eyeball a segmentation. Masks are `H × W` arrays where > 0 is
 * foreground.
 */
export function overlayMasks(image: ImageData2D, truth: ArrayLike<number> | null, pred: ArrayLike<number> | null, options: OverlayOptions = {}): ImageData2D {
  const { width: w, height: h } = image;
  if (image.channels !== 1) throw new ValueError(`overlayMasks needs a grey image (1 channel), but got ${image.channels} channels.`);
  for (const [name, m] of [['truth', truth], ['pred', pred]] as const) {
    if (m && m.length !== w * h) throw new ShapeError(`overlayMasks: ${name} mask has ${m.length} pixels, but the image has ${w}×${h} = ${w * h}.`);
  }
  const tc = options.truthColor ?? [0, 220, 0];
  const pc = options.predColor ?? [255, 40, 40];
  const alpha = options.fillAlpha ?? 0.25;
  const data = new Uint8Array(w * h * 3);
  const tEdge = truth ? outline(truth, w, h) : null;
  const pEdge = pred ? outline(pred, w, h) : null;
  for (let i = 0; i < w * h; i++) {
    let rgb: [number, number, number] = [image.data[i], image.data[i], image.data[i]];
    if (pred && pred[i] > 0) rgb = rgb.map((v, k) => (1 - alpha) * v + alpha * pc[k]) as [number, number, number];
    if (tEdge?.[i]) rgb = [...tc];
    if (pEdge?.[i]) rgb = [...pc];
    data.set(rgb.map((v) => Math.round(v)), i * 3);
  }
  return { width: w, height: h, channels: 3, data, bitDepth: 8 };
}

/**
 * Tiles equally sized 8-bit images into a grid with `columns` columns and `padding` pixels of
 * `background` between them (for reconstruction and sample grids).
 */
export function imageGrid(images: readonly ImageData2D[], options: { columns?: number; padding?: number; background?: number } = {}): ImageData2D {
  if (images.length === 0) throw new ValueError('imageGrid needs at least one image.');
  const { width: w, height: h, channels: c } = images[0];
  for (const [i, im] of images.entries()) {
    if (im.width !== w || im.height !== h || im.channels !== c) {
      throw new ShapeError(`imageGrid: image ${i} is ${im.width}×${im.height}×${im.channels}, but image 0 is ${w}×${h}×${c}; all must match.`);
    }
  }
  const cols = Math.min(options.columns ?? Math.ceil(Math.sqrt(images.length)), images.length);
  const rows = Math.ceil(images.length / cols);
  const pad = options.padding ?? 2;
  const W = cols * w + (cols + 1) * pad;
  const H = rows * h + (rows + 1) * pad;
  const data = new Uint8Array(W * H * c).fill(options.background ?? 255);
  images.forEach((im, k) => {
    const ox = pad + (k % cols) * (w + pad);
    const oy = pad + Math.floor(k / cols) * (h + pad);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w * c; x++) data[((oy + y) * W + ox) * c + x] = im.data[y * w * c + x];
    }
  });
  return { width: W, height: H, channels: c, data, bitDepth: 8 };
}
