import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam, AdamW, SGD, clipGradNorm, cosineLR, stepLR, warmupLR, type Optimizer } from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend } from '../helpers/tf.js';

interface Case { optimizer: 'SGD' | 'Adam' | 'AdamW'; options: Record<string, unknown>; trajectory: number[][] }
const fx = JSON.parse(readFileSync(new URL('../fixtures/optim/optim.json', import.meta.url), 'utf8')) as {
  w0: number[]; target: number[]; shape: [number, number]; cases: Case[];
};

function make(name: Case['optimizer'], params: tf.Variable[], options: Record<string, unknown>): Optimizer {
  if (name === 'SGD') return new SGD(params, options);
  if (name === 'Adam') return new Adam(params, options);
  return new AdamW(params, options);
}

const lossOf = (w: tf.Tensor, target: tf.Tensor): tf.Scalar => tf.add(tf.sum(tf.square(tf.sub(w, target))), tf.sum(tf.sin(w))) as tf.Scalar;

beforeAll(() => setupBackend('cpu'));

describe('optimizers match torch.optim trajectories', () => {
  for (const c of fx.cases) {
    it(`${c.optimizer} ${JSON.stringify(c.options)}`, () => {
      const w = tf.variable(tf.tensor2d(fx.w0, fx.shape));
      const target = tf.tensor2d(fx.target, fx.shape);
      const opt = make(c.optimizer, [w], c.options);
      c.trajectory.forEach((expected, i) => {
        opt.minimize(() => lossOf(w, target)).dispose();
        expectClose(w.dataSync(), expected, 2e-5, 1e-6, `${c.optimizer} step ${i + 1}`);
      });
      opt.dispose();
      w.dispose();
      target.dispose();
    });
  }
});

describe('optimizer state', () => {
  it('resumes exactly from getState/setState', () => {
    const target = tf.tensor2d(fx.target, fx.shape);
    const a = tf.variable(tf.tensor2d(fx.w0, fx.shape));
    const optA = new Adam([a], { lr: 0.05 });
    for (let i = 0; i < 3; i++) optA.minimize(() => lossOf(a, target)).dispose();
    const b = tf.variable(a.clone());
    const optB = new Adam([b], { lr: 0.05 });
    optB.setState(optA.getState());
    for (let i = 0; i < 3; i++) {
      optA.minimize(() => lossOf(a, target)).dispose();
      optB.minimize(() => lossOf(b, target)).dispose();
    }
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b, target]);
    optA.dispose();
    optB.dispose();
  });

  it('leaks no tensors across steps', async () => {
    const target = tf.tensor2d(fx.target, fx.shape);
    const w = tf.variable(tf.tensor2d(fx.w0, fx.shape));
    const opt = new AdamW([w], { lr: 0.01, amsgrad: true });
    await expectNoLeak(() => opt.minimize(() => lossOf(w, target)).dispose(), 5);
    opt.dispose();
    tf.dispose([w, target]);
  });

  it('rejects a bad learning rate and duplicate parameters', () => {
    const w = tf.variable(tf.zeros([2]));
    expect(() => new SGD([w], { lr: -1 })).toThrow(/Learning rate/);
    expect(() => new Adam([w, w])).toThrow(/appears twice/);
    w.dispose();
  });
});

describe('gradient clipping and schedules', () => {
  it('clips the global norm as torch clip_grad_norm_', () => {
    const grads = { a: tf.tensor1d([3, 4]), b: tf.tensor1d([12]) }; // norm 13
    const { grads: clipped, totalNorm } = clipGradNorm(grads, 1);
    expect(totalNorm).toBeCloseTo(13, 5);
    const scale = 1 / (13 + 1e-6);
    expectClose(clipped.a.dataSync(), [3 * scale, 4 * scale], 1e-6);
    expectClose(clipped.b.dataSync(), [12 * scale], 1e-6);
    tf.dispose(Object.values(clipped));
  });

  it('computes closed-form learning rates', () => {
    const cos = cosineLR({ lr: 1, totalSteps: 10, minLr: 0.1 });
    expect(cos(0)).toBeCloseTo(1, 12);
    expect(cos(5)).toBeCloseTo(0.55, 12);
    expect(cos(10)).toBeCloseTo(0.1, 12);
    expect(cos(20)).toBeCloseTo(0.1, 12);
    const warm = warmupLR({ lr: 2, warmupSteps: 4, after: cosineLR({ lr: 2, totalSteps: 4 }) });
    const expected = [0, 0.5, 1, 1.5, 2, 1, 0];
    [0, 1, 2, 3, 4, 6, 8].forEach((step, i) => expect(warm(step)).toBeCloseTo(expected[i], 12));
    expect(stepLR({ lr: 1, stepSize: 3, gamma: 0.5 })(7)).toBe(0.25);
  });
});
