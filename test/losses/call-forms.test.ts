import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Generator, ValueError, bceWithLogits, crossEntropy, diceCELoss, diceFocalLoss, diceLoss, generatorLoss, mse,
  type LossFn,
} from '../../src/index.js';
import { expectNoLeak, setupBackend } from '../helpers/tf.js';

const g = new Generator(11);
let logits: tf.Tensor;
let labels: tf.Tensor;
beforeAll(async () => {
  await setupBackend('cpu');
  logits = g.normal([2, 4, 4, 3]);
  labels = g.integers([2, 4, 4], 0, 3);
});

describe('two call forms', () => {
  it('loss(input, target, options) equals loss(options)(input, target)', () => {
    const opts = { softmax: true, toOneHot: true, includeBackground: false };
    const direct = diceCELoss(logits, labels, opts).dataSync()[0];
    const bound: LossFn = diceCELoss(opts);
    expect(bound(logits, labels).dataSync()[0]).toBe(direct);
    expect(diceLoss(logits, labels, opts).dataSync()[0]).toBe(diceLoss(opts)(logits, labels).dataSync()[0]);
    expect(generatorLoss(logits).dataSync()[0]).toBe(generatorLoss()(logits).dataSync()[0]);
  });

  it('options are optional and default to PyTorch / MONAI defaults', () => {
    const p = g.uniform([2, 3]);
    const a = mse(p, tf.zerosLike(p)).dataSync()[0];
    const b = mse()(p, tf.zerosLike(p)).dataSync()[0];
    expect(a).toBe(b);
    expect(a).toBeCloseTo(tf.mean(tf.square(p)).dataSync()[0], 6);
  });

  it('functions carry their public names', () => {
    expect(diceLoss.name).toBe('diceLoss');
    expect(crossEntropy.name).toBe('crossEntropy');
  });

  it('bad options fail when they are bound, not later in training', () => {
    expect(() => diceLoss({ sigmoid: true, softmax: true })).toThrow(ValueError);
    expect(() => diceLoss({ sigmoid: true, softmax: true })).toThrow(/sigmoid and softmax/);
    expect(() => diceCELoss({ reduction: 'none' })).toThrow(/reduction must be one of 'mean', 'sum'/);
    expect(() => diceFocalLoss({ gamma: -1 })).toThrow(/gamma/);
    expect(() => crossEntropy({ labelSmoothing: 1.5 })).toThrow(/labelSmoothing/);
    expect(() => generatorLoss({ type: 'vanilla' as never })).toThrow(/type must be one of/);
  });

  it('rejects a non-tensor target or a tensor in the options slot', () => {
    expect(() => (diceLoss as unknown as (a: unknown, b: unknown) => unknown)(logits, [1, 2])).toThrow(/target\) must be a tensor/);
    expect(() => (bceWithLogits as unknown as (a: unknown, b: unknown, c: unknown) => unknown)(logits, logits, logits)).toThrow(/options must be a plain object/);
  });

  it('a bound loss works in an optimizer step without leaking', async () => {
    const w = tf.variable(g.normal([1, 1, 2, 3], 0, 0.1));
    const x = g.normal([2, 4, 4, 2]);
    const loss = diceCELoss({ softmax: true, toOneHot: true });
    const opt = tf.train.sgd(0.1);
    const before = loss(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), labels).dataSync()[0];
    await expectNoLeak(() => {
      opt.minimize(() => loss(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), labels) as tf.Scalar, false, [w]);
    }, 5);
    const after = loss(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), labels).dataSync()[0];
    expect(after).toBeLessThan(before);
    opt.dispose();
    w.dispose();
  });
});
