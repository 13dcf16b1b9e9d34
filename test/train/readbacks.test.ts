// No training step of any model reads a tensor back synchronously on wasm: losses and checks are
// read asynchronously by the loop (every logEvery steps and at the epoch's end), so a step never
// waits for the device. The counter is checked to see a dataSync, so a zero is not vacuous.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdversarialSegmenter, ArrayDataset, DCGAN, DDPM, Generator, LatentClassifier, SGD, UNetSegmenter, VAE, VAEGAN, imageArray,
  type Callback, type Sample, type TrainResult,
} from '../../src/index.js';
import { countReadbacks } from '../helpers/readbacks.js';
import { setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('wasm'));
afterAll(() => tf.disposeVariables());

function samples(n: number, size: number): Sample[] {
  const g = new Generator(0);
  return Array.from({ length: n }, (_, i) => {
    const img = Float32Array.from({ length: size * size }, () => (g.random() < 0.4 ? 1 : 0));
    return { image: imageArray(img, [size, size]), mask: imageArray(img, [size, size]), label: i % 2 };
  });
}

const data = new ArrayDataset(samples(8, 8));
const STEPS = 4;

/** Sync readbacks over the training steps of one fit (the epoch-end flush and everything after it excluded). */
async function syncReadsPerStep(fit: (cb: Callback, opts: { epochs: number; batchSize: number; onProgress: 'none'; logEvery: number }) => Promise<TrainResult>): Promise<number> {
  let counter: ReturnType<typeof countReadbacks> | null = null;
  let steps = 0;
  const cb: Callback = {
    onEpochBegin: () => void (counter = countReadbacks()),
    onBatchEnd: () => {
      steps += 1;
      // Logs arrive at the epoch-end flush, after every step has run: stop counting there.
      counter?.restore();
    },
  };
  try {
    await fit(cb, { epochs: 1, batchSize: 2, onProgress: 'none', logEvery: 1000 });
  } finally {
    (counter as ReturnType<typeof countReadbacks> | null)?.restore();
  }
  expect(steps).toBe(STEPS);
  return (counter as unknown as ReturnType<typeof countReadbacks>).sync / steps;
}

describe('training steps read nothing back synchronously (wasm)', () => {
  it('the counter sees a dataSync and tells it from an async read', async () => {
    const t = tf.scalar(1);
    const c = countReadbacks();
    t.dataSync();
    await t.data();
    c.restore();
    expect(c.sync).toBe(1);
    expect(c.async).toBe(1);
    t.dispose();
  });

  it('UNetSegmenter', async () => {
    const m = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 0 });
    expect(await syncReadsPerStep((cb, o) => m.fit(data, { ...o, clipGradNorm: 1, lrSchedule: (s) => 1e-3 / (1 + s), callbacks: [cb] }))).toBe(0);
    m.dispose();
  });

  it('UNetSegmenter with per-image intensity normalisation (its statistics read from an asynchronous read of the batch)', async () => {
    for (const intensity of [{ kind: 'percentiles', lower: 1, upper: 99 }, { kind: 'zscore', nonzero: true }] as const) {
      const m = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 0, intensity });
      expect(await syncReadsPerStep((cb, o) => m.fit(data, { ...o, callbacks: [cb] })), intensity.kind).toBe(0);
      m.dispose();
    }
  });

  it('UNetSegmenter and VAE with cumulative-average BatchNorm (momentum null: the 1/n factor is computed on the device)', async () => {
    const m = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 0, batchNorm: { momentum: null } });
    expect(await syncReadsPerStep((cb, o) => m.fit(data, { ...o, callbacks: [cb] }))).toBe(0);
    m.dispose();
    const vae = new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 3, channels: [4, 8], norm: 'batch', batchNorm: { momentum: null }, seed: 0 });
    expect(await syncReadsPerStep((cb, o) => vae.fit(data, { ...o, callbacks: [cb] }))).toBe(0);
    vae.dispose();
  });

  it('AdversarialSegmenter', async () => {
    const m = new AdversarialSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], discriminatorChannels: [4, 8], seed: 0 });
    expect(await syncReadsPerStep((cb, o) => m.fit(data, { ...o, callbacks: [cb] }))).toBe(0);
    m.dispose();
  });

  it('VAE and LatentClassifier', async () => {
    const vae = new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 3, channels: [4, 8], seed: 0 });
    expect(await syncReadsPerStep((cb, o) => vae.fit(data, { ...o, clipGradNorm: 5, callbacks: [cb] }))).toBe(0);
    const clf = new LatentClassifier(vae, { seed: 0 });
    expect(await syncReadsPerStep((cb, o) => clf.fit(data, { ...o, callbacks: [cb] }))).toBe(0);
    clf.dispose();
  });

  it('VAEGAN, with and without balance (its skip decision gates the optimizers on the device)', async () => {
    const m = new VAEGAN({ inChannels: 1, imageSize: [8, 8], latentDim: 3, channels: [4, 8], discriminatorChannels: [4, 8], seed: 0 });
    expect(await syncReadsPerStep((cb, o) => m.fit(data, { ...o, callbacks: [cb] }))).toBe(0);
    // A tight band makes steps skip updates, so the gated optimizer steps run with step counts the
    // host does not know yet (their bias corrections are picked on the device).
    const decisions: number[][] = [];
    const record: Callback = { onBatchEnd: (_p, l) => void decisions.push([l.discriminatorUpdated, l.decoderUpdated]) };
    expect(await syncReadsPerStep((cb, o) => m.fit(data, { ...o, balance: { equilibrium: 0.69, margin: 0.004 }, clipGradNorm: 1, callbacks: [cb, record] }))).toBe(0);
    expect(decisions).toHaveLength(STEPS);
    expect(decisions.some(([d, g]) => d === 0 || g === 0)).toBe(true);
    expect(await syncReadsPerStep((cb, o) => m.fit(data, { ...o, balance: true, klAnnealing: (s) => Math.min(1, s / 10), callbacks: [cb] }))).toBe(0);
    m.dispose();
  });

  it('the other step paths: adversarial warm-up and losses, VAE likelihoods and targets, multi-class and standardised classifiers, a user SGD', async () => {
    const data3 = new ArrayDataset(samples(8, 8).map((x, i) => ({ ...x, label: i % 3 })));
    for (const extra of [{ warmupEpochs: 1 }, { lossType: 'hinge' as const, realMaskEncoding: 'scaling' as const }]) {
      const m = new AdversarialSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], discriminatorChannels: [4, 8], seed: 0 });
      expect(await syncReadsPerStep((cb, o) => m.fit(data, { ...o, ...extra, callbacks: [cb] })), JSON.stringify(extra)).toBe(0);
      m.dispose();
    }
    const vae = new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 3, architecture: 'mlp', hiddenDims: [8], likelihood: 'gaussian', seed: 0 });
    expect(await syncReadsPerStep((cb, o) => vae.fit(data, { ...o, target: 'mask', freeBits: 0.1, klAnnealing: (s) => s / 10, callbacks: [cb] }))).toBe(0);
    const multi = new LatentClassifier(vae, { numClasses: 3, seed: 0 });
    expect(await syncReadsPerStep((cb, o) => multi.fit(data3, { ...o, callbacks: [cb] }))).toBe(0);
    const unfrozen = new LatentClassifier(vae, { standardize: true, freezeEncoder: false, dropout: 0.1, seed: 0 });
    const sgd = new SGD(unfrozen.trainableParameters(), { lr: 0.01, momentum: 0.9 });
    expect(await syncReadsPerStep((cb, o) => unfrozen.fit(data, { ...o, posWeight: 2, optimizer: sgd, callbacks: [cb] }))).toBe(0);
    sgd.dispose();
    unfrozen.dispose();
    const gan = new DCGAN({ latentDim: 4, imageSize: 8, imageChannels: 1, generatorChannels: [8, 4], discriminatorChannels: [4, 8], seed: 0 });
    expect(await syncReadsPerStep((cb, o) => gan.fit(data, { ...o, lossType: 'least-squares', callbacks: [cb] }))).toBe(0);
    gan.dispose();
  });

  it('DCGAN', async () => {
    const m = new DCGAN({ latentDim: 4, imageSize: 8, imageChannels: 1, generatorChannels: [8, 4], discriminatorChannels: [4, 8], seed: 0 });
    expect(await syncReadsPerStep((cb, o) => m.fit(data, { ...o, callbacks: [cb] }))).toBe(0);
    m.dispose();
  });

  it('DDPM (unconditional)', async () => {
    const m = new DDPM({ inChannels: 1, channels: [4, 8], layersPerBlock: 1, numTrainTimesteps: 20, sampleSize: 8, normNumGroups: 4, seed: 0 });
    expect(await syncReadsPerStep((cb, o) => m.fit(data, { ...o, callbacks: [cb] }))).toBe(0);
    m.dispose();
  });

  it('DDPM class-conditional (labels checked on the device), with class dropout, Min-SNR, v-prediction, no EMA', async () => {
    const base = { inChannels: 1, channels: [4, 8], layersPerBlock: 1, numTrainTimesteps: 20, sampleSize: 8, normNumGroups: 4, numClassEmbeds: 2, seed: 0 };
    const m = new DDPM(base);
    expect(await syncReadsPerStep((cb, o) => m.fit(data, { ...o, callbacks: [cb] }))).toBe(0);
    expect(await syncReadsPerStep((cb, o) => m.fit(data, { ...o, classDropoutProb: 0.5, clipGradNorm: null, callbacks: [cb] }))).toBe(0);
    m.dispose();
    const v = new DDPM({ ...base, minSnrGamma: 5, predictionType: 'v_prediction' });
    expect(await syncReadsPerStep((cb, o) => v.fit(data, { ...o, emaDecay: null, emaWarmup: true, classDropoutProb: 0.1, callbacks: [cb] }))).toBe(0);
    v.dispose();
  });
});
