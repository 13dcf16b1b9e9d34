import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import type { SlidingWindowOptions } from '../inferers/sliding-window.js';
import { resolveSliceAxis, type SliceAxis } from '../data/readers/orientation.js';
import { NiftiVolume } from '../data/readers/volume.js';
import { applyIntensity, type VolumeIntensity } from './intensity.js';

/**
 * What {@link segmentVolume} needs of a model: `UNetSegmenter` (2-D or 3-D) fits, and so does any
 * model with the same `predict`/`predictProba` contract.
 */
export interface VolumeSegmenter {
  /** Number of classes: 1 for a sigmoid (binary) model, ≥ 2 for softmax. */
  readonly numClasses: number;
  /** Label maps `[B, H, W]` from NHWC images, or `[B, D, H, W]` from NDHWC volumes for a 3-D model. */
  predict(images: tf.Tensor, options?: { slidingWindow?: SlidingWindowOptions; flipTTA?: boolean; batchSize?: number }): tf.Tensor;
  /** Class probabilities `[B, H, W, K]` (or `[B, D, H, W, K]`); needed when slices are resized (`size`). */
  predictProba?(images: tf.Tensor, options?: { slidingWindow?: SlidingWindowOptions; flipTTA?: boolean; batchSize?: number }): tf.Tensor;
  /** The network's configuration; `spatialDims: 3` marks a 3-D model (default 2). */
  readonly net?: { readonly config: { readonly spatialDims?: 2 | 3; readonly inChannels?: number } };
}

/** Options of {@link segmentVolume}. */
export interface SegmentVolumeOptions {
  /** 2-D models: the plane the volume is cut into (`'axial'`, `'coronal'`, `'sagittal'` via the affine, or voxel axis 0/1/2). Default `'axial'`. */
  axis?: SliceAxis;
  /** 2-D models: slices per forward pass. Default 8. */
  batchSize?: number;
  /**
   * 2-D models: reverse each slice's rows as `niftiSliceDataset`/`sliceVolume` do with `flipRows`
   * (anterior/superior at the top). Must match how the model's training slices were cut. Default true.
   */
  flipRows?: boolean;
  /**
   * 2-D models: the slice size the model was trained on (`n` or `[height, width]`). Each slice is
   * then zero-padded symmetrically to that aspect ratio and resized bilinearly, as
   * `niftiSliceDataset`'s `size`; the class probabilities are resized back before the argmax.
   * Default: slices at their own size.
   */
  size?: number | readonly [number, number];
  /** Intensity scaling of the whole volume before prediction (see {@link VolumeIntensity}). Default `'none'`. */
  intensity?: VolumeIntensity;
  /** 3-D models: windows over the volume (MONAI's sliding-window inference); default the whole volume at once. */
  slidingWindow?: SlidingWindowOptions;
  /** Average the predictions of mirrored inputs (see the segmenter's `flipTTA`). Default false. */
  flipTTA?: boolean;
  /** Frame of a 4-D volume. Default 0. */
  frame?: number;
  /** Called as slices (2-D) or windows (3-D) are done: `(done, total)`. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Segments a whole volume and returns a label volume on the same grid: the step from a patient's
 * `.nii.gz` or DICOM series to a mask in the same space, ready for `writeNifti`.
 *
 * A 2-D model is applied slice by slice along `axis` (in batches); a 3-D model (`net.config.
 * spatialDims === 3`) sees the volume as one NDHWC tensor `[1, z, y, x, 1]` (NIfTI order, x
 * fastest), by sliding window when `slidingWindow` is given. The result has the input's grid,
 * spacing and affine (sform/qform codes kept), voxel type uint8 (int16 above 255 classes) and
 * the NIfTI label intent.
 *
 * @param input - a volume (`readNifti`), or a DICOM series (`readDicomSeries`) whose `volume` is used.
 * @returns labels: class indices (0 = background), or 0/1 for a binary model.
 */
export async function segmentVolume(input: NiftiVolume | { volume: NiftiVolume }, segmenter: VolumeSegmenter, options: SegmentVolumeOptions = {}): Promise<NiftiVolume> {
  const volume = input instanceof NiftiVolume ? input : input.volume;
  if (!(volume instanceof NiftiVolume)) {
    throw new ValueError('segmentVolume: input must be a NiftiVolume (readNifti) or a DICOM series (readDicomSeries) with a volume.');
  }
  const [nx, ny, nz] = volume.dims;
  const voxels = nx * ny * nz;
  const frames = volume.size / voxels;
  const frame = options.frame ?? 0;
  if (!Number.isInteger(frame) || frame < 0 || frame >= frames) {
    throw new ValueError(`segmentVolume: frame ${frame} is outside 0..${frames - 1} for a volume of dims [${volume.dims.join(', ')}].`);
  }
  const inChannels = segmenter.net?.config.inChannels ?? 1;
  if (inChannels !== 1) {
    throw new ShapeError(`segmentVolume: the model takes ${inChannels} input channels, but a volume gives one; stack channels yourself and call predict.`);
  }
  const all = volume.toFloat32();
  const values = applyIntensity(frames > 1 ? all.slice(frame * voxels, (frame + 1) * voxels) : all, options.intensity ?? 'none');
  const labels = segmenter.numClasses > 255 ? new Int16Array(voxels) : new Uint8Array(voxels);
  const three = segmenter.net?.config.spatialDims === 3;
  if (three) {
    await segment3d(values, [nz, ny, nx], labels, segmenter, options);
  } else {
    await segment2d(values, volume, labels, segmenter, options);
  }
  const h = volume.header;
  return new NiftiVolume({
    dims: [nx, ny, nz],
    data: labels,
    spacing: volume.spacing.slice(0, 3),
    affine: volume.affine,
    header: {
      qformCode: h.qformCode,
      sformCode: h.sformCode,
      qform: h.qform,
      sform: h.sform,
      xyztUnits: h.xyztUnits,
      spatialUnit: h.spatialUnit,
      temporalUnit: h.temporalUnit,
      intentCode: 1002,
      intentName: 'labels',
      descrip: 'medvae segmentVolume',
      calMin: 0,
      calMax: Math.max(1, segmenter.numClasses - 1),
    },
  });
}

async function segment3d(values: Float32Array, shape: [number, number, number], labels: Uint8Array | Int16Array, segmenter: VolumeSegmenter, options: SegmentVolumeOptions): Promise<void> {
  const x = tf.tensor5d(values, [1, ...shape, 1]);
  try {
    const sw = options.slidingWindow ? { ...options.slidingWindow, onProgress: options.slidingWindow.onProgress ?? options.onProgress } : undefined;
    const out = segmenter.predict(x, { slidingWindow: sw, flipTTA: options.flipTTA });
    try {
      labels.set(await out.data());
    } finally {
      out.dispose();
    }
    if (!sw) options.onProgress?.(1, 1);
  } finally {
    x.dispose();
  }
}

async function segment2d(values: Float32Array, volume: NiftiVolume, labels: Uint8Array | Int16Array, segmenter: VolumeSegmenter, options: SegmentVolumeOptions): Promise<void> {
  const ax = resolveSliceAxis(volume.affine, options.axis ?? 'axial');
  const [a, b] = [0, 1, 2].filter((d) => d !== ax);
  const dims = volume.dims;
  const strides = [1, dims[0], dims[0] * dims[1]];
  const width = dims[a];
  const height = dims[b];
  const count = dims[ax];
  const flipRows = options.flipRows ?? true;
  const batch = options.batchSize ?? 8;
  if (!Number.isInteger(batch) || batch < 1) throw new ValueError(`segmentVolume batchSize must be a positive integer, but got ${batch}.`);
  const size = options.size === undefined ? null : typeof options.size === 'number' ? [options.size, options.size] : [...options.size];
  if (size && (size.length !== 2 || size.some((s) => !Number.isInteger(s) || s < 1))) {
    throw new ValueError(`segmentVolume size must be a positive integer or [height, width], but got ${JSON.stringify(options.size)}.`);
  }
  if (size && !segmenter.predictProba) {
    throw new ValueError('segmentVolume: resizing slices (size) needs a segmenter with predictProba, to resample probabilities before the argmax.');
  }
  // Voxel offset of slice row r, column c (before adding the slice's own offset).
  const offset = (r: number, c: number): number => c * strides[a] + (flipRows ? height - 1 - r : r) * strides[b];
  const pixels = width * height;
  for (let first = 0; first < count; first += batch) {
    const n = Math.min(batch, count - first);
    const stack = new Float32Array(n * pixels);
    for (let s = 0; s < n; s++) {
      const base = (first + s) * strides[ax];
      for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) stack[s * pixels + r * width + c] = values[base + offset(r, c)];
    }
    const out = tf.tidy(() => {
      const x = tf.tensor4d(stack, [n, height, width, 1]);
      if (!size) return segmenter.predict(x, { flipTTA: options.flipTTA, batchSize: batch });
      return predictResized(x, size as [number, number], segmenter, options.flipTTA ?? false, batch);
    });
    const lab = await out.data();
    out.dispose();
    for (let s = 0; s < n; s++) {
      const base = (first + s) * strides[ax];
      for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) labels[base + offset(r, c)] = lab[s * pixels + r * width + c];
    }
    options.onProgress?.(first + n, count);
    // Let a progress display (or anything else waiting) run between batches.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}

// Pads the slices symmetrically to the target aspect ratio, resizes, predicts probabilities,
// and maps them back (resize, crop) before the argmax: the inverse of niftiSliceDataset's `size`.
function predictResized(x: tf.Tensor4D, [th, tw]: [number, number], segmenter: VolumeSegmenter, flipTTA: boolean, batch: number): tf.Tensor {
  const [, h, w] = x.shape;
  let ph = h;
  let pw = w;
  if (h * tw < w * th) ph = Math.round((w * th) / tw);
  else pw = Math.round((h * tw) / th);
  const top = Math.floor((ph - h) / 2);
  const left = Math.floor((pw - w) / 2);
  const padded = tf.pad(x, [[0, 0], [top, ph - h - top], [left, pw - w - left], [0, 0]]);
  const resized = tf.image.resizeBilinear(padded, [th, tw], false, true);
  const proba = (segmenter.predictProba as NonNullable<VolumeSegmenter['predictProba']>)(resized, { flipTTA, batchSize: batch }) as tf.Tensor4D;
  const back = tf.slice(tf.image.resizeBilinear(proba, [ph, pw], false, true), [0, top, left, 0], [-1, h, w, -1]);
  return segmenter.numClasses === 1 ? tf.cast(tf.greater(tf.squeeze(back, [3]), 0.5), 'int32') : tf.argMax(back, -1);
}
