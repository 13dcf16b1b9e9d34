// Training tests run on the wasm backend: the cpu backend's Conv2DBackpropFilter is a naive loop
// (~1 s per step even for this tiny U-Net), while medvae's wasm kernels take ~0.1 s.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam, ArrayDataset, DDPM, Generator, ValueError, imageArray, type DDPMOptions, type Sample } from '../../src/index.js';
import { expectClose, setupBackend, values } from '../helpers/tf.js';

beforeAll(() => setupBackend('wasm'));

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'medvae-ddpm-'));
  dirs.push(d);
  return d;
};

const TINY: DDPMOptions = { inChannels: 1, channels: [8, 16], layersPerBlock: 1, numTrainTimesteps: 50, sampleSize: 8, seed: 0 };

/** Blobs of random position in [0, 1], labelled by which half of the image they sit in. */
function blobs(n: number, seed: number): Sample[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, () => {
    const cx = g.randint(1, 7);
    const cy = g.randint(1, 7);
    const img = new Float32Array(64);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) img[y * 8 + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 4);
    return { image: imageArray(img, [8, 8]), label: cx < 4 ? 0 : 1 };
  });
}

const stateValues = (m: DDPM): Record<string, number[]> =>
  Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, values(v)]));

describe('DDPM training', () => {
  for (const predictionType of ['epsilon', 'v_prediction'] as const) {
    it(`overfits one batch with fixed timesteps and noise: the ${predictionType} MSE falls ≥ 10×`, () => {
      // Fixed set: timesteps [5, 15, 30, 45] of T = 50 and one draw of ε, so only the network changes.
      const model = new DDPM({ ...TINY, predictionType });
      const g = new Generator(1);
      const x0 = g.uniform([4, 8, 8, 1], -1, 1);
      const noise = g.normal([4, 8, 8, 1]);
      const opt = new Adam(model.trainableParameters(), { lr: 3e-3 });
      const losses: number[] = [];
      for (let i = 0; i < 30; i++) {
        const loss = opt.minimize(() => model.trainingLoss(x0, { timesteps: [5, 15, 30, 45], noise }));
        losses.push(loss.dataSync()[0]);
        loss.dispose();
      }
      expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 10);
      tf.dispose([x0, noise]);
      opt.dispose();
      model.dispose();
    });
  }

  for (const [predictionType, minSnrGamma] of [['epsilon', null], ['v_prediction', null], ['epsilon', 0.5], ['v_prediction', 2]] as const) {
    it(`computes the loss from the forward process (${predictionType}, minSnrGamma ${minSnrGamma})`, () => {
      const model = new DDPM({ ...TINY, predictionType, minSnrGamma });
      const g = new Generator(2);
      const x0 = g.uniform([2, 8, 8, 1], -1, 1);
      const noise = g.normal([2, 8, 8, 1]);
      const ts = [3, 40];
      const loss = model.trainingLoss(x0, { timesteps: ts, noise });
      // Independent: x_t = √ᾱ x0 + √(1−ᾱ) ε; target ε or v = √ᾱ ε − √(1−ᾱ) x0; per-sample MSE · Min-SNR weight.
      const ab = model.scheduler.alphasCumprod;
      const x0v = values(x0);
      const nv = values(noise);
      const per = 64;
      const xt = x0v.map((v, i) => Math.sqrt(ab[ts[Math.floor(i / per)]]) * v + Math.sqrt(1 - ab[ts[Math.floor(i / per)]]) * nv[i]);
      const pred = model.forward({ x: tf.tensor(xt, [2, 8, 8, 1]), timesteps: ts });
      const pv = values(pred);
      let expected = 0;
      ts.forEach((t, b) => {
        let mse = 0;
        for (let i = b * per; i < (b + 1) * per; i++) {
          const target = predictionType === 'epsilon' ? nv[i] : Math.sqrt(ab[t]) * nv[i] - Math.sqrt(1 - ab[t]) * x0v[i];
          mse += (pv[i] - target) ** 2 / per;
        }
        const snr = ab[t] / (1 - ab[t]);
        const w = minSnrGamma === null ? 1 : predictionType === 'epsilon' ? Math.min(snr, minSnrGamma) / snr : Math.min(snr, minSnrGamma) / (snr + 1);
        expected += (w * mse) / ts.length;
      });
      expectClose([loss.dataSync()[0]], [expected], 1e-4, 1e-6, 'loss');
      tf.dispose([x0, noise, loss, pred]);
      model.dispose();
    });
  }

  it('fits through trainLoop reproducibly, updating the EMA once per step', async () => {
    const data = new ArrayDataset(blobs(8, 3));
    const run = async () => {
      const model = new DDPM(TINY);
      const { history } = await model.fit(data, { epochs: 2, batchSize: 4, lr: 1e-3, emaDecay: 0.9, seed: 4, onProgress: 'none' });
      return { model, history };
    };
    const a = await run();
    const b = await run();
    expect(a.history.map((h) => h.train.loss)).toEqual(b.history.map((h) => h.train.loss));
    expect(a.history.every((h) => Number.isFinite(h.train.loss))).toBe(true);
    expect(stateValues(a.model)).toEqual(stateValues(b.model));
    const ema = a.model.ema;
    expect(ema?.optimizationStep).toBe(4);
    expect(ema?.decay).toBe(0.9);
    expect(values(ema!.stateDict()['conv_in.weight'])).not.toEqual(values(a.model.unet.convIn.weight));
    a.model.dispose();
    b.model.dispose();
  });

  it('resumes from a checkpoint (weights, EMA, optimizer, RNG) exactly as an uninterrupted run', async () => {
    const data = new ArrayDataset(blobs(8, 5));
    const opts = { batchSize: 4, lr: 1e-3, emaDecay: 0.95, seed: 1, onProgress: 'none' as const };
    const straight = new DDPM(TINY);
    await straight.fit(data, { ...opts, epochs: 2 });
    const path = join(tempDir(), 'ckpt.safetensors');
    const first = new DDPM(TINY);
    await first.fit(data, { ...opts, epochs: 1, checkpoint: { path } });
    const resumed = new DDPM({ ...TINY, seed: 99 }); // other initial weights: everything must come from the checkpoint
    await resumed.fit(data, { ...opts, epochs: 2, checkpoint: { path, resume: true } });
    const s = stateValues(straight);
    const r = stateValues(resumed);
    expect(Object.keys(r)).toEqual(Object.keys(s));
    expect(Object.keys(s).some((k) => k.startsWith('ema.'))).toBe(true);
    for (const k of Object.keys(s)) expectClose(r[k], s[k], 0, 1e-6, k);
    [straight, first, resumed].forEach((m) => m.dispose());
  });

  it('saves and loads config, weights and EMA to identical outputs and samples', async () => {
    const model = new DDPM({ ...TINY, numClassEmbeds: 2, betaSchedule: 'cosine', predictionType: 'v_prediction', dataRange: [0, 255] });
    const data = new ArrayDataset(blobs(4, 6).map((s) => ({ ...s, image: imageArray(s.image.data.map((v) => v * 255), [8, 8]) })));
    await model.fit(data, { epochs: 2, batchSize: 4, lr: 1e-3, emaDecay: 0.9, classDropoutProb: 0.5, onProgress: 'none' });
    const dir = tempDir();
    await model.save(dir);
    const loaded = await DDPM.load(dir);
    expect(loaded.config).toEqual(model.config);
    expect(loaded.ema?.optimizationStep).toBe(2);
    expect(stateValues(loaded)).toEqual(stateValues(model));
    const x = new Generator(8).normal([2, 8, 8, 1]);
    const ya = model.forward({ x, timesteps: [4, 30], classLabels: [0, 1] });
    const yb = loaded.forward({ x, timesteps: [4, 30], classLabels: [0, 1] });
    expect(values(yb)).toEqual(values(ya));
    for (const useEma of [true, false]) {
      const sa = await model.sample(2, { sampler: 'ddim', numInferenceSteps: 5, seed: 3, classLabels: [1, 0], guidanceScale: 2, useEma });
      const sb = await loaded.sample(2, { sampler: 'ddim', numInferenceSteps: 5, seed: 3, classLabels: [1, 0], guidanceScale: 2, useEma });
      expect(values(sb)).toEqual(values(sa));
      const v = values(sa);
      expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...v)).toBeLessThanOrEqual(255);
      tf.dispose([sa, sb]);
    }
    // Sampling with the EMA leaves the live weights in place, and differs from sampling without it.
    const live = values(model.unet.convOut.weight);
    const withEma = await model.sample(1, { sampler: 'ddim', numInferenceSteps: 3, seed: 1, classLabels: 0 });
    const without = await model.sample(1, { sampler: 'ddim', numInferenceSteps: 3, seed: 1, classLabels: 0, useEma: false });
    expect(values(model.unet.convOut.weight)).toEqual(live);
    expect(values(withEma)).not.toEqual(values(without));
    tf.dispose([x, ya, yb, withEma, without]);
    model.dispose();
    loaded.dispose();
  });

  it('leaves no tensor behind over 50 training steps', async () => {
    const data = new ArrayDataset(blobs(2, 7));
    const model = new DDPM({ ...TINY, numClassEmbeds: 2, minSnrGamma: 5 });
    const opts = { batchSize: 2, lr: 1e-3, onProgress: 'none' as const, classDropoutProb: 0.2 };
    await model.fit(data, { ...opts, epochs: 1 }); // creates the EMA
    const before = tf.memory().numTensors;
    await model.fit(data, { ...opts, epochs: 50 });
    expect(tf.memory().numTensors).toBe(before);
    expect(model.ema?.optimizationStep).toBe(51);
    model.dispose();
  });

  it('needs labels for a conditional model, and drops the EMA with emaDecay: null', async () => {
    const unlabeled = new ArrayDataset(blobs(2, 8).map(({ image }) => ({ image })));
    const cond = new DDPM({ ...TINY, numClassEmbeds: 2 });
    await expect(cond.fit(unlabeled, { epochs: 1, onProgress: 'none' })).rejects.toThrow(/need a label/);
    cond.dispose();
    const model = new DDPM(TINY);
    await model.fit(unlabeled, { epochs: 1, onProgress: 'none' });
    expect(model.ema).not.toBeNull();
    await model.fit(unlabeled, { epochs: 1, emaDecay: null, onProgress: 'none' });
    expect(model.ema).toBeNull();
    expect(Object.keys(model.stateDict()).some((k) => k.startsWith('ema.'))).toBe(false);
    await expect(model.fit(unlabeled, { epochs: 1, clipGradNorm: 0, onProgress: 'none' })).rejects.toThrow(ValueError);
    expect(() => new DDPM({ ...TINY, betaSchedule: 'quadratic' as never })).toThrow(/cosine/);
    model.dispose();
  });
});
