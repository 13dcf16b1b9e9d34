import * as tf from '@tensorflow/tfjs-core';
import { BackendError, FileFormatError, ValueError } from '../core/errors.js';
import { nodeFs, writeFileAtomic } from './node-fs.js';

/** Element types of the safetensors format that medvae reads. */
export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'U16' | 'BOOL';

const BYTES: Record<SafetensorsDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, U16: 2, BOOL: 1 };

/** The contents of a safetensors file: tensors by name, and the free-form string metadata. */
export interface SafetensorsContent {
  /**
   * Tensors by name (float types become float32, integer types int32, BOOL bool). The caller owns
   * them. The object has no prototype, so every name (`__proto__`, `constructor`, ...) is an own
   * key like any other: iterate with `Object.keys`/`Object.entries`, not methods of the object.
   */
  tensors: Record<string, tf.Tensor>;
  /** The `__metadata__` map of the header (empty when absent). */
  metadata: Record<string, string>;
}

// A header larger than this is certainly corrupt (real ones are a few hundred KB at most).
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/**
 * Encodes tensors in the safetensors format (Hugging Face): an 8-byte little-endian header length,
 * a JSON header with each tensor's dtype, shape and byte range, then the raw little-endian data.
 * float32 tensors are written as F32, int32 as I32, bool as BOOL.
 */
export function encodeSafetensors(tensors: Record<string, tf.Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  // No prototype: a tensor named `__proto__` is a key, not a prototype change.
  const header = Object.create(null) as Record<string, unknown>;
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const dtype: SafetensorsDType = t.dtype === 'float32' ? 'F32' : t.dtype === 'int32' ? 'I32' : t.dtype === 'bool' ? 'BOOL' : unsupported(name, t.dtype);
    const values = t.dataSync();
    const bytes = dtype === 'BOOL' ? Uint8Array.from(values as Uint8Array) : new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  const pad = (8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}

function unsupported(name: string, dtype: string): never {
  throw new ValueError(`Cannot write tensor '${name}' of dtype ${dtype} to safetensors; cast it to float32 or int32 first.`);
}

/**
 * Decodes a safetensors file. Every size in the header is checked against the actual byte length
 * before anything is allocated, so a corrupt or hostile file fails with a {@link FileFormatError}
 * naming the problem.
 *
 * @param bytes - the file contents.
 * @param name - the file name, used in error messages.
 */
export function decodeSafetensors(bytes: Uint8Array, name = 'safetensors data'): SafetensorsContent {
  const fail = (what: string): never => {
    throw new FileFormatError(`${name} is not a valid safetensors file: ${what}.`);
  };
  if (bytes.byteLength < 8) fail(`it has ${bytes.byteLength} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > bytes.byteLength) {
    fail(`the header claims ${headerLen} bytes but the file has ${bytes.byteLength - 8} after the length field`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch {
    fail('the header is not valid UTF-8 JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  requireBackend(name);
  // No prototype: a tensor named `__proto__` must become an entry, not the object's prototype.
  const tensors = Object.create(null) as Record<string, tf.Tensor>;
  let metadata: Record<string, string> = {};
  try {
    for (const [key, entry] of Object.entries(header as Record<string, unknown>)) {
      if (key === '__metadata__') {
        if (typeof entry !== 'object' || entry === null) fail('__metadata__ is not an object');
        metadata = Object.fromEntries(Object.entries(entry as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
        continue;
      }
      const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const dtype = e.dtype as SafetensorsDType;
      if (typeof dtype !== 'string' || !(dtype in BYTES)) fail(`tensor '${key}' has unsupported dtype ${JSON.stringify(e.dtype)}`);
      const shape = e.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${key}' has an invalid shape`);
      const offs = e.data_offsets;
      if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o))) fail(`tensor '${key}' has invalid data_offsets`);
      const [begin, end] = offs as [number, number];
      const count = (shape as number[]).reduce((a, b) => a * b, 1);
      if (begin < 0 || end < begin || end > dataLen) fail(`tensor '${key}' spans bytes ${begin}..${end} but the data section has ${dataLen}`);
      if (end - begin !== count * BYTES[dtype]) fail(`tensor '${key}' needs ${count * BYTES[dtype]} bytes for shape [${shape}] ${dtype} but spans ${end - begin}`);
      tensors[key] = toTensor(bytes.subarray(dataStart + begin, dataStart + end), dtype, shape as number[], key, fail);
    }
  } catch (err) {
    tf.dispose(Object.values(tensors));
    throw err;
  }
  return { tensors, metadata };
}

/**
 * Tensors need an initialised tfjs backend; without one tfjs throws a bare "No backend found in
 * registry". Say what to do instead, before any tensor is made.
 */
function requireBackend(name: string): void {
  let ok = true;
  let cause: unknown;
  try {
    ok = Boolean(tf.getBackend());
  } catch (e) {
    ok = false;
    cause = e;
  }
  if (!ok) {
    throw new BackendError(
      `Cannot decode ${name} into tensors: no TensorFlow.js backend is ready. Call \`await useBackend()\` (medvae's default for this platform, or useBackend('cpu' | 'wasm' | 'webgl' | 'webgpu')) before loading weights.`,
      cause === undefined ? undefined : { cause },
    );
  }
}

function toTensor(raw: Uint8Array, dtype: SafetensorsDType, shape: number[], key: string, fail: (what: string) => never): tf.Tensor {
  // Copy into an aligned buffer: the data section is not guaranteed to be aligned for typed views.
  const buf = raw.slice().buffer;
  const n = shape.reduce((a, b) => a * b, 1);
  const dv = new DataView(buf);
  switch (dtype) {
    case 'F32':
      return tf.tensor(new Float32Array(buf), shape, 'float32');
    case 'F64':
      return tf.tensor(Float32Array.from(new Float64Array(buf)), shape, 'float32');
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      return tf.tensor(out, shape, 'float32');
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u32[i] = dv.getUint16(2 * i, true) << 16;
      return tf.tensor(out, shape, 'float32');
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = dv.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) fail(`int64 tensor '${key}' holds ${v}, outside the int32 range tfjs supports`);
        out[i] = Number(v);
      }
      return tf.tensor(out, shape, 'int32');
    }
    case 'I32':
      return tf.tensor(new Int32Array(buf), shape, 'int32');
    case 'I16':
      return tf.tensor(Int32Array.from(new Int16Array(buf)), shape, 'int32');
    case 'U16':
      return tf.tensor(Int32Array.from(new Uint16Array(buf)), shape, 'int32');
    case 'I8':
      return tf.tensor(Int32Array.from(new Int8Array(buf)), shape, 'int32');
    case 'U8':
      return tf.tensor(Int32Array.from(new Uint8Array(buf)), shape, 'int32');
    case 'BOOL':
      return tf.tensor(new Uint8Array(buf), shape, 'bool');
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Reads a `.safetensors` file (Node). */
export async function loadSafetensors(file: string): Promise<SafetensorsContent> {
  const { fs } = await nodeFs();
  return decodeSafetensors(new Uint8Array(await fs.readFile(file)), file);
}

/** Writes tensors to a `.safetensors` file atomically (Node). */
export async function saveSafetensors(file: string, tensors: Record<string, tf.Tensor>, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
