import * as tf from '@tensorflow/tfjs-core';
import ndarray from 'ndarray';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArrayDataset,
  CachedDataset,
  ConcatDataset,
  MapDataset,
  Subset,
  TensorDataset,
  datasetToArray,
  randomSplit,
  splitLengths,
  type Dataset,
} from '../../src/data/index.js';
import { ShapeError, ValueError } from '../../src/core/errors.js';
import { setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

describe('in-memory datasets', () => {
  it('TensorDataset indexes stacked images, masks and labels as views', () => {
    const images = new Uint8Array(3 * 2 * 2).map((_, i) => i);
    const ds = new TensorDataset({ images: { data: images, shape: [3, 2, 2] }, masks: { data: new Uint8Array(12).fill(1), shape: [3, 2, 2, 1] }, labels: [7, 8, 9] });
    expect(ds.length).toBe(3);
    const s = ds.get(1);
    expect(s.image.shape).toEqual([2, 2, 1]);
    expect(Array.from(s.image.data)).toEqual([4, 5, 6, 7]);
    expect(s.image.data.buffer).toBe(images.buffer);
    expect(s.label).toBe(8);
    expect(s.mask!.shape).toEqual([2, 2, 1]);
    expect(() => ds.get(3)).toThrow(ValueError);
    expect(() => ds.get(-1)).toThrow(ValueError);
  });

  it('TensorDataset accepts tensors and (non-contiguous) ndarray views', () => {
    const t = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
    expect(Array.from(new TensorDataset({ images: t }).get(1).image.data)).toEqual([5, 6, 7, 8]);
    t.dispose();
    // A [2, 2, 2] ndarray transposed to swap height and width.
    const nd = ndarray(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), [2, 2, 2]).transpose(0, 2, 1);
    expect(Array.from(new TensorDataset({ images: nd }).get(0).image.data)).toEqual([1, 3, 2, 4]);
  });

  it('TensorDataset rejects mismatched shapes with a clear error', () => {
    expect(() => new TensorDataset({ images: { data: new Float32Array(8), shape: [2, 2, 2] }, labels: [1] })).toThrow(ShapeError);
    expect(() => new TensorDataset({ images: { data: new Float32Array(8), shape: [2, 2, 2] }, masks: { data: new Float32Array(6), shape: [2, 3, 1] } })).toThrow(
      /masks need the same count, height and width/,
    );
    expect(() => new TensorDataset({ images: { data: new Float32Array(8), shape: [8] } })).toThrow(ShapeError);
    expect(() => new TensorDataset({ images: { data: new Float32Array(7), shape: [2, 2, 2] } })).toThrow(ShapeError);
  });

  it('MapDataset, Subset and ConcatDataset compose lazily, async included', async () => {
    const a = new ArrayDataset([0, 1, 2]);
    const b: Dataset<number> = { length: 2, get: async (i) => 10 + i };
    const cat = new ConcatDataset([a, b, new ArrayDataset([20])]);
    expect(cat.length).toBe(6);
    expect(await datasetToArray(cat)).toEqual([0, 1, 2, 10, 11, 20]);
    const mapped = new MapDataset(cat, (x, i) => x * 100 + i);
    expect(mapped.get(0)).toBe(0);
    expect(await mapped.get(4)).toBe(1104);
    const sub = new Subset(mapped, [5, 0]);
    expect(await datasetToArray(sub)).toEqual([2005, 0]);
    expect(() => new Subset(a, [3])).toThrow(ValueError);
    expect(() => new ConcatDataset([])).toThrow(ValueError);
  });

  it('CachedDataset decodes each item once, shares pending reads and evicts least recently used', async () => {
    let calls = 0;
    const slow: Dataset<number> = {
      length: 5,
      get: async (i) => {
        calls++;
        await new Promise((r) => setTimeout(r, 1));
        return i * i;
      },
    };
    const cached = new CachedDataset(slow);
    const [x, y] = await Promise.all([cached.get(2), cached.get(2)]);
    expect([x, y, calls]).toEqual([4, 4, 1]);
    expect(await cached.get(2)).toBe(4);
    expect(calls).toBe(1);

    const lru = new CachedDataset(slow, { maxItems: 2 });
    calls = 0;
    await lru.get(0);
    await lru.get(1);
    await lru.get(0); // 0 is now the most recent
    await lru.get(2); // evicts 1
    expect(lru.cachedCount).toBe(2);
    await lru.get(0);
    expect(calls).toBe(3);
    await lru.get(1);
    expect(calls).toBe(4);
    expect(() => new CachedDataset(slow, { maxItems: 0 })).toThrow(ValueError);
  });

  it('CachedDataset forgets a failed read so it can be retried', async () => {
    let fail = true;
    const flaky: Dataset<number> = { length: 1, get: async () => { if (fail) throw new Error('io'); return 1; } };
    const cached = new CachedDataset(flaky);
    await expect(cached.get(0)).rejects.toThrow('io');
    fail = false;
    expect(await cached.get(0)).toBe(1);
  });
});

describe('randomSplit', () => {
  it('turns fractions into counts as torch.utils.data.random_split (remainder round-robin)', () => {
    // torch: floor(10·0.33)=3 each, remainder 1 goes to the first part.
    expect(splitLengths(10, [0.33, 0.33, 0.34])).toEqual([4, 3, 3]);
    expect(splitLengths(11, [0.8, 0.2])).toEqual([9, 2]);
    expect(splitLengths(7, [0.5, 0.5])).toEqual([4, 3]);
    expect(splitLengths(10, [0.1, 0.2, 0.7])).toEqual([1, 2, 7]);
    expect(splitLengths(1000, [800, 200])).toEqual([800, 200]);
    expect(() => splitLengths(1000, [800, 100])).toThrow(/sum to 900, but the dataset has 1000/);
    expect(() => splitLengths(10, [0.5, 0.6])).toThrow(ValueError);
    expect(() => splitLengths(10, [-1, 11])).toThrow(ValueError);
  });

  it('gives disjoint subsets that cover the dataset, reproducibly by seed', () => {
    const ds = new ArrayDataset(Array.from({ length: 1000 }, (_, i) => i));
    const [train, val] = randomSplit(ds, [0.8, 0.2], { seed: 0 });
    expect([train.length, val.length]).toEqual([800, 200]);
    const all = new Set([...train.indices, ...val.indices]);
    expect(all.size).toBe(1000);
    const [train2] = randomSplit(ds, [800, 200], { seed: 0 });
    expect(Array.from(train2.indices)).toEqual(Array.from(train.indices));
    const [train3] = randomSplit(ds, [800, 200], { seed: 1 });
    expect(Array.from(train3.indices)).not.toEqual(Array.from(train.indices));
    // Not simply the first 800 in order.
    expect(Array.from(train.indices).slice(0, 20)).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(val.get(0)).toBe(val.indices[0]);
  });
});
