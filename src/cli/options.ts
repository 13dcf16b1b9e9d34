import type { SliceAxis, VolumeIntensity } from '../index.js';
import { UsageError } from './errors.js';

/**
 * How a model's training slices were cut and scaled, saved beside the model by `medvae train`
 * (`medvae-volume.json`) so `medvae segment` feeds it volumes the same way.
 */
export interface VolumePreprocessing {
  /** Plane(s) cut in training; `segment` uses the first. */
  axis: SliceAxis[];
  /** Slice size in training (`[height, width]`), or null for native slice sizes. */
  size: [number, number] | null;
  /** Intensity scaling of each volume. */
  intensity: VolumeIntensity;
  /** Whether slice rows were reversed (niftiSliceDataset's `flipRows`). */
  flipRows: boolean;
}

/** The sidecar file name in a model folder. */
export const PREPROCESSING_FILE = 'medvae-volume.json';

/** Parses `axial`, `coronal`, `sagittal`, `0`, `1`, `2`, or a comma list of them. */
export function parseAxes(text: string): SliceAxis[] {
  return text.split(',').map((t) => {
    const v = t.trim();
    if (v === 'axial' || v === 'coronal' || v === 'sagittal') return v;
    if (v === '0' || v === '1' || v === '2') return Number(v) as 0 | 1 | 2;
    throw new UsageError(`--axis must be axial, coronal, sagittal or a voxel axis 0, 1, 2 (comma-separated for several), but got '${t}'.`);
  });
}

/** Parses `128` or `128x96` (height × width). */
export function parseSize(text: string): [number, number] {
  const parts = text.toLowerCase().split(/[x×,]/).map(Number);
  const pair = parts.length === 1 ? [parts[0], parts[0]] : parts;
  if (pair.length !== 2 || !pair.every((n) => Number.isInteger(n) && n > 0)) {
    throw new UsageError(`--size must be a positive integer or HEIGHTxWIDTH, but got '${text}'.`);
  }
  return [pair[0], pair[1]];
}

/** Parses a positive integer option. */
export function parseIntOption(text: string, name: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, but got '${text}'.`);
  return n;
}

/** Parses a finite number option. */
export function parseNumber(text: string, name: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, but got '${text}'.`);
  return n;
}

/** Parses a comma list of integers (`--channels 16,32,64`, `--roi 64,64,64`). */
export function parseIntList(text: string, name: string): number[] {
  const list = text.split(',').map((t) => Number(t.trim()));
  if (list.length === 0 || !list.every((n) => Number.isInteger(n))) throw new UsageError(`--${name} must be a comma-separated list of integers, but got '${text}'.`);
  return list;
}

/** `--intensity` (percentile|minmax|zscore|none) combined with `--scale`/`--offset` (which win when given). */
export function parseIntensity(mode: string | undefined, scale: string | undefined, offset: string | undefined): VolumeIntensity | undefined {
  if (scale !== undefined || offset !== undefined) {
    return { scale: scale === undefined ? 1 : parseNumber(scale, 'scale'), offset: offset === undefined ? 0 : parseNumber(offset, 'offset') };
  }
  if (mode === undefined) return undefined;
  if (mode === 'percentile' || mode === 'minmax' || mode === 'zscore' || mode === 'none') return mode;
  throw new UsageError(`--intensity must be percentile, minmax, zscore or none (or give --scale/--offset), but got '${mode}'.`);
}
