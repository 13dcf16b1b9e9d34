import dicomParser from 'dicom-parser';
import { FileFormatError, MedvaeError, ValueError } from '../../core/errors.js';
import { inflateDicomDataset } from './dicom-inflate.js';
import { isSyncSyntax, readLayout, readPixelsCompressed, readPixelsSync, transferSyntaxOf, type DecodedPixels, type PixelLayout } from './dicom-pixels.js';
import { dicomCodecPackage } from './dicom-codecs.js';
import { formatError, readFileBytes, toBytes, type BytesLike } from './internal.js';
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

/**
 * Default `maxBytes` of the DICOM readers: 512 MiB, the most memory one file may make medvae
 * allocate from sizes it declares (the inflated dataset of a deflated file, the decoded pixel
 * array). It is checked before allocating, so a 1 MB deflated file claiming a 1 GiB dataset is
 * refused at once; pass a larger `maxBytes` for genuinely larger objects.
 */
export const DEFAULT_DICOM_MAX_BYTES = 512 * 1024 * 1024;

/**
 * Pixel sample arrays a DICOM image can have: by Bits Allocated and Pixel Representation for
 * Pixel Data (Uint8Array with values 0/1 for 1-bit data), Float32Array / Float64Array for Float /
 * Double Float Pixel Data.
 */
export type DicomPixelArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

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
  /** Bits Allocated (0028,0100): 1, 8, 16 or 32; 32 / 64 for Float / Double Float Pixel Data. */
  readonly bitsAllocated: number;
  /** Bits Stored (0028,0101): significant bits; the rest were masked off (or sign-extended). */
  readonly bitsStored: number;
  /** Pixel Representation (0028,0103): 0 unsigned, 1 two's-complement signed (1 for float pixel data). */
  readonly pixelRepresentation: number;
  /**
   * Photometric Interpretation of `pixelData` as returned. Usually the file's (0028,0004); it
   * differs where decoding changed the colour space: YCbCr JPEG is decoded to `RGB` (as libjpeg
   * does), JPEG 2000 `YBR_RCT`/`YBR_ICT` to `RGB` (the codec undoes the colour transform), and
   * uncompressed `YBR_FULL_422` is expanded to `YBR_FULL`. `MONOCHROME1` means high values display
   * dark: medvae does not invert it, so invert after windowing if that matters for your task.
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

/** Options of {@link readDicom} and {@link readDicomAsync}. */
export interface ReadDicomOptions extends ReadOptions {
  /**
   * Upper bound, in bytes, on what one file may make the reader allocate: the inflated dataset of
   * a deflated file (an element declaring more is refused from its header; the rest is counted
   * while inflating, before the output is kept) and the decoded pixel array (checked from Rows,
   * Columns, Samples per Pixel, Bits Allocated and Number of Frames before decoding; every
   * compressed frame's own header must agree). Default {@link DEFAULT_DICOM_MAX_BYTES} (512 MiB).
   */
  maxBytes?: number;
}

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

/** `(gggg,eeee)` from dicom-parser's `xggggeeee` key. */
function tagLabel(key: string): string {
  return `(${key.slice(1, 5).toUpperCase()},${key.slice(5, 9).toUpperCase()})`;
}

/**
 * dicom-parser throws strings, and plain `{ exception, dataSet }` objects when it fails inside
 * the dataset; this turns either into a sentence that names the last element read.
 */
function explainParserError(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'exception' in e) {
    const inner = explainParserError((e as { exception: unknown }).exception);
    const ds = (e as { dataSet?: { elements?: Record<string, unknown> } }).dataSet;
    const keys = ds?.elements ? Object.keys(ds.elements) : [];
    const where = keys.length > 0 ? ` after element ${tagLabel(keys[keys.length - 1])} (${keys.length} element(s) read)` : ' before the first element of the dataset';
    return `${inner}${where}`;
  }
  return String(e);
}

/**
 * Some writers store an implicit-VR dataset under an explicit-VR transfer syntax (pydicom reads
 * such files with a warning). When explicit parsing has failed and the first dataset element has
 * no VR letters, the dataset is parsed again as implicit VR little endian; undefined otherwise.
 */
function readImplicitDataset(bytes: Uint8Array): dicomParser.DataSet | undefined {
  try {
    const meta = dicomParser.readPart10Header(bytes) as dicomParser.DataSet & { position: number };
    const ts = (meta.string('x00020010') ?? '').replace(/\0/g, '').trim();
    if (ts === '1.2.840.10008.1.2' || ts === '1.2.840.10008.1.2.2' || ts === '1.2.840.10008.1.2.1.99') return undefined;
    const pos = meta.position;
    const upper = (c: number): boolean => c >= 0x41 && c <= 0x5a;
    if (pos + 8 > bytes.length || (upper(bytes[pos + 4]) && upper(bytes[pos + 5]))) return undefined;
    const parser = dicomParser.littleEndianByteArrayParser;
    const DataSetCtor = (dicomParser as unknown as { DataSet: new (p: unknown, b: Uint8Array, e: object) => dicomParser.DataSet }).DataSet;
    const ds = new DataSetCtor(parser, bytes, {});
    dicomParser.parseDicomDataSetImplicit(ds, new dicomParser.ByteStream(parser, bytes, pos), bytes.length);
    Object.assign(ds.elements, meta.elements);
    // The implicit parser reads undefined-length Pixel Data as a sequence of items; turn the items
    // back into the Basic Offset Table and fragments that encapsulated pixel data consists of.
    const px = ds.elements.x7fe00010 as (dicomParser.Element & { items?: { dataOffset: number; length: number }[] }) | undefined;
    if (px && px.hadUndefinedLength && px.items && !px.encapsulatedPixelData) {
      const [bot, ...frags] = px.items;
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      px.encapsulatedPixelData = true;
      px.basicOffsetTable = bot ? Array.from({ length: Math.floor(bot.length / 4) }, (_, i) => dv.getUint32(bot.dataOffset + 4 * i, true)) : [];
      const base = frags.length > 0 ? frags[0].dataOffset - 8 : 0;
      px.fragments = frags.map((it) => ({ offset: it.dataOffset - 8 - base, position: it.dataOffset, length: it.length }));
    }
    return ds;
  } catch {
    return undefined;
  }
}

function parse(bytes: Uint8Array, name: string | undefined, maxBytes: number): dicomParser.DataSet {
  if (bytes.length < 132 || bytes[128] !== 0x44 || bytes[129] !== 0x49 || bytes[130] !== 0x43 || bytes[131] !== 0x4d) {
    throw formatError(FORMAT, name, `no "DICM" marker at byte 128 (${bytes.length} bytes)`, 'Only DICOM Part 10 files are read; the file is not DICOM, or is a raw dataset without the file meta header.');
  }
  try {
    return dicomParser.parseDicom(bytes, {
      inflater: (arr: Uint8Array, position: number) => inflateDicomDataset(arr, position, FORMAT, name, maxBytes),
    } as dicomParser.ParseDicomOptions);
  } catch (e) {
    if (e instanceof MedvaeError) throw e;
    const implicit = readImplicitDataset(bytes);
    if (implicit) return implicit;
    const msg = explainParserError(e);
    const truncated = /past end|overread|buffer|beyond/i.test(msg);
    throw formatError(FORMAT, name, `dicom-parser failed: ${msg}`, truncated ? 'The file is truncated or an element length is wrong.' : 'The file is corrupt or not DICOM.', e);
  }
}

/** Reading step shared by the sync and async readers: dataset, pixel layout. */
function prepare(input: BytesLike, options: ReadDicomOptions): { ds: dicomParser.DataSet; L: PixelLayout; name?: string } {
  const { name } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_DICOM_MAX_BYTES;
  // A plain Uint8Array view: a Node Buffer's slice() shares memory, which the decoders must not see.
  const b = toBytes(input);
  const ds = parse(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), name, maxBytes);
  const ts = transferSyntaxOf(ds);
  const L = wrap(name, () => readLayout(ds, name, maxBytes, TRANSFER_SYNTAX_NAMES[ts] ?? 'unknown transfer syntax'));
  return { ds, L, name };
}

/** Runs attribute reads, turning dicom-parser's throws (strings, plain objects) into FileFormatErrors. */
function wrap<T>(name: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof MedvaeError) throw e;
    throw formatError(FORMAT, name, `reading the DICOM attributes failed: ${explainParserError(e)}`, 'The file is corrupt or truncated.', e);
  }
}

/**
 * Reads one DICOM Part 10 file (with the 128-byte preamble and `DICM`) through `dicom-parser`,
 * synchronously: uncompressed transfer syntaxes (implicit/explicit little endian, deflated,
 * explicit big endian) and RLE Lossless. For JPEG, JPEG-LS and JPEG 2000 files use
 * {@link readDicomAsync} (or {@link readDicomFile} / `readDicomSeries`), which load a codec; this
 * function refuses them with a `FileFormatError` saying so.
 *
 * Integer samples are masked to Bits Stored (signed ones sign-extended); 1-bit data comes back as
 * 0/1 bytes; Float (7FE0,0008) and Double Float (7FE0,0009) Pixel Data as Float32Array /
 * Float64Array. Sizes declared in the header are checked against the bytes present and against
 * `maxBytes` (default {@link DEFAULT_DICOM_MAX_BYTES}) before anything is allocated.
 *
 * @example
 * ```ts
 * const img = readDicom(await fs.readFile('slice.dcm'), { name: 'slice.dcm' });
 * const hu = img.toHounsfield();                       // CT only
 * const view = applyWindow(hu, WINDOW_PRESETS.brain);  // 0..1
 * ```
 */
export function readDicom(input: BytesLike, options: ReadDicomOptions = {}): DicomImage {
  const { ds, L, name } = prepare(input, options);
  if (!isSyncSyntax(L.ts)) {
    const pkg = dicomCodecPackage(L.ts);
    if (pkg) throw asyncRequired(name, L.ts, L.tsName, pkg, '`await readDicomAsync(bytes)`, readDicomFile or readDicomSeries');
  }
  const px = wrap(name, () => readPixelsSync(ds, L, name));
  return build(ds, L, px, name);
}

/**
 * Thrown by the synchronous readers ({@link readDicom}, `readImage`) for compressed pixel data,
 * which only the asynchronous ones decode (their codecs are WebAssembly modules loaded on first
 * use). The message names the function to call instead.
 */
export class DicomAsyncRequiredError extends FileFormatError {
  static override readonly errorName: string = 'DicomAsyncRequiredError';
  /** The file's transfer syntax. */
  readonly transferSyntaxUID: string;
  constructor(message: string, transferSyntaxUID: string) {
    super(message);
    this.transferSyntaxUID = transferSyntaxUID;
  }
}

/** The error of a synchronous reader given compressed pixel data; `instead` names the async call(s). */
function asyncRequired(name: string | undefined, ts: string, tsName: string, pkg: string, instead: string): DicomAsyncRequiredError {
  const msg = formatError(
    FORMAT,
    name,
    `its pixel data is compressed with transfer syntax ${ts} (${tsName}), which the synchronous reader does not decode`,
    `Use ${instead}, which decode it with ${pkg}.`,
  ).message;
  return new DicomAsyncRequiredError(msg, ts);
}

/**
 * Reads one DICOM Part 10 file like {@link readDicom}, and also decodes the compressed transfer
 * syntaxes through WebAssembly codecs imported on first use (optional dependencies of medvae):
 * JPEG Baseline 8-bit (1.2.840.10008.1.2.4.50, and 8-bit .51) with `@cornerstonejs/codec-libjpeg-turbo-8bit`,
 * JPEG Extended 12-bit (.51) with `dcmjs-codecs` (DCMTK's IJG 12-bit libjpeg; greyscale),
 * JPEG Lossless (.57, .70) with `jpeg-lossless-decoder-js`, JPEG-LS (.80, .81) with
 * `@cornerstonejs/codec-charls`, JPEG 2000 (.90, .91) with `@cornerstonejs/codec-openjpeg` and
 * HTJ2K (.201-.203) with `@cornerstonejs/codec-openjph`. Multi-frame files are split by their
 * Basic Offset Table (or one fragment per frame, or end-of-image markers).
 *
 * YCbCr JPEG is returned as RGB and JPEG 2000 `YBR_RCT`/`YBR_ICT` as RGB
 * (`photometricInterpretation` says so). In a browser bundle, `import 'medvae/dicom-codecs'` supplies
 * the codecs (12-bit JPEG also needs the app to serve dcmjs-codecs' `.wasm`: see
 * `setDicomJpeg12WasmUrl` there).
 *
 * @throws DicomCodecMissingError when the codec package is not installed (the message names it).
 * @throws FileFormatError for anything else wrong with the file, naming the file and the problem.
 *
 * @example
 * ```ts
 * const img = await readDicomAsync(await (await fetch(url)).arrayBuffer(), { name: url });
 * ```
 */
export async function readDicomAsync(input: BytesLike, options: ReadDicomOptions = {}): Promise<DicomImage> {
  const { ds, L, name } = prepare(input, options);
  const px = isSyncSyntax(L.ts) ? wrap(name, () => readPixelsSync(ds, L, name)) : await readPixelsCompressed(ds, L, name);
  return build(ds, L, px, name);
}

function build(ds: dicomParser.DataSet, L: PixelLayout, px: DecodedPixels, name: string | undefined): DicomImage {
  return wrap(name, () => {
    const ipp = numbers(ds, 'x00200032');
    const iop = numbers(ds, 'x00200037');
    const ps = numbers(ds, 'x00280030');
    const slope = firstNumber(ds, 'x00281053');
    const inter = firstNumber(ds, 'x00281052');
    const modality = ds.string('x00080060')?.trim();
    return new DicomImage({
      name,
      rows: L.rows,
      columns: L.columns,
      numberOfFrames: L.frames,
      samplesPerPixel: L.spp,
      bitsAllocated: L.bitsAllocated,
      bitsStored: L.bitsStored,
      pixelRepresentation: L.pixelRepresentation,
      photometricInterpretation: px.photometric,
      pixelData: px.data,
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
      transferSyntaxUID: L.ts,
      getString: (tag) => {
        try {
          return ds.string(tag)?.trim();
        } catch {
          return undefined;
        }
      },
    });
  });
}

/**
 * Reads a DICOM file from disk (Node only; `node:fs` is imported lazily), compressed syntaxes
 * included. See {@link readDicomAsync}.
 */
export async function readDicomFile(path: string, options: ReadDicomOptions = {}): Promise<DicomImage> {
  const bytes = await readFileBytes(path);
  return readDicomAsync(bytes, { ...options, name: options.name ?? path });
}

export { DicomCodecMissingError, DICOM_CODEC_PACKAGES } from './dicom-codecs.js';
