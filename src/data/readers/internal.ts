// Helpers shared by the readers. Not part of the public API (not re-exported by the barrel).
import { Gunzip, Inflate, Unzlib } from 'fflate';
import { FileFormatError, MedvaeError } from '../../core/errors.js';
import { assertNodeFs } from '../../core/runtime.js';

/** Default for `ReadOptions.maxBytes`: the largest Uint8Array length every engine allows. */
export const DEFAULT_MAX_BYTES = 2 ** 31 - 1;

/**
 * DEFLATE cannot expand data by more than ~1032:1 (a 258-byte match coded in ~2 bits). Sizes a
 * header declares beyond this multiple of the compressed bytes are lies, found before allocating.
 */
export const MAX_DEFLATE_RATIO = 1032;

import type { BytesLike } from './types.js';
export type { BytesLike } from './types.js';

/** A view of `input` as bytes, without copying. */
export function toBytes(input: BytesLike): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new FileFormatError(
    `Expected bytes (Uint8Array, ArrayBuffer or another typed array), got ${describeValue(input)}. ` +
      'Read the file first (fs.readFile, fetch(...).arrayBuffer()) or use the *File reader.',
  );
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}

/** `'name'` or a neutral description for messages. */
export function describeSource(name: string | undefined): string {
  return name ? `'${name}'` : 'the given bytes';
}

/**
 * The error every reader throws for bad input: which format, which file, what was wrong, and
 * (optionally) what to do about it.
 */
export function formatError(format: string, name: string | undefined, problem: string, hint?: string, cause?: unknown): FileFormatError {
  const msg = `Cannot read ${format} from ${describeSource(name)}: ${problem}.` + (hint ? ` ${hint}` : '');
  return new FileFormatError(msg, cause === undefined ? undefined : { cause });
}

/**
 * Runs a third-party parser and turns whatever it throws into a FileFormatError that names the
 * file; our own MedvaeErrors pass through untouched.
 */
export function guard<T>(format: string, name: string | undefined, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof MedvaeError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw formatError(format, name, `${what} failed (${msg || 'no message'}); the file is corrupt, truncated or not ${format}`, undefined, e);
  }
}

/** Checks a declared allocation against `maxBytes` before it happens. */
export function checkAlloc(format: string, name: string | undefined, bytes: number, maxBytes: number, what: string): void {
  if (!Number.isFinite(bytes) || bytes < 0) {
    throw formatError(format, name, `${what} is invalid (${bytes} bytes)`);
  }
  if (bytes > maxBytes) {
    throw formatError(format, name, `${what} would need ${bytes} bytes, above the limit of ${maxBytes}`, 'If the file is genuine, pass a larger `maxBytes`.');
  }
}

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Size of each compressed piece fed to the inflater; bounds one step's output to ~66 MB. */
const INPUT_CHUNK = 64 * 1024;

/**
 * Decompresses gzip (all members), zlib or raw DEFLATE data, refusing to produce more than
 * `maxBytes`. The input is fed in 64 KiB pieces and the output counted after each, so a
 * decompression bomb stops early instead of exhausting memory. Corrupt or truncated streams
 * throw a FileFormatError naming the file.
 */
export function inflateCapped(
  bytes: Uint8Array,
  container: 'gzip' | 'zlib' | 'raw',
  format: string,
  name: string | undefined,
  maxBytes: number,
): Uint8Array {
  if (container === 'gzip' && (bytes.length < 18 || !isGzip(bytes) || bytes[2] !== 8)) {
    throw formatError(format, name, `not a gzip stream (${bytes.length < 18 ? 'too short' : 'bad magic bytes or method'})`);
  }
  // The gzip trailer's ISIZE is only a hint (it is mod 2^32 and describes the last member), used
  // to size the output buffer once when it is plausible.
  let hint = 0;
  if (container === 'gzip') {
    const n = bytes.length;
    hint = (bytes[n - 4] | (bytes[n - 3] << 8) | (bytes[n - 2] << 16) | (bytes[n - 1] << 24)) >>> 0;
    if (hint > maxBytes || hint > bytes.length * MAX_DEFLATE_RATIO) hint = 0;
  }
  let out = new Uint8Array(hint > 0 ? hint : Math.min(maxBytes, Math.max(1024, bytes.length * 4)));
  let size = 0;
  let done = false;
  const onData = (chunk: Uint8Array, final: boolean): void => {
    const need = size + chunk.length;
    if (need > maxBytes) {
      throw formatError(format, name, `decompressed data exceeds the limit of ${maxBytes} bytes`, 'If the file is genuine, pass a larger `maxBytes`.');
    }
    if (need > out.length) {
      const grown = new Uint8Array(Math.min(maxBytes, Math.max(need, out.length * 2)));
      grown.set(out.subarray(0, size));
      out = grown;
    }
    out.set(chunk, size);
    size = need;
    if (final) done = true;
  };
  const stream = container === 'gzip' ? new Gunzip(onData) : container === 'zlib' ? new Unzlib(onData) : new Inflate(onData);
  try {
    for (let pos = 0; pos < bytes.length; pos += INPUT_CHUNK) {
      const end = Math.min(bytes.length, pos + INPUT_CHUNK);
      stream.push(bytes.subarray(pos, end), end === bytes.length);
    }
    if (bytes.length === 0) stream.push(new Uint8Array(0), true);
  } catch (e) {
    if (e instanceof MedvaeError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw formatError(format, name, `${container} decompression failed (${msg}); the file is corrupt or truncated`, undefined, e);
  }
  if (!done) throw formatError(format, name, `${container} stream ended early; the file is truncated`);
  return size === out.length ? out : out.subarray(0, size);
}

/**
 * Reads a whole file in Node. `node:fs/promises` is imported here, lazily, so browser bundles that
 * never call a `*File` reader do not pull it in. A missing file rejects with Node's own error
 * (ENOENT, naming the path).
 */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  assertNodeFs(`Reading '${path}'`);
  const fs = await import('node:fs/promises');
  const buf = await fs.readFile(path);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Product of dimensions, as a float so overflow shows up as a huge number rather than wrapping. */
export function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}
