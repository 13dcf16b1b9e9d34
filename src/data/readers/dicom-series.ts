import { ValueError } from '../../core/errors.js';
import { DicomImage, readDicomAsync, type ReadDicomOptions } from './dicom.js';
import { formatError, readFileBytes, type BytesLike } from './internal.js';
import type { Matrix4 } from './types.js';
import { NiftiVolume, type VolumeArray } from './volume.js';

/** A sorted stack of DICOM slices and the volume they form. */
export interface DicomSeries {
  /** The slices in volume order (index k of the volume is `images[k]`). */
  images: DicomImage[];
  /**
   * The slices stacked into a volume: dims `[columns, rows, slices]`, voxel (i, j, k) = column i,
   * row j of `images[k]`. The affine maps to RAS+ mm (DICOM's LPS converted the way dcm2niix and
   * nibabel do), so `writeNifti(series.volume)` gives a correctly placed NIfTI. Stored values are
   * kept with `sclSlope`/`sclInter` set to the slices' shared rescale; when slices disagree on
   * rescale or pixel type, `data` is float32 with the rescale applied.
   */
  volume: NiftiVolume;
  /**
   * How the slices were ordered: `'position'` (Image Position projected on the slice normal, the
   * reliable way), `'instanceNumber'` (fallback when positions or orientation are missing) or
   * `'frames'` (one multi-frame object, frames in stored order).
   */
  sortedBy: 'position' | 'instanceNumber' | 'frames';
  /** Non-fatal oddities found (uneven slice gaps, missing spacing), for logging. */
  warnings: string[];
}

function cross(a: number[], b: number[]): number[] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function dot(a: number[], b: number[]): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

function label(img: DicomImage, i: number): string {
  return img.name ? `'${img.name}'` : `slice ${i}`;
}

/**
 * Stacks already-read slices into a volume (the synchronous core of {@link readDicomSeries}).
 *
 * Slices are sorted by their Image Position (Patient) projected on the slice normal (row cosines ×
 * column cosines), which is correct whatever the acquisition order; when any slice lacks position
 * or orientation, by Instance Number. All slices must share size, pixel layout, orientation and
 * series UID; a single multi-frame object is stacked frame by frame.
 *
 * @throws FileFormatError naming the offending file when slices do not belong together.
 */
export function stackDicomSlices(images: DicomImage[]): DicomSeries {
  if (images.length === 0) throw new ValueError('readDicomSeries: got no slices; pass at least one DICOM file.');
  const warnings: string[] = [];
  const first = images[0];
  const FORMAT = 'a DICOM series';
  if (images.length === 1 && first.numberOfFrames > 1) return stackFrames(first, warnings);
  for (let i = 0; i < images.length; i++) {
    const img = images[i];
    if (img.numberOfFrames !== 1) {
      throw formatError(FORMAT, img.name, `${label(img, i)} has ${img.numberOfFrames} frames; a series is either single-frame slices or one multi-frame file`);
    }
    if (img.samplesPerPixel !== 1) throw formatError(FORMAT, img.name, `${label(img, i)} is colour (${img.samplesPerPixel} samples per pixel); volumes are greyscale`);
    if (img.rows !== first.rows || img.columns !== first.columns) {
      throw formatError(FORMAT, img.name, `${label(img, i)} is ${img.columns}×${img.rows} but ${label(first, 0)} is ${first.columns}×${first.rows}`);
    }
    if (img.seriesInstanceUID && first.seriesInstanceUID && img.seriesInstanceUID !== first.seriesInstanceUID) {
      throw formatError(FORMAT, img.name, `${label(img, i)} belongs to series ${img.seriesInstanceUID}, ${label(first, 0)} to ${first.seriesInstanceUID}`, 'Group files by Series Instance UID first.');
    }
  }
  const iop = first.imageOrientationPatient;
  const havePositions = images.every((im) => im.imagePositionPatient && im.imageOrientationPatient);
  let order = images.map((im, i) => ({ im, i, key: 0 }));
  let sortedBy: DicomSeries['sortedBy'];
  let normal = [0, 0, 1];
  if (havePositions && iop) {
    const rowCos = iop.slice(0, 3);
    const colCos = iop.slice(3, 6);
    normal = cross(rowCos, colCos);
    for (let i = 0; i < images.length; i++) {
      const o = images[i].imageOrientationPatient!;
      if (o.some((v, k) => Math.abs(v - iop[k]) > 1e-3)) {
        throw formatError(FORMAT, images[i].name, `${label(images[i], i)} has orientation [${o.join(', ')}], ${label(first, 0)} has [${iop.join(', ')}]`, 'Slices of one volume must share Image Orientation (Patient).');
      }
    }
    order = order.map((e) => ({ ...e, key: dot(e.im.imagePositionPatient!, normal) }));
    sortedBy = 'position';
  } else {
    if (images.length > 1 && images.some((im) => im.instanceNumber === undefined)) {
      throw formatError(FORMAT, undefined, 'some slices lack both Image Position/Orientation (Patient) and Instance Number, so their order is unknown');
    }
    order = order.map((e) => ({ ...e, key: e.im.instanceNumber ?? 0 }));
    sortedBy = 'instanceNumber';
    if (images.length > 1) warnings.push('Slices lack Image Position/Orientation (Patient); ordered by Instance Number, spacing from Spacing Between Slices or Slice Thickness.');
  }
  order.sort((a, b) => a.key - b.key || a.i - b.i);
  for (let k = 1; k < order.length; k++) {
    if (Math.abs(order[k].key - order[k - 1].key) < 1e-6) {
      throw formatError(
        FORMAT,
        order[k].im.name,
        `${label(order[k].im, order[k].i)} and ${label(order[k - 1].im, order[k - 1].i)} have the same ${sortedBy === 'position' ? 'slice position' : 'Instance Number'}`,
        'The list holds duplicates or several acquisitions (echoes, time points); split it first.',
      );
    }
  }
  const sorted = order.map((e) => e.im);
  const n = sorted.length;

  // Geometry (LPS), then converted to RAS.
  const ps = first.pixelSpacing ?? [1, 1];
  if (!first.pixelSpacing) warnings.push('Pixel Spacing is missing; assuming 1 mm.');
  const rowCos = iop ? iop.slice(0, 3) : [1, 0, 0];
  const colCos = iop ? iop.slice(3, 6) : [0, 1, 0];
  const origin = first.imagePositionPatient ? first.imagePositionPatient.slice() : [0, 0, 0];
  let step: number[];
  if (sortedBy === 'position' && n > 1) {
    const p0 = sorted[0].imagePositionPatient!;
    const pn = sorted[n - 1].imagePositionPatient!;
    step = [0, 1, 2].map((a) => (pn[a] - p0[a]) / (n - 1));
    origin.splice(0, 3, ...p0);
    const gaps = order.slice(1).map((e, k) => e.key - order[k].key);
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    const worst = Math.max(...gaps.map((g) => Math.abs(g - mean)));
    if (worst > Math.max(1e-3, 0.01 * Math.abs(mean))) {
      warnings.push(`Slice gaps are uneven (${Math.min(...gaps).toFixed(4)} to ${Math.max(...gaps).toFixed(4)} mm); the volume assumes a constant ${mean.toFixed(4)} mm.`);
    }
  } else {
    const dz = first.spacingBetweenSlices ?? first.sliceThickness ?? 1;
    step = normal.map((v) => v * dz);
  }
  const sliceSpacing = Math.hypot(step[0], step[1], step[2]);
  const lps: Matrix4 = [0, 1, 2].map((a) => [rowCos[a] * ps[1], colCos[a] * ps[0], step[a], origin[a]]);
  const affine: Matrix4 = [
    lps[0].map((v) => -v),
    lps[1].map((v) => -v),
    lps[2].slice(),
    [0, 0, 0, 1],
  ];

  // Voxels: keep stored values when all slices share type and rescale.
  const sameType = sorted.every((im) => im.pixelData.constructor === first.pixelData.constructor);
  const sameRescale = sorted.every((im) => im.rescaleSlope === first.rescaleSlope && im.rescaleIntercept === first.rescaleIntercept);
  const frame = first.rows * first.columns;
  let data: VolumeArray;
  let sclSlope = 1;
  let sclInter = 0;
  if (sameType && sameRescale) {
    data = new (first.pixelData.constructor as new (len: number) => VolumeArray)(frame * n);
    sorted.forEach((im, k) => data.set(im.pixelData, k * frame));
    sclSlope = first.rescaleSlope;
    sclInter = first.rescaleIntercept;
  } else {
    data = new Float32Array(frame * n);
    sorted.forEach((im, k) => data.set(im.toFloat32(), k * frame));
  }
  const volume = new NiftiVolume({
    dims: [first.columns, first.rows, n],
    data,
    spacing: [ps[1], ps[0], sliceSpacing > 0 ? sliceSpacing : 1],
    affine,
    sclSlope,
    sclInter,
    header: { sformCode: 1, qformCode: 1, descrip: first.modality ? `${first.modality} from DICOM` : 'from DICOM' },
  });
  return { images: sorted, volume, sortedBy, warnings };
}

function stackFrames(img: DicomImage, warnings: string[]): DicomSeries {
  if (img.samplesPerPixel !== 1) throw formatError('a DICOM series', img.name, `it is colour (${img.samplesPerPixel} samples per pixel); volumes are greyscale`);
  const ps = img.pixelSpacing ?? [1, 1];
  const dz = img.spacingBetweenSlices ?? img.sliceThickness ?? 1;
  warnings.push('Multi-frame object: frames stacked in stored order; per-frame positions are not read.');
  const iop = img.imageOrientationPatient ?? [1, 0, 0, 0, 1, 0];
  const rowCos = iop.slice(0, 3);
  const colCos = iop.slice(3, 6);
  const normal = cross(rowCos, colCos);
  const origin = img.imagePositionPatient ?? [0, 0, 0];
  const lps = [0, 1, 2].map((a) => [rowCos[a] * ps[1], colCos[a] * ps[0], normal[a] * dz, origin[a]]);
  const data = img.pixelData.slice() as VolumeArray;
  const volume = new NiftiVolume({
    dims: [img.columns, img.rows, img.numberOfFrames],
    data,
    spacing: [ps[1], ps[0], dz],
    affine: [lps[0].map((v) => -v), lps[1].map((v) => -v), lps[2], [0, 0, 0, 1]],
    sclSlope: img.rescaleSlope,
    sclInter: img.rescaleIntercept,
    header: { sformCode: 1, qformCode: 1, descrip: 'from multi-frame DICOM' },
  });
  return { images: [img], volume, sortedBy: 'frames', warnings };
}

/** Options of {@link readDicomSeries}. */
export interface ReadDicomSeriesOptions extends Omit<ReadDicomOptions, 'name'> {
  /** Names for inputs given as bytes (same order), used in error messages; paths name themselves. */
  names?: string[];
}

/**
 * Reads the slices of one DICOM series (bytes or file paths, in any order) and stacks them into a
 * volume: see {@link stackDicomSlices} for sorting and geometry. Paths are read with `node:fs`
 * (imported lazily); each file's errors name it.
 *
 * @example
 * ```ts
 * const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.dcm')).map((f) => path.join(dir, f));
 * const { volume } = await readDicomSeries(files);
 * await fs.writeFile('series.nii.gz', writeNifti(volume, { gzip: true }));
 * ```
 */
export async function readDicomSeries(inputs: ReadonlyArray<BytesLike | string>, options: ReadDicomSeriesOptions = {}): Promise<DicomSeries> {
  const images: DicomImage[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    const name = typeof input === 'string' ? input : options.names?.[i];
    const bytes = typeof input === 'string' ? await readFileBytes(input) : input;
    images.push(await readDicomAsync(bytes, { maxBytes: options.maxBytes, name }));
  }
  return stackDicomSlices(images);
}
