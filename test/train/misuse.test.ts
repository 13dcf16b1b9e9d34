// Misuse of fit, predict and model building gets a typed medvae error (or a documented result),
// never a raw JS/tfjs error or a silent wrong value: one test per case.
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdversarialSegmenter, ArrayDataset, DCGAN, DDPM, LatentClassifier, MedvaeError, NumericalError, ShapeError, UNetSegmenter, VAE, VAEGAN, ValueError,
  earlyStopping, imageArray, type Batch, type Sample,
} from '../../src/index.js';
import { discs } from '../helpers/discs.js';
import { setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'medvae-misuse-'));
  dirs.push(d);
  return d;
};

const data = new ArrayDataset(discs(4, 16, 0));
const quiet = { onProgress: 'none' as const };
/** 8×8 images in [0, 1] (random blocks). */
const smallSamples = (n: number, seed: number): Sample[] =>
  discs(n, 16, seed).map((d) => ({ image: imageArray(Float32Array.from({ length: 64 }, (_, i) => Math.min(Math.max(d.image.data[2 * i], 0), 1)), [8, 8]) }));
const small = (n: number, seed: number): ArrayDataset<Sample> => new ArrayDataset(smallSamples(n, seed));

/** Rewrites the saved config of the model in `dir` with `edit`. */
function editConfig(dir: string, edit: (config: Record<string, unknown>) => void): void {
  const file = join(dir, 'model.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as { modelTopology: { config: Record<string, unknown> } };
  edit(json.modelTopology.config);
  writeFileSync(file, JSON.stringify(json));
}

const unet = (seed = 0) => new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed });

describe('predict and building', () => {
  it('predict(x, { batchSize: 0 }) is a ValueError', () => {
    const m = unet();
    const x = tf.zeros([2, 16, 16, 1]);
    expect(() => m.predict(x, { batchSize: 0 })).toThrow(ValueError);
    expect(() => m.predict(x, { batchSize: 0 })).toThrow(/batchSize must be a positive integer, but got 0/);
    x.dispose();
    m.dispose();
  });

  it('predict on an empty batch is a ShapeError', () => {
    const m = unet();
    const x = tf.zeros([0, 16, 16, 1]);
    expect(() => m.predict(x)).toThrow(ShapeError);
    x.dispose();
    m.dispose();
  });

  it('predict after dispose() is a typed error naming the model', () => {
    const m = unet();
    m.dispose();
    const x = tf.zeros([1, 16, 16, 1]);
    expect(() => m.predict(x)).toThrow(MedvaeError);
    expect(() => m.predict(x)).toThrow(/UNetSegmenter was disposed/);
    x.dispose();
  });

  it("channels: 'abc' is a ValueError, also from an edited model.json", async () => {
    expect(() => new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: 'abc' as unknown as number[] })).toThrow(/UNetSegmenter channels must be a non-empty list of positive integers, but got "abc"/);
    const dir = tempDir();
    const m = unet();
    await m.save(dir);
    m.dispose();
    editConfig(dir, (c) => void (c.channels = 'abc'));
    const before = tf.memory().numTensors;
    await expect(UNetSegmenter.load(dir)).rejects.toThrow(MedvaeError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('building a model before any backend is active says what to call (BackendError)', () => {
    // A fresh process: in this one a backend is already active.
    const script = "import('./src/index.ts').then((m) => { try { new m.UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8] }); console.log('built'); } catch (e) { console.log(e.name + ': ' + e.message); } });";
    const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '../..'), encoding: 'utf8' });
    expect(out.stdout).toMatch(/^BackendError: No tfjs backend is active.*useBackend\('wasm'\)/m);
  }, 60_000);
});

describe('fit', () => {
  it('clipGradNorm ≤ 0 is refused by every model, before any training', async () => {
    const img = small(2, 1);
    const vae = new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 2, channels: [4], seed: 0 });
    const models: Array<[string, (clip: number) => Promise<unknown>]> = [
      ['UNetSegmenter', (c) => unet().fit(data, { epochs: 1, clipGradNorm: c, ...quiet })],
      ['AdversarialSegmenter', (c) => new AdversarialSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], discriminatorChannels: [4], seed: 0 }).fit(data, { epochs: 1, clipGradNorm: c, ...quiet })],
      ['VAE', (c) => vae.fit(img, { epochs: 1, clipGradNorm: c, ...quiet })],
      ['LatentClassifier', (c) => new LatentClassifier(vae, {}).fit(img, { epochs: 1, clipGradNorm: c, ...quiet })],
      ['VAEGAN', (c) => new VAEGAN({ inChannels: 1, imageSize: [8, 8], latentDim: 2, channels: [4], discriminatorChannels: [4], seed: 0 }).fit(img, { epochs: 1, clipGradNorm: c, ...quiet })],
      ['DCGAN', (c) => new DCGAN({ latentDim: 2, imageSize: 8, imageChannels: 1, generatorChannels: [4, 4], discriminatorChannels: [4, 4], seed: 0 }).fit(img, { epochs: 1, discriminator: { clipGradNorm: c }, ...quiet })],
      ['DDPM', (c) => new DDPM({ inChannels: 1, channels: [4, 8], layersPerBlock: 1, numTrainTimesteps: 10, sampleSize: 8, normNumGroups: 2, seed: 0 }).fit(img, { epochs: 1, clipGradNorm: c, ...quiet })],
    ];
    for (const [name, fit] of models) {
      for (const c of [0, -1]) await expect(fit(c), `${name} clipGradNorm ${c}`).rejects.toThrow(/clipGradNorm must be a finite number > 0/);
    }
  });

  it('a second fit on a model that is still training is refused', async () => {
    const m = unet();
    const first = m.fit(data, { epochs: 1, batchSize: 2, ...quiet });
    await expect(m.fit(data, { epochs: 1, ...quiet })).rejects.toThrow(/already training/);
    await first;
    expect((await m.fit(data, { epochs: 1, batchSize: 4, ...quiet })).globalStep).toBe(1);
    m.dispose();
  });

  it('a VAE with the Bernoulli likelihood refuses 0–255 images', async () => {
    const bytes = new ArrayDataset(smallSamples(4, 2).map((s) => ({ image: imageArray(Float32Array.from(s.image.data, (v) => Math.round(v * 255)), [8, 8]) })));
    const vae = new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 2, channels: [4], seed: 0 });
    await expect(vae.fit(bytes, { epochs: 1, batchSize: 2, ...quiet })).rejects.toThrow(/Bernoulli likelihood needs targets in \[0, 1\].*epoch 1, batch 1/);
    vae.dispose();
  });

  it('a binary segmenter refuses masks outside [0, 1] (its BCE targets)', async () => {
    const bad = new ArrayDataset(discs(2, 16, 3).map((s) => ({ image: s.image, mask: imageArray(Float32Array.from(s.mask?.data ?? [], (v) => v * 3), [16, 16]) })));
    const m = new UNetSegmenter({ inChannels: 1, numClasses: 1, channels: [4, 8], seed: 0 });
    await expect(m.fit(bad, { epochs: 1, ...quiet })).rejects.toThrow(ValueError);
    await expect(m.fit(bad, { epochs: 1, ...quiet })).rejects.toThrow(/masks must hold class indices in \[0, 1\]/);
    m.dispose();
  });

  it('an empty dataset, and an empty batch, are ValueErrors', async () => {
    const m = unet();
    await expect(m.fit(new ArrayDataset<Sample>([]), { epochs: 1, ...quiet })).rejects.toThrow(/empty dataset/);
    const empty: Batch = { image: tf.zeros([0, 16, 16, 1]), mask: tf.zeros([0, 16, 16, 1]) };
    await expect(m.fit([empty], { epochs: 1, ...quiet })).rejects.toThrow(/empty batch/);
    await expect(m.fit([], { epochs: 1, ...quiet })).rejects.toThrow(/had no batches/);
    tf.dispose([empty.image, empty.mask as tf.Tensor]);
    m.dispose();
  });

  it('earlyStopping on a value that is never logged is a ValueError naming what was', async () => {
    const m = unet();
    await expect(m.fit(data, { epochs: 2, ...quiet, callbacks: [earlyStopping({ monitor: 'val.dice' })] })).rejects.toThrow(
      /earlyStopping monitors 'val.dice', but the epoch logged only train.loss \(no validation data was given\)/,
    );
    expect(() => earlyStopping({ monitor: 'dice' })).toThrow(/monitor must be 'val.<name>' or 'train.<name>'/);
    m.dispose();
  });

  it('checkpoint everyEpochs: 0 and an lrSchedule returning NaN are ValueErrors', async () => {
    const m = unet();
    await expect(m.fit(data, { epochs: 1, ...quiet, checkpoint: { path: join(tempDir(), 'c.safetensors'), everyEpochs: 0 } })).rejects.toThrow(/everyEpochs must be a positive integer, but got 0/);
    await expect(m.fit(data, { epochs: 1, batchSize: 2, ...quiet, lrSchedule: (s) => (s === 1 ? NaN : 1e-3) })).rejects.toThrow(/lrSchedule returned NaN at step 1/);
    m.dispose();
  });

  it('fit({ resume, epochs: 1 }) from a 2-epoch checkpoint is a ValueError, not 2 epochs', async () => {
    const path = join(tempDir(), 'c.safetensors');
    const m = unet();
    await m.fit(data, { epochs: 2, batchSize: 2, ...quiet, checkpoint: { path } });
    await expect(m.fit(data, { epochs: 1, batchSize: 2, ...quiet, checkpoint: { path, resume: true } })).rejects.toThrow(/already holds 2 epochs, but epochs is 1/);
    m.dispose();
  });

  it('a resumed fit and a failed load leave no tensors behind', async () => {
    const dir = tempDir();
    const path = join(dir, 'c.safetensors');
    const m = unet();
    await m.fit(data, { epochs: 1, batchSize: 2, ...quiet, checkpoint: { path } });
    const before = tf.memory().numTensors;
    await m.fit(data, { epochs: 2, batchSize: 2, ...quiet, checkpoint: { path, resume: true } });
    expect(tf.memory().numTensors).toBe(before);
    await m.save(join(dir, 'model'));
    editConfig(join(dir, 'model'), (c) => void (c.channels = [4, 6]));
    const beforeLoad = tf.memory().numTensors;
    await expect(UNetSegmenter.load(join(dir, 'model'))).rejects.toThrow(MedvaeError);
    expect(tf.memory().numTensors).toBe(beforeLoad);
    m.dispose();
  });

  it('a non-finite update on the last step of an epoch stops training at that step and is never checkpointed', async () => {
    const path = join(tempDir(), 'c.safetensors');
    const m = unet();
    // 2 steps per epoch; the update of global step 4 (epoch 2's last) makes the weights infinite.
    const err = await m.fit(data, { epochs: 3, batchSize: 2, ...quiet, checkpoint: { path }, lrSchedule: (s) => (s === 3 ? 1e39 : 1e-3) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NumericalError);
    expect((err as Error).message).toMatch(/non-finite in the update of epoch 2, batch 2 \(global step 4\)/);
    const fresh = unet(1);
    const r = await fresh.fit(data, { epochs: 3, batchSize: 2, ...quiet, checkpoint: { path, resume: true } });
    expect(r.history.map((h) => h.epoch)).toEqual([0, 1, 2]);
    expect(r.history.every((h) => Number.isFinite(h.train.loss))).toBe(true);
    [m, fresh].forEach((x) => x.dispose());
  });
});

describe('maxSteps, stop, data sources, progress log', () => {
  it('fit({ maxSteps }) stops at that step mid-epoch and a resume continues it exactly', async () => {
    const dir = tempDir();
    const path = join(dir, 'c.safetensors');
    const straight = unet(3);
    const s = await straight.fit(data, { epochs: 3, batchSize: 2, ...quiet });
    const a = unet(3);
    const r = await a.fit(data, { epochs: 3, batchSize: 2, maxSteps: 3, ...quiet, checkpoint: { path } });
    expect(r.globalStep).toBe(3);
    expect(r.stopReason).toMatch(/maxSteps \(3\) reached/);
    expect(r.history.map((h) => h.steps)).toEqual([2, 1]);
    const b = unet(7);
    const resumed = await b.fit(data, { epochs: 3, batchSize: 2, ...quiet, checkpoint: { path, resume: true } });
    expect(resumed.globalStep).toBe(6);
    expect(resumed.history.map((h) => h.train.loss)).toEqual(s.history.map((h) => h.train.loss));
    expect(Array.from(b.net.head.parameters()[0].dataSync())).toEqual(Array.from(straight.net.head.parameters()[0].dataSync()));
    [straight, a, b].forEach((x) => x.dispose());
  });

  it('controller.stop() in onBatchEnd ends the run after that step', async () => {
    const m = unet();
    const r = await m.fit(data, { epochs: 3, batchSize: 1, logEvery: 1, ...quiet, callbacks: [{ onBatchEnd: (p, _l, c) => void (p.globalStep === 2 ? c.stop('enough') : undefined) }] });
    expect(r.globalStep).toBe(2);
    expect(r.stopReason).toBe('enough');
    m.dispose();
  });

  it('fit takes any iterable of batches or a function of the epoch, without casts', async () => {
    const m = unet();
    const batches = (): Batch[] => discs(2, 16, 5).map((s) => ({ image: tf.tensor4d(Float32Array.from(s.image.data), [1, 16, 16, 1]), mask: tf.tensor4d(Float32Array.from(s.mask?.data ?? []), [1, 16, 16, 1]) }));
    const fixed = batches();
    expect((await m.fit(fixed, { epochs: 2, ...quiet })).globalStep).toBe(4);
    async function* stream(): AsyncGenerator<Batch> {
      for (const b of fixed) yield b;
    }
    expect((await m.fit(() => stream(), { epochs: 1, ...quiet })).globalStep).toBe(2);
    fixed.forEach((b) => tf.dispose([b.image, b.mask as tf.Tensor]));
    m.dispose();
  });

  it('writes step-granularity progress to a log file, step numbers continuing across fit calls', async () => {
    const log = join(tempDir(), 'progress.log');
    const m = unet();
    await m.fit(data, { epochs: 1, batchSize: 1, ...quiet, progressLog: { path: log, everySteps: 2 } });
    await m.fit(data, { epochs: 1, batchSize: 1, ...quiet, progressLog: { path: log, everySteps: 2 } });
    expect(existsSync(log)).toBe(true);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const steps = lines.filter((l) => / step \d/.test(l)).map((l) => Number(/ model (\d+)/.exec(l)?.[1]));
    expect(steps).toEqual([2, 4, 6, 8]);
    expect(lines.filter((l) => / done: /.test(l))).toHaveLength(2);
    expect(readdirSync(join(log, '..'))).toEqual(['progress.log']);
    m.dispose();
  });
});
