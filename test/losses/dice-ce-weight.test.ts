// diceCELoss class weights without the background, in MONAI's convention (values are checked
// against MONAI 1.5's DiceCELoss in pytorch-fixtures.test.ts; these are the forms around it).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, ShapeError, diceCELoss, diceLoss, crossEntropy } from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

describe('diceCELoss weight with includeBackground: false', () => {
  let logits: tf.Tensor;
  let labels: tf.Tensor;
  beforeAll(() => {
    logits = new Generator(0).normal([2, 4, 5, 3]);
    labels = tf.tensor3d(Array.from({ length: 40 }, (_, i) => (i * 7) % 3), [2, 4, 5], 'int32');
  });
  const base = { softmax: true, toOneHot: true, includeBackground: false } as const;

  it('is Dice with weight[1:] plus cross-entropy with the whole weight', () => {
    const w = [0.5, 1.0, 2.0];
    const got = diceCELoss(logits, labels, { ...base, weight: w }).dataSync()[0];
    const dice = diceLoss(logits, labels, { ...base, weight: w.slice(1) }).dataSync()[0];
    const ce = crossEntropy(logits, labels, { weight: w }).dataSync()[0];
    expectClose([got], [dice + ce], 1e-6, 1e-7, 'diceCE');
  });

  it('takes the weight as a tensor too, without leaking the slice', async () => {
    const w = tf.tensor1d([0.5, 1.0, 2.0]);
    const fromArray = diceCELoss(logits, labels, { ...base, weight: [0.5, 1.0, 2.0] }).dataSync()[0];
    const fromTensor = diceCELoss(logits, labels, { ...base, weight: w }).dataSync()[0];
    expect(fromTensor).toBeCloseTo(fromArray, 6);
    await expectNoLeak(() => tf.dispose(diceCELoss(logits, labels, { ...base, weight: w })));
    w.dispose();
  });

  it('refuses C − 1 weights unless the cross-entropy weights are given apart', () => {
    expect(() => diceCELoss(logits, labels, { ...base, weight: [1.0, 2.0] })).toThrow(ShapeError);
    expect(() => diceCELoss(logits, labels, { ...base, weight: [1.0, 2.0] })).toThrow(/weight\[1:\]/);
    const got = diceCELoss(logits, labels, { ...base, weight: [1.0, 2.0], ceWeight: [0.5, 1.0, 2.0] }).dataSync()[0];
    const same = diceCELoss(logits, labels, { ...base, weight: [0.5, 1.0, 2.0] }).dataSync()[0];
    expect(got).toBeCloseTo(same, 6);
  });
});
