import jpeg from 'jpeg-js';
import { checkAlloc, DEFAULT_MAX_BYTES, formatError, guard, readFileBytes, toBytes, type BytesLike } from './internal.js';
import type { ImageData2D, ReadOptions } from './types.js';

const FORMAT = 'JPEG';

/** True when the bytes start with a JPEG SOI marker followed by another marker (FF D8 FF). */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Options of {@link readJpeg}. */
export interface ReadJpegOptions extends ReadOptions {
  /** Memory jpeg-js may use while decoding, in MB (its own guard). Default 512. */
  maxMemoryUsageInMB?: number;
  /** Largest image jpeg-js accepts, in megapixels. Default 100. */
  maxResolutionInMP?: number;
  /**
   * Decode as far as possible through marker errors (jpeg-js's `tolerantDecoding`). Default
   * false: a damaged file throws rather than returning a partly grey image.
   */
  tolerant?: boolean;
}

/** Frame header fields (from the first SOFn marker), found by walking the marker segments. */
function readFrameHeader(bytes: Uint8Array, name: string | undefined): { width: number; height: number; components: number; precision: number } {
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) throw formatError(FORMAT, name, `expected a marker at byte ${pos}, found 0x${bytes[pos].toString(16)}`);
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    const len = (bytes[pos + 2] << 8) | bytes[pos + 3];
    if (len < 2 || pos + 2 + len > bytes.length) throw formatError(FORMAT, name, `marker 0xFF${marker.toString(16).toUpperCase()} at byte ${pos} runs past the end`, 'The file is truncated.');
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (len < 8) throw formatError(FORMAT, name, 'frame header too short');
      return {
        precision: bytes[pos + 4],
        height: (bytes[pos + 5] << 8) | bytes[pos + 6],
        width: (bytes[pos + 7] << 8) | bytes[pos + 8],
        components: bytes[pos + 9],
      };
    }
    if (marker === 0xda || marker === 0xd9) break;
    pos += 2 + len;
  }
  throw formatError(FORMAT, name, 'no frame header (SOF marker) before the image data');
}

/**
 * Decodes a baseline or progressive JPEG (through `jpeg-js`) into an 8-bit {@link ImageData2D}:
 * 1 channel for greyscale files, 3 (RGB) otherwise. Lossless, 12-bit and arithmetic-coded JPEGs
 * are refused. The frame header's size is checked against `maxBytes`, and jpeg-js's own memory
 * and resolution caps apply, before any pixel buffer is allocated.
 */
export function readJpeg(input: BytesLike, options: ReadJpegOptions = {}): ImageData2D {
  const { name } = options;
  const bytes = toBytes(input);
  if (!isJpeg(bytes)) throw formatError(FORMAT, name, 'no JPEG start-of-image marker (FF D8 FF)', 'The file is not a JPEG.');
  const frame = readFrameHeader(bytes, name);
  if (frame.width < 1 || frame.height < 1) throw formatError(FORMAT, name, `image size is ${frame.width}×${frame.height}`);
  if (frame.components !== 1 && frame.components !== 3 && frame.components !== 4) {
    throw formatError(FORMAT, name, `${frame.components} colour components; 1, 3 or 4 are read`);
  }
  if (frame.precision !== 8) throw formatError(FORMAT, name, `${frame.precision}-bit samples; only 8-bit JPEG is decoded`);
  checkAlloc(FORMAT, name, frame.width * frame.height * 4, options.maxBytes ?? DEFAULT_MAX_BYTES, `a ${frame.width}×${frame.height} image`);
  const decoded = guard(FORMAT, name, 'jpeg-js', () =>
    jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: options.tolerant ?? false,
      maxMemoryUsageInMB: options.maxMemoryUsageInMB ?? 512,
      maxResolutionInMP: options.maxResolutionInMP ?? 100,
    }),
  );
  const { width, height } = decoded;
  const rgb = decoded.data;
  if (rgb.length !== width * height * 3) throw formatError(FORMAT, name, `decoder returned ${rgb.length} samples for ${width}×${height}`);
  if (frame.components === 1) {
    const grey = new Uint8Array(width * height);
    for (let i = 0; i < grey.length; i++) grey[i] = rgb[i * 3];
    return { width, height, channels: 1, data: grey, bitDepth: 8 };
  }
  return { width, height, channels: 3, data: rgb, bitDepth: 8 };
}

/** Reads a JPEG file from disk (Node only; `node:fs` is imported lazily). See {@link readJpeg}. */
export async function readJpegFile(path: string, options: ReadJpegOptions = {}): Promise<ImageData2D> {
  return readJpeg(await readFileBytes(path), { ...options, name: options.name ?? path });
}
