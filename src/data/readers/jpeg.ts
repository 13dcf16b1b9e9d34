import jpeg from 'jpeg-js';
import { checkAlloc, resolveMaxBytes } from './byte-budget.js';
import { formatError, readFileBytes, toBytes, type BytesLike } from './internal.js';
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

interface FrameHeader {
  width: number;
  height: number;
  components: number;
  precision: number;
  marker: number;
}

function hex(marker: number): string {
  return `0xFF${marker.toString(16).toUpperCase().padStart(2, '0')}`;
}

/**
 * Walks every marker segment (skipping entropy-coded data) and checks what jpeg-js would
 * otherwise trip over with an internal TypeError: one frame header, quantisation tables for every
 * frame component, and for every scan, components that exist and Huffman tables defined before it.
 * Returns the frame header.
 */
function scanStructure(bytes: Uint8Array, name: string | undefined): FrameHeader {
  let pos = 2;
  let frame: FrameHeader | null = null;
  const frameComponents = new Map<number, number>(); // component id → quantisation table id
  const quant = new Set<number>();
  const huffman = new Set<string>(); // 'dc0', 'ac1', ...
  let scans = 0;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) throw formatError(FORMAT, name, `expected a marker at byte ${pos}, found 0x${bytes[pos].toString(16)}`, 'The file is corrupt.');
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0xd9) break; // EOI
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    const len = (bytes[pos + 2] << 8) | bytes[pos + 3];
    const seg = pos + 4;
    const end = pos + 2 + len;
    if (len < 2 || end > bytes.length) throw formatError(FORMAT, name, `marker segment ${hex(marker)} at byte ${pos} declares ${len} bytes, past the end of the file`, 'The file is truncated.');
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (frame) throw formatError(FORMAT, name, `a second frame header (${hex(marker)}) at byte ${pos}`, 'Hierarchical or concatenated JPEGs are not decoded.');
      if (len < 8) throw formatError(FORMAT, name, `frame header ${hex(marker)} at byte ${pos} is ${len} bytes, too short`, 'The file is corrupt.');
      const n = bytes[seg + 5];
      if (len < 8 + 3 * n) throw formatError(FORMAT, name, `frame header ${hex(marker)} declares ${n} components but holds ${len} bytes`, 'The file is corrupt.');
      frame = { marker, precision: bytes[seg], height: (bytes[seg + 1] << 8) | bytes[seg + 2], width: (bytes[seg + 3] << 8) | bytes[seg + 4], components: n };
      for (let c = 0; c < n; c++) frameComponents.set(bytes[seg + 6 + 3 * c], bytes[seg + 8 + 3 * c]);
    } else if (marker === 0xdb) {
      for (let p = seg; p < end; ) {
        const pq = bytes[p] >> 4;
        quant.add(bytes[p] & 15);
        p += 1 + 64 * (pq ? 2 : 1);
      }
    } else if (marker === 0xc4) {
      for (let p = seg; p + 17 <= end; ) {
        const cls = bytes[p] >> 4;
        huffman.add(`${cls === 0 ? 'dc' : 'ac'}${bytes[p] & 15}`);
        let count = 0;
        for (let i = 1; i <= 16; i++) count += bytes[p + i];
        p += 17 + count;
      }
    } else if (marker === 0xda) {
      if (!frame) throw formatError(FORMAT, name, `a scan (SOS) at byte ${pos} comes before any frame header`, 'The file is corrupt.');
      scans++;
      const ns = bytes[seg];
      const ss = bytes[seg + 1 + 2 * ns];
      const se = bytes[seg + 2 + 2 * ns];
      const progressive = frame.marker === 0xc2 || frame.marker === 0xc6 || frame.marker === 0xca || frame.marker === 0xce;
      for (let c = 0; c < ns; c++) {
        const id = bytes[seg + 1 + 2 * c];
        const tables = bytes[seg + 2 + 2 * c];
        if (!frameComponents.has(id)) throw formatError(FORMAT, name, `scan ${scans} (byte ${pos}) codes component ${id}, which the frame header does not declare`, 'The file is corrupt.');
        const q = frameComponents.get(id) as number;
        if (!quant.has(q)) throw formatError(FORMAT, name, `component ${id} uses quantisation table ${q}, which no DQT segment before scan ${scans} defines`, 'The file is corrupt.');
        const needDc = !progressive || ss === 0;
        const needAc = !progressive || se > 0;
        if (needDc && !(progressive && ss === 0 && bytes[seg + 3 + 2 * ns] >> 4 !== 0) && !huffman.has(`dc${tables >> 4}`)) {
          throw formatError(FORMAT, name, `scan ${scans} (byte ${pos}) uses DC Huffman table ${tables >> 4} for component ${id}, but no DHT segment defines it`, 'The file is corrupt.');
        }
        if (needAc && !huffman.has(`ac${tables & 15}`)) {
          throw formatError(FORMAT, name, `scan ${scans} (byte ${pos}) uses AC Huffman table ${tables & 15} for component ${id}, but no DHT segment defines it`, 'The file is corrupt.');
        }
      }
      // Skip the entropy-coded data: up to the next marker that is not a stuffed 0 or a restart.
      pos = end;
      while (pos + 1 < bytes.length && !(bytes[pos] === 0xff && bytes[pos + 1] !== 0 && !(bytes[pos + 1] >= 0xd0 && bytes[pos + 1] <= 0xd7))) pos++;
      continue;
    }
    pos = end;
  }
  if (!frame) throw formatError(FORMAT, name, 'no frame header (SOF marker) before the image data', 'The file is truncated or not a JPEG image.');
  if (scans === 0) throw formatError(FORMAT, name, 'no scan (SOS marker) holds image data', 'The file is truncated.');
  return frame;
}

/**
 * The most 8×8 blocks `n` bytes of entropy-coded data can describe: Huffman codes are at least one
 * bit long and every block needs at least its DC code, so a file cannot honestly hold more than
 * 8 blocks per byte. Larger frame headers are lies and are refused before anything is allocated.
 */
function maxBlocks(n: number): number {
  return 8 * n;
}

/**
 * Decodes a baseline or progressive JPEG (through `jpeg-js`) into an 8-bit {@link ImageData2D}:
 * 1 channel for greyscale files, 3 (RGB) otherwise. Lossless, 12-bit and arithmetic-coded JPEGs
 * are refused. Before any pixel buffer is allocated, the marker structure is checked (tables
 * defined before the scans that use them), the frame size is checked against what the file's
 * bytes can code (at least one bit per 8×8 block) and against `maxBytes`, and jpeg-js's own
 * memory and resolution caps apply. Errors name the file, the marker and what was found.
 */
export function readJpeg(input: BytesLike, options: ReadJpegOptions = {}): ImageData2D {
  const { name } = options;
  const bytes = toBytes(input);
  if (!isJpeg(bytes)) throw formatError(FORMAT, name, 'no JPEG start-of-image marker (FF D8 FF)', 'The file is not a JPEG.');
  const frame = scanStructure(bytes, name);
  if (frame.width < 1 || frame.height < 1) throw formatError(FORMAT, name, `the frame header declares a ${frame.width}×${frame.height} image`, 'Images with a height defined later (DNL marker) or no width are not decoded.');
  if (frame.components !== 1 && frame.components !== 3 && frame.components !== 4) {
    throw formatError(FORMAT, name, `the frame header declares ${frame.components} colour components; 1, 3 or 4 are read`);
  }
  if (frame.precision !== 8) throw formatError(FORMAT, name, `the frame header declares ${frame.precision}-bit samples; only 8-bit JPEG is decoded`, 'Lossless and 12-bit JPEG need another decoder.');
  if (frame.marker >= 0xc9 && frame.marker !== 0xcc) throw formatError(FORMAT, name, `frame type ${hex(frame.marker)} is arithmetic-coded or lossless`, 'Only Huffman-coded baseline and progressive JPEG are decoded.');
  const blocks = Math.ceil(frame.width / 8) * Math.ceil(frame.height / 8);
  if (blocks > maxBlocks(bytes.length)) {
    throw formatError(
      FORMAT,
      name,
      `the frame header declares ${frame.width}×${frame.height} pixels (${blocks} blocks of 8×8), but ${bytes.length} bytes can code at most ${maxBlocks(bytes.length)} blocks`,
      'The header is corrupt or the file is truncated.',
    );
  }
  checkAlloc(FORMAT, name, frame.width * frame.height * 4, resolveMaxBytes(options.maxBytes, FORMAT, name), `a ${frame.width}×${frame.height} image (frame header)`);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: options.tolerant ?? false,
      maxMemoryUsageInMB: options.maxMemoryUsageInMB ?? 512,
      maxResolutionInMP: options.maxResolutionInMP ?? 100,
    });
  } catch (e) {
    // jpeg-js's own errors are plain Errors or strings with a readable reason; a TypeError or
    // RangeError is a decoder slip on inconsistent data, whose text would mean nothing to a user.
    const internal = e instanceof TypeError || e instanceof RangeError;
    const reason = internal ? 'its entropy-coded data does not match its tables' : String(e instanceof Error ? e.message : e) || 'no reason given';
    throw formatError(FORMAT, name, `jpeg-js could not decode the image data (${reason})`, 'The file is corrupt or truncated; re-export it, or pass { tolerant: true } to decode what is readable.', e);
  }
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
