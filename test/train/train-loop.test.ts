import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Adam, FileFormatError, Generator, Module, NumericalError, earlyStopping, loadCheckpoint, trainLoop,
  type StepContext, type TrainLoopOptions,
} from '../../src/index.js';
import { setupBackend } from '../helpers/tf.js';

/** y = x·w + b with multiplicative noise on the input drawn from the step's generator. */
class NoisyRegression extends Module<tf.Tensor, tf.Tensor> {
  readonly w: tf.Variable;
  readonly b: tf.Variable;
  constructor() {
    super();
    this.w = this.registerParameter('w', new Generator(1).normal([3, 1]));
    this.b = this.registerParameter('b', tf.zeros([1]));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.add(tf.matMul(x as tf.Tensor2D, this.w as tf.Tensor2D), this.b);
  }
}

interface Batch { x: number[]; y: number[] }

function epochData(epoch: number): Batch[] {
  // Each epoch's data is a pure function of its index, so a resumed run sees the same batches.
  const g = new Generator(100 + epoch);
  return Array.from({ length: 4 }, () => {
    const x = Array.from(g.normalArray(8 * 3));
    const y = Array.from({ length: 8 }, (_, i) => 2 * x[i * 3] - x[i * 3 + 1] + 0.5 * x[i * 3 + 2] + 0.3);
    return { x, y };
  });
}

function setup(dir: string, overrides: Partial<TrainLoopOptions<Batch>> = {}) {
  const model = new NoisyRegression();
  const opt = new Adam(model.trainableParameters(), { lr: 0.1 });
  const step = (batch: Batch, ctx: StepContext) => {
    const noise = ctx.generator.normal([8, 3], 1, 0.01);
    const x = tf.tidy(() => tf.mul(tf.tensor2d(batch.x, [8, 3]), noise));
    const y = tf.tensor2d(batch.y, [8, 1]);
    const loss = opt.minimize(() => tf.mean(tf.square(tf.sub(model.forward(x), y))) as tf.Scalar);
    const value = loss.dataSync()[0];
    tf.dispose([noise, x, y, loss]);
    return { loss: value };
  };
  const options: TrainLoopOptions<Batch> = {
    module: model, optimizers: { opt }, data: epochData, step, epochs: 6, onProgress: 'none',
    generator: new Generator(7), checkpoint: { path: join(dir, 'ckpt.safetensors') }, ...overrides,
  };
  return { model, opt, options };
}

let dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'medvae-train-'));
  dirs.push(d);
  return d;
};

beforeAll(() => setupBackend('cpu'));
afterEach(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  dirs = [];
});

describe('trainLoop', () => {
  it('learns, keeps history, and leaves no tensors behind', async () => {
    const { model, opt, options } = setup(tempDir());
    const before = tf.memory().numTensors;
    const { history } = await trainLoop({ ...options, epochs: 6, validate: () => ({ loss: 0 }) });
    // Optimizer slots (2 per parameter) are the only new tensors.
    expect(tf.memory().numTensors).toBe(before + 4);
    expect(history).toHaveLength(6);
    expect(history[5].train.loss).toBeLessThan(history[0].train.loss / 10);
    expect(history[0].val).toEqual({ loss: 0 });
    model.dispose();
    opt.dispose();
  });

  it('resumes a killed run to the same weights as an uninterrupted one', async () => {
    const full = setup(tempDir());
    await trainLoop(full.options);
    const expected = Array.from(full.model.w.dataSync());

    const dir = tempDir();
    const killed = setup(dir, {
      callbacks: [{ onEpochBegin: (epoch) => { if (epoch === 3) throw new Error('simulated crash'); } }],
    });
    await expect(trainLoop({ ...killed.options, checkpoint: { path: join(dir, 'ckpt.safetensors'), resume: true } })).rejects.toThrow('simulated crash');

    const resumed = setup(dir);
    const { history } = await trainLoop({ ...resumed.options, checkpoint: { path: join(dir, 'ckpt.safetensors'), resume: true } });
    expect(history.map((r) => r.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(resumed.model.w.dataSync())).toEqual(expected);
    // The newest checkpoint and the one before it (keep: 2); no lock or temporary file is left.
    expect(readdirSync(dir).sort()).toEqual(['ckpt.safetensors', 'ckpt.safetensors.1']);
    [full, killed, resumed].forEach((r) => { r.model.dispose(); r.opt.dispose(); });
  });

  it('stops on a NaN loss naming the step, keeping the last good checkpoint', async () => {
    const dir = tempDir();
    const run = setup(dir);
    const good = run.options.step;
    const step = (batch: Batch, ctx: StepContext) => (ctx.epoch === 2 && ctx.batchIndex === 1 ? { loss: NaN } : good(batch, ctx));
    const err = await trainLoop({ ...run.options, step }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NumericalError);
    expect((err as Error).message).toMatch(/'loss' became NaN at epoch 3, batch 2 \(global step 10\)\. The last good checkpoint is .*ckpt\.safetensors/);
    const fresh = setup(dir);
    const restored = await loadCheckpoint(join(dir, 'ckpt.safetensors'), { module: fresh.model, optimizers: { opt: fresh.opt }, generators: {} });
    expect(restored.epoch).toBe(1);
    [run, fresh].forEach((r) => { r.model.dispose(); r.opt.dispose(); });
  });

  it('stops early when the monitored value stalls', async () => {
    const run = setup(tempDir());
    let calls = 0;
    const { history, stopReason } = await trainLoop({
      ...run.options, epochs: 20, validate: () => ({ loss: calls++ < 2 ? 1 - calls * 0.1 : 5 }),
      callbacks: [earlyStopping({ monitor: 'val.loss', patience: 2 })],
    });
    expect(history).toHaveLength(4);
    expect(stopReason).toMatch(/val\.loss did not improve for 2 epochs/);
    run.model.dispose();
    run.opt.dispose();
  });

  it('refuses a file that is not a checkpoint', async () => {
    const dir = tempDir();
    const file = join(dir, 'ckpt.safetensors');
    writeFileSync(file, 'not a checkpoint at all');
    const run = setup(dir);
    await expect(trainLoop({ ...run.options, checkpoint: { path: file, resume: true } })).rejects.toThrow(FileFormatError);
    expect(existsSync(file)).toBe(true);
    run.model.dispose();
    run.opt.dispose();
  });
});
