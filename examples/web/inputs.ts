// Turns a dropped file (NIfTI volume, DICOM, PNG or JPEG) into 2-D slices the segmenter can take,
// and pairs an image slice with its mask. Everything here is plain data: no DOM, no tensors.
import {
  FileFormatError, ShapeError, ValueError, compose, readDicomAsync, readImage, readNifti,
  resize, resolveSliceAxis, sliceVolume, spatialPad, type ImageData2D, type NiftiVolume, type Sample,
} from '../../src/index.js';

/** Planes a volume can be cut along. */
export const PLANES = ['axial', 'coronal', 'sagittal'] as const;

/** One of {@link PLANES}. */
export type Plane = (typeof PLANES)[number];

/** A decoded upload: one 2-D image, a stack of DICOM frames, or a volume. */
export interface Scan {
  /** The file name. */
  name: string;
  /** What was read, for the page (format, size, type). */
  description: string;
  /** True when there is more than one slice to choose from. */
  isStack: boolean;
  /** True when the plane matters (NIfTI volumes). */
  isVolume: boolean;
  /** Slices along a plane. */
  sliceCount(plane: Plane): number;
  /** The slice as grey float32 values in the file's units. */
  slice(plane: Plane, index: number): ImageData2D;
  /** Values mapped to 0 and 1 when the scan is the model's input. */
  range: readonly [number, number];
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function isNiftiHeader(bytes: Uint8Array): boolean {
  if (bytes.length < 348) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getInt32(0, true);
  const sizeBig = view.getInt32(0, false);
  return size === 348 || sizeBig === 348 || size === 540 || sizeBig === 540;
}

/** Grey float32 version of a decoded 2-D image: RGB(A) becomes luminance, alpha is dropped. */
function toGrey(img: ImageData2D): ImageData2D {
  const { width, height, channels, data } = img;
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const o = i * channels;
    out[i] = channels >= 3 ? 0.299 * data[o] + 0.587 * data[o + 1] + 0.114 * data[o + 2] : data[o];
  }
  return { width, height, channels: 1, data: out };
}

function minMax(values: ArrayLike<number>, scale = 1, offset = 0): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = scale * values[i] + offset;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

function volumeScan(name: string, vol: NiftiVolume): Scan {
  const [nx, ny, nz] = vol.dims;
  const range = minMax(vol.data, vol.sclSlope, vol.sclInter);
  return {
    name,
    description: `NIfTI volume ${nx}×${ny}×${nz} (${vol.datatype})`,
    isStack: true,
    isVolume: true,
    range,
    sliceCount: (plane) => vol.dims[resolveSliceAxis(vol.affine, plane)],
    // flipRows: the orientation the bundled Colin27 slices (and so the trained model) use.
    slice: (plane, index) => sliceVolume(vol, plane, index, { flipRows: true }),
  };
}

function imageScan(name: string, format: string, img: ImageData2D): Scan {
  const grey = toGrey(img);
  // Integer images map their full range to [0, 1] (8-bit PNG: v / 255, as the Colin27 slices).
  const range: [number, number] = img.bitDepth !== undefined ? [0, 2 ** img.bitDepth - 1] : minMax(grey.data);
  return {
    name,
    description: `${format} ${img.width}×${img.height}, ${img.channels} channel(s)${img.bitDepth ? `, ${img.bitDepth}-bit` : ''}`,
    isStack: false,
    isVolume: false,
    range,
    sliceCount: () => 1,
    slice: () => grey,
  };
}

/**
 * Decodes an upload by its content (compressed DICOM included) (a misnamed file still reads); `.nii` / `.nii.gz` names are
 * always read as NIfTI so that a broken one gets NIfTI's error message.
 *
 * @throws FileFormatError (from medvae's readers) for corrupt or unsupported files.
 */
export async function decodeScan(bytes: Uint8Array, name: string): Promise<Scan> {
  if (bytes.length === 0) throw new FileFormatError(`${name} is empty (0 bytes).`);
  if (/\.nii(\.gz)?$/i.test(name) || isGzip(bytes) || isNiftiHeader(bytes)) {
    return volumeScan(name, readNifti(bytes, { name }));
  }
  const head = bytes.subarray(128, 132);
  const isDicom = head.length === 4 && String.fromCharCode(...head) === 'DICM';
  if (isDicom || /\.dcm$/i.test(name)) {
    // readDicomAsync also decodes JPEG, JPEG-LS and JPEG 2000 DICOM (codecs load on first use).
    const dcm = await readDicomAsync(bytes, { name });
    const frames = Array.from({ length: dcm.numberOfFrames }, (_, f) => toGrey(dcm.toImageData(f)));
    const windowed = dcm.windowCenter !== undefined && dcm.windowWidth !== undefined && dcm.windowWidth >= 1;
    const range: [number, number] = windowed
      ? [(dcm.windowCenter as number) - (dcm.windowWidth as number) / 2, (dcm.windowCenter as number) + (dcm.windowWidth as number) / 2]
      : minMax(frames.flatMap((f) => minMax(f.data)));
    return {
      name,
      description: `DICOM ${dcm.modality ?? ''} ${dcm.columns}×${dcm.rows}, ${dcm.numberOfFrames} frame(s)${windowed ? `, window ${dcm.windowCenter}/${dcm.windowWidth}` : ''}`,
      isStack: dcm.numberOfFrames > 1,
      isVolume: false,
      range,
      sliceCount: () => dcm.numberOfFrames,
      slice: (_plane, index) => frames[index],
    };
  }
  const img = readImage(bytes, { name });
  const format = bytes[0] === 0x89 ? 'PNG' : 'JPEG';
  return imageScan(name, format, img);
}

/** Options of {@link prepareSample}. */
export interface PrepareOptions {
  /** Plane of a volume. */
  plane: Plane;
  /** Slice (or frame) index. */
  index: number;
  /**
   * Zero-pad to square and resize to this size, as the training slices were made; `null` or the
   * slice's own size leaves it untouched.
   */
  fitSize: number | null;
}

/**
 * The model's input for one slice: image scaled to [0, 1] by the scan's range (`[H, W, 1]`
 * float32) and, with a mask scan, the mask as 0/1 on the same grid.
 *
 * @throws ShapeError when the mask's slice is not the image's size; ValueError for a bad index.
 */
export function prepareSample(image: Scan, mask: Scan | null, options: PrepareOptions): Sample {
  const { plane, index } = options;
  const count = image.sliceCount(plane);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new ValueError(`Slice ${index} is outside 0..${count - 1} of ${image.name}.`);
  const img = image.slice(plane, index);
  const [lo, hi] = image.range;
  const scale = hi > lo ? 1 / (hi - lo) : 0;
  const x = new Float32Array(img.width * img.height);
  for (let i = 0; i < x.length; i++) x[i] = Math.min(1, Math.max(0, (img.data[i] - lo) * scale));
  let sample: Sample = { image: { data: x, shape: [img.height, img.width, 1] } };
  if (mask !== null) {
    const maskCount = mask.sliceCount(plane);
    if (index >= maskCount) throw new ShapeError(`The mask ${mask.name} has ${maskCount} slice(s) along ${plane}, but slice ${index} of the image was chosen.`);
    const m = mask.slice(plane, index);
    if (m.width !== img.width || m.height !== img.height) {
      throw new ShapeError(`The mask ${mask.name} is ${m.width}×${m.height} but the image ${image.name} is ${img.width}×${img.height}; they must be on the same grid.`);
    }
    const y = new Uint8Array(m.width * m.height);
    for (let i = 0; i < y.length; i++) y[i] = m.data[i] > 0 ? 1 : 0;
    sample = { ...sample, mask: { data: y, shape: [m.height, m.width, 1] } };
  }
  const n = options.fitSize;
  if (n !== null && (img.width !== n || img.height !== n)) {
    const side = Math.max(img.width, img.height);
    sample = compose([spatialPad({ spatialSize: [side, side] }), resize({ spatialSize: [n, n] })])(sample);
  }
  return sample;
}

/** Reads a browser File's bytes. */
export async function fileBytes(file: Blob): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}

/** Guesses which of two dropped files is the mask (by name), image first. */
export function splitImageAndMask<T extends { name: string }>(files: readonly T[]): { image: T | undefined; mask: T | undefined } {
  const isMask = (f: T) => /(mask|seg|label|bet|gt)/i.test(f.name);
  const masks = files.filter(isMask);
  const images = files.filter((f) => !isMask(f));
  if (images.length === 0 && masks.length > 0) return { image: masks[0], mask: masks[1] };
  return { image: images[0], mask: masks[0] ?? images[1] };
}
