import dicomParser from 'dicom-parser';
import { ValueError } from '../../core/errors.js';
import { decodeRleFrame } from './dicom-rle.js';
import {
  checkAlloc,
  DEFAULT_MAX_BYTES,
  formatError,
  guard,
  inflateCapped,
  readFileBytes,
  toBytes,
  type BytesLike,
} from './internal.js';
import type { ImageData2D, ReadOptions } from './types.js';

const FORMAT = 'DICOM';

/** Names of the DICOM transfer syntaxes (PS3.6 Annex A), used in messages and `transferSyntaxName`. */
export const TRANSFER_SYNTAX_NAMES: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian (retired)',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, Selection Value 1)',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Lossy (Near-Lossless)',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component (Lossless Only)',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile / Main Level',
  '1.2.840.10008.1.2.4.101': 'MPEG2 Main Profile / High Level',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 High Profile / Level 4.1',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1',
  '1.2.840.10008.1.2.4.104': 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video',
  '1.2.840.10008.1.2.4.105': 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video',
  '1.2.840.10008.1.2.4.106': 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2',
  '1.2.840.10008.1.2.4.107': 'HEVC/H.265 Main Profile / Level 5.1',
  '1.2.840.10008.1.2.4.108': 'HEVC/H.265 Main 10 Profile / Level 5.1',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const DEFLATED_LE = '1.2.840.10008.1.2.1.99';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const RLE = '1.2.840.10008.1.2.5';
const NATIVE = new Set([IMPLICIT_LE, EXPLICIT_LE, DEFLATED_LE, EXPLICIT_BE]);

/** Stored pixel sample arrays a DICOM image can have (by Bits Allocated and Pixel Representation). */
export type DicomPixelArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

/** Attributes of {@link DicomImage} that its constructor takes (see the class for their meaning). */
export type DicomImageField =
  | 'name'
  | 'rows'
  | 'columns'
  | 'numberOfFrames'
  | 'samplesPerPixel'
  | 'bitsAllocated'
  | 'bitsStored'
  | 'pixelRepresentation'
  | 'photometricInterpretation'
  | 'pixelData'
  | 'rescaleSlope'
  | 'rescaleIntercept'
  | 'windowCenter'
  | 'windowWidth'
  | 'modality'
  | 'imagePositionPatient'
  | 'imageOrientationPatient'
  | 'pixelSpacing'
  | 'sliceThickness'
  | 'spacingBetweenSlices'
  | 'instanceNumber'
  | 'seriesInstanceUID'
  | 'sopInstanceUID'
  | 'transferSyntaxUID';

/**
 * What {@link DicomImage}'s constructor takes: the decoded attributes, plus a lookup for any other
 * tag. {@link readDicom} builds it; build one yourself to wrap pixels from another DICOM decoder.
 */
export interface DicomImageInit extends Pick<DicomImage, DicomImageField> {
  /** Returns any attribute as a trimmed string given a `'xGGGGEEEE'` tag (backs {@link DicomImage.getString}). */
  getString?: (tag: string) => string | undefined;
}

/**
 * One decoded DICOM object (a slice, or a multi-frame image): pixel samples plus the attributes
 * needed to turn them into physical values and place them in space. Patient-identifying
 * attributes are not copied out; use {@link DicomImage.getString} for anything else.
 */
export class DicomImage {
  /** The `name` passed to the reader (or the path), for messages. */
  readonly name?: string;
  /** Rows (0028,0010): image height. */
  readonly rows: number;
  /** Columns (0028,0011): image width. */
  readonly columns: number;
  /** Number of Frames (0028,0008), 1 for single-frame objects. */
  readonly numberOfFrames: number;
  /** Samples per Pixel (0028,0002): 1 for grey, 3 for colour. */
  readonly samplesPerPixel: number;
  /** Bits Allocated (0028,0100): 8, 16 or 32. */
  readonly bitsAllocated: number;
  /** Bits Stored (0028,0101): significant bits; the rest were masked off (or sign-extended). */
  readonly bitsStored: number;
  /** Pixel Representation (0028,0103): 0 unsigned, 1 two's-complement signed. */
  readonly pixelRepresentation: number;
  /**
   * Photometric Interpretation (0028,0004). `MONOCHROME1` means high values display dark: medvae
   * does not invert it, so invert after windowing if that matters for your task.
   */
  readonly photometricInterpretation: string;
  /**
   * Stored values, frames one after another, each row-major with interleaved samples (planar
   * colour data is interleaved on reading): sample `s` of pixel (row `r`, column `c`) of frame
   * `f` is at `((f * rows + r) * columns + c) * samplesPerPixel + s`.
   */
  readonly pixelData: DicomPixelArray;
  /** Rescale Slope (0028,1053); 1 when absent. Real value = slope · stored + intercept. */
  readonly rescaleSlope: number;
  /** Rescale Intercept (0028,1052); 0 when absent (CT usually −1024). */
  readonly rescaleIntercept: number;
  /** First Window Center (0028,1050) suggested by the modality, in rescaled units. */
  readonly windowCenter?: number;
  /** First Window Width (0028,1051), see `windowCenter`. */
  readonly windowWidth?: number;
  /** Modality (0008,0060): CT, MR, ... */
  readonly modality?: string;
  /** Image Position (Patient) (0020,0032): centre of the first pixel, in LPS+ mm. */
  readonly imagePositionPatient?: [number, number, number];
  /** Image Orientation (Patient) (0020,0037): row direction cosines then column direction cosines (LPS+). */
  readonly imageOrientationPatient?: [number, number, number, number, number, number];
  /** Pixel Spacing (0028,0030) in DICOM order: [between rows (vertical), between columns (horizontal)], mm. */
  readonly pixelSpacing?: [number, number];
  /** Slice Thickness (0018,0050), mm. */
  readonly sliceThickness?: number;
  /** Spacing Between Slices (0018,0088), mm. */
  readonly spacingBetweenSlices?: number;
  /** Instance Number (0020,0013). */
  readonly instanceNumber?: number;
  /** Series Instance UID (0020,000E). */
  readonly seriesInstanceUID?: string;
  /** SOP Instance UID (0008,0018). */
  readonly sopInstanceUID?: string;
  /** Transfer Syntax UID (0002,0010) of the file. */
  readonly transferSyntaxUID: string;
  private readonly lookup?: (tag: string) => string | undefined;

  constructor(init: DicomImageInit) {
    this.name = init.name;
    this.rows = init.rows;
    this.columns = init.columns;
    this.numberOfFrames = init.numberOfFrames;
    this.samplesPerPixel = init.samplesPerPixel;
    this.bitsAllocated = init.bitsAllocated;
    this.bitsStored = init.bitsStored;
    this.pixelRepresentation = init.pixelRepresentation;
    this.photometricInterpretation = init.photometricInterpretation;
    this.pixelData = init.pixelData;
    this.rescaleSlope = init.rescaleSlope;
    this.rescaleIntercept = init.rescaleIntercept;
    this.windowCenter = init.windowCenter;
    this.windowWidth = init.windowWidth;
    this.modality = init.modality;
    this.imagePositionPatient = init.imagePositionPatient;
    this.imageOrientationPatient = init.imageOrientationPatient;
    this.pixelSpacing = init.pixelSpacing;
    this.sliceThickness = init.sliceThickness;
    this.spacingBetweenSlices = init.spacingBetweenSlices;
    this.instanceNumber = init.instanceNumber;
    this.seriesInstanceUID = init.seriesInstanceUID;
    this.sopInstanceUID = init.sopInstanceUID;
    this.transferSyntaxUID = init.transferSyntaxUID;
    this.lookup = init.getString;
  }

  /** Human-readable name of `transferSyntaxUID`. */
  get transferSyntaxName(): string {
    return TRANSFER_SYNTAX_NAMES[this.transferSyntaxUID] ?? 'unknown transfer syntax';
  }

  /**
   * Real values, a new Float32Array: `rescaleSlope · stored + rescaleIntercept` for every sample
   * (Hounsfield units for CT, arbitrary units for MR).
   */
  toFloat32(): Float32Array {
    const src = this.pixelData;
    const out = new Float32Array(src.length);
    const s = this.rescaleSlope;
    const b = this.rescaleIntercept;
    for (let i = 0; i < src.length; i++) out[i] = s * src[i] + b;
    return out;
  }

  /**
   * CT values in Hounsfield units (the same numbers as {@link DicomImage.toFloat32}); refuses
   * other modalities, whose rescaled values are not HU.
   *
   * @throws ValueError when `modality` is set and is not `CT`.
   */
  toHounsfield(): Float32Array {
    if (this.modality !== undefined && this.modality !== 'CT') {
      throw new ValueError(
        `toHounsfield: ${describe(this.name)} is modality ${this.modality}, whose values are not Hounsfield units; use toFloat32() for rescaled values.`,
      );
    }
    return this.toFloat32();
  }

  /**
   * One frame as a float32 {@link ImageData2D} (rescaled values, `columns` × `rows`,
   * `samplesPerPixel` channels).
   */
  toImageData(frame = 0): ImageData2D {
    if (!Number.isInteger(frame) || frame < 0 || frame >= this.numberOfFrames) {
      throw new ValueError(`toImageData: frame ${frame} is outside 0..${this.numberOfFrames - 1} of ${describe(this.name)}.`);
    }
    const n = this.rows * this.columns * this.samplesPerPixel;
    const src = this.pixelData.subarray(frame * n, (frame + 1) * n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.rescaleSlope * src[i] + this.rescaleIntercept;
    return { width: this.columns, height: this.rows, channels: this.samplesPerPixel, data: out };
  }

  /**
   * Any other attribute as a string (trimmed), or undefined when absent. `tag` is `'x00100020'`,
   * `'00100020'` or `'(0010,0020)'` / `'0010,0020'`.
   */
  getString(tag: string): string | undefined {
    const t = tag.replace(/[(),\s]/g, '').toLowerCase().replace(/^x/, '');
    return this.lookup?.(`x${t}`);
  }
}

function describe(name: string | undefined): string {
  return name ? `'${name}'` : 'the image';
}

/** Options of {@link readDicom}. */
export interface ReadDicomOptions extends ReadOptions {}

function numbers(ds: dicomParser.DataSet, tag: string): number[] | undefined {
  const s = ds.string(tag);
  if (s === undefined || s.trim() === '') return undefined;
  const parts = s.split('\\').map((p) => Number.parseFloat(p));
  return parts.every((v) => Number.isFinite(v)) ? parts : undefined;
}

function firstNumber(ds: dicomParser.DataSet, tag: string): number | undefined {
  const v = numbers(ds, tag);
  return v ? v[0] : undefined;
}

/**
 * Reads one DICOM Part 10 file (with the 128-byte preamble and `DICM`) through `dicom-parser`.
 *
 * Uncompressed transfer syntaxes (implicit/explicit little endian, deflated, explicit big endian)
 * and RLE Lossless are decoded. Other compressed syntaxes (JPEG baseline/lossless, JPEG-LS,
 * JPEG 2000, HTJ2K, MPEG/HEVC) are refused with a `FileFormatError` naming the syntax UID and its
 * name; decompress such files first (e.g. `gdcmconv --raw in.dcm out.dcm` or
 * `dcmdjpeg`). Pixel sizes declared in the header are checked against the bytes present before
 * anything is allocated, and values are masked to Bits Stored (signed ones sign-extended).
 *
 * @example
 * ```ts
 * const img = readDicom(await fs.readFile('slice.dcm'), { name: 'slice.dcm' });
 * const hu = img.toHounsfield();                       // CT only
 * const view = applyWindow(hu, WINDOW_PRESETS.brain);  // 0..1
 * ```
 */
export function readDicom(input: BytesLike, options: ReadDicomOptions = {}): DicomImage {
  const { name } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const bytes = toBytes(input);
  if (bytes.length < 132 || bytes[128] !== 0x44 || bytes[129] !== 0x49 || bytes[130] !== 0x43 || bytes[131] !== 0x4d) {
    throw formatError(FORMAT, name, `no "DICM" marker at byte 128 (${bytes.length} bytes)`, 'Only DICOM Part 10 files are read; the file is not DICOM, or is a raw dataset without the file meta header.');
  }
  const ds = guard(FORMAT, name, 'dicom-parser', () =>
    dicomParser.parseDicom(bytes, {
      inflater: (arr: Uint8Array, position: number) => {
        const inflated = inflateCapped(arr.subarray(position), 'raw', FORMAT, name, maxBytes);
        const full = new Uint8Array(position + inflated.length);
        full.set(arr.subarray(0, position));
        full.set(inflated, position);
        return full;
      },
    } as dicomParser.ParseDicomOptions),
  );
  return guard(FORMAT, name, 'reading the DICOM attributes', () => decode(ds, name, maxBytes));
}

function decode(ds: dicomParser.DataSet, name: string | undefined, maxBytes: number): DicomImage {
  const ts = (ds.string('x00020010') ?? IMPLICIT_LE).replace(/\0/g, '').trim();
  const rows = ds.uint16('x00280010');
  const columns = ds.uint16('x00280011');
  const px = ds.elements.x7fe00010 ?? ds.elements.x7fe00008 ?? ds.elements.x7fe00009;
  if (!px || rows === undefined || columns === undefined) {
    throw formatError(FORMAT, name, 'it has no image (missing Pixel Data, Rows or Columns)', 'It may be a structured report, presentation state or other non-image object.');
  }
  if (rows < 1 || columns < 1) throw formatError(FORMAT, name, `image size is ${columns}×${rows}`);
  const spp = ds.uint16('x00280002') ?? 1;
  const bitsAllocated = ds.uint16('x00280100') ?? 16;
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const pixelRepresentation = ds.uint16('x00280103') ?? 0;
  const planar = ds.uint16('x00280006') ?? 0;
  const framesRaw = ds.intString('x00280008');
  const frames = framesRaw !== undefined && Number.isFinite(framesRaw) && framesRaw > 0 ? framesRaw : 1;
  const photometric = (ds.string('x00280004') ?? (spp === 3 ? 'RGB' : 'MONOCHROME2')).trim();
  if (spp !== 1 && spp !== 3) throw formatError(FORMAT, name, `Samples per Pixel is ${spp}, expected 1 or 3`);
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw formatError(FORMAT, name, `Bits Allocated is ${bitsAllocated}; medvae reads 8, 16 and 32`);
  }
  if (bitsStored < 1 || bitsStored > bitsAllocated) {
    throw formatError(FORMAT, name, `Bits Stored (${bitsStored}) must be 1..Bits Allocated (${bitsAllocated})`);
  }
  if (pixelRepresentation !== 0 && pixelRepresentation !== 1) {
    throw formatError(FORMAT, name, `Pixel Representation is ${pixelRepresentation}, expected 0 or 1`);
  }
  const bytesPer = bitsAllocated / 8;
  const samples = rows * columns * spp * frames;
  const nbytes = samples * bytesPer;
  checkAlloc(FORMAT, name, nbytes, maxBytes, `the pixel data (${frames} frame(s) of ${columns}×${rows}×${spp} at ${bitsAllocated} bits)`);

  // Raw little-endian sample bytes for all frames.
  let raw: Uint8Array;
  if (NATIVE.has(ts) && !px.encapsulatedPixelData) {
    const arr = ds.byteArray;
    const available = Math.min(px.length, arr.length - px.dataOffset);
    if (px.dataOffset > arr.length || available < nbytes) {
      throw formatError(FORMAT, name, `Pixel Data holds ${Math.max(0, available)} bytes but ${frames} frame(s) of ${columns}×${rows}×${spp} at ${bitsAllocated} bits need ${nbytes}`, 'The file is truncated or its header is wrong.');
    }
    raw = arr.slice(px.dataOffset, px.dataOffset + nbytes);
    if (ts === EXPLICIT_BE && bytesPer > 1) {
      for (let i = 0; i < raw.length; i += bytesPer) raw.subarray(i, i + bytesPer).reverse();
    }
  } else if (ts === RLE && px.encapsulatedPixelData) {
    const fragments = px.fragments ?? [];
    if (fragments.length < frames) {
      throw formatError(FORMAT, name, `RLE data has ${fragments.length} fragment(s) for ${frames} frame(s)`);
    }
    raw = new Uint8Array(nbytes);
    const frameBytes = rows * columns * spp * bytesPer;
    const arr = ds.byteArray;
    for (let f = 0; f < frames; f++) {
      const frag = fragments[f];
      const start = frag.position; // absolute offset of the fragment's bytes
      const end = start + frag.length;
      if (frag.length < 64 || end > arr.length) throw formatError(FORMAT, name, `RLE fragment ${f} lies outside the file or is shorter than its 64-byte header`);
      const err = decodeRleFrame(arr.subarray(start, end), raw.subarray(f * frameBytes, (f + 1) * frameBytes), rows * columns, spp, bytesPer);
      if (err) throw formatError(FORMAT, name, `RLE frame ${f}: ${err}`);
    }
  } else {
    const tsName = TRANSFER_SYNTAX_NAMES[ts] ?? 'unknown transfer syntax';
    throw formatError(
      FORMAT,
      name,
      `its pixel data is compressed with transfer syntax ${ts} (${tsName}), which medvae does not decode`,
      'Decompress it first, e.g. `gdcmconv --raw in.dcm out.dcm` (GDCM) or `dcmdjpeg`/`dcmdrle` (DCMTK), then read the result.',
    );
  }

  // Planar colour (RRR…GGG…BBB…) → interleaved. RLE output above is already interleaved.
  if (spp === 3 && planar === 1 && ts !== RLE) {
    const frameSamples = rows * columns * 3;
    const out = new Uint8Array(raw.length);
    const plane = rows * columns * bytesPer;
    for (let f = 0; f < frames; f++) {
      const base = f * frameSamples * bytesPer;
      for (let p = 0; p < rows * columns; p++) {
        for (let s = 0; s < 3; s++) {
          for (let b = 0; b < bytesPer; b++) out[base + (p * 3 + s) * bytesPer + b] = raw[base + s * plane + p * bytesPer + b];
        }
      }
    }
    raw = out;
  }

  const signed = pixelRepresentation === 1;
  let pixelData: DicomPixelArray;
  const buf = raw.buffer as ArrayBuffer;
  if (bitsAllocated === 8) pixelData = signed ? new Int8Array(buf, raw.byteOffset, samples) : new Uint8Array(buf, raw.byteOffset, samples);
  else if (bitsAllocated === 16) pixelData = signed ? new Int16Array(buf, raw.byteOffset, samples) : new Uint16Array(buf, raw.byteOffset, samples);
  else pixelData = signed ? new Int32Array(buf, raw.byteOffset, samples) : new Uint32Array(buf, raw.byteOffset, samples);
  if (bitsStored < bitsAllocated) {
    // Bits above Bits Stored may hold overlays or garbage: mask them (sign-extend signed data).
    const shift = 32 - bitsStored;
    for (let i = 0; i < pixelData.length; i++) {
      pixelData[i] = signed ? (pixelData[i] << shift) >> shift : (pixelData[i] << shift) >>> shift;
    }
  }

  const ipp = numbers(ds, 'x00200032');
  const iop = numbers(ds, 'x00200037');
  const ps = numbers(ds, 'x00280030');
  const slope = firstNumber(ds, 'x00281053');
  const inter = firstNumber(ds, 'x00281052');
  const modality = ds.string('x00080060')?.trim();
  return new DicomImage({
    name,
    rows,
    columns,
    numberOfFrames: frames,
    samplesPerPixel: spp,
    bitsAllocated,
    bitsStored,
    pixelRepresentation,
    photometricInterpretation: photometric,
    pixelData,
    rescaleSlope: slope !== undefined && slope !== 0 ? slope : 1,
    rescaleIntercept: inter ?? 0,
    windowCenter: firstNumber(ds, 'x00281050'),
    windowWidth: firstNumber(ds, 'x00281051'),
    modality: modality || undefined,
    imagePositionPatient: ipp && ipp.length >= 3 ? [ipp[0], ipp[1], ipp[2]] : undefined,
    imageOrientationPatient: iop && iop.length >= 6 ? [iop[0], iop[1], iop[2], iop[3], iop[4], iop[5]] : undefined,
    pixelSpacing: ps && ps.length >= 2 ? [ps[0], ps[1]] : ps && ps.length === 1 ? [ps[0], ps[0]] : undefined,
    sliceThickness: firstNumber(ds, 'x00180050'),
    spacingBetweenSlices: firstNumber(ds, 'x00180088'),
    instanceNumber: firstNumber(ds, 'x00200013'),
    seriesInstanceUID: ds.string('x0020000e')?.replace(/\0/g, '').trim() || undefined,
    sopInstanceUID: ds.string('x00080018')?.replace(/\0/g, '').trim() || undefined,
    transferSyntaxUID: ts,
    getString: (tag) => {
      try {
        return ds.string(tag)?.trim();
      } catch {
        return undefined;
      }
    },
  });
}

/** Reads a DICOM file from disk (Node only; `node:fs` is imported lazily). See {@link readDicom}. */
export async function readDicomFile(path: string, options: ReadDicomOptions = {}): Promise<DicomImage> {
  const bytes = await readFileBytes(path);
  return readDicom(bytes, { ...options, name: options.name ?? path });
}
