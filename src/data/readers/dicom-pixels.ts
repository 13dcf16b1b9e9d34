// Turns the Pixel Data of a parsed DICOM dataset into sample arrays: the layout attributes, the
// uncompressed encodings (including 1-bit, YBR_FULL_422 and float pixel data), RLE, and the
// compressed syntaxes through the lazily loaded codecs.
import type dicomParser from 'dicom-parser';
import { MedvaeError } from '../../core/errors.js';
import { decodeDicomFrame, DicomCodecMissingError, dicomCodecPackage, FrameProblem, hasDicomCodec } from './dicom-codecs.js';
import { frameStreams } from './dicom-fragments.js';
import { decodeRleFrame } from './dicom-rle.js';
import { checkAlloc, formatError } from './internal.js';

const FORMAT = 'DICOM';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const DEFLATED_LE = '1.2.840.10008.1.2.1.99';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const RLE = '1.2.840.10008.1.2.5';
const NATIVE = new Set([IMPLICIT_LE, EXPLICIT_LE, DEFLATED_LE, EXPLICIT_BE]);

/** Sample arrays a DICOM image can have (by Bits Allocated, Pixel Representation and the pixel data element). */
export type DicomSampleArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** The attributes that say how the pixel data is laid out, read and checked once. */
export interface PixelLayout {
  ts: string;
  tsName: string;
  rows: number;
  columns: number;
  spp: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  planar: number;
  frames: number;
  photometric: string;
  px: dicomParser.Element;
  /** Integer samples, or IEEE floats from Float (7FE0,0008) / Double Float (7FE0,0009) Pixel Data. */
  kind: 'int' | 'float';
  /** Samples in all frames (after 4:2:2 chroma is expanded). */
  samples: number;
}

/** The transfer syntax UID of a dataset (implicit little endian when absent). */
export function transferSyntaxOf(ds: dicomParser.DataSet): string {
  return (ds.string('x00020010') ?? IMPLICIT_LE).replace(/\0/g, '').trim();
}

/** True when {@link readPixelsSync} can decode the syntax without loading a codec. */
export function isSyncSyntax(ts: string): boolean {
  return NATIVE.has(ts) || ts === RLE;
}

/** Reads and validates the pixel layout; checks the output size against `maxBytes` before any allocation. */
export function readLayout(ds: dicomParser.DataSet, name: string | undefined, maxBytes: number, tsName: string): PixelLayout {
  const ts = transferSyntaxOf(ds);
  const rows = ds.uint16('x00280010');
  const columns = ds.uint16('x00280011');
  const el = ds.elements;
  const px = el.x7fe00010 ?? el.x7fe00008 ?? el.x7fe00009;
  if (!px || rows === undefined || columns === undefined) {
    throw formatError(FORMAT, name, 'it has no image (missing Pixel Data, Rows or Columns)', 'It may be a structured report, presentation state or other non-image object.');
  }
  if (rows < 1 || columns < 1) throw formatError(FORMAT, name, `image size is ${columns}×${rows}`);
  const floatBits = px === el.x7fe00008 ? 32 : px === el.x7fe00009 ? 64 : 0;
  const spp = ds.uint16('x00280002') ?? 1;
  const declaredBits = ds.uint16('x00280100');
  const bitsAllocated = floatBits || (declaredBits ?? 16);
  if (floatBits && declaredBits !== undefined && declaredBits !== floatBits) {
    throw formatError(FORMAT, name, `Bits Allocated (0028,0100) is ${declaredBits} but ${floatBits === 32 ? 'Float Pixel Data (7FE0,0008)' : 'Double Float Pixel Data (7FE0,0009)'} holds ${floatBits}-bit values`);
  }
  const bitsStored = floatBits || (ds.uint16('x00280101') ?? bitsAllocated);
  const pixelRepresentation = floatBits ? 1 : (ds.uint16('x00280103') ?? 0);
  const planar = ds.uint16('x00280006') ?? 0;
  const framesRaw = ds.intString('x00280008');
  const frames = framesRaw !== undefined && Number.isFinite(framesRaw) && framesRaw > 0 ? framesRaw : 1;
  const photometric = (ds.string('x00280004') ?? (spp === 3 ? 'RGB' : 'MONOCHROME2')).trim();
  if (spp !== 1 && spp !== 3) throw formatError(FORMAT, name, `Samples per Pixel (0028,0002) is ${spp}, expected 1 or 3`);
  if (!floatBits && bitsAllocated !== 1 && bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw formatError(FORMAT, name, `Bits Allocated (0028,0100) is ${bitsAllocated}; medvae reads 1, 8, 16 and 32 (and 32/64-bit float pixel data)`);
  }
  if (bitsAllocated === 1 && spp !== 1) throw formatError(FORMAT, name, 'Bits Allocated is 1 with colour samples, which DICOM does not allow');
  if (bitsStored < 1 || bitsStored > bitsAllocated) {
    throw formatError(FORMAT, name, `Bits Stored (0028,0101) is ${bitsStored}; it must be 1..Bits Allocated (${bitsAllocated})`);
  }
  if (pixelRepresentation !== 0 && pixelRepresentation !== 1) {
    throw formatError(FORMAT, name, `Pixel Representation (0028,0103) is ${pixelRepresentation}, expected 0 or 1`);
  }
  const samples = rows * columns * spp * frames;
  const outBytes = samples * Math.max(1, bitsAllocated / 8);
  checkAlloc(FORMAT, name, outBytes, maxBytes, `the pixel data (${frames} frame(s) of ${columns}×${rows}×${spp} at ${bitsAllocated} bits)`);
  return { ts, tsName, rows, columns, spp, bitsAllocated, bitsStored, pixelRepresentation, planar, frames, photometric, px, kind: floatBits ? 'float' : 'int', samples };
}

/** An empty sample array of the layout's type. */
function allocate(L: PixelLayout): DicomSampleArray {
  const n = L.samples;
  const signed = L.pixelRepresentation === 1;
  if (L.kind === 'float') return L.bitsAllocated === 32 ? new Float32Array(n) : new Float64Array(n);
  if (L.bitsAllocated <= 8) return signed && L.bitsAllocated === 8 ? new Int8Array(n) : new Uint8Array(n);
  if (L.bitsAllocated === 16) return signed ? new Int16Array(n) : new Uint16Array(n);
  return signed ? new Int32Array(n) : new Uint32Array(n);
}

/** Views little-endian sample bytes (an unshared copy) as the layout's array type. */
function view(L: PixelLayout, raw: Uint8Array): DicomSampleArray {
  const buf = raw.buffer as ArrayBuffer;
  const o = raw.byteOffset;
  const n = L.samples;
  const signed = L.pixelRepresentation === 1;
  if (L.kind === 'float') return L.bitsAllocated === 32 ? new Float32Array(buf, o, n) : new Float64Array(buf, o, n);
  if (L.bitsAllocated === 8) return signed ? new Int8Array(buf, o, n) : new Uint8Array(buf, o, n);
  if (L.bitsAllocated === 16) return signed ? new Int16Array(buf, o, n) : new Uint16Array(buf, o, n);
  return signed ? new Int32Array(buf, o, n) : new Uint32Array(buf, o, n);
}

/** Planar colour (RRR…GGG…BBB… per frame) → interleaved, in place of a new buffer. */
function interleave(L: PixelLayout, raw: Uint8Array, bytesPer: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(raw.length);
  const px = L.rows * L.columns;
  const plane = px * bytesPer;
  for (let f = 0; f < L.frames; f++) {
    const base = f * px * 3 * bytesPer;
    for (let p = 0; p < px; p++) {
      for (let s = 0; s < 3; s++) {
        for (let b = 0; b < bytesPer; b++) out[base + (p * 3 + s) * bytesPer + b] = raw[base + s * plane + p * bytesPer + b];
      }
    }
  }
  return out;
}

/** Uncompressed pixel data: returns the samples and the photometric interpretation they are in. */
function readNative(ds: dicomParser.DataSet, L: PixelLayout, name: string | undefined): { data: DicomSampleArray; photometric: string } {
  const arr = ds.byteArray;
  const px = L.px;
  const bytesPer = L.bitsAllocated === 1 ? 0 : L.bitsAllocated / 8;
  const ybr422 = L.spp === 3 && L.photometric === 'YBR_FULL_422';
  // Bytes the element must hold: packed bits for 1-bit data; 2 samples per pixel for 4:2:2 chroma.
  let need: number;
  if (L.bitsAllocated === 1) need = Math.ceil(L.samples / 8);
  else if (ybr422) {
    if (L.columns % 2 !== 0) throw formatError(FORMAT, name, `it is YBR_FULL_422 with an odd width (${L.columns}); 4:2:2 chroma pairs need an even Columns`);
    need = L.rows * L.columns * 2 * L.frames * bytesPer;
  } else need = L.samples * bytesPer;
  const available = Math.min(px.length, arr.length - px.dataOffset);
  if (px.dataOffset > arr.length || available < need) {
    const layout = `${L.frames} frame(s) of ${L.columns}×${L.rows}×${L.spp} at ${L.bitsAllocated} bits${ybr422 ? ' with 4:2:2 chroma' : ''}`;
    throw formatError(FORMAT, name, `Pixel Data holds ${Math.max(0, available)} bytes but ${layout} need ${need}`, 'The file is truncated or its header is wrong.');
  }
  // A copy with its own buffer (a Node Buffer's slice() would share the pool, misaligning 32-bit views).
  let raw = new Uint8Array(arr.subarray(px.dataOffset, px.dataOffset + need));
  if (L.bitsAllocated === 1) {
    // Bit k of the stream (least significant bit of each byte first) is sample k, frames packed back to back.
    if (L.ts === EXPLICIT_BE && px.vr === 'OW') for (let i = 0; i + 1 < raw.length; i += 2) raw.subarray(i, i + 2).reverse();
    const out = new Uint8Array(L.samples);
    for (let i = 0; i < L.samples; i++) out[i] = (raw[i >> 3] >> (i & 7)) & 1;
    return { data: out, photometric: L.photometric };
  }
  if (L.ts === EXPLICIT_BE && bytesPer > 1) {
    for (let i = 0; i < raw.length; i += bytesPer) raw.subarray(i, i + bytesPer).reverse();
  }
  let photometric = L.photometric;
  if (ybr422) {
    // Each pair of pixels is stored Y1 Y2 Cb Cr (PS3.3 C.7.6.3.1.2); expand to Y Cb Cr per pixel.
    const out = new Uint8Array(L.samples * bytesPer);
    const pairs = (L.rows * L.columns * L.frames) / 2;
    for (let p = 0; p < pairs; p++) {
      for (let b = 0; b < bytesPer; b++) {
        const src = p * 4 * bytesPer + b;
        const y1 = raw[src];
        const y2 = raw[src + bytesPer];
        const cb = raw[src + 2 * bytesPer];
        const cr = raw[src + 3 * bytesPer];
        const dst = p * 6 * bytesPer + b;
        out[dst] = y1;
        out[dst + bytesPer] = cb;
        out[dst + 2 * bytesPer] = cr;
        out[dst + 3 * bytesPer] = y2;
        out[dst + 4 * bytesPer] = cb;
        out[dst + 5 * bytesPer] = cr;
      }
    }
    raw = out;
    photometric = 'YBR_FULL';
  } else if (L.spp === 3 && L.planar === 1) raw = interleave(L, raw, bytesPer);
  return { data: view(L, raw), photometric };
}

function readRle(ds: dicomParser.DataSet, L: PixelLayout, name: string | undefined): DicomSampleArray {
  if (L.bitsAllocated === 1 || L.kind === 'float') throw formatError(FORMAT, name, `RLE Lossless with Bits Allocated ${L.bitsAllocated} is not supported`);
  const fragments = L.px.fragments ?? [];
  if (fragments.length < L.frames) throw formatError(FORMAT, name, `RLE data has ${fragments.length} fragment(s) for ${L.frames} frame(s)`);
  const bytesPer = L.bitsAllocated / 8;
  const raw = new Uint8Array(L.samples * bytesPer);
  const frameBytes = L.rows * L.columns * L.spp * bytesPer;
  const arr = ds.byteArray;
  for (let f = 0; f < L.frames; f++) {
    const frag = fragments[f];
    const start = frag.position;
    const end = start + frag.length;
    if (frag.length < 64 || end > arr.length) throw formatError(FORMAT, name, `RLE fragment ${f} lies outside the file or is shorter than its 64-byte header`);
    const err = decodeRleFrame(arr.subarray(start, end), raw.subarray(f * frameBytes, (f + 1) * frameBytes), L.rows * L.columns, L.spp, bytesPer);
    if (err) throw formatError(FORMAT, name, `RLE frame ${f}: ${err}`);
  }
  return view(L, raw);
}

/** Error for a compressed syntax no codec handles. */
export function unsupportedSyntax(L: { ts: string; tsName: string }, name: string | undefined): MedvaeError {
  return formatError(
    FORMAT,
    name,
    `its pixel data is compressed with transfer syntax ${L.ts} (${L.tsName}), which medvae does not decode`,
    'Decompress it first, e.g. `gdcmconv --raw in.dcm out.dcm` (GDCM) or `dcmdjpeg`/`dcmdrle` (DCMTK), then read the result.',
  );
}

/** Masks integer samples to Bits Stored (sign-extending signed ones): the bits above may hold overlays or garbage. */
function maskToBitsStored(L: PixelLayout, data: DicomSampleArray): void {
  if (L.kind === 'float' || L.bitsAllocated === 1 || L.bitsStored >= L.bitsAllocated) return;
  const shift = 32 - L.bitsStored;
  const signed = L.pixelRepresentation === 1;
  for (let i = 0; i < data.length; i++) data[i] = signed ? (data[i] << shift) >> shift : (data[i] << shift) >>> shift;
}

/** Decoded samples and the photometric interpretation they are in (YCbCr JPEG comes back as RGB). */
export interface DecodedPixels {
  data: DicomSampleArray;
  photometric: string;
}

/** Uncompressed and RLE pixel data (no codec needed). */
export function readPixelsSync(ds: dicomParser.DataSet, L: PixelLayout, name: string | undefined): DecodedPixels {
  let out: DecodedPixels;
  if (L.ts === RLE && L.px.encapsulatedPixelData) out = { data: readRle(ds, L, name), photometric: L.photometric };
  else if (NATIVE.has(L.ts) && !L.px.encapsulatedPixelData) out = readNative(ds, L, name);
  else if (NATIVE.has(L.ts) || L.ts === RLE) {
    throw formatError(FORMAT, name, `Pixel Data is ${L.px.encapsulatedPixelData ? 'encapsulated' : 'not encapsulated'}, which contradicts transfer syntax ${L.ts} (${L.tsName})`);
  } else throw unsupportedSyntax(L, name);
  maskToBitsStored(L, out.data);
  return out;
}

const JPEG_DCT = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51']);
const J2K_MCT = new Set(['YBR_RCT', 'YBR_ICT']);

/**
 * Compressed pixel data through the codec for its transfer syntax. The codec package is imported
 * on first use; a missing one gives a {@link DicomCodecMissingError} naming it.
 */
export async function readPixelsCompressed(ds: dicomParser.DataSet, L: PixelLayout, name: string | undefined): Promise<DecodedPixels> {
  if (!hasDicomCodec(L.ts)) throw unsupportedSyntax(L, name);
  if (!L.px.encapsulatedPixelData) throw formatError(FORMAT, name, `transfer syntax ${L.ts} (${L.tsName}) needs encapsulated Pixel Data, but it is stored as plain bytes`);
  if (L.kind === 'float' || L.bitsAllocated === 1) throw formatError(FORMAT, name, `${L.tsName} pixel data with Bits Allocated ${L.bitsAllocated} is not a valid combination`);
  const streams = frameStreams(ds.byteArray, L.px, L.frames);
  if ('problem' in streams) throw formatError(FORMAT, name, `cannot find the ${L.frames} compressed frame(s): ${streams.problem}`, 'The file is truncated or was written incorrectly.');
  const out = allocate(L);
  const perFrame = L.rows * L.columns * L.spp;
  const expected = { rows: L.rows, columns: L.columns, samplesPerPixel: L.spp, photometric: L.photometric };
  for (let f = 0; f < L.frames; f++) {
    let frame;
    try {
      frame = await decodeDicomFrame(L.ts, streams.frames[f], expected);
    } catch (e) {
      if (e instanceof DicomCodecMissingError) {
        throw new DicomCodecMissingError(`Cannot read ${FORMAT} from ${name ? `'${name}'` : 'the given bytes'}: ${e.message}`, e.packageName, e.transferSyntaxUID, { cause: e });
      }
      if (e instanceof FrameProblem) {
        throw formatError(FORMAT, name, `frame ${f} of ${L.frames} (transfer syntax ${L.ts}, ${L.tsName}, decoded with ${dicomCodecPackage(L.ts)}): ${e.message}`);
      }
      throw e;
    }
    // Typed-array set converts each value to the target type (two's complement for signed data).
    out.set(frame.samples, f * perFrame);
  }
  let photometric = L.photometric;
  // libjpeg turns YCbCr JPEG into RGB, and OpenJPEG/OpenJPH undo a JPEG 2000 colour transform.
  if (L.spp === 3 && JPEG_DCT.has(L.ts) && photometric.startsWith('YBR_')) photometric = 'RGB';
  if (L.spp === 3 && J2K_MCT.has(photometric)) photometric = 'RGB';
  maskToBitsStored(L, out);
  return { data: out, photometric };
}
