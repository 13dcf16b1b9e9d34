import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArrayDataset, Generator, LatentClassifier, VAE, imageArray, type Sample } from '../../src/index.js';
import { expectClose, setupBackend, values } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

/** 8×8 noise images with labels alternating 0/1 (the statistics test does not need learnable labels). */
function noise(n: number, seed: number): Sample[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, (_, i) => ({ image: imageArray(g.uniformArray(64), [8, 8]), label: i % 2 }));
}

const smallVAE = () => new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 3, channels: [4], seed: 0 });

function imagesOf(samples: Sample[]): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(samples.flatMap((s) => Array.from(s.image.data))), [samples.length, 8, 8, 1]);
}

describe('LatentClassifier standardize', () => {
  it('stores the mean and population std of μ over the training data and feeds the head (μ − mean) / std', async () => {
    const data = noise(20, 1);
    const vae = smallVAE();
    const clf = new LatentClassifier(vae, { hiddenDims: [], standardize: true, seed: 0 });
    expect(clf.config.standardize).toBe(true);
    expect(Object.keys(clf.stateDict())).toEqual(expect.arrayContaining(['featureMean', 'featureStd']));
    await clf.fit(new ArrayDataset(data), { epochs: 1, batchSize: 6, onProgress: 'none' });
    // Reference: the statistics by hand from the frozen encoder's μ of all 20 images.
    const x = imagesOf(data);
    const mu = clf.features(x);
    const m = mu.arraySync();
    const mean = [0, 1, 2].map((k) => m.reduce((a, r) => a + r[k], 0) / m.length);
    const std = [0, 1, 2].map((k) => Math.sqrt(m.reduce((a, r) => a + (r[k] - mean[k]) ** 2, 0) / m.length));
    expectClose(values(clf.featureMean as tf.Variable), mean, 1e-4, 1e-6, 'featureMean');
    expectClose(values(clf.featureStd as tf.Variable), std, 1e-4, 1e-6, 'featureStd');
    // With no hidden layer the logits are one Linear of the standardised features.
    const head = clf.head.stateDict();
    const w = values(head['0.weight']);
    const b = values(head['0.bias'])[0];
    const expected = m.map((r) => r.reduce((a, v, k) => a + w[k] * ((v - mean[k]) / std[k]), b));
    const logits = clf.forward(x);
    expectClose(values(logits), expected, 1e-4, 1e-5, 'logits of standardised features');
    tf.dispose([x, mu, logits]);
    clf.dispose();
  });

  it('keeps a constant feature centred instead of dividing by zero', async () => {
    const vae = smallVAE();
    // Zero weights and bias in the μ head: μ is 0 for every image, so its std is 0.
    for (const p of vae.fcMu.parameters()) p.assign(tf.zerosLike(p));
    const clf = new LatentClassifier(vae, { standardize: true, seed: 0 });
    await clf.fit(new ArrayDataset(noise(8, 2)), { epochs: 1, batchSize: 4, onProgress: 'none' });
    expect(values(clf.featureStd as tf.Variable)).toEqual([1, 1, 1]);
    expect(values(clf.featureMean as tf.Variable)).toEqual([0, 0, 0]);
    clf.dispose();
  });

  it('is off by default (no buffers) and survives save → load with identical outputs', async () => {
    const plain = new LatentClassifier(smallVAE(), { seed: 0 });
    expect(plain.config.standardize).toBe(false);
    expect(plain.featureMean).toBeUndefined();
    expect(Object.keys(plain.stateDict()).some((k) => k.startsWith('feature'))).toBe(false);
    plain.dispose();

    const data = noise(12, 3);
    const clf = new LatentClassifier(smallVAE(), { standardize: true, seed: 0 });
    await clf.fit(new ArrayDataset(data), { epochs: 2, batchSize: 4, onProgress: 'none' });
    const dir = mkdtempSync(join(tmpdir(), 'medvae-lc-std-'));
    tmpDirs.push(dir);
    await clf.save(dir);
    const loaded = await LatentClassifier.load(dir);
    expect(loaded.config.standardize).toBe(true);
    expectClose(values(loaded.featureStd as tf.Variable), values(clf.featureStd as tf.Variable), 0, 0, 'featureStd after load');
    const x = imagesOf(data);
    const [a, b] = [clf.predictProba(x), loaded.predictProba(x)];
    expectClose(values(b), values(a), 0, 0, 'probabilities after load');
    tf.dispose([x, a, b]);
    clf.dispose();
    loaded.dispose();
  });

  it('leaks no tensors while fitting the statistics and training', async () => {
    const clf = new LatentClassifier(smallVAE(), { standardize: true, seed: 0 });
    const data = new ArrayDataset(noise(8, 4));
    await clf.fit(data, { epochs: 1, batchSize: 4, onProgress: 'none' });
    const before = tf.memory().numTensors;
    await clf.fit(data, { epochs: 5, batchSize: 4, onProgress: 'none' });
    expect(tf.memory().numTensors).toBe(before);
    clf.dispose();
  });
});
