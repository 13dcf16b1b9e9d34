import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, gaussianKL, gaussianKLBetween } from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

// Closed form per dimension: ½(μ² + σ² − 1 − log σ²).
const klDim = (mu: number, logVar: number): number => 0.5 * (mu * mu + Math.exp(logVar) - 1 - logVar);

describe('gaussianKL', () => {
  it('is 0 for the prior itself and matches the closed form per sample', () => {
    expect(gaussianKL(tf.zeros([3, 4]), tf.zeros([3, 4])).dataSync()[0]).toBe(0);
    const mu = [[1, 0], [0.5, -2]];
    const lv = [[0, Math.log(4)], [-1, 0.3]];
    const perSample = mu.map((row, i) => row.reduce((s, m, j) => s + klDim(m, lv[i][j]), 0));
    const none = gaussianKL(tf.tensor(mu), tf.tensor(lv), { reduction: 'none' });
    expect(none.shape).toEqual([2]);
    expectClose(none.dataSync(), perSample, 1e-6, 1e-7, 'per sample');
    expectClose(gaussianKL(tf.tensor(mu), tf.tensor(lv)).dataSync(), [(perSample[0] + perSample[1]) / 2], 1e-6, 1e-7, 'mean');
    expectClose(gaussianKL(tf.tensor(mu), tf.tensor(lv), { reduction: 'sum' }).dataSync(), [perSample[0] + perSample[1]], 1e-6, 1e-7, 'sum');
  });

  it('sums over every latent axis of a spatial latent [B, h, w, c]', () => {
    const mu = tf.fill([2, 2, 2, 3], 0.5);
    const v = gaussianKL(mu, tf.zeros([2, 2, 2, 3]), { reduction: 'none' });
    expectClose(v.dataSync(), [12 * klDim(0.5, 0), 12 * klDim(0.5, 0)], 1e-6, 1e-7);
  });

  it('freeBits clamps the batch-averaged KL of each dimension at λ and stops its gradient', () => {
    // dim 0: KL 0.5 in both samples (above λ = 0.1); dim 1: KL 0.005 (below).
    const mu = tf.tensor([[1, 0.1], [-1, 0.1]]);
    const lv = tf.zeros([2, 2]);
    expectClose(gaussianKL(mu, lv, { freeBits: 0.1 }).dataSync(), [0.5 + 0.1], 1e-6, 1e-7);
    expectClose(gaussianKL(mu, lv, { freeBits: 0.1, reduction: 'sum' }).dataSync(), [2 * 0.6], 1e-6, 1e-7);
    const grad = tf.grad((m: tf.Tensor) => gaussianKL(m, lv, { freeBits: 0.1 }))(mu);
    // d/dμ of mean_b ½μ² = μ / B on the active dimension, 0 on the clamped one.
    expectClose(grad.dataSync(), [0.5, 0, -0.5, 0], 1e-6, 1e-7);
  });

  it('gradients are μ and ½(σ² − 1) per element (sum reduction)', () => {
    const g = new Generator(2);
    const mu = g.normal([3, 5]);
    const lv = g.normal([3, 5]);
    const [dMu, dLv] = tf.grads((m: tf.Tensor, l: tf.Tensor) => gaussianKL(m, l, { reduction: 'sum' }))([mu, lv]);
    expectClose(dMu.dataSync(), mu.dataSync(), 1e-6, 1e-7, 'd/dmu');
    expectClose(dLv.dataSync(), tf.mul(0.5, tf.sub(tf.exp(lv), 1)).dataSync(), 1e-5, 1e-7, 'd/dlogVar');
  });

  it('does not leak', async () => {
    const g = new Generator(3);
    const mu = g.normal([4, 8]);
    const lv = g.normal([4, 8]);
    await expectNoLeak(() => {
      gaussianKL(mu, lv).dispose();
      gaussianKL(mu, lv, { freeBits: 0.2 }).dispose();
      gaussianKLBetween(mu, lv, lv, mu).dispose();
    });
  });
});

describe('gaussianKLBetween', () => {
  it('is 0 between identical Gaussians and equals gaussianKL against N(0, 1)', () => {
    const g = new Generator(4);
    const mu = g.normal([3, 6]);
    const lv = g.normal([3, 6]);
    expectClose(gaussianKLBetween(mu, lv, mu, lv, { reduction: 'none' }).dataSync(), [0, 0, 0], 0, 1e-6);
    expectClose(gaussianKLBetween(mu, lv, tf.zerosLike(mu), tf.zerosLike(lv)).dataSync(), gaussianKL(mu, lv).dataSync(), 1e-6, 1e-6);
  });

  it('matches the closed form for scalar Gaussians', () => {
    // KL(N(1, 4) ‖ N(−1, 1)) = ½(log 1 − log 4 + (4 + 4)/1 − 1).
    const v = gaussianKLBetween(tf.tensor([[1]]), tf.tensor([[Math.log(4)]]), tf.tensor([[-1]]), tf.tensor([[0]]));
    expectClose(v.dataSync(), [0.5 * (-Math.log(4) + 8 - 1)], 1e-6, 1e-7);
  });
});
