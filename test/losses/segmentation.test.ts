// Closed-form properties of the Dice family on top of the PyTorch fixtures.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { diceLoss, focalLoss, generalizedDiceLoss, tverskyLoss } from '../../src/index.js';
import { expectClose, setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

describe('Dice family, closed forms', () => {
  it('a perfect prediction gives ~0 and a disjoint one ~1', () => {
    const t = tf.tensor([1, 0, 0, 1, 1, 0, 0, 1], [1, 2, 2, 2]);
    expect(diceLoss(t, t).dataSync()[0]).toBeCloseTo(0, 5);
    expect(diceLoss(tf.sub(1, t), t).dataSync()[0]).toBeCloseTo(1, 5);
    expect(generalizedDiceLoss(t, t).dataSync()[0]).toBeCloseTo(0, 5);
    expect(tverskyLoss(t, t).dataSync()[0]).toBeCloseTo(0, 5);
  });

  it('uses the smoothing terms exactly: empty prediction and target give 1 − smoothNr/smoothDr', () => {
    const z = tf.zeros([1, 2, 2, 1]);
    expectClose(diceLoss(z, z, { smoothNr: 1, smoothDr: 2 }).dataSync(), [0.5], 1e-6, 1e-7);
  });

  it('jaccard is the soft IoU loss: 1 − I/(P + G − I)', () => {
    const p = tf.tensor([0.5, 1, 0, 0.25], [1, 4, 1]);
    const g = tf.tensor([1, 1, 0, 0], [1, 4, 1]);
    const i = 0.5 + 1;
    const u = 1.75 + 2 - i;
    expectClose(diceLoss(p, g, { jaccard: true, smoothNr: 0, smoothDr: 0 }).dataSync(), [1 - i / u], 1e-6, 1e-7);
  });

  it("'none' keeps [B, C] (and [C] with batch) for [B, C] inputs too", () => {
    const p = tf.tensor([[0.2, 0.8], [0.6, 0.4]]);
    const g = tf.tensor([[0, 1], [1, 0]]);
    expect(diceLoss(p, g, { reduction: 'none' }).shape).toEqual([2, 2]);
    const perClass = diceLoss(p, g, { reduction: 'none', batch: true, smoothNr: 0, smoothDr: 0 });
    expectClose(perClass.dataSync(), [1 - (2 * 0.6) / (1 + 0.8), 1 - (2 * 0.8) / (1 + 1.2)], 1e-6, 1e-7);
  });

  it('tversky with α = β = 1/2 equals dice, and a label map of shape [B, H, W] works with toOneHot', () => {
    const x = tf.tensor([2, -1, 0.5, 0.3, -2, 1, 1, 1, 0, 0, 3, -3], [1, 2, 2, 3]);
    const lab = tf.tensor([[[0, 2], [1, 1]]]);
    const d = diceLoss(x, lab, { softmax: true, toOneHot: true }).dataSync()[0];
    const t = tverskyLoss(x, lab, { softmax: true, toOneHot: true }).dataSync()[0];
    expect(t).toBeCloseTo(d, 5);
  });

  it('focal loss with γ = 0 is BCE with logits (sigmoid form)', () => {
    const x = tf.tensor([2, -1, 0.5, 0.3], [1, 2, 2, 1]);
    const t = tf.tensor([1, 0, 0, 1], [1, 2, 2, 1]);
    const bce = [2, -1, 0.5, 0.3].map((v, i) => Math.log1p(Math.exp(-v)) + (1 - [1, 0, 0, 1][i]) * v);
    expectClose(focalLoss(x, t, { gamma: 0 }).dataSync(), [bce.reduce((a, b) => a + b) / 4], 1e-6, 1e-7);
  });
});
