// Bounded decompression of gzip, zlib and raw DEFLATE data for the readers (internal, not
// re-exported). Output is sized by what the stream actually produces, never by a declared size
// (gzip's ISIZE, a header's dimensions); gzip members are verified against their CRC-32 and ISIZE.
import { Gunzip, Inflate, Unzlib } from 'fflate';
import { FileFormatError, MedvaeError } from '../../core/errors.js';
import { GrowableBytes } from './byte-budget.js';

/**
 * Decompressed bytes a reader may skip after the part it keeps (see {@link InflateOptions.keep})
 * before the stream is taken for a decompression bomb: generous for padding, small enough that
 * refusing a bomb costs milliseconds.
 */
export const MAX_TRAILING_BYTES = 16 * 1024 * 1024;

/** Size of each compressed piece fed to the inflater; bounds one step's output to ~17 MB (ratio <= 1032). */
const INPUT_CHUNK = 16 * 1024;
/** Piece size while a `keep` head is still awaited: at most ~1 MB of output before the header is judged. */
const HEAD_CHUNK = 1024;

/** Options of {@link inflateBounded}. */
export interface InflateOptions {
  /** Format name for messages ('NIfTI', 'DICOM', ...). */
  format: string;
  /** File name for messages. */
  name?: string;
  /** Most decompressed bytes kept; more is refused with a FileFormatError. */
  maxBytes: number;
  /**
   * Lets the reader decide from the first `headBytes` decompressed bytes (its header) how many
   * bytes it needs: `limit(head)` returns that count (and may throw for a bad header). Only that
   * many are kept; the rest is still decompressed and checksummed but dropped, and more than
   * {@link MAX_TRAILING_BYTES} of it is refused. Without `keep`, everything up to `maxBytes` is kept.
   */
  keep?: { headBytes: number; limit: (head: Uint8Array) => number };
}

function fail(o: InflateOptions, problem: string, hint?: string, cause?: unknown): FileFormatError {
  const src = o.name ? `'${o.name}'` : 'the given bytes';
  return new FileFormatError(`Cannot read ${o.format} from ${src}: ${problem}.` + (hint ? ` ${hint}` : ''), cause === undefined ? undefined : { cause });
}

let crcTable: Uint32Array | null = null;

/** The 8 × 256 tables of slicing-by-8 CRC-32 (polynomial 0xEDB88320, as gzip uses). */
function tables(): Uint32Array {
  if (crcTable) return crcTable;
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  crcTable = t;
  return t;
}

/**
 * Continues a CRC-32 (gzip's checksum) over `data`. Start with `crc32(0, data)`; feed pieces in
 * order by passing the previous result.
 */
export function crc32(crc: number, data: Uint8Array): number {
  const t = tables();
  let c = ~crc >>> 0;
  let i = 0;
  const n = data.length;
  for (; i + 8 <= n; i += 8) {
    const lo = (c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
    c =
      t[7 * 256 + (lo & 0xff)] ^
      t[6 * 256 + ((lo >>> 8) & 0xff)] ^
      t[5 * 256 + ((lo >>> 16) & 0xff)] ^
      t[4 * 256 + (lo >>> 24)] ^
      t[3 * 256 + data[i + 4]] ^
      t[2 * 256 + data[i + 5]] ^
      t[256 + data[i + 6]] ^
      t[data[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function readU32le(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/**
 * Decompresses gzip (every member), zlib or raw DEFLATE data within a byte budget.
 *
 * The input is fed in 64 KiB pieces and the output counted after each, so a decompression bomb
 * stops as soon as it passes the budget; the output buffer grows with the data, so a lying size
 * field costs nothing. For gzip, each member's CRC-32 and ISIZE (length mod 2³²) trailer must
 * match what was decompressed: a flipped bit or a wrong length is a FileFormatError, not silently
 * changed voxels. Corrupt or truncated streams throw a FileFormatError naming the file.
 */
export function inflateBounded(bytes: Uint8Array, container: 'gzip' | 'zlib' | 'raw', o: InflateOptions): Uint8Array {
  if (container === 'gzip' && (bytes.length < 18 || bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes[2] !== 8)) {
    throw fail(o, `not a gzip stream (${bytes.length < 18 ? `only ${bytes.length} bytes, a gzip member needs at least 18` : 'bad magic bytes or compression method'})`);
  }
  // How many bytes to keep: unknown (Infinity) until `keep.limit` has seen the head.
  let limit = Infinity;
  const overflow = (needed: number): Error =>
    fail(o, `decompressed data exceeds the limit of ${o.maxBytes} bytes (maxBytes) at ${needed} bytes`, 'If the file is genuine, pass a larger `maxBytes`.');
  const out = new GrowableBytes(o.maxBytes, overflow);
  let produced = 0; // all decompressed bytes, kept or not
  let dropped = 0;
  const keepChunk = (chunk: Uint8Array): void => {
    if (out.length + chunk.length <= limit) {
      // Without `keep` the limit stays Infinity and `out` itself refuses data past maxBytes.
      out.push(chunk);
      return;
    }
    const room = Math.max(0, limit - out.length);
    if (room > 0) out.push(chunk.subarray(0, room));
    dropped += chunk.length - room;
    if (dropped > MAX_TRAILING_BYTES) {
      throw fail(
        o,
        `the compressed stream holds more than ${MAX_TRAILING_BYTES} bytes beyond the ${limit} bytes its header declares`,
        'This looks like a decompression bomb or a corrupt header; the file was refused.',
      );
    }
  };
  const decideLimit = (): void => {
    if (!o.keep || limit !== Infinity) return;
    const want = o.keep.limit(out.view());
    if (!(want >= 0)) throw fail(o, `the header implies an invalid size (${want} bytes)`);
    if (want > o.maxBytes) throw overflow(want);
    limit = want;
  };
  // Gzip bookkeeping: a running CRC and length of the current member, checked at each member end.
  let memberCrc = 0;
  let memberLen = 0;
  const checkTrailer = (end: number, member: number): void => {
    if (end < 8) throw fail(o, `gzip member ${member} has no 8-byte trailer`, 'The file is truncated.');
    const crc = readU32le(bytes, end - 8);
    const isize = readU32le(bytes, end - 4);
    if (crc !== memberCrc) {
      throw fail(
        o,
        `gzip member ${member}'s CRC-32 is 0x${crc.toString(16).padStart(8, '0')} but the decompressed data gives 0x${memberCrc.toString(16).padStart(8, '0')}`,
        'The file is corrupt (a changed or damaged byte); re-download or re-copy it.',
      );
    }
    if (isize !== memberLen % 2 ** 32) {
      throw fail(o, `gzip member ${member}'s ISIZE trailer says ${isize} bytes but it decompressed to ${memberLen}`, 'The file is corrupt or truncated; re-download or re-copy it.');
    }
  };
  let members = 1;
  let ended = false;
  const onData = (chunk: Uint8Array, final: boolean): void => {
    if (container === 'gzip') {
      memberCrc = crc32(memberCrc, chunk);
      memberLen += chunk.length;
    }
    produced += chunk.length;
    if (o.keep && limit === Infinity) {
      const need = o.keep.headBytes - out.length;
      if (need > chunk.length) {
        out.push(chunk);
      } else {
        out.push(chunk.subarray(0, need));
        decideLimit();
        keepChunk(chunk.subarray(need));
      }
    } else {
      keepChunk(chunk);
    }
    if (final) ended = true;
  };
  let stream: Gunzip | Unzlib | Inflate;
  if (container === 'gzip') {
    const g = new Gunzip(onData);
    g.onmember = (offset: number): void => {
      checkTrailer(offset, members);
      members++;
      memberCrc = 0;
      memberLen = 0;
    };
    stream = g;
  } else {
    stream = container === 'zlib' ? new Unzlib(onData) : new Inflate(onData);
  }
  try {
    // Every data piece is pushed as non-final, then an empty final push: fflate's gunzip only
    // moves on to a following gzip member after a non-final push.
    // Small pieces until the head has been judged (a bomb's first 64 KiB could already inflate to
    // 64 MiB), full-size pieces after.
    for (let pos = 0; pos < bytes.length; ) {
      const step = o.keep && limit === Infinity ? HEAD_CHUNK : INPUT_CHUNK;
      stream.push(bytes.subarray(pos, Math.min(bytes.length, pos + step)), false);
      pos += step;
    }
    stream.push(new Uint8Array(0), true);
  } catch (e) {
    if (e instanceof MedvaeError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw fail(o, `${container} decompression failed (${msg}) after ${produced} bytes of output`, 'The file is corrupt or truncated.', e);
  }
  if (!ended) throw fail(o, `the ${container} stream ended early`, 'The file is truncated.');
  decideLimit();
  if (container === 'gzip') checkTrailer(bytes.length, members);
  return out.bytes();
}
