import { convertIndexedToRgb, decode as decodePng, encode as encodePng } from 'fast-png';
import { ValueError } from '../../core/errors.js';
import {
  checkAlloc,
  DEFAULT_MAX_BYTES,
  formatError,
  guard,
  inflateCapped,
  MAX_DEFLATE_RATIO,
  readFileBytes,
  toBytes,
  type BytesLike,
} from './internal.js';
import type { ImageData2D, ReadOptions } from './types.js';

const FORMAT = 'PNG';
const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** True when the bytes start with the 8-byte PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((v, i) => bytes[i] === v);
}

/** Options of {@link readPng}. */
export interface ReadPngOptions extends ReadOptions {}

interface PngLayout {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlace: number;
  idat: Uint8Array;
}

/** Walks the chunk list (bounded by the bytes present) and collects IHDR fields and IDAT data. */
function scanChunks(bytes: Uint8Array, name: string | undefined): PngLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let ihdr: Omit<PngLayout, 'idat'> | null = null;
  const parts: Uint8Array[] = [];
  let total = 0;
  let sawEnd = false;
  while (pos + 8 <= bytes.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    const dataStart = pos + 8;
    if (len > bytes.length - dataStart - 4) {
      throw formatError(FORMAT, name, `chunk ${JSON.stringify(type)} at byte ${pos} declares ${len} bytes but only ${Math.max(0, bytes.length - dataStart - 4)} remain`, 'The file is truncated.');
    }
    if (ihdr === null) {
      if (type !== 'IHDR' || len !== 13) throw formatError(FORMAT, name, `the first chunk is ${JSON.stringify(type)} of ${len} bytes, not the 13-byte IHDR`, 'The file is corrupt or not a PNG.');
      ihdr = {
        width: view.getUint32(dataStart),
        height: view.getUint32(dataStart + 4),
        depth: bytes[dataStart + 8],
        colorType: bytes[dataStart + 9],
        interlace: bytes[dataStart + 12],
      };
    } else if (type === 'IDAT') {
      parts.push(bytes.subarray(dataStart, dataStart + len));
      total += len;
    } else if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    pos = dataStart + len + 4;
  }
  if (ihdr === null) throw formatError(FORMAT, name, 'no IHDR chunk', 'The file is truncated or not a PNG.');
  if (!sawEnd) throw formatError(FORMAT, name, 'no IEND chunk before the end of the data', 'The file is truncated.');
  if (total === 0) throw formatError(FORMAT, name, 'no image data (IDAT) chunks');
  const idat = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    idat.set(p, o);
    o += p.length;
  }
  return { ...ihdr, idat };
}

/** Filtered (pre-unfilter) byte count the zlib stream must inflate to. */
function filteredSize(width: number, height: number, channels: number, depth: number, interlace: number): number {
  const line = (w: number): number => Math.ceil((w * channels * depth) / 8);
  if (interlace === 0) return height * (1 + line(width));
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) total += h * (1 + line(w));
  }
  return total;
}

function unpackBits(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const perByte = 8 / depth;
  const mask = (1 << depth) - 1;
  const lineBytes = Math.ceil(width / perByte);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = packed[y * lineBytes + Math.floor(x / perByte)];
      const shift = 8 - depth * ((x % perByte) + 1);
      out[y * width + x] = (byte >> shift) & mask;
    }
  }
  return out;
}

/**
 * Decodes a PNG (through `fast-png`) into an {@link ImageData2D} with the file's own sample type:
 *
 * - 8-bit → `Uint8Array`, 16-bit → `Uint16Array` (`bitDepth` 8 or 16);
 * - 1/2/4-bit greyscale → one `Uint8Array` value per pixel, unscaled (`bitDepth` says the range);
 * - palette images (colour type 3) → expanded to RGB (or RGBA when the palette has transparency),
 *   8-bit; a suggested palette (PLTE) in a truecolour image is ignored, as the PNG spec says;
 * - grey, grey+alpha, RGB and RGBA keep 1, 2, 3 and 4 channels.
 *
 * A `tRNS` colour key on grey/RGB images is not turned into alpha. Before decoding, the chunk
 * structure is checked against the bytes present and the image data is inflated with a cap at
 * the size IHDR implies, so a lying header or a decompression bomb fails fast with a
 * `FileFormatError`.
 */
export function readPng(input: BytesLike, options: ReadPngOptions = {}): ImageData2D {
  const { name } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const bytes = toBytes(input);
  if (!isPng(bytes)) throw formatError(FORMAT, name, 'no PNG signature in the first 8 bytes', 'The file is not a PNG.');
  const layout = scanChunks(bytes, name);
  const { width, height, depth, colorType, interlace } = layout;
  const channels = CHANNELS[colorType];
  if (channels === undefined) throw formatError(FORMAT, name, `IHDR colour type is ${colorType}, not one of 0, 2, 3, 4, 6`, 'The header is corrupt.');
  const validDepth = colorType === 0 ? [1, 2, 4, 8, 16] : colorType === 3 ? [1, 2, 4, 8] : [8, 16];
  if (!validDepth.includes(depth)) throw formatError(FORMAT, name, `IHDR bit depth ${depth} is not allowed for colour type ${colorType} (allowed: ${validDepth.join(', ')})`, 'The header is corrupt.');
  if (interlace > 1) throw formatError(FORMAT, name, `IHDR interlace method is ${interlace}, not 0 or 1`, 'The header is corrupt.');
  if (width < 1 || height < 1) throw formatError(FORMAT, name, `IHDR declares a ${width}×${height} image`, 'Width and height must be at least 1; the header is corrupt.');
  const outChannels = colorType === 3 ? 4 : channels;
  checkAlloc(FORMAT, name, width * height * outChannels * (depth === 16 ? 2 : 1), maxBytes, `a ${width}×${height} image`);
  const expected = filteredSize(width, height, channels, depth, interlace);
  if (expected > layout.idat.length * MAX_DEFLATE_RATIO + 64) {
    throw formatError(FORMAT, name, `IHDR declares ${width}×${height} pixels, more than ${layout.idat.length} bytes of compressed data can hold`, 'The header is corrupt.');
  }
  const inflated = inflateCapped(layout.idat, 'zlib', FORMAT, name, Math.min(maxBytes, expected + 65536));
  if (inflated.length < expected) {
    throw formatError(FORMAT, name, `image data inflates to ${inflated.length} bytes, ${width}×${height} needs ${expected}`, 'The file is truncated or corrupt.');
  }
  const png = guard(FORMAT, name, 'fast-png', () => decodePng(bytes));
  if (png.width !== width || png.height !== height) throw formatError(FORMAT, name, `fast-png decoded ${png.width}×${png.height} where IHDR declares ${width}×${height}`, 'The file is corrupt.');
  // Only colour type 3 is indexed. Truecolour images (types 2 and 6) may carry a PLTE chunk as a
  // suggested quantisation palette (PNG spec 11.2.3); their samples are colours already.
  if (colorType === 3 && png.palette) {
    const palette = png.palette;
    const rgb = guard(FORMAT, name, 'palette expansion', () => convertIndexedToRgb(png));
    const ch = palette.length > 0 ? palette[0].length : 3;
    if (rgb.length !== width * height * ch) throw formatError(FORMAT, name, `palette expansion gave ${rgb.length} samples, ${width}×${height}×${ch} needs ${width * height * ch}`, 'The PLTE chunk or the indices are corrupt.');
    return { width, height, channels: ch, data: rgb, bitDepth: 8 };
  }
  if (colorType === 3) throw formatError(FORMAT, name, 'colour type 3 (palette) but no PLTE chunk', 'The file is corrupt: a palette image needs its palette.');
  if (depth < 8) {
    return { width, height, channels: 1, data: unpackBits(png.data as Uint8Array, width, height, depth), bitDepth: depth };
  }
  const data = depth === 16 ? (png.data as Uint16Array) : png.data instanceof Uint8Array ? png.data : new Uint8Array(png.data);
  if (data.length !== width * height * channels) throw formatError(FORMAT, name, `decoded ${data.length} samples, IHDR's ${width}×${height}×${channels} needs ${width * height * channels}`, 'The file is corrupt.');
  return { width, height, channels, data, bitDepth: depth };
}

/** Reads a PNG file from disk (Node only; `node:fs` is imported lazily). See {@link readPng}. */
export async function readPngFile(path: string, options: ReadPngOptions = {}): Promise<ImageData2D> {
  return readPng(await readFileBytes(path), { ...options, name: options.name ?? path });
}

/** Options of {@link writePng}. */
export interface WritePngOptions {
  /**
   * Bit depth for float input (values in [0, 1], clamped, rounded): 8 (default) or 16. Integer
   * input is written at its own depth (`Uint8Array` 8, or `image.bitDepth` 1/2/4 for grey;
   * `Uint16Array` 16) and this option is ignored.
   */
  bitDepth?: 8 | 16;
}

/**
 * Encodes an {@link ImageData2D} as PNG (through `fast-png`). 1–4 channels (grey, grey+alpha, RGB,
 * RGBA). `Uint8Array`/`Uint8ClampedArray` data is written as 8-bit (or packed 1/2/4-bit grey when
 * `image.bitDepth` says so), `Uint16Array` as 16-bit, and `Float32Array`/`Float64Array` data is
 * taken as intensities in [0, 1] and quantised (see {@link WritePngOptions.bitDepth}), which is
 * what model outputs usually are. `readPng(writePng(img))` returns the same samples for integer
 * images.
 *
 * @throws ValueError for other array types, a channel count outside 1–4, or a size mismatch.
 */
export function writePng(image: ImageData2D, options: WritePngOptions = {}): Uint8Array {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ValueError(`writePng: width and height must be positive integers, got ${width}×${height}.`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw new ValueError(`writePng: channels must be 1 to 4, got ${channels}.`);
  if (data.length !== width * height * channels) {
    throw new ValueError(`writePng: data has ${data.length} samples, ${width}×${height}×${channels} needs ${width * height * channels}.`);
  }
  let out: Uint8Array | Uint16Array;
  let depth: 1 | 2 | 4 | 8 | 16;
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) {
    const bd = image.bitDepth;
    if (channels === 1 && (bd === 1 || bd === 2 || bd === 4)) {
      depth = bd;
      const perByte = 8 / bd;
      const lineBytes = Math.ceil(width / perByte);
      const packed = new Uint8Array(lineBytes * height);
      const mask = (1 << bd) - 1;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const v = data[y * width + x];
          if (v > mask) throw new ValueError(`writePng: value ${v} at (${x}, ${y}) does not fit bitDepth ${bd}.`);
          packed[y * lineBytes + Math.floor(x / perByte)] |= v << (8 - bd * ((x % perByte) + 1));
        }
      }
      out = packed;
    } else {
      depth = 8;
      out = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.length);
    }
  } else if (data instanceof Uint16Array) {
    depth = 16;
    out = data;
  } else if (data instanceof Float32Array || data instanceof Float64Array) {
    depth = options.bitDepth ?? 8;
    const max = depth === 16 ? 65535 : 255;
    out = depth === 16 ? new Uint16Array(data.length) : new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      out[i] = Number.isNaN(v) ? 0 : Math.round(Math.min(1, Math.max(0, v)) * max);
    }
  } else {
    throw new ValueError(
      `writePng: data must be Uint8Array, Uint16Array, or Float32Array/Float64Array in [0, 1]; got ${data.constructor.name}. Scale it first (e.g. applyWindow).`,
    );
  }
  return encodePng({ width, height, channels, depth, data: out });
}
