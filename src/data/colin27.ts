import { gunzipSync } from 'fflate';
import { FileFormatError, ValueError } from '../core/errors.js';
import { findShipped, fsp, nodePath } from './node-fs.js';
import { SliceDataset, type SliceInfo } from './nifti-slices.js';
import type { Sample } from './sample.js';

/** The planes of the embedded Colin27 slices. */
export const COLIN27_AXES = ['axial', 'coronal', 'sagittal'] as const;

/** One plane of the embedded Colin27 slices. */
export type Colin27Axis = (typeof COLIN27_AXES)[number];

/** The voxel axis each plane fixes in the RAS-stored template. */
const VOXEL_AXIS: Record<Colin27Axis, 0 | 1 | 2> = { sagittal: 0, coronal: 1, axial: 2 };

/** The manifest.json of `data/colin27-slices` (written by `scripts/make-colin27-slices.ts`). */
export interface Colin27Manifest {
  /** Always `'medvae-slices'`. */
  format: 'medvae-slices';
  /** Format version (1). */
  version: number;
  /** What the set is, in words. */
  description: string;
  /** `[height, width]` of every slice. */
  size: [number, number];
  /** Number of slices. */
  count: number;
  /** Slices per plane. */
  counts: Record<string, number>;
  /** Storage type of both stacks (`'uint8'`). */
  dtype: 'uint8';
  /** File names of the gzipped stacks. */
  files: {
    /** The image stack. */
    images: string;
    /** The mask stack. */
    masks: string;
  };
  /** How the stacks are laid out. */
  layout: string;
  /** Provenance: source files, grid, orientation, selection rule, generating script. */
  source: Record<string, unknown>;
  /** Per slice, in stack order. */
  slices: {
    /** The plane. */
    axis: Colin27Axis;
    /** Index along the voxel axis the plane fixes. */
    index: number;
    /** Fraction of brain pixels in the source slice. */
    foreground: number;
  }[];
}

/** Options of {@link loadColin27Slices}. */
export interface Colin27Options {
  /** Planes to include (default all three: axial, coronal, sagittal). */
  axes?: readonly Colin27Axis[];
  /**
   * Directory holding `manifest.json` and the stacks. Default: `data/colin27-slices` found by
   * walking up from the current directory (and, in CommonJS, from medvae's own location), also
   * looking inside `node_modules/medvae`.
   */
  dir?: string;
}

async function locate(dir: string | undefined): Promise<string> {
  const path = await nodePath();
  if (dir !== undefined) return dir;
  const manifest = await findShipped(path.join('data', 'colin27-slices', 'manifest.json'));
  if (manifest === undefined) {
    throw new ValueError(
      "loadColin27Slices: could not find 'data/colin27-slices/manifest.json' above the current directory. " +
        'Run from the medvae repository, pass `dir`, or rebuild it with `npx tsx scripts/make-colin27-slices.ts`.',
    );
  }
  return path.dirname(manifest);
}

/**
 * Loads medvae's embedded default data: 2-D slices of the Colin27 (MNI ch2) T1 brain template,
 * 128×128, axial + coronal + sagittal, each with a brain mask, only slices with ≥ 1 % brain.
 * Images are float32 in [0, 1] (`[128, 128, 1]`), masks uint8 0/1. Needs no Debian package:
 * the data lives in the repository (see `data/colin27-slices/NOTICE.md` for its licence).
 *
 * @example
 * ```ts
 * const slices = await loadColin27Slices({ axes: ['axial'] });
 * const [train, val] = randomSplit(slices, [0.8, 0.2], { seed: 0 });
 * ```
 */
export async function loadColin27Slices(options: Colin27Options = {}): Promise<SliceDataset> {
  const axes = options.axes ?? COLIN27_AXES;
  for (const a of axes) {
    if (!COLIN27_AXES.includes(a)) throw new ValueError(`loadColin27Slices: unknown axis '${String(a)}'; use 'axial', 'coronal' or 'sagittal'.`);
  }
  const fs = await fsp();
  const path = await nodePath();
  const dir = await locate(options.dir);
  const manifestPath = path.join(dir, 'manifest.json');
  let manifest: Colin27Manifest;
  try {
    manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8')) as Colin27Manifest;
  } catch (err) {
    throw new FileFormatError(`loadColin27Slices: cannot read ${manifestPath} as JSON. Rebuild it with scripts/make-colin27-slices.ts.`, { cause: err });
  }
  if (manifest.format !== 'medvae-slices' || manifest.version !== 1 || manifest.dtype !== 'uint8') {
    throw new FileFormatError(`loadColin27Slices: ${manifestPath} is not a version-1 uint8 medvae slice manifest.`);
  }
  const [h, w] = manifest.size;
  const px = h * w;
  const read = async (name: string): Promise<Uint8Array> => {
    const file = path.join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = gunzipSync(new Uint8Array(await fs.readFile(file)));
    } catch (err) {
      throw new FileFormatError(`loadColin27Slices: cannot read or gunzip ${file}.`, { cause: err });
    }
    if (bytes.length !== manifest.count * px) {
      throw new FileFormatError(`loadColin27Slices: ${file} holds ${bytes.length} bytes but the manifest promises ${manifest.count} slices of ${h}×${w}.`);
    }
    return bytes;
  };
  const [images, masks] = await Promise.all([read(manifest.files.images), read(manifest.files.masks)]);
  if (manifest.slices.length !== manifest.count) {
    throw new FileFormatError(`loadColin27Slices: the manifest lists ${manifest.slices.length} slices but says count ${manifest.count}.`);
  }
  const samples: Sample[] = [];
  const infos: SliceInfo[] = [];
  manifest.slices.forEach((s, i) => {
    if (!axes.includes(s.axis)) return;
    const image = new Float32Array(px);
    for (let p = 0; p < px; p++) image[p] = images[i * px + p] / 255;
    samples.push({ image: { data: image, shape: [h, w, 1] }, mask: { data: masks.subarray(i * px, (i + 1) * px), shape: [h, w, 1] } });
    infos.push({ axis: s.axis, voxelAxis: VOXEL_AXIS[s.axis], index: s.index, foreground: s.foreground });
  });
  return new SliceDataset(samples, infos);
}
