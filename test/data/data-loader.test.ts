import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArrayDataset,
  DataLoader,
  MapDataset,
  TensorDataset,
  collateSamples,
  imageArray,
  type Batch,
  type Dataset,
  type Sample,
} from '../../src/data/index.js';
import { ShapeError, ValueError } from '../../src/core/errors.js';
import { Generator } from '../../src/core/random.js';
import { setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

/** n samples of 4×3×1 whose pixels all equal the index, label = index, mask = index parity. */
function indexed(n: number): TensorDataset {
  const images = new Float32Array(n * 12);
  const masks = new Uint8Array(n * 12);
  for (let i = 0; i < n; i++) {
    images.fill(i, i * 12, (i + 1) * 12);
    masks.fill(i % 2, i * 12, (i + 1) * 12);
  }
  return new TensorDataset({ images: { data: images, shape: [n, 4, 3, 1] }, masks: { data: masks, shape: [n, 4, 3] }, labels: Int32Array.from({ length: n }, (_, i) => i) });
}

async function labelsOf(loader: DataLoader<Sample, Batch>): Promise<number[][]> {
  const out: number[][] = [];
  for await (const b of loader) out.push(Array.from(b.label!.dataSync()));
  return out;
}

describe('collateSamples', () => {
  it('stacks samples into float32 NHWC tensors and int32 labels', () => {
    const a: Sample = { image: imageArray(Uint8Array.from([1, 2, 3, 4]), [2, 2]), mask: imageArray(Uint8Array.from([0, 1, 1, 0]), [2, 2]), label: 3 };
    const b: Sample = { image: imageArray(Uint8Array.from([5, 6, 7, 8]), [2, 2]), mask: imageArray(Uint8Array.from([1, 1, 0, 0]), [2, 2]), label: 1 };
    const batch = collateSamples([a, b]);
    expect(batch.image.shape).toEqual([2, 2, 2, 1]);
    expect(batch.image.dtype).toBe('float32');
    expect(Array.from(batch.image.dataSync())).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(batch.mask!.dtype).toBe('float32');
    expect(Array.from(batch.label!.dataSync())).toEqual([3, 1]);
    expect(batch.label!.dtype).toBe('int32');
    tf.dispose([batch.image, batch.mask!, batch.label!]);
  });

  it('rejects mixed shapes or fields without leaking tensors', () => {
    const before = tf.memory().numTensors;
    const a: Sample = { image: imageArray(new Float32Array(4), [2, 2]), mask: imageArray(new Float32Array(4), [2, 2]) };
    const b: Sample = { image: imageArray(new Float32Array(6), [2, 3]), mask: imageArray(new Float32Array(6), [2, 3]) };
    expect(() => collateSamples([a, b])).toThrow(ShapeError);
    expect(() => collateSamples([a, { image: a.image }])).toThrow(/every sample in a batch must carry the same fields/);
    expect(() => collateSamples([{ image: a.image, mask: imageArray(new Float32Array(6), [3, 2]) }])).toThrow(ShapeError);
    expect(() => collateSamples([])).toThrow(ValueError);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('DataLoader', () => {
  it('has ceil(n / batchSize) batches, or floor with dropLast, and batches of the right sizes', async () => {
    const ds = indexed(10);
    const loader = new DataLoader(ds, { batchSize: 4 });
    expect(loader.length).toBe(3);
    expect(await labelsOf(loader)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const dropping = new DataLoader(ds, { batchSize: 4, dropLast: true });
    expect(dropping.length).toBe(2);
    expect((await labelsOf(dropping)).map((b) => b.length)).toEqual([4, 4]);
    expect(new DataLoader(indexed(8), { batchSize: 4, dropLast: true }).length).toBe(2);
    expect(new DataLoader(ds).length).toBe(10);
  });

  it('yields images, masks and labels that belong together', async () => {
    for await (const b of new DataLoader(indexed(6), { batchSize: 3, shuffle: true, seed: 5 })) {
      const img = b.image.dataSync();
      const mask = b.mask!.dataSync();
      const labels = b.label!.dataSync();
      for (let k = 0; k < 3; k++) {
        expect(img[k * 12]).toBe(labels[k]);
        expect(mask[k * 12 + 11]).toBe(labels[k] % 2);
      }
    }
  });

  it('shuffles by seed and epoch: same seed same batches, another seed or epoch different', async () => {
    const ds = indexed(50);
    const a = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 1 });
    const b = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 1 });
    const c = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 2 });
    const a0 = await labelsOf(a);
    const a1 = await labelsOf(a);
    expect(await labelsOf(b)).toEqual(a0);
    expect(await labelsOf(b)).toEqual(a1);
    expect(a1).not.toEqual(a0);
    expect(await labelsOf(c)).not.toEqual(a0);
    expect(a0.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // Resuming at epoch 1 replays epoch 1.
    const resumed = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 1 });
    resumed.setEpoch(1);
    expect(resumed.epoch).toBe(1);
    expect(await labelsOf(resumed)).toEqual(a1);
    // A Generator seed is drawn from once: equal generator states give equal loaders.
    const ga = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: new Generator(9) });
    const gb = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: new Generator(9) });
    expect(await labelsOf(ga)).toEqual(await labelsOf(gb));
  });

  it('disposes each batch when the loop moves on and the last one at the end (keep: false)', async () => {
    const before = tf.memory().numTensors;
    const seen: tf.Tensor[] = [];
    for await (const b of new DataLoader(indexed(9), { batchSize: 2 })) {
      // Only the current batch (image, mask, label) is alive.
      expect(tf.memory().numTensors).toBe(before + 3);
      seen.push(b.image);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(seen.every((t) => t.isDisposed)).toBe(true);
  });

  it('leaves no tensors after an early break or an exception in the loop', async () => {
    const before = tf.memory().numTensors;
    const loader = new DataLoader(indexed(20), { batchSize: 4, shuffle: true, seed: 0, prefetch: 3 });
    for await (const b of loader) {
      expect(b.image.shape[0]).toBe(4);
      break;
    }
    expect(tf.memory().numTensors).toBe(before);
    await expect(
      (async () => {
        for await (const b of loader) {
          if (b.image) throw new Error('boom');
        }
      })(),
    ).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keep: true hands ownership of every batch to the caller', async () => {
    const before = tf.memory().numTensors;
    const kept: Batch[] = [];
    for await (const b of new DataLoader(indexed(6), { batchSize: 2, keep: true })) kept.push(b);
    expect(tf.memory().numTensors).toBe(before + 9);
    expect(kept.every((b) => !b.image.isDisposed)).toBe(true);
    tf.dispose(kept.flatMap((b) => [b.image, b.mask!, b.label!]));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads ahead from async datasets, in order, and surfaces their errors', async () => {
    let maxInFlight = 0;
    let inFlight = 0;
    const slow: Dataset<number> = {
      length: 12,
      get: async (i) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, (12 - i) % 3));
        inFlight--;
        return i;
      },
    };
    const loader = new DataLoader(slow, { batchSize: 2, prefetch: 2, collate: (xs: number[]) => xs });
    const got: number[][] = [];
    for await (const b of loader) {
      got.push(b);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(got).toEqual([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]);
    expect(maxInFlight).toBeGreaterThan(2);

    const failing: Dataset<number> = { length: 4, get: (i) => { if (i === 3) throw new Error(`cannot read item ${i}`); return i; } };
    const bad = new DataLoader(failing, { batchSize: 2, collate: (xs: number[]) => xs });
    const seen: number[][] = [];
    await expect((async () => { for await (const b of bad) seen.push(b); })()).rejects.toThrow('cannot read item 3');
    expect(seen).toEqual([[0, 1]]);
  });

  it('works with transforms through MapDataset and validates its options', async () => {
    const ds = new MapDataset(new ArrayDataset([1, 2, 3]), (v): Sample => ({ image: imageArray(new Float32Array(4).fill(v), [2, 2]) }));
    const batches: number[] = [];
    for await (const b of new DataLoader(ds, { batchSize: 3 })) batches.push(tf.tidy(() => tf.sum(b.image).arraySync() as number));
    expect(batches).toEqual([24]);
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(ValueError);
    expect(() => new DataLoader(ds, { prefetch: -1 })).toThrow(ValueError);
    const empty = new DataLoader(new ArrayDataset<Sample>([]), { batchSize: 2 });
    expect(empty.length).toBe(0);
    for await (const _ of empty) expect.fail('an empty dataset has no batches');
  });
});

describe('DataLoader.forEpoch', () => {
  it('sets the epoch and returns the loader, so a loop over it replays that epoch', async () => {
    const ds = new ArrayDataset(Array.from({ length: 6 }, (_, i) => ({ image: imageArray(new Float32Array([i]), [1, 1]) })));
    const loader = new DataLoader(ds, { batchSize: 6, shuffle: true, seed: 3 });
    expect(loader.forEpoch(4)).toBe(loader);
    expect(loader.epoch).toBe(4);
    const firstPass: number[] = [];
    for await (const b of loader.forEpoch(4)) firstPass.push(...b.image.dataSync());
    expect(firstPass).toEqual(Array.from(loader.epochOrder(4)));
  });
});
