import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArrayDataset, DataLoader, DCGAN, DCGANDiscriminator, DCGANGenerator, Generator, ShapeError, ValueError, loadSafetensors, loadTorchStateDict, type Logs,
} from '../../src/index.js';
import { expectClose, setupBackend, values } from '../helpers/tf.js';
import { binaryRects } from './vae-helpers.js';

beforeAll(() => setupBackend('cpu'));

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'medvae-dcgan-'));
  tmpDirs.push(d);
  return d;
}

// 16 binary rectangles of 8×8: a tiny "dataset" a tiny GAN can chew on in milliseconds.
const rects = new ArrayDataset(binaryRects(16, 8, 0));
const tiny = { latentDim: 8, imageSize: 8, generatorChannels: [8, 4], discriminatorChannels: [4, 8] };

/** Mean and (population) standard deviation of all values of some tensors. */
function stats(ts: tf.Tensor[]): { mean: number; std: number; n: number } {
  const all = ts.flatMap((t) => values(t));
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
  return { mean, std, n: all.length };
}

interface TorchTensor { shape: number[]; data: number[] }
interface Fixture {
  z: number[];
  x: number[];
  generator: { state: Record<string, TorchTensor>; eval: number[]; train: number[] };
  discriminator: Record<'batch' | 'instance', { state: Record<string, TorchTensor>; logits: number[] }>;
}
const fixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/models/dcgan.json'), 'utf8')) as Fixture;
function torchState(s: Record<string, TorchTensor>): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, tf.tensor(v.data, v.shape, 'float32')]));
}

describe('DCGAN networks against PyTorch (the DCGAN tutorial at toy widths; gen_dcgan.py)', () => {
  it('loads the tutorial netG state dict name for name and computes the same images (eval and train mode)', () => {
    const g = new DCGANGenerator({ latentDim: 5, imageSize: 16, channels: [6, 4], outChannels: 2, seed: 0 });
    const sd = torchState(fixture.generator.state);
    loadTorchStateDict(g, sd); // strict: every name on both sides used
    tf.dispose(Object.values(sd));
    const z = tf.tensor(fixture.z, [3, 5]);
    g.eval();
    const yEval = g.forward(z);
    expectClose(values(yEval), fixture.generator.eval, 1e-4, 1e-5, 'netG eval');
    g.train();
    const yTrain = g.forward(z);
    expectClose(values(yTrain), fixture.generator.train, 1e-4, 1e-5, 'netG train');
    tf.dispose([z, yEval, yTrain]);
    g.dispose();
  });

  it('loads a tutorial-style netD (BatchNorm, and affine InstanceNorm; first and last conv with bias) and computes the same logits', () => {
    for (const norm of ['batch', 'instance'] as const) {
      const d = new DCGANDiscriminator({ inChannels: 2, imageSize: 16, channels: [3, 5], norm, seed: 0 });
      const sd = torchState(fixture.discriminator[norm].state);
      loadTorchStateDict(d, sd);
      tf.dispose(Object.values(sd));
      const x = tf.tensor(fixture.x, [3, 16, 16, 2]);
      const y = d.forward(x);
      expect(y.shape).toEqual([3, 1]);
      expectClose(values(y), fixture.discriminator[norm].logits, 1e-4, 1e-5, `netD ${norm}`);
      tf.dispose([x, y]);
      d.dispose();
    }
  });
});

describe('DCGANGenerator', () => {
  it('maps z [B, latentDim] to images in [−1, 1] for 28×28, 32×32, 64×64 and rectangular sizes', () => {
    const cases: { size: number | [number, number]; channels?: number[]; widths: number[]; out: [number, number] }[] = [
      { size: 28, widths: [128, 64], out: [28, 28] }, // 7 → 14 → 28 (MNIST)
      { size: 32, channels: [16, 8, 4], widths: [16, 8, 4], out: [32, 32] }, // 4 → 8 → 16 → 32
      { size: 64, channels: [16, 8, 8, 4], widths: [16, 8, 8, 4], out: [64, 64] }, // 4 → … → 64
      { size: [28, 32], channels: [8, 4], widths: [8, 4], out: [28, 32] }, // 7×8 → 14×16 → 28×32
    ];
    for (const c of cases) {
      const g = new DCGANGenerator({ latentDim: 10, imageSize: c.size, channels: c.channels, outChannels: 3, seed: 0 });
      expect(g.channels).toEqual(c.widths);
      const z = new Generator(1).normal([2, 10]);
      const y = g.forward(z);
      expect(y.shape).toEqual([2, ...c.out, 3]);
      const v = values(y);
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(1);
      tf.dispose([z, y]);
      g.dispose();
    }
  });

  it('defaults to the PyTorch tutorial widths: [512, 256, 128, 64] at 64×64 and [256, 128, 64] at 32×32', () => {
    // Closed-form parameter count of the tutorial's netG (nz 100, ngf 64, nc 3; no biases; BN weight+bias):
    // 100·512·16 + 512·256·16 + 256·128·16 + 128·64·16 + 64·3·16 + 2·(512 + 256 + 128 + 64) = 3,576,704.
    const g64 = new DCGANGenerator({ imageSize: 64, outChannels: 3, seed: 0 });
    expect(g64.channels).toEqual([512, 256, 128, 64]);
    expect(g64.numParameters()).toBe(3_576_704);
    expect(g64.namedParameters().map(([n]) => n).slice(0, 3)).toEqual(['main.0.weight', 'main.1.weight', 'main.1.bias']);
    g64.dispose();
    const g32 = new DCGANGenerator({ imageSize: 32, seed: 0 });
    expect(g32.channels).toEqual([256, 128, 64]);
    g32.dispose();
  });

  it('names wrong latent shapes and impossible sizes', () => {
    const g = new DCGANGenerator({ latentDim: 4, imageSize: 8, channels: [4], seed: 0 });
    const z = tf.zeros([2, 5]);
    expect(() => g.forward(z)).toThrow(ShapeError);
    expect(() => g.forward(z)).toThrow(/\[B, 4\]/);
    z.dispose();
    g.dispose();
    expect(() => new DCGANGenerator({ imageSize: 28, channels: [8, 8, 8] })).toThrow(/divisible by 8/);
    expect(() => new DCGANGenerator({ imageSize: 6 })).toThrow(ValueError);
    expect(() => new DCGANGenerator({ latentDim: 0, imageSize: 8 })).toThrow(/latentDim/);
  });

  it('initialises conv weights from N(0, 0.02²) and BatchNorm scales from N(1, 0.02²), biases 0 (Radford et al.)', () => {
    const g = new DCGANGenerator({ imageSize: 28, seed: 3 }); // 627k + 131k + 1k conv weights, 192 BN scales
    const convs = g.namedParameters().filter(([n]) => /main\.(0|3|6)\.weight/.test(n)).map(([, v]) => v);
    const c = stats(convs);
    // Closed form: the sample mean has s.e. 0.02/√n, the sample std s.e. ≈ 0.02/√(2n); allow 5 s.e.
    expect(Math.abs(c.mean)).toBeLessThan((5 * 0.02) / Math.sqrt(c.n));
    expect(Math.abs(c.std - 0.02)).toBeLessThan((5 * 0.02) / Math.sqrt(2 * c.n));
    const scales = g.namedParameters().filter(([n]) => /main\.(1|4)\.weight/.test(n)).map(([, v]) => v);
    const s = stats(scales);
    expect(s.n).toBe(128 + 64);
    expect(Math.abs(s.mean - 1)).toBeLessThan((5 * 0.02) / Math.sqrt(s.n));
    expect(Math.abs(s.std - 0.02)).toBeLessThan((5 * 0.02) / Math.sqrt(2 * s.n));
    const shifts = g.namedParameters().filter(([n]) => n.endsWith('bias')).flatMap(([, v]) => values(v));
    expect(shifts.every((v) => v === 0)).toBe(true);
    g.dispose();
  });
});

describe('DCGANDiscriminator', () => {
  it('gives one logit per image, or a patch map with patch: true', () => {
    const d = new DCGANDiscriminator({ inChannels: 1, imageSize: 28, channels: [4, 8], seed: 0 }); // 28 → 14 → 7 → 1
    const x = new Generator(2).uniform([3, 28, 28, 1], -1, 1);
    const y = d.forward(x);
    expect(y.shape).toEqual([3, 1]);
    const p = new DCGANDiscriminator({ inChannels: 3, channels: [4, 8, 8], patch: true, seed: 0 });
    const x2 = tf.zeros([2, 32, 24, 3]);
    const y2 = p.forward(x2);
    expect(y2.shape).toEqual([2, 4, 3, 1]);
    expect(() => d.forward(tf.zeros([1, 32, 32, 1]))).toThrow(/built for 28×28/);
    expect(() => new DCGANDiscriminator({ inChannels: 1 })).toThrow(/needs imageSize/);
    tf.dispose([x, y, x2, y2]);
    d.dispose();
    p.dispose();
  });

  it('uses no norm on the first block, affine instance norm and LeakyReLU(0.2) after, with DCGAN init', () => {
    const d = new DCGANDiscriminator({ inChannels: 1, imageSize: 64, seed: 5 });
    expect(d.channels).toEqual([64, 128, 256, 512]);
    const text = d.toString();
    expect(text).toMatch(/InstanceNorm2d\(128, .*affine=true/);
    expect(text).toMatch(/LeakyReLU\(negativeSlope=0.2\)/);
    expect(d.main.at(1).constructor.name).toBe('LeakyReLU');
    const w = stats(d.namedParameters().filter(([n]) => /main\.\d+\.weight/.test(n) && (d.stateDict()[n] as tf.Tensor).rank === 4).map(([, v]) => v));
    expect(Math.abs(w.std - 0.02)).toBeLessThan((5 * 0.02) / Math.sqrt(2 * w.n));
    const scales = stats(d.namedParameters().filter(([n]) => /main\.\d+\.weight/.test(n) && (d.stateDict()[n] as tf.Tensor).rank === 1).map(([, v]) => v));
    expect(scales.n).toBe(128 + 256 + 512);
    expect(Math.abs(scales.mean - 1)).toBeLessThan((5 * 0.02) / Math.sqrt(scales.n));
    d.dispose();
  });
});

describe('DCGAN', () => {
  it('trains: discriminator loss moves, all losses stay finite, samples change, fixed-noise grids arrive per epoch', async () => {
    const model = new DCGAN({ ...tiny, seed: 0 });
    const before = model.sample(6, { seed: 7 });
    const logs: Logs[] = [];
    const grids: { epoch: number; shape: number[]; max: number }[] = [];
    await model.fit(rects, {
      epochs: 3, batchSize: 4, onProgress: 'none', fixedNoise: 5,
      callbacks: [{ onBatchEnd: (_p, l) => void logs.push({ ...l }) }],
      onEpochEnd: (images, epoch) => void grids.push({ epoch, shape: images.shape, max: Math.max(...values(images).map(Math.abs)) }),
    });
    expect(logs).toHaveLength(12);
    for (const l of logs) for (const k of ['discriminator', 'generator', 'dReal', 'dFake']) expect(Number.isFinite(l[k]), k).toBe(true);
    expect(new Set(logs.map((l) => l.discriminator.toFixed(6))).size).toBeGreaterThan(1);
    expect(grids.map((g) => g.epoch)).toEqual([0, 1, 2]);
    for (const g of grids) {
      expect(g.shape).toEqual([5, 8, 8, 1]);
      expect(g.max).toBeLessThanOrEqual(1);
    }
    const after = model.sample(6, { seed: 7 });
    const diff = values(tf.tidy(() => tf.max(tf.abs(tf.sub(after, before)))))[0];
    expect(diff).toBeGreaterThan(1e-3);
    tf.dispose([before, after]);
    model.dispose();
  });

  it('learns to tell real from fake with every supported objective', async () => {
    // D(x) and D(G(z)) start together at σ(≈ 0) = 0.5; after a few steps the discriminator must
    // rate real images clearly higher than generated ones (gap 0.14–0.31 over seeds 0–3 at lr 2e-3; it starts within ±0.02).
    for (const lossType of ['non-saturating', 'least-squares', 'hinge'] as const) {
      const model = new DCGAN({ ...tiny, seed: 1 });
      const logs: Logs[] = [];
      await model.fit(rects, { epochs: 10, batchSize: 8, lr: 2e-3, lossType, onProgress: 'none', callbacks: [{ onBatchEnd: (_p, l) => void logs.push({ ...l }) }] });
      for (const l of logs) for (const v of Object.values(l)) expect(Number.isFinite(v), lossType).toBe(true);
      expect(Math.abs(logs[0].dReal - logs[0].dFake), lossType).toBeLessThan(0.05);
      const last = logs.slice(-5);
      const gap = last.reduce((a, l) => a + l.dReal - l.dFake, 0) / last.length;
      expect(gap, lossType).toBeGreaterThan(0.1);
      model.dispose();
    }
  });

  it('refuses the Wasserstein objective (no gradient penalty through tfjs LeakyReLU) and bad data ranges', async () => {
    const model = new DCGAN({ ...tiny, seed: 0 });
    await expect(model.fit(rects, { epochs: 1, lossType: 'wasserstein', onProgress: 'none' })).rejects.toThrow(/wasserstein/);
    await expect(model.fit(rects, { epochs: 1, dataRange: [1, 0], onProgress: 'none' })).rejects.toThrow(/dataRange/);
    const wrong = new ArrayDataset(binaryRects(2, 16, 0));
    await expect(model.fit(wrong, { epochs: 1, onProgress: 'none' })).rejects.toThrow(/\[B, 8, 8, 1\]/);
    model.dispose();
  });

  it('leaks no tensors over 50 training steps', async () => {
    const model = new DCGAN({ ...tiny, seed: 0 });
    const loader = new DataLoader(rects, { batchSize: 16 });
    const before = tf.memory().numTensors;
    await model.fit(loader, { epochs: 50, onProgress: 'none', onEpochEnd: () => undefined, fixedNoise: 4 });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('checkpoints both optimizers and resumes exactly', async () => {
    const dir = tmp();
    const path = join(dir, 'ckpt.safetensors');
    const a = new DCGAN({ ...tiny, seed: 4 });
    await a.fit(rects, { epochs: 1, batchSize: 8, onProgress: 'none', checkpoint: { path } });
    const { tensors, metadata } = await loadSafetensors(path);
    const keys = Object.keys(tensors);
    const meta = JSON.parse(metadata['medvae.checkpoint']) as { optimizers: Record<string, { kind: string; stepCount: number }> };
    expect(Object.keys(meta.optimizers).sort()).toEqual(['discriminator', 'generator']);
    expect(meta.optimizers.generator.stepCount).toBe(2);
    expect(meta.optimizers.discriminator.stepCount).toBe(2);
    // Adam's two moments for every trainable parameter of each network.
    expect(keys.filter((k) => k.startsWith('optim/generator/')).length).toBe(2 * a.generator.trainableParameters().length);
    expect(keys.filter((k) => k.startsWith('optim/discriminator/')).length).toBe(2 * a.discriminator.trainableParameters().length);
    tf.dispose(Object.values(tensors));
    // Resume for a second epoch = two epochs straight.
    await a.fit(rects, { epochs: 2, batchSize: 8, onProgress: 'none', checkpoint: { path, resume: true } });
    const b = new DCGAN({ ...tiny, seed: 4 });
    await b.fit(rects, { epochs: 2, batchSize: 8, onProgress: 'none' });
    for (const [name, v] of Object.entries(b.stateDict())) expectClose(values(a.stateDict()[name]), values(v), 0, 0, name);
    a.dispose();
    b.dispose();
  });

  it('saves and loads to identical samples and discriminator outputs', async () => {
    const model = new DCGAN({ ...tiny, seed: 3 });
    await model.fit(rects, { epochs: 1, batchSize: 8, onProgress: 'none' }); // moves BN running stats
    const dir = tmp();
    await model.save(dir);
    const loaded = await DCGAN.load(dir);
    expect(loaded.config).toEqual(model.config);
    const x = new Generator(4).uniform([3, 8, 8, 1], -1, 1);
    const pairs: [tf.Tensor, tf.Tensor][] = [
      [model.sample(5, { seed: 9 }), loaded.sample(5, { seed: 9 })],
      [model.discriminator.forward(x), loaded.discriminator.forward(x)],
    ];
    for (const [p, q] of pairs) {
      expectClose(values(q), values(p), 0, 0, 'loaded output');
      tf.dispose([p, q]);
    }
    x.dispose();
    model.dispose();
    loaded.dispose();
  });
});
