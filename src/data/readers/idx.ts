import { checkAlloc, DEFAULT_MAX_BYTES, formatError, inflateCapped, isGzip, product, readFileBytes, toBytes, type BytesLike } from './internal.js';
import type { ReadOptions } from './types.js';

const FORMAT = 'IDX';

/** Element types an IDX file can hold (third magic byte 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E). */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** A decoded IDX array (the format of MNIST and Fashion-MNIST). */
export interface IdxArray {
  /** Shape, outermost first: `[60000, 28, 28]` for MNIST training images, `[60000]` for labels. */
  dims: number[];
  /** Element type from the magic number. */
  dtype: IdxDtype;
  /** Elements in row-major (C) order, converted from the file's big-endian to native order. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Record<number, { dtype: IdxDtype; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};

/** Options of {@link readIdx}. */
export interface ReadIdxOptions extends ReadOptions {}

/**
 * Reads an IDX file (raw, or gzipped as distributed: detected by magic bytes). Checks the magic
 * number, the element type, and that the declared dimensions match the bytes present exactly
 * before allocating; gunzip output is capped by `maxBytes`.
 *
 * @example
 * ```ts
 * const labels = readIdx(await fs.readFile('train-labels-idx1-ubyte.gz')); // dims [60000], uint8
 * ```
 */
export function readIdx(input: BytesLike, options: ReadIdxOptions = {}): IdxArray {
  const { name } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let bytes = toBytes(input);
  const owned = isGzip(bytes);
  if (owned) bytes = inflateCapped(bytes, 'gzip', FORMAT, name, maxBytes);
  if (bytes.length < 4) throw formatError(FORMAT, name, `only ${bytes.length} bytes, shorter than the 4-byte magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw formatError(FORMAT, name, `magic number starts with ${bytes[0]}, ${bytes[1]} instead of 0, 0`, 'The file is not IDX (or is compressed with something other than gzip).');
  }
  const type = TYPES[bytes[2]];
  if (!type) throw formatError(FORMAT, name, `element type code 0x${bytes[2].toString(16)} is not one of 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E`);
  const ndim = bytes[3];
  if (ndim < 1) throw formatError(FORMAT, name, 'it declares 0 dimensions');
  const headerSize = 4 + 4 * ndim;
  if (bytes.length < headerSize) throw formatError(FORMAT, name, `${ndim} dimensions need a ${headerSize}-byte header but the file has ${bytes.length} bytes`, 'The file is truncated.');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = product(dims);
  const nbytes = count * type.size;
  checkAlloc(FORMAT, name, nbytes, maxBytes, `the data (${dims.join('×')} ${type.dtype})`);
  if (headerSize + nbytes !== bytes.length) {
    throw formatError(
      FORMAT,
      name,
      `dims [${dims.join(', ')}] of ${type.dtype} need ${nbytes} data bytes but the file has ${bytes.length - headerSize}`,
      headerSize + nbytes > bytes.length ? 'The file is truncated.' : 'The file has trailing bytes; it is corrupt.',
    );
  }
  const body = bytes.subarray(headerSize, headerSize + nbytes);
  let data: IdxArray['data'];
  switch (type.dtype) {
    // Views on our own decompressed buffer; copies of caller-owned bytes.
    case 'uint8':
      data = owned ? body : body.slice();
      break;
    case 'int8': {
      const b = owned ? body : body.slice();
      data = new Int8Array(b.buffer, b.byteOffset, count);
      break;
    }
    default: {
      const b = new DataView(body.buffer, body.byteOffset, body.byteLength);
      if (type.dtype === 'int16') {
        const a = new Int16Array(count);
        for (let i = 0; i < count; i++) a[i] = b.getInt16(2 * i, false);
        data = a;
      } else if (type.dtype === 'int32') {
        const a = new Int32Array(count);
        for (let i = 0; i < count; i++) a[i] = b.getInt32(4 * i, false);
        data = a;
      } else if (type.dtype === 'float32') {
        const a = new Float32Array(count);
        for (let i = 0; i < count; i++) a[i] = b.getFloat32(4 * i, false);
        data = a;
      } else {
        const a = new Float64Array(count);
        for (let i = 0; i < count; i++) a[i] = b.getFloat64(8 * i, false);
        data = a;
      }
    }
  }
  return { dims, dtype: type.dtype, data };
}

/** Reads an IDX (or `.gz` IDX) file from disk (Node only; `node:fs` is imported lazily). See {@link readIdx}. */
export async function readIdxFile(path: string, options: ReadIdxOptions = {}): Promise<IdxArray> {
  return readIdx(await readFileBytes(path), { ...options, name: options.name ?? path });
}
