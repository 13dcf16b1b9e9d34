import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdversarialSegmenter, ArrayDataset, DataLoader, Generator, UNetSegmenter, evaluateSegmentation, imageArray, loadSafetensors, type Logs,
} from '../../src/index.js';
import { discs } from '../helpers/discs.js';
import { expectClose, setupBackend, values } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

const small = { inChannels: 1, numClasses: 2, channels: [4, 8], discriminatorChannels: [4, 8] };

describe('AdversarialSegmenter', () => {
  it('has a U-Net segmenter and a patch discriminator on (image, class probabilities) pairs', () => {
    const model = new AdversarialSegmenter({ ...small, numClasses: 3, seed: 0 });
    expect(model.discriminator.inChannels).toBe(1 + 3);
    expect(model.discriminator.patch).toBe(true);
    expect(model.config).toEqual({
      inChannels: 1, numClasses: 3, channels: [4, 8], discriminatorChannels: [4, 8], discriminatorNorm: 'instance',
    });
    const x = new Generator(1).normal([2, 16, 12, 1]);
    const logits = model.forward(x);
    expect(logits.shape).toEqual([2, 16, 12, 3]);
    const labels = model.predict(x);
    expect(labels.shape).toEqual([2, 16, 12]);
    expect(labels.dtype).toBe('int32');
    const patch = model.discriminator.forward(tf.concat([x, tf.softmax(logits)], 3));
    expect(patch.shape).toEqual([2, 4, 3, 1]);
    tf.dispose([x, logits, labels, patch]);
    model.dispose();
  });

  it('overfits one batch: the loss falls ≥ 10×, with the adversarial term in play (λ = 0.05)', async () => {
    // Measured (seeds 0–2): total loss falls 18.6–18.9×, its Dice + CE part 33–40×; the adversarial
    // term (≈ 0.7) stays, as it should while the discriminator keeps up.
    const data = new ArrayDataset(discs(4, 16, 3));
    const model = new AdversarialSegmenter({ inChannels: 1, numClasses: 2, channels: [8, 16], discriminatorChannels: [8, 16], seed: 0 });
    const logs: Logs[] = [];
    const { history } = await model.fit(new DataLoader(data, { batchSize: 4 }), {
      epochs: 40, lr: 1e-2, onProgress: 'none', callbacks: [{ onBatchEnd: (_p, l) => void logs.push({ ...l }) }],
    });
    const first = history[0].train;
    const last = history[history.length - 1].train;
    expect(last.loss).toBeLessThan(first.loss / 10);
    expect(last.segmentation).toBeLessThan(first.segmentation / 10);
    for (const l of logs) {
      for (const k of ['loss', 'segmentation', 'adversarial', 'discriminator']) expect(Number.isFinite(l[k]), k).toBe(true);
      expect(l.loss).toBeCloseTo(l.segmentation + 0.05 * l.adversarial, 5);
    }
    expect(new Set(logs.map((l) => l.discriminator.toFixed(6))).size).toBeGreaterThan(1);
    const metrics = await model.evaluate(data, ['dice', 'precision', 'hd95']);
    expect(metrics.dice).toBeGreaterThan(0.9);
    expect(metrics.precision).toBeGreaterThan(0.8);
    expect(Number.isFinite(metrics.hd95)).toBe(true);
    model.dispose();
  });

  it('applies lrSchedule to the segmenter before every step, not to the discriminator', async () => {
    const model = new AdversarialSegmenter({ ...small, seed: 0 });
    const data = new ArrayDataset(discs(4, 16, 3));
    const seg = model.segmenter.trainableParameters().map((p) => values(p));
    const disc = model.discriminator.trainableParameters().map((p) => values(p));
    const steps: number[] = [];
    await model.fit(data, { epochs: 2, batchSize: 2, lrSchedule: (step) => (steps.push(step), 0), onProgress: 'none' });
    expect(steps).toEqual([0, 1, 2, 3]);
    expect(model.segmenter.trainableParameters().every((p, i) => values(p).every((v, j) => v === seg[i][j]))).toBe(true);
    expect(model.discriminator.trainableParameters().some((p, i) => values(p).some((v, j) => v !== disc[i][j]))).toBe(true);
    model.dispose();
  });

  it("trains with the 'scaling' encoding of true masks, and rejects unknown encodings and τ", async () => {
    const model = new AdversarialSegmenter({ ...small, seed: 0 });
    const data = new ArrayDataset(discs(4, 16, 3));
    const logs: Logs[] = [];
    await model.fit(data, { epochs: 2, batchSize: 2, realMaskEncoding: 'scaling', scalingTau: 0.9, onProgress: 'none', callbacks: [{ onBatchEnd: (_p, l) => void logs.push({ ...l }) }] });
    expect(logs.length).toBeGreaterThan(0);
    for (const l of logs) for (const key of ['loss', 'segmentation', 'adversarial', 'discriminator']) expect(Number.isFinite(l[key]), key).toBe(true);
    await expect(model.fit(data, { epochs: 1, realMaskEncoding: 'soft' as 'basic', onProgress: 'none' })).rejects.toThrow(/realMaskEncoding must be one of 'basic', 'scaling'/);
    await expect(model.fit(data, { epochs: 1, realMaskEncoding: 'scaling', scalingTau: 0, onProgress: 'none' })).rejects.toThrow(/scalingTau must be a number in \(0, 1\]/);
    model.dispose();
  });

  it('evaluates exactly as UNetSegmenter does with the same weights (shared evaluateSegmentation)', async () => {
    const data = new ArrayDataset(discs(5, 16, 8));
    const adv = new AdversarialSegmenter({ ...small, seed: 2 });
    const plain = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 9 });
    plain.loadStateDict(adv.segmenter.stateDict());
    const metrics = ['dice', 'iou', 'precision', 'recall', 'hd95'] as const;
    const a = await adv.evaluate(new ArrayDataset(discs(5, 16, 8)), [...metrics]);
    const b = await plain.evaluate(data, [...metrics]);
    const c = await evaluateSegmentation((x) => plain.predict(x), data, [...metrics], { numClasses: 2 });
    for (const m of metrics) {
      expect(a[m], m).toBe(b[m]);
      expect(c[m], m).toBe(b[m]);
    }
    await expect(adv.evaluate(new ArrayDataset([{ image: imageArray(new Float32Array(256), [16, 16]) }]))).rejects.toThrow(/AdversarialSegmenter.evaluate needs samples with a mask/);
    adv.dispose();
    plain.dispose();
  });

  it('leaks no tensors over 50 training steps', async () => {
    const data = new ArrayDataset(discs(2, 16, 4));
    const model = new AdversarialSegmenter({ ...small, numClasses: 1, seed: 0 });
    const before = tf.memory().numTensors;
    await model.fit(data, { epochs: 25, batchSize: 1, onProgress: 'none' });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('checkpoints both optimizers (segmenter and discriminator)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medvae-advseg-'));
    tmpDirs.push(dir);
    const path = join(dir, 'ckpt.safetensors');
    const model = new AdversarialSegmenter({ ...small, seed: 1 });
    await model.fit(new ArrayDataset(discs(4, 16, 5)), { epochs: 1, batchSize: 2, onProgress: 'none', checkpoint: { path } });
    const { tensors, metadata } = await loadSafetensors(path);
    const meta = JSON.parse(metadata['medvae.checkpoint']) as { optimizers: Record<string, { stepCount: number }> };
    expect(Object.keys(meta.optimizers).sort()).toEqual(['discriminator', 'segmenter']);
    expect(meta.optimizers.segmenter.stepCount).toBe(2);
    const keys = Object.keys(tensors);
    expect(keys.filter((k) => k.startsWith('optim/segmenter/')).length).toBe(2 * model.segmenter.trainableParameters().length);
    expect(keys.filter((k) => k.startsWith('optim/discriminator/')).length).toBe(2 * model.discriminator.trainableParameters().length);
    tf.dispose(Object.values(tensors));
    model.dispose();
  });

  it('saves and loads to identical outputs, discriminator included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medvae-advseg-'));
    tmpDirs.push(dir);
    const model = new AdversarialSegmenter({ ...small, numClasses: 3, seed: 5 });
    const data = new ArrayDataset(discs(2, 16, 1));
    await model.fit(data, { epochs: 1, batchSize: 2, onProgress: 'none' }); // moves BN running stats
    await model.save(dir);
    const loaded = await AdversarialSegmenter.load(dir);
    expect(loaded.config).toEqual(model.config);
    const x = new Generator(3).normal([2, 16, 16, 1]);
    const pair = new Generator(4).uniform([2, 16, 16, 4]);
    const outs: [tf.Tensor, tf.Tensor][] = [
      [model.predictProba(x), loaded.predictProba(x)],
      [model.discriminator.forward(pair), loaded.discriminator.forward(pair)],
    ];
    for (const [a, b] of outs) {
      expectClose(values(b), values(a), 0, 0, 'loaded output');
      tf.dispose([a, b]);
    }
    tf.dispose([x, pair]);
    model.dispose();
    loaded.dispose();
  });

  it('warmupEpochs: the first epochs train the segmenter on Dice + CE alone, then λ applies', async () => {
    const data = new ArrayDataset(discs(4, 16, 6));
    const run = async (lambdaAdv: number, warmupEpochs: number | undefined, epochs: number) => {
      const model = new AdversarialSegmenter({ ...small, seed: 0 });
      const logs: Logs[] = [];
      await model.fit(data, { epochs, batchSize: 2, lambdaAdv, warmupEpochs, onProgress: 'none', callbacks: [{ onBatchEnd: (_p, l) => void logs.push({ ...l }) }] });
      const weights = model.segmenter.parameters().map((p) => values(p));
      model.dispose();
      return { logs, weights };
    };
    const warm = await run(0.05, 2, 2);
    const none = await run(0, undefined, 2);
    const adv = await run(0.05, undefined, 2);
    // During warm-up the segmenter's updates are those of λ = 0 exactly (the discriminator trains in both) ...
    warm.weights.forEach((w, i) => expectClose(w, none.weights[i], 0, 0, `segmenter parameter ${i}`));
    // ... and not those of λ = 0.05 from the start.
    expect(warm.weights.some((w, i) => w.some((v, j) => v !== adv.weights[i][j]))).toBe(true);
    expect(warm.logs.map((l) => l.lambdaAdv)).toEqual([0, 0, 0, 0]);
    const after = await run(0.05, 1, 2);
    expect(after.logs.map((l) => l.lambdaAdv)).toEqual([0, 0, 0.05, 0.05]);
    for (const l of after.logs) expect(l.loss).toBeCloseTo(l.segmentation + l.lambdaAdv * l.adversarial, 5);
    const model = new AdversarialSegmenter({ ...small, seed: 0 });
    await expect(model.fit(data, { epochs: 1, warmupEpochs: 1.5, onProgress: 'none' })).rejects.toThrow(/warmupEpochs/);
    model.dispose();
  });

  it('names missing masks and refuses the Wasserstein objective', async () => {
    const model = new AdversarialSegmenter({ ...small, seed: 0 });
    const noMask = new ArrayDataset([{ image: imageArray(new Float32Array(256), [16, 16]) }]);
    await expect(model.fit(noMask, { epochs: 1, onProgress: 'none' })).rejects.toThrow(/needs samples with a mask/);
    await expect(model.fit(new ArrayDataset(discs(1, 16, 0)), { epochs: 1, lossType: 'wasserstein', onProgress: 'none' })).rejects.toThrow(/wasserstein/);
    await expect(model.fit(new ArrayDataset(discs(1, 16, 0)), { epochs: 1, lambdaAdv: -1, onProgress: 'none' })).rejects.toThrow(/lambdaAdv/);
    model.dispose();
  });
});
