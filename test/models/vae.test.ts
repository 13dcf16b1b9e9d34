import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArrayDataset, DataLoader, Generator, ShapeError, VAE, ValueError, imageArray, linearKLWarmup, type Sample, type VAEOptions,
} from '../../src/index.js';
import { expectClose, setupBackend, values } from '../helpers/tf.js';
import { bernoulliNLLByHand, binaryRects, gaussianNLLByHand, klByHand, mean } from './vae-helpers.js';

beforeAll(() => setupBackend('cpu'));

const here = dirname(fileURLToPath(import.meta.url));
interface Case {
  options: VAEOptions;
  weights: Record<string, { shape: number[]; data: number[] }>;
  x: { shape: number[]; data: number[] };
  mu: number[];
  logVar: number[];
  z: number[];
  decoded: number[];
  nll: number[];
  kl: number[];
}
const fixture = JSON.parse(readFileSync(join(here, '../fixtures/models/vae.json'), 'utf8')) as Record<'mlp' | 'conv', Case>;

function loadCase(c: Case): { model: VAE; x: tf.Tensor4D } {
  const model = new VAE({ ...c.options, seed: 0 });
  const weights = Object.fromEntries(Object.entries(c.weights).map(([k, w]) => [k, tf.tensor(w.data, w.shape)]));
  model.loadStateDict(weights);
  tf.dispose(Object.values(weights));
  return { model, x: tf.tensor4d(c.x.data, c.x.shape as [number, number, number, number]) };
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('VAE against PyTorch 1.13 (test/fixtures/models/gen_vae.py)', () => {
  for (const name of ['mlp', 'conv'] as const) {
    it(`${name}: encoder heads, decoder, reconstruction NLL and KL match`, () => {
      const c = fixture[name];
      const { model, x } = loadCase(c);
      const batch = c.x.shape[0];
      const { mu, logVar } = model.encode(x);
      expectClose(values(mu), c.mu, 1e-4, 1e-5, 'mu');
      expectClose(values(logVar), c.logVar, 1e-4, 1e-5, 'logVar');
      const z = tf.tensor2d(c.z, [batch, c.options.latentDim]);
      const decoded = model.decode(z);
      expect(decoded.shape).toEqual(c.x.shape);
      expectClose(values(decoded), c.decoded, 1e-4, 1e-5, 'decoder output');
      // The hand formulas used below agree with PyTorch's NLL and torch.distributions' KL.
      const nll = c.options.likelihood === 'bernoulli'
        ? bernoulliNLLByHand(c.decoded, c.x.data, batch)
        : gaussianNLLByHand(c.decoded, c.x.data, c.options.gaussianVariance as number, batch);
      expectClose(nll, c.nll, 1e-9, 1e-9, 'NLL by hand vs torch');
      expectClose(klByHand(c.mu, c.logVar, batch), c.kl, 1e-9, 1e-9, 'KL closed form vs torch');
      // The model's KL term is the batch mean of the reference KL.
      const terms = model.loss(x, undefined, { beta: 0.25 });
      expectClose([terms.kl.dataSync()[0]], [mean(c.kl)], 1e-4, 1e-5, 'VAE.loss kl');
      expectClose([terms.loss.dataSync()[0]], [terms.reconstruction.dataSync()[0] + 0.25 * terms.kl.dataSync()[0]], 1e-5, 1e-4, 'loss = recon + β·kl');
      tf.dispose([mu, logVar, z, decoded, x, terms.loss, terms.kl, terms.reconstruction]);
      model.dispose();
    });

    it(`${name}: elbo equals −(recon NLL + KL) computed by hand at the same posterior sample`, () => {
      const c = fixture[name];
      const { model, x } = loadCase(c);
      const batch = c.x.shape[0];
      const d = c.options.latentDim;
      const elbo = model.elbo(x, { seed: 11 });
      expect(elbo.shape).toEqual([batch]);
      // Same draw as elbo: ε ~ N(0, I) from a Generator seeded 11, z = μ + exp(½ logVar)·ε.
      const eps = new Generator(11).normalArray(batch * d);
      const { mu, logVar } = model.encode(x);
      const m = mu.dataSync();
      const lv = logVar.dataSync();
      const z = tf.tensor2d(Array.from(m, (v, i) => v + Math.exp(0.5 * lv[i]) * Math.fround(eps[i])), [batch, d]);
      const out = model.decode(z);
      const xs = x.dataSync();
      const nll = c.options.likelihood === 'bernoulli'
        ? bernoulliNLLByHand(out.dataSync(), xs, batch)
        : gaussianNLLByHand(out.dataSync(), xs, c.options.gaussianVariance as number, batch);
      const kl = klByHand(m, lv, batch);
      expectClose(values(elbo), nll.map((v, i) => -(v + kl[i])), 1e-5, 1e-4, 'elbo');
      // More samples average the reconstruction term; the KL is exact either way.
      const elbo8 = model.elbo(x, { seed: 3, samples: 8 });
      expect(values(elbo8).every((v, i) => v <= -kl[i] + 1e-4)).toBe(true);
      tf.dispose([elbo, elbo8, mu, logVar, z, out, x]);
      model.dispose();
    });
  }
});

describe('VAE shapes and statistics', () => {
  it('conv: every output has the documented shape, for odd image sizes too', () => {
    const model = new VAE({ inChannels: 1, imageSize: [28, 28], latentDim: 5, channels: [4, 8, 8], seed: 0 });
    const x = tf.tidy(() => tf.cast(tf.greater(new Generator(1).uniform([3, 28, 28, 1]), 0.5), 'float32'));
    const out = model.forward(x);
    expect(out.recon.shape).toEqual([3, 28, 28, 1]);
    expect(out.mu.shape).toEqual([3, 5]);
    expect(out.logVar.shape).toEqual([3, 5]);
    expect(out.z.shape).toEqual([3, 5]);
    const rec = model.reconstruct(x);
    expect(rec.shape).toEqual([3, 28, 28, 1]);
    expect(values(rec).every((v) => v > 0 && v < 1)).toBe(true); // Bernoulli means are probabilities
    const s = model.sample(4, { seed: 2 });
    expect(s.shape).toEqual([4, 28, 28, 1]);
    const s2 = model.sample(4, { seed: 2 });
    expectClose(values(s2), values(s), 0, 0, 'same seed, same samples');
    const elbo = model.elbo(x, { seed: 0 });
    expect(elbo.shape).toEqual([3]);
    expect(values(elbo).every((v) => Number.isFinite(v) && v < 0)).toBe(true);
    tf.dispose([x, out.recon, out.mu, out.logVar, out.z, rec, s, s2, elbo]);
    model.dispose();
  });

  it('mlp with a mask decoder (outChannels ≠ inChannels) and a Gaussian likelihood', () => {
    const model = new VAE({ architecture: 'mlp', inChannels: 3, imageSize: [6, 5], latentDim: 2, hiddenDims: [16, 8], outChannels: 2, likelihood: 'gaussian', seed: 0 });
    const x = tf.ones([2, 6, 5, 3]);
    const out = model.forward(x);
    expect(out.recon.shape).toEqual([2, 6, 5, 2]);
    const target = tf.zeros([2, 6, 5, 2]);
    const terms = model.loss(x, target);
    expect(terms.loss.shape).toEqual([]);
    expect(() => model.loss(x)).toThrow(/outputs 2 channels .* pass the target/);
    expect(() => model.loss(x, tf.zeros([2, 6, 5, 3]))).toThrow(ShapeError);
    tf.dispose([x, out.recon, out.mu, out.logVar, out.z, target, terms.loss, terms.reconstruction, terms.kl]);
    model.dispose();
  });

  it('interpolate walks from reconstruct(xa) to reconstruct(xb)', () => {
    const model = new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 3, channels: [4, 8], seed: 4 });
    const g = new Generator(5);
    const xa = g.uniform([2, 8, 8, 1]);
    const xb = g.uniform([2, 8, 8, 1]);
    const path = model.interpolate(xa, xb, 5);
    expect(path.shape).toEqual([10, 8, 8, 1]);
    const ra = model.reconstruct(xa);
    const rb = model.reconstruct(xb);
    const p = path.arraySync() as number[][][][];
    const a = ra.arraySync() as number[][][][];
    const b = rb.arraySync() as number[][][][];
    for (const pair of [0, 1]) {
      expectClose(p[pair * 5].flat(2), a[pair].flat(2), 1e-5, 1e-6, `pair ${pair} start`);
      expectClose(p[pair * 5 + 4].flat(2), b[pair].flat(2), 1e-5, 1e-6, `pair ${pair} end`);
    }
    const [a0, b0] = [tf.squeeze(tf.slice(xa, [0], [1]), [0]), tf.squeeze(tf.slice(xb, [0], [1]), [0])];
    const single = model.interpolate(a0, b0, 3);
    expect(single.shape).toEqual([3, 8, 8, 1]);
    tf.dispose([a0, b0]);
    expect(() => model.interpolate(xa, xb, 1)).toThrow(ValueError);
    tf.dispose([xa, xb, path, ra, rb, single]);
    model.dispose();
  });

  it('z is μ + σ·ε with standard-normal ε in training mode and μ in evaluation mode', () => {
    const model = new VAE({ architecture: 'mlp', inChannels: 1, imageSize: [4, 4], latentDim: 8, hiddenDims: [16], seed: 3 });
    const x = new Generator(9).uniform([256, 4, 4, 1]);
    const out = model.forward(x);
    const eps = tf.tidy(() => tf.div(tf.sub(out.z, out.mu), tf.exp(tf.mul(out.logVar, 0.5))));
    const e = values(eps);
    const m = mean(e);
    const sd = Math.sqrt(mean(e.map((v) => (v - m) ** 2)));
    expect(Math.abs(m)).toBeLessThan(0.08); // 2048 draws: standard error ≈ 0.022
    expect(Math.abs(sd - 1)).toBeLessThan(0.06);
    // μ and logVar are deterministic functions of x; only z is random.
    const again = model.forward(x);
    expectClose(values(again.mu), values(out.mu), 0, 0, 'mu is deterministic');
    expect(values(again.z)).not.toEqual(values(out.z));
    model.eval();
    const ev = model.forward(x);
    expectClose(values(ev.z), values(ev.mu), 0, 0, 'eval z = mu');
    tf.dispose([x, eps, out.recon, out.mu, out.logVar, out.z, again.recon, again.mu, again.logVar, again.z, ev.recon, ev.mu, ev.logVar, ev.z]);
    model.dispose();
  });

  it('rejects bad options and inputs with clear errors', () => {
    expect(() => new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 0 })).toThrow(/latentDim must be a positive integer/);
    expect(() => new VAE({ inChannels: 1, imageSize: [8] as unknown as [number, number], latentDim: 2 })).toThrow(ValueError);
    expect(() => new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 2, channels: [] })).toThrow(/channels must be a non-empty list/);
    expect(() => new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 2, architecture: 'rnn' as 'mlp' })).toThrow(/'conv' or 'mlp'/);
    expect(() => new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 2, likelihood: 'gaussian', gaussianVariance: 0 })).toThrow(/gaussianVariance/);
    const model = new VAE({ architecture: 'mlp', inChannels: 1, imageSize: [8, 8], latentDim: 2, hiddenDims: [4], seed: 0 });
    const bad = tf.zeros([2, 8, 7, 1]);
    expect(() => model.forward(bad)).toThrow(/must have shape \[B, 8, 8, 1\]/);
    expect(() => model.encode(tf.zeros([8, 8, 1]))).toThrow(ShapeError);
    expect(() => model.decode(tf.zeros([2, 3]))).toThrow(/latent codes \[B, 2\]/);
    expect(() => model.sample(0)).toThrow(ValueError);
    bad.dispose();
    model.dispose();
  });
});

describe('VAE training', () => {
  const data = new ArrayDataset(binaryRects(8, 8, 1));

  it('overfits one batch of 8 binarised 8×8 images: the loss falls ≥ 10× (β = 1e-3)', async () => {
    // Reconstruction dominates with β = 1e-3, so the negative ELBO surrogate can approach zero;
    // an MLP VAE (64 → 64 → latent 4) memorises the 8 rectangles.
    const model = new VAE({ architecture: 'mlp', inChannels: 1, imageSize: [8, 8], latentDim: 4, hiddenDims: [64], seed: 0 });
    const { history } = await model.fit(new DataLoader(data, { batchSize: 8 }), { epochs: 60, lr: 1e-2, beta: 1e-3, onProgress: 'none' });
    const first = history[0].train.loss;
    const last = history[history.length - 1].train.loss;
    expect(last).toBeLessThan(first / 10);
    expect(history[0].train.beta).toBe(1e-3);
    model.dispose();
  });

  it('anneals β with klAnnealing and reports validation negative ELBO', async () => {
    const model = new VAE({ architecture: 'mlp', inChannels: 1, imageSize: [8, 8], latentDim: 2, hiddenDims: [8], seed: 0 });
    const betas: number[] = [];
    const { history } = await model.fit(data, {
      epochs: 2, batchSize: 4, klAnnealing: linearKLWarmup({ warmupSteps: 4 }), validation: data,
      onProgress: 'none', callbacks: [{ onBatchEnd: (_p, logs) => void betas.push(logs.beta) }],
    });
    expect(betas).toEqual([0, 0.25, 0.5, 0.75]);
    const val = history[1].val;
    expect(val.negElbo).toBeCloseTo(val.reconstruction + val.kl, 4);
    expect(await model.evaluate(data)).toEqual(await model.evaluate(data)); // seeded: evaluations agree
    await expect(model.fit(data, { epochs: 1, beta: 1, klAnnealing: linearKLWarmup({ warmupSteps: 1 }), onProgress: 'none' })).rejects.toThrow(/either beta .* or klAnnealing/);
    await expect(model.fit(data, { epochs: 1, target: 'mask', onProgress: 'none' })).rejects.toThrow(/needs samples with a mask/);
    model.dispose();
  });

  it('trains a mask decoder (target: mask) for VAE-based segmentation', async () => {
    const g = new Generator(2);
    const samples: Sample[] = binaryRects(8, 8, 3).map((s) => {
      const img = Float32Array.from(s.image.data, (v) => v * 0.8 + 0.1 + 0.05 * g.randn());
      return { image: imageArray(img, [8, 8]), mask: s.image };
    });
    const seg = new ArrayDataset(samples);
    const model = new VAE({ architecture: 'mlp', inChannels: 1, imageSize: [8, 8], latentDim: 4, hiddenDims: [64], outChannels: 1, seed: 0 });
    const { history } = await model.fit(seg, { epochs: 40, batchSize: 8, lr: 1e-2, beta: 1e-3, target: 'mask', onProgress: 'none' });
    expect(history[39].train.reconstruction).toBeLessThan(history[0].train.reconstruction / 10);
    // The decoded masks match the targets.
    const x = tf.tidy(() => tf.stack(samples.map((s) => tf.tensor3d(s.image.data as Float32Array, [8, 8, 1]))));
    const probs = model.reconstruct(x);
    const p = values(probs);
    const truth = samples.flatMap((s) => Array.from(s.mask?.data ?? []));
    const acc = mean(p.map((v, i) => ((v > 0.5 ? 1 : 0) === truth[i] ? 1 : 0)));
    expect(acc).toBeGreaterThan(0.95);
    tf.dispose([x, probs]);
    const ev = await model.evaluate(seg, { target: 'mask' });
    expect(Number.isFinite(ev.negElbo)).toBe(true);
    model.dispose();
  });

  it('leaks no tensors over 50 training steps', async () => {
    const model = new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 2, channels: [2, 4], seed: 0 });
    const loader = new DataLoader(data, { batchSize: 8 });
    const before = tf.memory().numTensors;
    await model.fit(loader, { epochs: 50, onProgress: 'none' });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('saves and loads to identical outputs', async () => {
    const model = new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 3, channels: [4, 8], seed: 0 });
    await model.fit(data, { epochs: 2, batchSize: 4, onProgress: 'none' }); // non-trivial BatchNorm statistics
    const dir = mkdtempSync(join(tmpdir(), 'medvae-vae-'));
    tmpDirs.push(dir);
    await model.save(dir);
    const loaded = await VAE.load(dir);
    expect(loaded.config).toEqual(model.config);
    const x = tf.tidy(() => tf.stack([0, 1, 2].map((i) => tf.tensor3d(data.get(i).image.data as Float32Array, [8, 8, 1]))));
    for (const [a, b] of [[model.reconstruct(x), loaded.reconstruct(x)], [model.elbo(x, { seed: 1 }), loaded.elbo(x, { seed: 1 })], [model.sample(2, { seed: 5 }), loaded.sample(2, { seed: 5 })]]) {
      expectClose(values(b), values(a), 0, 0, 'loaded output');
      tf.dispose([a, b]);
    }
    x.dispose();
    model.dispose();
    loaded.dispose();
  });

  it('resumes from a checkpoint exactly, noise stream included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medvae-vae-ckpt-'));
    tmpDirs.push(dir);
    const make = () => new VAE({ architecture: 'mlp', inChannels: 1, imageSize: [8, 8], latentDim: 2, hiddenDims: [8], seed: 7 });
    const opts = { batchSize: 4, seed: 1, onProgress: 'none' as const };
    const full = make();
    await full.fit(data, { ...opts, epochs: 4 });
    const part = make();
    const checkpoint = { path: join(dir, 'ckpt.safetensors'), resume: true };
    await part.fit(data, { ...opts, epochs: 2, checkpoint });
    const resumed = make();
    await resumed.fit(data, { ...opts, epochs: 4, checkpoint });
    for (const [k, v] of Object.entries(full.stateDict())) expectClose(values(resumed.stateDict()[k]), values(v), 1e-6, 1e-7, k);
    full.dispose();
    part.dispose();
    resumed.dispose();
  });
});
