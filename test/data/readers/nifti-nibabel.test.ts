import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileFormatError } from '../../../src/core/errors.js';
import { readNifti, readNiftiFile, readNiftiPair } from '../../../src/data/readers/nifti.js';
import type { NiftiVolume } from '../../../src/data/readers/volume.js';
import { b64, bytesOf, ROOT } from './helpers.js';

// Written by test/fixtures/data/gen_nifti_nibabel.py with nibabel 5.0 (see its docstring).
interface Described {
  class: string;
  shape: number[];
  affine: number[][];
  zooms: (number | null)[];
  values: (number | null)[] | null;
  sum: number;
  min: number;
  max: number;
  nan_count: number;
  first: (number | null)[];
}
interface GeoCase {
  label: string;
  bytes: string;
  nibabel?: Described;
  error?: string;
}
interface PairCase {
  label: string;
  hdr: string;
  img: string;
  gz: boolean;
  nibabel: Described;
}
interface ConfCase {
  file: string;
  synthetic_img_bytes?: number;
  nibabel?: Described;
  error?: string;
}
const fx = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'data', 'nifti_nibabel.json'), 'utf8')) as {
  nibabel: string;
  geometry: GeoCase[];
  pairs: PairCase[];
  conformance: ConfCase[];
};

function close(a: number, b: number, rel = 1e-6): boolean {
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Compares a volume with nibabel's view of the same file: shape, affine, zooms, scaled voxels. */
function expectLikeNibabel(vol: NiftiVolume, nb: Described, label: string): void {
  const shape = nb.shape.slice();
  while (shape.length < 3) shape.push(1);
  expect(vol.dims, `${label}: shape`).toEqual(shape);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      if (!close(vol.affine[r][c], nb.affine[r][c], 1e-9)) {
        throw new Error(`${label}: affine[${r}][${c}] is ${vol.affine[r][c]}, nibabel ${nb.affine[r][c]}\n${JSON.stringify(vol.affine)}\nvs ${JSON.stringify(nb.affine)}`);
      }
    }
  }
  nb.zooms.forEach((z, i) => expect(close(vol.spacing[i], z ?? NaN), `${label}: zoom ${i} ${vol.spacing[i]} vs ${z}`).toBe(true));
  const x = vol.data;
  const value = (i: number): number => vol.sclSlope * x[i] + vol.sclInter;
  let sum = 0;
  let nan = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = value(i);
    if (Number.isNaN(v)) {
      nan++;
      continue;
    }
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  expect(nan, `${label}: NaN count`).toBe(nb.nan_count);
  expect(close(min, nb.min), `${label}: min ${min} vs ${nb.min}`).toBe(true);
  expect(close(max, nb.max), `${label}: max ${max} vs ${nb.max}`).toBe(true);
  expect(close(sum, nb.sum, 1e-9), `${label}: sum ${sum} vs ${nb.sum}`).toBe(true);
  const ref = nb.values ?? nb.first;
  ref.forEach((v, i) => {
    const got = value(i);
    if (!(v === null ? Number.isNaN(got) : close(got, v))) throw new Error(`${label}: voxel ${i} is ${got}, nibabel ${v}`);
  });
}

describe(`readNifti geometry and scaling as nibabel ${fx.nibabel} loads them`, () => {
  for (const c of fx.geometry) {
    it(c.label, () => {
      const bytes = b64(c.bytes);
      if (c.error) {
        expect(() => readNifti(bytes, { name: 'case.nii' }), `nibabel: ${c.error}`).toThrow(FileFormatError);
        expect(() => readNifti(bytes, { name: 'case.nii' })).toThrow(/'case\.nii'.*field (vox_offset|scl_inter|quatern_b\/c\/d)/);
      } else {
        expectLikeNibabel(readNifti(bytes, { name: 'case.nii' }), c.nibabel as Described, c.label);
      }
    });
  }

  it('vox_offset 348–351 is refused with what was found and what to do', () => {
    const c = fx.geometry.find((g) => g.label === 'vox_offset 350') as GeoCase;
    expect(() => readNifti(b64(c.bytes), { name: 'v.nii' })).toThrow(/'v\.nii': field vox_offset is 350, but a single-file NIfTI-1 image stores its voxels at byte 352 or later.*set vox_offset to 352/);
  });

  it('scl_inter NaN with a valid slope is refused, as nibabel does', () => {
    const c = fx.geometry.find((g) => g.label === 'scl_inter NaN with a valid slope') as GeoCase;
    expect(() => readNifti(b64(c.bytes), { name: 's.nii' })).toThrow(/'s\.nii': field scl_inter is NaN while scl_slope is 2.*set scl_inter to a finite number/);
  });
});

describe('NIfTI and Analyze .hdr/.img pairs written by nibabel', () => {
  for (const c of fx.pairs) {
    it(`${c.label} (nibabel.load gives ${c.nibabel.class})`, () => {
      const vol = readNiftiPair(b64(c.hdr), b64(c.img), { name: c.label });
      expectLikeNibabel(vol, c.nibabel, c.label);
      expect(vol.header.storage).toBe(c.nibabel.class.includes('Analyze') ? 'analyze' : 'pair');
    });
  }

  it('readNiftiFile finds the partner from either file, and names a missing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medvae-pair-'));
    const c = fx.pairs.find((p) => p.label.startsWith('spm2')) as PairCase;
    writeFileSync(join(dir, 'a.hdr'), b64(c.hdr));
    writeFileSync(join(dir, 'a.img'), b64(c.img));
    const g = fx.pairs.find((p) => p.gz) as PairCase;
    writeFileSync(join(dir, 'b.hdr.gz'), b64(g.hdr));
    writeFileSync(join(dir, 'b.img.gz'), b64(g.img));
    writeFileSync(join(dir, 'lonely.hdr'), b64(c.hdr));
    expectLikeNibabel(await readNiftiFile(join(dir, 'a.hdr')), c.nibabel, 'a.hdr');
    expectLikeNibabel(await readNiftiFile(join(dir, 'a.img')), c.nibabel, 'a.img');
    expectLikeNibabel(await readNiftiFile(join(dir, 'b.hdr.gz')), g.nibabel, 'b.hdr.gz');
    await expect(readNiftiFile(join(dir, 'lonely.hdr'))).rejects.toThrow(/lonely\.hdr.*image file of the pair is missing \(looked for '.*lonely\.img'/);
  });

  it('readNifti on a pair header or an Analyze header says to use readNiftiPair (not "no NIfTI magic")', () => {
    for (const c of fx.pairs.filter((p) => !p.gz)) {
      expect(() => readNifti(b64(c.hdr), { name: 'x.hdr' })).toThrow(/'x\.hdr': it is (an Analyze 7\.5 header|the header of a NIfTI \.hdr\/\.img pair).*readNiftiPair/);
    }
  });

  it('a truncated .img is refused naming both sizes', () => {
    const c = fx.pairs[0];
    const img = b64(c.img);
    expect(() => readNiftiPair(b64(c.hdr), img.subarray(0, img.length - 2), { name: 'p' })).toThrow(/'p'.*the \.img file has only 118 bytes there/);
  });
});

const DATA = '/usr/lib/python3/dist-packages/nibabel/tests/data';
const haveNibabelData = existsSync(DATA);
if (!haveNibabelData) console.log(`[skip] nibabel conformance: ${DATA} is absent (install the Debian package python3-nibabel)`);

describe.skipIf(!haveNibabelData)(`conformance with nibabel ${fx.nibabel} over its own test data`, () => {
  for (const c of fx.conformance) {
    it(`${c.file}`, () => {
      const path = join(DATA, c.file);
      if (c.error) throw new Error(`the generator could not load ${c.file} with nibabel: ${c.error}`);
      let vol: NiftiVolume;
      if (c.synthetic_img_bytes !== undefined) {
        const img = new Uint8Array(c.synthetic_img_bytes);
        for (let i = 0; i < img.length; i++) img[i] = (i * 7 + 3) % 256;
        vol = readNiftiPair(bytesOf(path), img, { name: c.file });
      } else {
        vol = readNifti(bytesOf(path), { name: c.file });
      }
      expectLikeNibabel(vol, c.nibabel as Described, c.file);
    });
  }
});
