// Decoders for the compressed DICOM transfer syntaxes. Each is an established, maintained
// package (WebAssembly builds of libjpeg-turbo, CharLS, OpenJPEG and OpenJPH published by the
// Cornerstone project, jpeg-lossless-decoder-js, and dcmjs-codecs' WebAssembly build of DCMTK's
// IJG libjpeg for 12-bit DCT JPEG), installed as optional dependencies and imported only when a
// file needs them, so programs that never see compressed DICOM load none.
import { FileFormatError } from '../../core/errors.js';
import { markJpegAsRgb, readJ2kFrameHeader, readJpegFrameHeader, type FrameHeader } from './dicom-frame-header.js';

/**
 * Thrown when a DICOM file needs a codec package that is not installed (or failed to load). The
 * message names the package to install; `packageName` holds it for programs.
 */
export class DicomCodecMissingError extends FileFormatError {
  static override readonly errorName: string = 'DicomCodecMissingError';
  /** The npm package that decodes `transferSyntaxUID`. */
  readonly packageName: string;
  /** The transfer syntax that needed it. */
  readonly transferSyntaxUID: string;
  constructor(message: string, packageName: string, transferSyntaxUID: string, options?: { cause?: unknown }) {
    super(message, options);
    this.packageName = packageName;
    this.transferSyntaxUID = transferSyntaxUID;
  }
}

/** One decoded frame as a codec returns it: samples interleaved, one typed-array element each. */
export interface DecodedFrame {
  samples: Uint8Array | Uint16Array | Int16Array;
  width: number;
  height: number;
  components: number;
  bitsPerSample: number;
  signed: boolean;
}

// 'jpeg12' has no transfer syntax of its own: JPEG Extended (.51) frames whose SOF declares
// 12-bit precision are routed to it after their header is read.
type CodecId = 'jpeg8' | 'jpeg12' | 'jpegLossless' | 'jpegLs' | 'j2k' | 'htj2k';

/** Which codec decodes which transfer syntax. */
const CODEC_OF: Readonly<Record<string, Exclude<CodecId, 'jpeg12'>>> = {
  '1.2.840.10008.1.2.4.50': 'jpeg8',
  '1.2.840.10008.1.2.4.51': 'jpeg8',
  '1.2.840.10008.1.2.4.57': 'jpegLossless',
  '1.2.840.10008.1.2.4.70': 'jpegLossless',
  '1.2.840.10008.1.2.4.80': 'jpegLs',
  '1.2.840.10008.1.2.4.81': 'jpegLs',
  '1.2.840.10008.1.2.4.90': 'j2k',
  '1.2.840.10008.1.2.4.91': 'j2k',
  '1.2.840.10008.1.2.4.201': 'htj2k',
  '1.2.840.10008.1.2.4.202': 'htj2k',
  '1.2.840.10008.1.2.4.203': 'htj2k',
};

/** npm package each codec comes from (named in messages). */
export const DICOM_CODEC_PACKAGES: Readonly<Record<CodecId, string>> = {
  jpeg8: '@cornerstonejs/codec-libjpeg-turbo-8bit',
  jpeg12: 'dcmjs-codecs',
  jpegLossless: 'jpeg-lossless-decoder-js',
  jpegLs: '@cornerstonejs/codec-charls',
  j2k: '@cornerstonejs/codec-openjpeg',
  htj2k: '@cornerstonejs/codec-openjph',
};

/** True when medvae has a codec for this (compressed) transfer syntax. */
export function hasDicomCodec(transferSyntaxUID: string): boolean {
  return transferSyntaxUID in CODEC_OF;
}

const JPEG_EXTENDED = '1.2.840.10008.1.2.4.51';

/** The npm package(s) that decode a transfer syntax, for messages, or undefined when none does. */
export function dicomCodecPackage(transferSyntaxUID: string): string | undefined {
  if (transferSyntaxUID === JPEG_EXTENDED) return `${DICOM_CODEC_PACKAGES.jpeg8} (8-bit) or ${DICOM_CODEC_PACKAGES.jpeg12} (12-bit)`;
  const id = CODEC_OF[transferSyntaxUID];
  return id ? DICOM_CODEC_PACKAGES[id] : undefined;
}


// Each loader is a literal dynamic import so bundlers (Vite, webpack, esbuild) can split the codec
// into its own chunk; the instantiated module is cached for the life of the program.
type Instantiated = Record<string, new () => CornerstoneDecoderLike>;
interface CornerstoneDecoderLike {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean };
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}
type LosslessModule = typeof import('jpeg-lossless-decoder-js');

/** The part of dcmjs-codecs medvae calls (the package is CommonJS: its exports arrive as `default`). */
interface DcmjsCodecs {
  NativeCodecs: {
    initializeAsync(opts?: { webAssemblyModulePathOrUrl?: string }): Promise<void>;
    isInitialized(): boolean;
    decodeJpeg(context: DcmjsContext, parameters?: { convertColorspaceToRgb?: boolean }): DcmjsContext;
  };
  Context: new (attrs: {
    width: number;
    height: number;
    bitsAllocated: number;
    bitsStored: number;
    samplesPerPixel: number;
    pixelRepresentation: number;
    planarConfiguration: number;
    photometricInterpretation: string;
    encodedBuffer: Uint8Array;
  }) => DcmjsContext;
}
interface DcmjsContext {
  getDecodedBuffer(): Uint8Array | undefined;
}

// OpenJPEG logs every tile header through Emscripten's stdout/stderr; keep the console quiet.
const QUIET = { print: (): void => {}, printErr: (): void => {} };
// The codec packages are imported through run-time specifiers, invisible to bundlers: their
// Emscripten glue holds `require('fs')` for Node, which esbuild (--platform=browser) cannot resolve
// and Vite warns about, so literal imports here would break every browser bundle of medvae. A
// browser app that reads compressed DICOM adds `import 'medvae/dicom-codecs'` (literal imports of
// the four packages), which leaves the modules where importCodec finds them.
const PROVIDED = Symbol.for('medvae.dicomCodecModules');
// Where a browser fetches dcmjs-codecs' WebAssembly file, set by the entry point's
// setDicomJpeg12WasmUrl; Node reads the file beside the package's script.
const JPEG12_WASM_URL = 'dcmjs-codecs/wasm-url';
type EmscriptenFactory = { default: (opts: typeof QUIET) => Promise<unknown> };

function provided(spec: string): unknown {
  return (globalThis as { [PROVIDED]?: Record<string, unknown> })[PROVIDED]?.[spec];
}

/** The codec package `spec`: as provided by the `medvae/dicom-codecs` entry point, else imported. */
async function importCodec(spec: string): Promise<unknown> {
  return provided(spec) ?? (await import(/* @vite-ignore */ /* webpackIgnore: true */ spec));
}

async function emscripten(spec: string): Promise<Instantiated> {
  return (await ((await importCodec(spec)) as EmscriptenFactory).default(QUIET)) as Instantiated;
}

async function loadDcmjsCodecs(): Promise<DcmjsCodecs> {
  const mod = (await importCodec('dcmjs-codecs')) as DcmjsCodecs | { default: DcmjsCodecs };
  // Node's ESM import of this CommonJS package puts module.exports under `default`; a bundler's
  // namespace object may carry the members directly.
  const lib = 'NativeCodecs' in mod ? mod : mod.default;
  if (!lib.NativeCodecs.isInitialized()) {
    const url = provided(JPEG12_WASM_URL);
    await lib.NativeCodecs.initializeAsync(typeof url === 'string' ? { webAssemblyModulePathOrUrl: url } : {});
  }
  return lib;
}

const loaders = {
  jpeg8: (): Promise<Instantiated> => emscripten('@cornerstonejs/codec-libjpeg-turbo-8bit/decode'),
  jpeg12: loadDcmjsCodecs,
  jpegLs: (): Promise<Instantiated> => emscripten('@cornerstonejs/codec-charls/decode'),
  j2k: (): Promise<Instantiated> => emscripten('@cornerstonejs/codec-openjpeg/decode'),
  htj2k: (): Promise<Instantiated> => emscripten('@cornerstonejs/codec-openjph'),
};
const DECODER_CLASS: Record<Exclude<CodecId, 'jpegLossless' | 'jpeg12'>, string> = {
  jpeg8: 'JPEGDecoder',
  jpegLs: 'JpegLSDecoder',
  j2k: 'J2KDecoder',
  htj2k: 'HTJ2KDecoder',
};
const cache = new Map<CodecId, Promise<Instantiated | LosslessModule | DcmjsCodecs>>();

async function load(id: CodecId, ts: string): Promise<Instantiated | LosslessModule | DcmjsCodecs> {
  let p = cache.get(id);
  if (!p) {
    p = id === 'jpegLossless' ? import('jpeg-lossless-decoder-js') : loaders[id]();
    cache.set(id, p);
    // A failed load is not cached, so installing the package and retrying works without a restart.
    p.catch(() => cache.delete(id));
  }
  try {
    return await p;
  } catch (e) {
    const pkg = DICOM_CODEC_PACKAGES[id];
    const why = e instanceof Error ? e.message : String(e);
    // dcmjs-codecs fetches its .wasm file at run time; in a browser the app has to serve it.
    const wasmHint =
      id === 'jpeg12'
        ? " In a browser, also serve its node_modules/dcmjs-codecs/build/dcmjs-native-codecs.wasm and pass that URL to setDicomJpeg12WasmUrl from 'medvae/dicom-codecs'."
        : '';
    throw new DicomCodecMissingError(
      `Decoding DICOM transfer syntax ${ts}${id === 'jpeg12' ? ' (12-bit)' : ''} needs the optional package '${pkg}', which could not be loaded (${why}). ` +
        `Install it with \`npm install ${pkg}\` (medvae lists it as an optional dependency), or decompress the file first (e.g. \`gdcmconv --raw in.dcm out.dcm\`).${wasmHint}`,
      pkg,
      ts,
      { cause: e },
    );
  }
}

/** What the DICOM header promises about a frame; a codec's output must match it. */
export interface ExpectedFrame {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  /** Photometric Interpretation (0028,0004) of the file. */
  photometric: string;
}

/**
 * Problem found in a frame before or after decoding: returned as text so the caller can wrap it in
 * its own error naming the file and frame.
 */
export class FrameProblem extends Error {}

/** Checks the size a frame's own header declares against the DICOM header, before decoding. */
function checkDeclared(h: FrameHeader | undefined, expected: ExpectedFrame, what: string): void {
  if (!h) throw new FrameProblem(`no ${what} frame header was found in the frame's bytes`);
  if (h.width !== expected.columns || h.height !== expected.rows) {
    throw new FrameProblem(`the ${what} stream declares ${h.width}×${h.height} pixels but the DICOM header says ${expected.columns}×${expected.rows}`);
  }
  if (h.components !== expected.samplesPerPixel) {
    throw new FrameProblem(`the ${what} stream has ${h.components} component(s) but Samples per Pixel is ${expected.samplesPerPixel}`);
  }
}

/** Cornerstone decoders: copy in, decode, copy the samples out of WebAssembly memory, free. */
function runCornerstone(mod: Instantiated, cls: string, bytes: Uint8Array): DecodedFrame {
  const Ctor = mod[cls];
  const dec = new Ctor();
  try {
    dec.getEncodedBuffer(bytes.length).set(bytes);
    try {
      dec.decode();
    } catch (e) {
      // Emscripten builds throw numbers (C++ exception pointers) or strings; say what is known.
      throw new FrameProblem(`the decoder rejected the frame (${e instanceof Error ? e.message : typeof e === 'number' ? 'corrupt or unsupported stream' : String(e)})`);
    }
    const info = dec.getFrameInfo();
    const out = dec.getDecodedBuffer();
    const bytesPer = info.bitsPerSample > 8 ? 2 : 1;
    const count = info.width * info.height * info.componentCount;
    if (out.length < count * bytesPer) throw new FrameProblem(`the decoder returned ${out.length} bytes for ${count} samples`);
    const copy = out.slice(0, count * bytesPer);
    const samples = bytesPer === 1 ? copy : info.isSigned ? new Int16Array(copy.buffer, 0, count) : new Uint16Array(copy.buffer, 0, count);
    return { samples, width: info.width, height: info.height, components: info.componentCount, bitsPerSample: info.bitsPerSample, signed: info.isSigned };
  } finally {
    dec.delete();
  }
}

/**
 * A 12-bit DCT frame through DCMTK's IJG 12-bit decoder (dcmjs-codecs): 16-bit little-endian
 * samples. Greyscale only: no 12-bit colour DCT test file exists to check a colour conversion against.
 */
function decodeJpeg12(bytes: Uint8Array, expected: ExpectedFrame, lib: DcmjsCodecs): DecodedFrame {
  if (expected.samplesPerPixel !== 1) {
    throw new FrameProblem(`the frame is 12-bit DCT JPEG with ${expected.samplesPerPixel} samples per pixel; medvae decodes 12-bit DCT JPEG in greyscale only`);
  }
  const ctx = new lib.Context({
    width: expected.columns,
    height: expected.rows,
    bitsAllocated: 16,
    bitsStored: 12,
    samplesPerPixel: 1,
    pixelRepresentation: 0,
    planarConfiguration: 0,
    photometricInterpretation: expected.photometric,
    encodedBuffer: bytes,
  });
  let out: Uint8Array | undefined;
  try {
    out = lib.NativeCodecs.decodeJpeg(ctx, {}).getDecodedBuffer();
  } catch (e) {
    throw new FrameProblem(`the 12-bit JPEG decoder rejected the frame (${e instanceof Error ? e.message : String(e)})`);
  }
  const count = expected.rows * expected.columns;
  if (!out || out.length < count * 2) throw new FrameProblem(`the 12-bit JPEG decoder returned ${out ? out.length : 0} bytes for ${count} 16-bit samples`);
  // Own, aligned copy: the returned view may start at an odd offset.
  const samples = new Uint16Array(out.slice(0, count * 2).buffer);
  return { samples, width: expected.columns, height: expected.rows, components: 1, bitsPerSample: 12, signed: false };
}

/**
 * Decodes one compressed frame of transfer syntax `ts`. Throws {@link DicomCodecMissingError} when
 * the codec package is absent and {@link FrameProblem} when the frame is bad or does not match
 * `expected`.
 */
export async function decodeDicomFrame(ts: string, bytes: Uint8Array, expected: ExpectedFrame): Promise<DecodedFrame> {
  const id = CODEC_OF[ts];
  if (!id) throw new FrameProblem(`no codec is known for transfer syntax ${ts}`);
  let header: FrameHeader | undefined;
  if (id === 'j2k' || id === 'htj2k') {
    header = readJ2kFrameHeader(bytes);
    checkDeclared(header, expected, 'JPEG 2000');
  } else {
    header = readJpegFrameHeader(bytes);
    checkDeclared(header, expected, id === 'jpegLs' ? 'JPEG-LS' : 'JPEG');
    const sof = header!.sof!;
    if (id === 'jpegLs' && sof !== 0xf7) throw new FrameProblem(`the frame is not JPEG-LS (its frame marker is FF${sof.toString(16).toUpperCase()}, not FFF7)`);
    if (id === 'jpegLossless' && sof !== 0xc3) throw new FrameProblem(`the frame is not lossless JPEG (its frame marker is FF${sof.toString(16).toUpperCase()}, not FFC3)`);
    if (id === 'jpeg8' && (sof === 0xc3 || sof === 0xf7)) {
      // Some writers label lossless streams with a lossy UID; decode what the stream is.
      return decodeDicomFrame(sof === 0xc3 ? '1.2.840.10008.1.2.4.70' : '1.2.840.10008.1.2.4.80', bytes, expected);
    }
    if (id === 'jpeg8' && header!.precision === 12) {
      // A 12-bit stream under the Baseline UID is mislabelled; as above, decode what the stream is.
      return decodeJpeg12(bytes, expected, (await load('jpeg12', JPEG_EXTENDED)) as DcmjsCodecs);
    }
    if (id === 'jpeg8' && header!.precision !== 8) {
      throw new FrameProblem(`the frame declares ${header!.precision}-bit DCT JPEG; DICOM's DCT JPEG is 8-bit (Baseline) or 8/12-bit (Extended)`);
    }
  }
  const mod = await load(id, ts);
  if (id === 'jpegLossless') {
    const { Decoder } = mod as LosslessModule;
    const dec = new Decoder();
    let out: Uint8Array | Uint16Array;
    try {
      const copy = new Uint8Array(bytes); // own buffer at offset 0: the decoder reads `copy.buffer`
      out = dec.decode(copy.buffer, 0, copy.length, header!.precision > 8 ? 2 : 1);
    } catch (e) {
      throw new FrameProblem(`the lossless JPEG decoder rejected the frame (${e instanceof Error ? e.message : String(e)})`);
    }
    const count = expected.rows * expected.columns * expected.samplesPerPixel;
    if (!out || out.length < count) throw new FrameProblem(`the lossless JPEG decoder returned ${out ? out.length : 0} samples for ${count}`);
    return { samples: out.length === count ? out : out.subarray(0, count), width: header!.width, height: header!.height, components: header!.components, bitsPerSample: header!.precision, signed: false };
  }
  const stream = id === 'jpeg8' && expected.samplesPerPixel === 3 && expected.photometric === 'RGB' ? markJpegAsRgb(bytes) : bytes;
  const frame = runCornerstone(mod as Instantiated, DECODER_CLASS[id], stream);
  if (frame.width !== expected.columns || frame.height !== expected.rows || frame.components !== expected.samplesPerPixel) {
    throw new FrameProblem(`the decoder produced ${frame.width}×${frame.height}×${frame.components} but the DICOM header says ${expected.columns}×${expected.rows}×${expected.samplesPerPixel}`);
  }
  return frame;
}
