// Inflation of the Deflated Explicit VR Little Endian transfer syntax with bounded memory. A
// deflate stream can expand ~1000-fold, so a 1 MB file may claim a 1 GiB dataset: the stream is
// first inflated without keeping the output, only counting it, and refused as soon as the count
// passes the limit. Only a stream that fits is inflated again, straight into one buffer of its
// exact size.
import { Inflate } from 'fflate';
import { MedvaeError } from '../../core/errors.js';
import { formatError } from './internal.js';

/** Input is fed in pieces of this size, so one step's output stays small (≤ ~4 MB). */
const PIECE = 4 * 1024;

/** How much of the inflated dataset is kept to look at its element headers. */
const PREFIX = 64 * 1024;

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT']);

/**
 * Walks the explicit-VR little-endian element headers at the start of an inflated dataset and
 * returns the first element whose declared value length exceeds `limit` (a bomb usually is one
 * huge element), so it is refused without inflating it. Stops at an undefined length or at the
 * end of the prefix.
 */
function oversizedElement(prefix: Uint8Array, limit: number): { tag: string; length: number } | undefined {
  const dv = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  let p = 0;
  while (p + 8 <= prefix.length) {
    const group = dv.getUint16(p, true);
    const element = dv.getUint16(p + 2, true);
    const vr = String.fromCharCode(prefix[p + 4], prefix[p + 5]);
    let length: number;
    let header: number;
    if (LONG_VRS.has(vr)) {
      if (p + 12 > prefix.length) return undefined;
      length = dv.getUint32(p + 8, true);
      header = 12;
    } else if (/^[A-Z]{2}$/.test(vr)) {
      length = dv.getUint16(p + 6, true);
      header = 8;
    } else return undefined; // not explicit VR: leave it to the parser
    if (length === 0xffffffff) return undefined;
    if (length > limit) {
      const hex = (v: number): string => v.toString(16).toUpperCase().padStart(4, '0');
      return { tag: `(${hex(group)},${hex(element)})`, length };
    }
    p += header + length;
  }
  return undefined;
}

function run(stream: Inflate, src: Uint8Array): void {
  if (src.length === 0) {
    stream.push(new Uint8Array(0), true);
    return;
  }
  for (let pos = 0; pos < src.length; pos += PIECE) {
    const end = Math.min(src.length, pos + PIECE);
    stream.push(src.subarray(pos, end), end === src.length);
  }
}

/**
 * Returns `arr[0..position)` followed by the raw-DEFLATE inflation of `arr[position..)`, refusing
 * (with a FileFormatError naming the file) when the inflated part would exceed `limit` bytes or the
 * stream is corrupt.
 */
export function inflateDicomDataset(arr: Uint8Array, position: number, format: string, name: string | undefined, limit: number): Uint8Array {
  const src = arr.subarray(position);
  const fail = (e: unknown): never => {
    if (e instanceof MedvaeError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw formatError(format, name, `the deflated dataset (transfer syntax 1.2.840.10008.1.2.1.99) could not be inflated (${msg}); the file is corrupt or truncated`, undefined, e);
  };
  const refuseElement = (big: { tag: string; length: number }): never => {
    throw formatError(
      format,
      name,
      `its deflated dataset declares element ${big.tag} with ${big.length} bytes, above the limit of ${limit} (from ${src.length} compressed bytes)`,
      'If the file is genuine, pass a larger `maxBytes`.',
    );
  };
  // Pass 1: count, looking at the first element headers once enough is inflated.
  let size = 0;
  let ended = false;
  const prefix = new Uint8Array(PREFIX);
  let checked = false;
  const counter = new Inflate((chunk, final) => {
    if (size < PREFIX) prefix.set(chunk.subarray(0, PREFIX - size), size);
    size += chunk.length;
    if (!checked && (size >= PREFIX || final)) {
      checked = true;
      const big = oversizedElement(prefix.subarray(0, Math.min(size, PREFIX)), limit);
      if (big) refuseElement(big);
    }
    if (size > limit) {
      throw formatError(
        format,
        name,
        `its deflated dataset inflates to more than ${limit} bytes (stopped after ${size} bytes from ${src.length} compressed)`,
        'If the file is genuine, pass a larger `maxBytes`.',
      );
    }
    if (final) ended = true;
  });
  try {
    run(counter, src);
  } catch (e) {
    fail(e);
  }
  if (!ended) throw formatError(format, name, 'its deflated dataset ends before the end of the deflate stream; the file is truncated');
  // Pass 2: fill one exact-size buffer.
  const out = new Uint8Array(position + size);
  out.set(arr.subarray(0, position));
  let at = position;
  const filler = new Inflate((chunk) => {
    out.set(chunk, at);
    at += chunk.length;
  });
  try {
    run(filler, src);
  } catch (e) {
    fail(e);
  }
  return out;
}
