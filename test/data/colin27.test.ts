import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConcatDataset,
  DataLoader,
  MapDataset,
  Subset,
  loadColin27Slices,
  niftiSliceDataset,
  type Batch,
  type Dataset,
  type Sample,
  type SliceDataset,
} from '../../src/data/index.js';
import { MedvaeError } from '../../src/core/errors.js';
import { setupBackend } from '../helpers/tf.js';

const CH2 = '/usr/share/mricron/templates/ch2.nii.gz';
const CH2BET = '/usr/share/mricron/templates/ch2bet.nii.gz';
const haveDebian = existsSync(CH2) && existsSync(CH2BET);
if (!haveDebian) console.warn(`[colin27.test] ${CH2} / ${CH2BET} absent (Debian mricron-data not installed): the checks against the source volumes are skipped and the embedded set is used.`);

let embedded: SliceDataset;
let fromVolumes: SliceDataset | undefined;

beforeAll(async () => {
  await setupBackend('cpu');
  embedded = await loadColin27Slices();
  if (haveDebian) {
    fromVolumes = await niftiSliceDataset({ image: CH2, mask: CH2BET, axis: ['axial', 'coronal', 'sagittal'], size: 128, normalize: 'none' });
  }
}, 60_000);

describe('embedded Colin27 slices', () => {
  it('load without the Debian package: count, shapes, value ranges and brain fractions are sane', () => {
    expect(embedded.length).toBe(458);
    const perAxis = { axial: 0, coronal: 0, sagittal: 0 } as Record<string, number>;
    for (const s of embedded.slices) perAxis[s.axis as string]++;
    expect(perAxis).toEqual({ axial: 142, coronal: 175, sagittal: 141 });
    let meanFraction = 0;
    for (let i = 0; i < embedded.length; i += 7) {
      const s = embedded.get(i);
      expect(s.image.shape).toEqual([128, 128, 1]);
      expect(s.mask!.shape).toEqual([128, 128, 1]);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of s.image.data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      expect(hi).toBeGreaterThan(0.2);
      let fg = 0;
      let nonBinary = 0;
      for (const v of s.mask!.data) {
        if (v !== 0 && v !== 1) nonBinary++;
        fg += v;
      }
      expect(nonBinary).toBe(0);
      // ≥ 1 % brain in the source slice; after padding 217 → square and resizing, a bit less.
      expect(fg / (128 * 128)).toBeGreaterThan(0.003);
      expect(embedded.slices[i].foreground).toBeGreaterThanOrEqual(0.01);
      meanFraction += fg / (128 * 128);
    }
    meanFraction /= Math.ceil(embedded.length / 7);
    expect(meanFraction).toBeGreaterThan(0.1);
    expect(meanFraction).toBeLessThan(0.6);
    // Brain pixels are brighter on average than non-brain pixels in the middle axial slice.
    const mid = embedded.get(70);
    let inB = 0;
    let nIn = 0;
    for (let p = 0; p < 128 * 128; p++) if (mid.mask!.data[p]) { inB += mid.image.data[p]; nIn++; }
    expect(inB / nIn).toBeGreaterThan(0.3);
  });

  it('selects planes with `axes` and names a missing directory', async () => {
    const axial = await loadColin27Slices({ axes: ['axial'] });
    expect(axial.length).toBe(142);
    expect(axial.slices.every((s) => s.axis === 'axial' && s.voxelAxis === 2)).toBe(true);
    await expect(loadColin27Slices({ dir: '/nonexistent/colin27' })).rejects.toThrow(MedvaeError);
  });

  it.runIf(haveDebian)('is what niftiSliceDataset makes from ch2/ch2bet (same slices, values within rounding)', () => {
    const v = fromVolumes!;
    expect(v.length).toBe(embedded.length);
    for (let i = 0; i < v.length; i += 13) {
      expect(v.slices[i].axis).toBe(embedded.slices[i].axis);
      expect(v.slices[i].index).toBe(embedded.slices[i].index);
      const a = v.get(i);
      const b = embedded.get(i);
      let worst = 0;
      for (let p = 0; p < 128 * 128; p++) worst = Math.max(worst, Math.abs(a.image.data[p] / 255 - b.image.data[p]));
      expect(worst).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
      expect(Array.from(a.mask!.data)).toEqual(Array.from(b.mask!.data));
    }
  });
});

/** The 1,000-slice set of the acceptance test, each sample labelled with its index. */
function thousandSlices(): Dataset<Sample> {
  const parts: Dataset<Sample>[] = [];
  if (fromVolumes) parts.push(fromVolumes);
  while (parts.reduce((n, p) => n + p.length, 0) < 1000) parts.push(embedded);
  const cat = new ConcatDataset(parts);
  const first = new Subset(cat, Array.from({ length: 1000 }, (_, i) => i));
  return new MapDataset(first, (s, i): Sample => ({ image: s.image, mask: s.mask, label: i }));
}

async function fingerprint(loader: DataLoader<Sample, Batch>): Promise<string[]> {
  const out: string[] = [];
  for await (const b of loader) {
    const img = b.image.dataSync();
    let sum = 0;
    for (let i = 0; i < img.length; i += 97) sum += img[i];
    const maskSum = tf.tidy(() => tf.sum(b.mask!).dataSync()[0]);
    out.push(`${Array.from(b.label!.dataSync()).join(',')}|${sum.toFixed(4)}|${maskSum}`);
  }
  return out;
}

describe('acceptance', () => {
  it('A DataLoader over 1,000 Colin27 slices yields identical batches for the same seed, different for another, and leaves no tensors behind after iteration', async () => {
    const ds = thousandSlices();
    expect(ds.length).toBe(1000);
    const before = tf.memory().numTensors;
    const make = (seed: number): DataLoader<Sample, Batch> => new DataLoader(ds, { batchSize: 32, shuffle: true, seed });
    const a = await fingerprint(make(0));
    const b = await fingerprint(make(0));
    const c = await fingerprint(make(1));
    expect(a.length).toBe(32);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(c.filter((x, i) => x === a[i]).length).toBe(0);
    // Every slice appears exactly once per epoch.
    const labels = a.flatMap((x) => x.split('|')[0].split(',').map(Number)).sort((x, y) => x - y);
    expect(labels).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(tf.memory().numTensors).toBe(before);
  });
});
