// Inflation of the Deflated Explicit VR Little Endian transfer syntax with bounded memory. A
// deflate stream can expand ~1000-fold, so a 1 MB file may claim a 1 GiB dataset: the stream is
// first inflated without keeping the output, only counting it, and refused as soon as the count
// passes the limit. Only a stream that fits is inflated again, straight into one buffer of its
// exact size.
import { Inflate } from 'fflate';
import { MedvaeError } from '../../core/errors.js';
import { formatError } from './internal.js';

/** Input is fed in pieces of this size, so one step's output stays small (≤ ~66 MB). */
const PIECE = 64 * 1024;

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
  // Pass 1: count.
  let size = 0;
  let ended = false;
  const counter = new Inflate((chunk, final) => {
    size += chunk.length;
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
