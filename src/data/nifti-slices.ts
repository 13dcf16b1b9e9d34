import { ShapeError, ValueError } from '../core/errors.js';
import { ArrayDataset } from './dataset.js';
import { readNiftiFile } from './readers/nifti.js';
import { resolveSliceAxis, sliceVolume, type SliceAxis } from './readers/orientation.js';
import type { NiftiVolume } from './readers/volume.js';
import type { ImageArray, Sample } from './sample.js';
import { fitTo } from './fit.js';

/** A volume given as a path to a `.nii` / `.nii.gz` file, or already read. */
export type VolumeSource = string | NiftiVolume;

/**
 * Per-volume intensity normalisation of {@link niftiSliceDataset}:
 * `'percentile'` maps the 0.5th…99.5th percentiles onto [0, 1] and clips (robust to bright
 * outliers); `'minmax'` maps min…max onto [0, 1]; `'zscore'` subtracts the mean and divides by the
 * standard deviation of the non-zero voxels (background stays 0); `'none'` keeps scanner values.
 */
export type SliceNormalization = 'percentile' | 'minmax' | 'zscore' | 'none';

/** Where a slice came from. */
export interface SliceInfo {
  /** The plane as requested (`'axial'`, …, or a voxel axis). */
  axis: SliceAxis;
  /** The voxel axis that was fixed. */
  voxelAxis: 0 | 1 | 2;
  /** Index along that axis. */
  index: number;
  /** Fraction of mask pixels that are foreground in the (unresized) slice; NaN without a mask. */
  foreground: number;
}

/** A dataset of 2-D slices with their origin, as returned by {@link niftiSliceDataset} and {@link loadColin27Slices}. */
export class SliceDataset extends ArrayDataset<Sample> {
  /** `slices[i]` says where item `i` came from. */
  readonly slices: readonly SliceInfo[];

  constructor(samples: readonly Sample[], slices: readonly SliceInfo[]) {
    super(samples);
    if (samples.length !== slices.length) throw new ValueError(`SliceDataset needs one SliceInfo per sample (${samples.length} samples, ${slices.length} infos).`);
    this.slices = slices.slice();
  }
}

/** Options of {@link niftiSliceDataset}. */
export interface NiftiSliceDatasetOptions {
  /** The image volume. */
  image: VolumeSource;
  /** A mask on the same grid (foreground = value > 0 unless `binarizeMask` is false). */
  mask?: VolumeSource;
  /** Plane(s) to cut: `'axial'`, `'coronal'`, `'sagittal'` (resolved through the affine) or voxel axes 0/1/2; several concatenate (default `'axial'`). */
  axis?: SliceAxis | readonly SliceAxis[];
  /**
   * Output size: `n` for `n × n`, or `[height, width]`. Each slice is first zero-padded
   * symmetrically to the target's aspect ratio (so anatomy is not stretched), then resized
   * (bilinear image, nearest mask). Default: the slice's own size.
   */
  size?: number | readonly [number, number];
  /** Keep only slices whose mask covers at least this fraction of pixels (default 0.01; ignored without a mask). */
  minForeground?: number;
  /** Intensity normalisation, computed once over the whole volume (default `'percentile'`). */
  normalize?: SliceNormalization;
  /** Keep every `step`-th slice along each axis (default 1). */
  step?: number;
  /** Put anterior (axial) / superior (coronal, sagittal) at the top, the radiological display (default true). */
  flipRows?: boolean;
  /** Turn the mask into 0/1 (default true); false keeps integer labels (e.g. an atlas) as Int32. */
  binarizeMask?: boolean;
}

async function loadVolume(src: VolumeSource): Promise<NiftiVolume> {
  return typeof src === 'string' ? readNiftiFile(src) : src;
}

/** The `q`-th percentiles (0–100) of a large array, by sorting a float32 copy once. */
function percentiles(data: Float32Array, qs: readonly number[]): number[] {
  const sorted = Float32Array.from(data).sort();
  return qs.map((q) => {
    const pos = ((sorted.length - 1) * q) / 100;
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  });
}

/** An affine `a·x + b` that normalises the volume's intensities as requested. */
function normalizer(vol: NiftiVolume, mode: SliceNormalization): { a: number; b: number; clip: boolean } {
  if (mode === 'none') return { a: 1, b: 0, clip: false };
  const values = vol.toFloat32();
  if (mode === 'percentile' || mode === 'minmax') {
    let lo: number;
    let hi: number;
    if (mode === 'percentile') [lo, hi] = percentiles(values, [0.5, 99.5]);
    else {
      lo = Infinity;
      hi = -Infinity;
      for (const v of values) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    const a = hi > lo ? 1 / (hi - lo) : 1;
    return { a, b: -lo * a, clip: mode === 'percentile' };
  }
  if (mode === 'zscore') {
    let n = 0;
    let s = 0;
    for (const v of values) if (v !== 0) { n++; s += v; }
    const mean = n > 0 ? s / n : 0;
    let sq = 0;
    for (const v of values) if (v !== 0) sq += (v - mean) ** 2;
    const std = n > 0 && sq > 0 ? Math.sqrt(sq / n) : 1;
    return { a: 1 / std, b: -mean / std, clip: false };
  }
  throw new ValueError(`niftiSliceDataset normalize must be 'percentile', 'minmax', 'zscore' or 'none', but got '${String(mode)}'.`);
}

/**
 * Cuts volumes into a dataset of 2-D slices: the usual way to train 2-D segmentation or generation
 * models on MRI/CT. With a mask, only slices with at least `minForeground` foreground are kept
 * (the "≥ 1 % foreground" filter that drops empty slices at the volume's ends).
 *
 * All slices are computed up front and held in memory (float32 images, uint8 masks).
 *
 * @example
 * ```ts
 * const slices = await niftiSliceDataset({ image: 'ch2.nii.gz', mask: 'ch2bet.nii.gz', axis: 'axial', size: 128 });
 * const [train, val] = randomSplit(slices, [0.8, 0.2], { seed: 0 });
 * ```
 */
export async function niftiSliceDataset(options: NiftiSliceDatasetOptions): Promise<SliceDataset> {
  const axes: readonly SliceAxis[] = options.axis === undefined ? ['axial'] : Array.isArray(options.axis) ? options.axis : [options.axis as SliceAxis];
  const minForeground = options.minForeground ?? 0.01;
  const step = options.step ?? 1;
  const flipRows = options.flipRows ?? true;
  const binarizeMask = options.binarizeMask ?? true;
  if (!(minForeground >= 0 && minForeground <= 1)) throw new ValueError(`niftiSliceDataset minForeground must be in [0, 1], but got ${minForeground}.`);
  if (!Number.isInteger(step) || step < 1) throw new ValueError(`niftiSliceDataset step must be a positive integer, but got ${step}.`);
  const size = options.size === undefined ? undefined : typeof options.size === 'number' ? ([options.size, options.size] as const) : options.size;
  if (size && (size.length !== 2 || size.some((s) => !Number.isInteger(s) || s < 1))) {
    throw new ValueError(`niftiSliceDataset size must be a positive integer or [height, width], but got ${JSON.stringify(options.size)}.`);
  }
  const [image, mask] = await Promise.all([loadVolume(options.image), options.mask === undefined ? undefined : loadVolume(options.mask)]);
  if (mask && image.dims.slice(0, 3).some((d, i) => d !== mask.dims[i])) {
    throw new ShapeError(
      `niftiSliceDataset: the mask's grid [${mask.dims.slice(0, 3).join(', ')}] differs from the image's [${image.dims.slice(0, 3).join(', ')}]; ` +
        'resample the mask onto the image grid first.',
    );
  }
  const { a, b, clip } = normalizer(image, options.normalize ?? 'percentile');

  const samples: Sample[] = [];
  const infos: SliceInfo[] = [];
  for (const axis of axes) {
    const voxelAxis = resolveSliceAxis(image.affine, axis);
    for (let index = 0; index < image.dims[voxelAxis]; index += step) {
      let maskArr: ImageArray | undefined;
      let foreground = NaN;
      if (mask) {
        const m = sliceVolume(mask, voxelAxis, index, { flipRows });
        let count = 0;
        const data = binarizeMask ? new Uint8Array(m.data.length) : new Int32Array(m.data.length);
        for (let i = 0; i < m.data.length; i++) {
          const v = m.data[i];
          if (v > 0) count++;
          data[i] = binarizeMask ? (v > 0 ? 1 : 0) : Math.round(v);
        }
        foreground = count / m.data.length;
        if (foreground < minForeground) continue;
        maskArr = { data, shape: [m.height, m.width, 1] };
      }
      const s = sliceVolume(image, voxelAxis, index, { flipRows });
      const data = s.data as Float32Array;
      for (let i = 0; i < data.length; i++) {
        let v = a * data[i] + b;
        if (clip) v = v < 0 ? 0 : v > 1 ? 1 : v;
        data[i] = v;
      }
      let sample: Sample = maskArr ? { image: { data, shape: [s.height, s.width, 1] }, mask: maskArr } : { image: { data, shape: [s.height, s.width, 1] } };
      if (size) sample = fitTo(sample, size);
      samples.push(sample);
      infos.push({ axis, voxelAxis, index, foreground });
    }
  }
  return new SliceDataset(samples, infos);
}
