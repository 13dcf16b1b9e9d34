// Seeded fuzzing of the readers added for issue 14 (NIfTI/Analyze .hdr/.img pairs) and of gzip
// integrity: every mutation gives a self-consistent volume or a FileFormatError, never another
// exception, and a changed bit in a .nii.gz never changes voxels silently.
import fc from 'fast-check';
import { gzipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileFormatError } from '../../../src/core/errors.js';
import { readNifti, readNiftiPair, writeNifti } from '../../../src/data/readers/nifti.js';
import { NiftiVolume } from '../../../src/data/readers/volume.js';
import { b64, ROOT } from './helpers.js';

const fx = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'data', 'nifti_nibabel.json'), 'utf8')) as { pairs: { hdr: string; img: string }[] };
const pairs = fx.pairs.map((p) => ({ hdr: b64(p.hdr), img: b64(p.img) }));
const SEED = Number(process.env.MEDVAE_FUZZ_SEED ?? 14);
const RUNS = Number(process.env.MEDVAE_FUZZ_RUNS ?? 1000);
const opts = { name: 'fuzz', maxBytes: 64 << 20 };

type Edit = { at: number; kind: 'flip' | 'word' | 'cut'; value: number };
const edit: fc.Arbitrary<Edit> = fc.record({
  at: fc.oneof(fc.integer({ min: 0, max: 347 }), fc.integer({ min: 0, max: 1 << 20 })),
  kind: fc.constantFrom('flip' as const, 'word' as const, 'cut' as const),
  value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x7fc00000)),
});

function apply(b: Uint8Array, edits: Edit[]): Uint8Array {
  let out = b.slice();
  for (const e of edits) {
    if (out.length === 0) break;
    const at = e.at % out.length;
    if (e.kind === 'flip') out[at] ^= 1 << (e.value & 7);
    else if (e.kind === 'word') for (let k = 0; k < 4 && at + k < out.length; k++) out[at + k] = (e.value >>> (8 * k)) & 255;
    else out = out.slice(0, at);
  }
  return out;
}

function readsOrRefuses(read: () => NiftiVolume): void {
  let v: NiftiVolume;
  try {
    v = read();
  } catch (e) {
    if (!(e instanceof FileFormatError)) throw e;
    expect(e.message).toMatch(/^Cannot read NIfTI from 'fuzz':/);
    return;
  }
  expect(v.data.length).toBe(v.dims.reduce((a, d) => a * d, 1));
  expect(v.affine.flat().every(Number.isFinite)).toBe(true);
  expect(Number.isFinite(v.sclSlope) && Number.isFinite(v.sclInter)).toBe(true);
}

describe('readNiftiPair under mutation (fast-check, seeded)', () => {
  it(`mutated .hdr or .img of nibabel-written pairs: a volume or a FileFormatError (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: pairs.length - 1 }), fc.boolean(), fc.array(edit, { minLength: 1, maxLength: 4 }), (i, hdrSide, edits) => {
        const p = pairs[i];
        readsOrRefuses(() => (hdrSide ? readNiftiPair(apply(p.hdr, edits), p.img, opts) : readNiftiPair(p.hdr, apply(p.img, edits), opts)));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

describe('a changed bit in a .nii.gz is never a silent change of voxels', () => {
  const vol = new NiftiVolume({ dims: [16, 12, 6], data: Int16Array.from({ length: 16 * 12 * 6 }, (_, i) => ((i * 37) % 500) - 250) });
  const raw = writeNifti(vol);
  for (const level of [0, 6] as const) {
    it(`gzip level ${level}: every flipped bit gives the original voxels or a FileFormatError`, () => {
      const gz = gzipSync(raw, { level, mtime: 0 });
      let refused = 0;
      let same = 0;
      // Every bit of the first 64 bytes, then a stride through the rest (~1500 flips in all).
      const positions: number[] = [];
      for (let i = 0; i < Math.min(64, gz.length); i++) positions.push(i);
      for (let i = 64; i < gz.length; i += Math.max(1, Math.floor(gz.length / 180))) positions.push(i);
      for (const at of positions) {
        for (let bit = 0; bit < 8; bit++) {
          const m = gz.slice();
          m[at] ^= 1 << bit;
          try {
            const back = readNifti(m, { name: 'flip.nii.gz' });
            expect(Array.from(back.data), `flip at byte ${at} bit ${bit}`).toEqual(Array.from(vol.data));
            same++;
          } catch (e) {
            expect(e).toBeInstanceOf(FileFormatError);
            expect((e as Error).message).toMatch(/^Cannot read NIfTI from 'flip\.nii\.gz':/);
            refused++;
          }
        }
      }
      expect(refused).toBeGreaterThan(same); // only header bytes such as MTIME/OS/XFL are harmless
    });
  }

  it('a one-bit flip inside stored voxel data names the CRC-32 mismatch and what to do', () => {
    const gz = gzipSync(raw, { level: 0 });
    const m = gz.slice();
    m[gz.length - 100] ^= 4; // inside the stored block, well before the trailer
    expect(() => readNifti(m, { name: 'ch2-flip.nii.gz' })).toThrow(
      /'ch2-flip\.nii\.gz': gzip member 1's CRC-32 is 0x[0-9a-f]{8} but the decompressed data gives 0x[0-9a-f]{8}\. The file is corrupt.*re-download/,
    );
  });
});
