// Helpers shared by the readers. Not part of the public API (not re-exported by the barrel).
import { FileFormatError, MedvaeError } from '../../core/errors.js';
import { assertNodeFs, importNode } from '../../core/runtime.js';
import { inflateBounded } from './inflate.js';
export { checkAlloc, DEFAULT_MAX_BYTES } from './byte-budget.js';

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

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses gzip (all members, each checked against its CRC-32 and ISIZE), zlib or raw DEFLATE
 * data, refusing to produce more than `maxBytes`; the output grows with the data, never sized by a
 * declared length. See {@link inflateBounded}.
 */
export function inflateCapped(
  bytes: Uint8Array,
  container: 'gzip' | 'zlib' | 'raw',
  format: string,
  name: string | undefined,
  maxBytes: number,
): Uint8Array {
  return inflateBounded(bytes, container, { format, name, maxBytes });
}

/**
 * Reads a whole file in Node. `node:fs/promises` is imported here, lazily, so browser bundles that
 * never call a `*File` reader do not pull it in. A missing file rejects with Node's own error
 * (ENOENT, naming the path).
 */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  assertNodeFs(`Reading '${path}'`);
  const fs = await importNode<typeof import('node:fs/promises')>('fs/promises');
  const buf = await fs.readFile(path);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Product of dimensions, as a float so overflow shows up as a huge number rather than wrapping. */
export function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}
