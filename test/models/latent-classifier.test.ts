import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArrayDataset, Generator, LatentClassifier, VAE, ValueError, imageArray, rocAuc, type Sample } from '../../src/index.js';
import { expectClose, setupBackend, values } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

/** 8×8 images whose brightness level is the class (levels 0.2, 0.5, 0.8), with pixel noise: separable by mean intensity. */
function levels(n: number, classes: number, seed: number): Sample[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, (_, i) => {
    const label = i % classes;
    const level = classes === 2 ? [0.25, 0.75][label] : [0.2, 0.5, 0.8][label];
    const img = Float32Array.from({ length: 64 }, () => level + 0.1 * g.randn());
    return { image: imageArray(img, [8, 8]), label };
  });
}

const convVAE = (seed = 0) => new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 4, channels: [4, 8], seed });

/** A conv VAE (with BatchNorm) trained briefly without labels, so that its latent means encode brightness. */
async function pretrainedVAE(data: Sample[]): Promise<VAE> {
  const vae = new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 4, channels: [4, 8], likelihood: 'gaussian', gaussianVariance: 0.01, seed: 0 });
  await vae.fit(new ArrayDataset(data), { epochs: 10, batchSize: 15, lr: 1e-2, onProgress: 'none' });
  return vae;
}

function stateValues(m: VAE): Record<string, number[]> {
  return Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, values(v)]));
}

function imagesOf(samples: Sample[]): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(samples.flatMap((s) => Array.from(s.image.data))), [samples.length, 8, 8, 1]);
}

describe('LatentClassifier', () => {
  it('learns a separable toy problem (ROC-AUC > 0.95) with a frozen encoder whose weights and statistics stay unchanged', async () => {
    const trainSamples = levels(30, 2, 1);
    const vae = await pretrainedVAE(trainSamples);
    const clf = new LatentClassifier(vae, { hiddenDims: [16], seed: 0 });
    expect(clf.fitParameters()).toHaveLength(4); // head only
    expect(vae.trainableParameters()).toHaveLength(0);
    const before = stateValues(vae);
    const train = new ArrayDataset(trainSamples);
    const test = new ArrayDataset(levels(30, 2, 2));
    const { history } = await clf.fit(train, { epochs: 30, batchSize: 15, lr: 1e-2, validation: test, onProgress: 'none' });
    expect(history[29].train.loss).toBeLessThan(history[0].train.loss / 5);
    const metrics = await clf.evaluate(test);
    expect(metrics.rocAuc).toBeGreaterThan(0.95);
    expect(metrics.accuracy).toBeGreaterThan(0.9);
    expect(history[29].val.rocAuc).toBe(metrics.rocAuc);
    const after = stateValues(vae);
    for (const [k, v] of Object.entries(before)) expect(after[k], k).toEqual(v); // parameters and BatchNorm buffers
    clf.dispose();
  });

  it('evaluate reports the ROC-AUC and confusion-matrix metrics of predictProba at the threshold', async () => {
    const clf = new LatentClassifier(convVAE(1), { hiddenDims: [], seed: 2 });
    const samples = levels(20, 2, 3);
    const x = imagesOf(samples);
    const p = clf.predictProba(x);
    expect(p.shape).toEqual([20]);
    const probs = values(p);
    const labels = samples.map((s) => s.label as number);
    const t = [...probs].sort((a, b) => a - b)[9]; // a threshold inside the score range
    let tp = 0, fp = 0, tn = 0, fn = 0;
    probs.forEach((q, i) => {
      const pos = q >= t;
      if (labels[i] === 1) pos ? tp++ : fn++;
      else pos ? fp++ : tn++;
    });
    const m = await clf.evaluate(new ArrayDataset(samples), { threshold: t, batchSize: 7 });
    expect(m.rocAuc).toBeCloseTo(rocAuc(probs, labels), 12);
    expect(m.sensitivity).toBeCloseTo(tp / (tp + fn), 12);
    expect(m.specificity).toBeCloseTo(tn / (tn + fp), 12);
    expect(m.accuracy).toBeCloseTo((tp + tn) / 20, 12);
    const pred = clf.predict(x, { threshold: t });
    expect(values(pred)).toEqual(probs.map((q) => (q >= t ? 1 : 0)));
    tf.dispose([x, p, pred]);
    clf.dispose();
  });

  it('fine-tunes the encoder when freezeEncoder is false (the decoder stays as it was)', async () => {
    const vae = new VAE({ architecture: 'mlp', inChannels: 1, imageSize: [8, 8], latentDim: 4, hiddenDims: [16], seed: 0 });
    const clf = new LatentClassifier(vae, { freezeEncoder: false, seed: 0 });
    const before = stateValues(vae);
    await clf.fit(new ArrayDataset(levels(16, 2, 4)), { epochs: 2, batchSize: 8, onProgress: 'none' });
    const after = stateValues(vae);
    expect(after['encoder.1.weight']).not.toEqual(before['encoder.1.weight']);
    expect(after['fcMu.weight']).not.toEqual(before['fcMu.weight']);
    expect(after['fcLogVar.weight']).toEqual(before['fcLogVar.weight']); // not on the path to the logits
    expect(after['decoder.0.weight']).toEqual(before['decoder.0.weight']);
    clf.dispose();
  });

  it('multi-class: softmax probabilities [B, C] and macro-averaged metrics', async () => {
    const train = levels(30, 3, 5);
    const clf = new LatentClassifier(await pretrainedVAE(train), { numClasses: 3, hiddenDims: [16], seed: 0 });
    await clf.fit(new ArrayDataset(train), { epochs: 30, batchSize: 15, lr: 1e-2, onProgress: 'none' });
    const x = imagesOf(train.slice(0, 6));
    const p = clf.predictProba(x);
    expect(p.shape).toEqual([6, 3]);
    expectClose(values(tf.tidy(() => tf.sum(p, 1))), [1, 1, 1, 1, 1, 1], 1e-5, 1e-6, 'rows sum to 1');
    const m = await clf.evaluate(new ArrayDataset(levels(30, 3, 6)));
    expect(m.rocAuc).toBeGreaterThan(0.9);
    for (const k of ['sensitivity', 'specificity', 'accuracy'] as const) expect(m[k]).toBeGreaterThan(0.8);
    tf.dispose([x, p]);
    clf.dispose();
  });

  it('rejects missing or out-of-range labels and bad options', async () => {
    const vae = convVAE();
    expect(() => new LatentClassifier(vae, { numClasses: 1 })).toThrow(/numClasses must be an integer ≥ 2/);
    expect(() => new LatentClassifier({} as VAE)).toThrow(/needs a VAE/);
    const clf = new LatentClassifier(vae, { seed: 0 });
    const unlabeled = new ArrayDataset([{ image: imageArray(new Float32Array(64), [8, 8]) }]);
    await expect(clf.fit(unlabeled, { epochs: 1, onProgress: 'none' })).rejects.toThrow(/needs samples with a label/);
    const bad = new ArrayDataset([{ image: imageArray(new Float32Array(64), [8, 8]), label: 2 }]);
    await expect(clf.evaluate(bad)).rejects.toThrow(/class indices in \[0, 2\)/);
    await expect(clf.fit(bad, { epochs: 1, posWeight: 2, onProgress: 'none' })).rejects.toThrow(ValueError);
    clf.dispose();
  });

  it('leaks no tensors over 50 training steps', async () => {
    const clf = new LatentClassifier(convVAE(), { hiddenDims: [8], dropout: 0.2, seed: 0 });
    const data = new ArrayDataset(levels(8, 2, 7));
    const before = tf.memory().numTensors;
    await clf.fit(data, { epochs: 50, batchSize: 8, onProgress: 'none' });
    expect(tf.memory().numTensors).toBe(before);
    clf.dispose();
  });

  it('saves and loads (with its VAE) to identical outputs', async () => {
    const clf = new LatentClassifier(convVAE(), { hiddenDims: [8], seed: 0 });
    const data = new ArrayDataset(levels(8, 2, 8));
    await clf.fit(data, { epochs: 2, batchSize: 4, onProgress: 'none' });
    const dir = mkdtempSync(join(tmpdir(), 'medvae-latent-'));
    tmpDirs.push(dir);
    await clf.save(dir);
    const loaded = await LatentClassifier.load(dir);
    expect(loaded.config).toEqual(clf.config);
    expect(loaded.vae.config).toEqual(clf.vae.config);
    expect(loaded.vae.trainableParameters()).toHaveLength(0); // still frozen
    const x = imagesOf(levels(5, 2, 9));
    for (const [a, b] of [[clf.predictProba(x), loaded.predictProba(x)], [clf.vae.reconstruct(x), loaded.vae.reconstruct(x)]]) {
      expectClose(values(b), values(a), 0, 0, 'loaded output');
      tf.dispose([a, b]);
    }
    x.dispose();
    clf.dispose();
    loaded.dispose();
  });
});
