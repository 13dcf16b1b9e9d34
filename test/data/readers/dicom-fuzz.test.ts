// Seeded fuzzing of the asynchronous DICOM reader over compressed files: mutated JPEG, JPEG
// lossless, JPEG-LS, JPEG 2000 and RLE files must either decode to a self-consistent image or be
// refused with a FileFormatError naming the file — never another exception, never a hang.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileFormatError, readDicomAsync } from '../../../src/index.js';
import { bytesOf, daikonFile } from './helpers.js';

const SEED = Number(process.env.MEDVAE_FUZZ_SEED ?? 7);
const RUNS = Number(process.env.MEDVAE_FUZZ_RUNS ?? 100);
const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';

const SEEDS = [
  daikonFile('jpeg_ls.dcm'),
  daikonFile('jpeg_2000.dcm'),
  daikonFile('jpeg_lossless_sel1.dcm'),
  daikonFile('rle.dcm'),
  join(PYDICOM, 'SC_rgb_small_odd_jpeg.dcm'),
  join(PYDICOM, 'SC_rgb_jpeg_dcmtk.dcm'),
  join(PYDICOM, 'MR_small_jp2klossless.dcm'),
  join(PYDICOM, 'MR_small_jpeg_ls_lossless.dcm'),
  join(PYDICOM, 'SC_rgb_jpeg_gdcm.dcm'),
].filter((p) => existsSync(p));

type Mutation = { kind: 'flip' | 'byte' | 'truncate' | 'word'; at: number; value: number };

/** Applies mutations; positions are fractions (0..1) of the length, so every part of the file is hit. */
function mutate(seed: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = seed.slice();
  for (const m of muts) {
    const at = Math.min(b.length - 1, Math.floor(m.at * b.length));
    if (at < 0) break;
    if (m.kind === 'flip') b[at] ^= 1 << (m.value & 7);
    else if (m.kind === 'byte') b[at] = m.value & 0xff;
    else if (m.kind === 'word') for (let k = 0; k < 4 && at + k < b.length; k++) b[at + k] = (m.value >>> (8 * k)) & 0xff;
    else b = b.slice(0, Math.max(0, at));
  }
  return b;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'byte', 'truncate', 'word', 'flip', 'byte') as fc.Arbitrary<Mutation['kind']>,
  // Half the positions fall in the last 90 % (compressed pixel data), half anywhere.
  at: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.double({ min: 0.1, max: 1, noNaN: true, maxExcluded: true })),
  value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 0xff, 0xffff, 0x7fffffff, 0xffffffff)),
});

describe.skipIf(SEEDS.length === 0)('readDicomAsync on mutated compressed files (fast-check)', () => {
  it(`returns consistent images or throws FileFormatError only (${RUNS} runs, seed ${SEED})`, async () => {
    const seeds = SEEDS.map((p) => bytesOf(p));
    let decoded = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (which, muts) => {
        const bytes = mutate(seeds[which], muts);
        try {
          const img = await readDicomAsync(bytes, { name: 'fuzz', maxBytes: 64 << 20 });
          expect(img.pixelData.length).toBe(img.rows * img.columns * img.samplesPerPixel * img.numberOfFrames);
          decoded++;
        } catch (e) {
          if (!(e instanceof FileFormatError)) throw e;
          expect(e.message).toMatch(/^Cannot read DICOM from 'fuzz':/);
          refused++;
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(`DICOM codec fuzz: ${decoded} decoded, ${refused} refused with FileFormatError`);
    expect(decoded + refused).toBeGreaterThanOrEqual(RUNS);
  }, 240_000);
});
