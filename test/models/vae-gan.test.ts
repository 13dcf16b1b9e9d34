import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArrayDataset, DataLoader, Generator, VAEGAN, VAEGANDiscriminator, ValueError, type Logs } from '../../src/index.js';
import { expectClose, setupBackend, values } from '../helpers/tf.js';
import { binaryRects } from './vae-helpers.js';

beforeAll(() => setupBackend('cpu'));

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

const data = new ArrayDataset(binaryRects(8, 8, 1));
const small = { inChannels: 1, imageSize: [8, 8] as [number, number], latentDim: 3, channels: [4, 8], discriminatorChannels: [4, 8] };

function snapshot(params: tf.Variable[]): number[][] {
  return params.map((p) => values(p));
}

function changed(before: number[][], params: tf.Variable[]): boolean {
  return params.some((p, i) => values(p).some((v, j) => v !== before[i][j]));
}

describe('VAEGANDiscriminator', () => {
  it('gives one logit per image and the last conv features', () => {
    const d = new VAEGANDiscriminator({ inChannels: 2, imageSize: [9, 8], channels: [3, 5], seed: 0 });
    const x = tf.ones([4, 9, 8, 2]);
    const { logits, features } = d.forwardWithFeatures(x);
    expect(logits.shape).toEqual([4, 1]);
    expect(features.shape).toEqual([4, 3 * 2 * 5]); // 9×8 → 5×4 → 3×2, 5 channels
    const y = d.forward(x);
    expectClose(values(y), values(logits), 0, 0, 'forward = forwardWithFeatures.logits');
    expect(() => d.forward(tf.ones([1, 8, 8, 2]))).toThrow(/\[B, 9, 8, 2\]/);
    tf.dispose([x, logits, features, y]);
    d.dispose();
  });
});

describe('VAEGAN', () => {
  it('has the VAE outputs and draws samples of the image shape', () => {
    const model = new VAEGAN({ ...small, seed: 0 });
    const x = tf.ones([2, 8, 8, 1]);
    const out = model.forward(x);
    expect(out.recon.shape).toEqual([2, 8, 8, 1]);
    expect(out.mu.shape).toEqual([2, 3]);
    expect(out.logVar.shape).toEqual([2, 3]);
    expect(out.z.shape).toEqual([2, 3]);
    const s = model.sample(5, { seed: 1 });
    expect(s.shape).toEqual([5, 8, 8, 1]);
    const r = model.reconstruct(x);
    expect(r.shape).toEqual([2, 8, 8, 1]);
    expect(model.config).toMatchObject({ featureMatching: true, featureWeight: 1, pixelWeight: 0, gamma: 1, adversarialLoss: 'non-saturating', discriminatorChannels: [4, 8] });
    tf.dispose([x, out.recon, out.mu, out.logVar, out.z, s, r]);
    model.dispose();
  });

  it('rejects configurations without a reconstruction term or with a mask decoder', () => {
    expect(() => new VAEGAN({ ...small, featureMatching: false, pixelWeight: 0 })).toThrow(/needs a reconstruction term/);
    expect(() => new VAEGAN({ ...small, outChannels: 2 })).toThrow(ValueError);
    expect(() => new VAEGAN({ ...small, gamma: -1 })).toThrow(/gamma must be/);
  });

  it('runs alternating updates: all three losses finite, every part updated, discriminator loss moving', async () => {
    for (const adversarialLoss of ['non-saturating', 'least-squares', 'hinge'] as const) {
      const model = new VAEGAN({ ...small, adversarialLoss, pixelWeight: 1, seed: 0 });
      const enc = snapshot(model.vae.encoderParameters());
      const dec = snapshot(model.vae.decoderParameters());
      const disc = snapshot(model.discriminator.parameters());
      const logs: Logs[] = [];
      await model.fit(data, { epochs: 3, batchSize: 4, onProgress: 'none', callbacks: [{ onBatchEnd: (_p, l) => void logs.push({ ...l }) }] });
      expect(logs).toHaveLength(6);
      for (const l of logs) {
        for (const k of ['loss', 'decoder', 'discriminator', 'kl', 'reconstruction', 'generator']) expect(Number.isFinite(l[k]), `${adversarialLoss} ${k}`).toBe(true);
        expect(l.loss).toBeCloseTo(l.kl + l.reconstruction, 3); // β = 1
        expect(l.decoder).toBeCloseTo(l.reconstruction + l.generator, 3); // γ = 1: same z, decoder and discriminator batch
      }
      expect(new Set(logs.map((l) => l.discriminator.toFixed(6))).size).toBeGreaterThan(1);
      expect(changed(enc, model.vae.encoderParameters())).toBe(true);
      expect(changed(dec, model.vae.decoderParameters())).toBe(true);
      expect(changed(disc, model.discriminator.parameters())).toBe(true);
      model.dispose();
    }
  });

  it('balance skips the winning player (equilibrium ± margin on the discriminator cross-entropies)', async () => {
    const run = async (balance: { equilibrium: number; margin: number }): Promise<{ logs: Logs[]; dec: boolean; disc: boolean; enc: boolean }> => {
      const model = new VAEGAN({ ...small, pixelWeight: 1, seed: 0 });
      const enc = snapshot(model.vae.encoderParameters());
      const dec = snapshot(model.vae.decoderParameters());
      const disc = snapshot(model.discriminator.trainableParameters());
      const logs: Logs[] = [];
      await model.fit(data, { epochs: 2, batchSize: 4, balance, onProgress: 'none', callbacks: [{ onBatchEnd: (_p, l) => void logs.push({ ...l }) }] });
      const result = {
        logs,
        enc: changed(enc, model.vae.encoderParameters()),
        dec: changed(dec, model.vae.decoderParameters()),
        disc: changed(disc, model.discriminator.trainableParameters()),
      };
      model.dispose();
      return result;
    };
    // Every cross-entropy is below 100: the discriminator counts as winning and is never updated.
    const winning = await run({ equilibrium: 100, margin: 0 });
    expect(winning.logs.map((l) => [l.discriminatorUpdated, l.decoderUpdated])).toEqual(winning.logs.map(() => [0, 1]));
    expect([winning.enc, winning.dec, winning.disc]).toEqual([true, true, false]);
    // Every cross-entropy is above −1: the discriminator counts as losing, and the decoder waits.
    const losing = await run({ equilibrium: -1, margin: 0 });
    expect(losing.logs.map((l) => [l.discriminatorUpdated, l.decoderUpdated])).toEqual(losing.logs.map(() => [1, 0]));
    expect([losing.enc, losing.dec, losing.disc]).toEqual([true, false, true]);
    // A band that holds everything: both updated every step, as without balance.
    const both = await run({ equilibrium: 0.68, margin: 1000 });
    expect(both.logs.every((l) => l.discriminatorUpdated === 1 && l.decoderUpdated === 1)).toBe(true);
    expect([both.enc, both.dec, both.disc]).toEqual([true, true, true]);
    const model = new VAEGAN({ ...small, seed: 0 });
    await expect(model.fit(data, { epochs: 1, balance: { margin: -0.1 }, onProgress: 'none' })).rejects.toThrow(/margin must be a finite number ≥ 0/);
    model.dispose();
  });

  it('featureWeight scales the feature-matching term (pixelWeight 0: the whole reconstruction)', async () => {
    const first = async (featureWeight: number | undefined): Promise<Logs> => {
      const model = new VAEGAN({ ...small, featureWeight, seed: 0 });
      const logs: Logs[] = [];
      await model.fit(data, { epochs: 1, batchSize: 4, onProgress: 'none', callbacks: [{ onBatchEnd: (_p, l) => void logs.push({ ...l }) }] });
      model.dispose();
      return logs[0]; // computed at the initial weights, before any update
    };
    const [one, three] = [await first(undefined), await first(3)];
    expect(one.reconstruction).toBeGreaterThan(0);
    expect(three.reconstruction).toBeCloseTo(3 * one.reconstruction, 3);
    expect(three.kl).toBeCloseTo(one.kl, 5);
    expect(() => new VAEGAN({ ...small, featureWeight: -0.5 })).toThrow(/featureWeight must be/);
  });

  it('overfits one batch: the encoder loss (pixel NLL + β·KL) falls ≥ 10× (β = 1e-3, pixel reconstruction)', async () => {
    // Pixel likelihood instead of feature matching, so the objective is comparable across steps;
    // the adversarial term (≈ 0.7 nats) is small against the reconstruction (≈ 44 nats at start).
    const model = new VAEGAN({
      architecture: 'mlp', inChannels: 1, imageSize: [8, 8], latentDim: 4, hiddenDims: [64], discriminatorChannels: [4, 8],
      featureMatching: false, seed: 0,
    });
    const { history } = await model.fit(new DataLoader(data, { batchSize: 8 }), { epochs: 60, lr: 1e-2, betas: [0.9, 0.999], beta: 1e-3, onProgress: 'none' });
    expect(history[59].train.loss).toBeLessThan(history[0].train.loss / 10);
    model.dispose();
  });

  it('leaks no tensors over 50 training steps', async () => {
    const model = new VAEGAN({ ...small, pixelWeight: 1, seed: 0 });
    const loader = new DataLoader(data, { batchSize: 8 });
    const before = tf.memory().numTensors;
    await model.fit(loader, { epochs: 50, onProgress: 'none' });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('saves and loads to identical outputs, discriminator included', async () => {
    const model = new VAEGAN({ ...small, seed: 3 });
    await model.fit(data, { epochs: 1, batchSize: 4, onProgress: 'none' });
    const dir = mkdtempSync(join(tmpdir(), 'medvae-vaegan-'));
    tmpDirs.push(dir);
    await model.save(dir);
    const loaded = await VAEGAN.load(dir);
    expect(loaded.config).toEqual(model.config);
    const x = new Generator(4).uniform([3, 8, 8, 1]);
    model.eval();
    loaded.eval();
    const pairs: [tf.Tensor, tf.Tensor][] = [
      [model.sample(2, { seed: 9 }), loaded.sample(2, { seed: 9 })],
      [model.reconstruct(x), loaded.reconstruct(x)],
      [model.discriminator.forward(x), loaded.discriminator.forward(x)],
    ];
    for (const [a, b] of pairs) {
      expectClose(values(b), values(a), 0, 0, 'loaded output');
      tf.dispose([a, b]);
    }
    x.dispose();
    model.dispose();
    loaded.dispose();
  });
});
