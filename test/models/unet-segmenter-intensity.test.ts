import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/index.js';
import { MedvaeError } from '../../src/core/errors.js';
import { ArrayDataset } from '../../src/data/dataset.js';
import { normalizeImages } from '../../src/data/transforms/image-normalization.js';
import { UNetSegmenter } from '../../src/models/unet-segmenter.js';

// Bright squares on a dark, noisy background at an arbitrary intensity scale.
function squares(n: number, scale: number): { images: Float32Array; masks: Uint8Array } {
  const images = new Float32Array(n * 16 * 16);
  const masks = new Uint8Array(n * 16 * 16);
  for (let i = 0; i < n; i++) {
    const r0 = 2 + (i % 5);
    const c0 = 3 + ((i * 3) % 6);
    for (let r = 0; r < 16; r++) {
      for (let c = 0; c < 16; c++) {
        const inside = r >= r0 && r < r0 + 7 && c >= c0 && c < c0 + 6;
        const p = i * 256 + r * 16 + c;
        masks[p] = inside ? 1 : 0;
        images[p] = scale * ((inside ? 0.8 : 0.2) + 0.05 * Math.sin(p * 12.9898));
      }
    }
  }
  return { images, masks };
}

describe('UNetSegmenter intensity normalisation (saved with the model, applied in fit and predict)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('predicts the same mask at any gain, trains on raw values, and keeps its normalisation through save/load', async () => {
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 1, intensity: { kind: 'percentiles', lower: 1, upper: 99 } });
    // Training data at a gain of 1000: without the normalisation the first convolution's output would be huge.
    const { images, masks } = squares(16, 1000);
    const samples = Array.from({ length: 16 }, (_, i) => ({
      image: { data: images.subarray(i * 256, (i + 1) * 256), shape: [16, 16, 1] as [number, number, number] },
      mask: { data: masks.subarray(i * 256, (i + 1) * 256), shape: [16, 16, 1] as [number, number, number] },
    }));
    const { history } = await model.fit(new ArrayDataset(samples), { epochs: 6, batchSize: 8, lr: 1e-2, seed: 0 });
    expect(history[history.length - 1].train.loss).toBeLessThan(history[0].train.loss);

    const x = tf.tensor4d(images.slice(0, 4 * 256), [4, 16, 16, 1]);
    const scaled = tf.mul(x, 255 / 1000);
    const shifted = tf.add(tf.mul(x, 0.01), 3);
    const before = tf.memory().numTensors;
    const p = model.predictProba(x);
    const ps = model.predictProba(scaled as tf.Tensor4D);
    const po = model.predictProba(shifted as tf.Tensor4D);
    expect(tf.memory().numTensors).toBe(before + 3);
    const a = p.dataSync();
    for (const q of [ps.dataSync(), po.dataSync()]) for (let i = 0; i < a.length; i++) expect(Math.abs(q[i] - a[i])).toBeLessThan(1e-4);
    // The network itself sees exactly the percentile-scaled images.
    model.eval();
    const direct = tf.tidy(() => tf.softmax(model.forward(normalizeImages(x, model.intensity)), -1));
    model.train();
    const d = direct.dataSync();
    for (let i = 0; i < a.length; i++) expect(Math.abs(d[i] - a[i])).toBeLessThan(1e-5);

    const dir = mkdtempSync(join(tmpdir(), 'medvae-intensity-'));
    try {
      await model.save(dir);
      const saved = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { config?: Record<string, unknown>; modelConfig?: Record<string, unknown> };
      expect(JSON.stringify(saved)).toContain('"intensity":{"kind":"percentiles","lower":1,"upper":99}');
      const loaded = await UNetSegmenter.load(dir);
      expect(loaded.intensity).toEqual({ kind: 'percentiles', lower: 1, upper: 99 });
      const pl = loaded.predictProba(scaled as tf.Tensor4D);
      const l = pl.dataSync();
      for (let i = 0; i < a.length; i++) expect(Math.abs(l[i] - a[i])).toBeLessThan(1e-4);
      tf.dispose(pl);
      loaded.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    tf.dispose([x, scaled, shifted, p, ps, po, direct]);
    model.dispose();
  }, 60_000);

  it('with histogram equalisation, trains (no leaked tensors), predicts nearly alike under a gamma curve, and saves it', async () => {
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 2, intensity: { kind: 'histogram' } });
    const { images, masks } = squares(16, 1);
    const samples = Array.from({ length: 16 }, (_, i) => ({
      image: { data: images.subarray(i * 256, (i + 1) * 256), shape: [16, 16, 1] as [number, number, number] },
      mask: { data: masks.subarray(i * 256, (i + 1) * 256), shape: [16, 16, 1] as [number, number, number] },
    }));
    const before = tf.memory().numTensors;
    const { history } = await model.fit(new ArrayDataset(samples), { epochs: 6, batchSize: 8, lr: 1e-2, seed: 0 });
    expect(tf.memory().numTensors).toBe(before);
    expect(history[history.length - 1].train.loss).toBeLessThan(history[0].train.loss);
    // Gamma 0.6 keeps the values' order: only the histogram's binning differs, so the
    // probabilities move little, while percentile scaling would pass the curve on to the network.
    const x = tf.tensor4d(images.slice(0, 4 * 256), [4, 16, 16, 1]);
    const curved = tf.pow(x, 0.6) as tf.Tensor4D;
    const [p, pc] = [model.predictProba(x), model.predictProba(curved)];
    const a = p.dataSync();
    const c = pc.dataSync();
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - c[i]));
    // Measured when written: 0.009 here, 0.092 for the same model with percentile scaling.
    expect(worst).toBeLessThan(0.03);
    const dir = mkdtempSync(join(tmpdir(), 'medvae-histogram-'));
    try {
      await model.save(dir);
      const loaded = await UNetSegmenter.load(dir);
      expect(loaded.intensity).toEqual({ kind: 'histogram' });
      loaded.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    tf.dispose([x, curved, p, pc]);
    model.dispose();
  }, 60_000);

  it("defaults to 'none' and refuses a malformed normalisation with a typed error", () => {
    const m = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 0 });
    expect(m.intensity).toBe('none');
    expect(m.config).not.toHaveProperty('intensity');
    m.dispose();
    expect(() => new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], intensity: { kind: 'percentiles', lower: 99, upper: 1 } })).toThrow(MedvaeError);
  });
});
