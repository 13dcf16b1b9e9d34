// Internal: SHA-256 digests and canonical JSON for the checksums of saved models and checkpoints.
import { importNode } from '../core/runtime.js';

interface SubtleLike {
  digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer>;
}

function subtle(): SubtleLike | undefined {
  return (globalThis as { crypto?: { subtle?: SubtleLike } }).crypto?.subtle;
}

function toHex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * SHA-256 of `data` as 64 lowercase hex digits, or `undefined` where no implementation exists
 * (a browser page served over plain http has no `crypto.subtle`; Node always has one).
 * @internal
 */
export async function sha256Hex(data: Uint8Array | string): Promise<string | undefined> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const s = subtle();
  if (s !== undefined) return toHex(await s.digest('SHA-256', bytes));
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (typeof proc?.versions?.node === 'string') {
    const { createHash } = await importNode<typeof import('node:crypto')>('crypto');
    return createHash('sha256').update(bytes).digest('hex');
  }
  return undefined;
}

/**
 * JSON with object keys sorted at every level, so that equal values always give the same text (and
 * the same hash) whatever order their keys were written in.
 * @internal
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * Names of the float32 tensors in `data` (laid out as `specs` describe, tfjs weights-manifest style)
 * that hold NaN or infinite values.
 * @internal
 */
export function nonFiniteFloat32(
  data: ArrayBuffer,
  specs: readonly { name: string; shape: readonly number[]; dtype: string }[],
): string[] {
  const bad: string[] = [];
  let offset = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const bytes = n * (s.dtype === 'bool' ? 1 : s.dtype === 'float16' ? 2 : 4);
    if (s.dtype === 'float32' && offset + bytes <= data.byteLength) {
      // A bool tensor before this one can leave it unaligned for a Float32Array view: copy then.
      const values = offset % 4 === 0 ? new Float32Array(data, offset, n) : new Float32Array(data.slice(offset, offset + bytes));
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(values[i])) {
          bad.push(s.name);
          break;
        }
      }
    }
    offset += bytes;
  }
  return bad;
}
