import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DTypeError, Generator, MedvaeError, NumericalError, ShapeError, ValueError, bceWithLogits, binaryCrossEntropy,
  crossEntropy, diceCELoss, diceLoss, focalLoss, gaussianKL, gaussianNLL, generalizedDiceLoss, mse, setLossInputChecks,
  tverskyLoss,
} from '../../src/index.js';
import { setupBackend } from '../helpers/tf.js';

const g = new Generator(5);
let logits: tf.Tensor;
let labels: tf.Tensor;
beforeAll(async () => {
  await setupBackend('cpu');
  logits = g.normal([2, 3, 3, 3]);
  labels = g.integers([2, 3, 3, 1], 0, 3);
});
afterEach(() => {
  setLossInputChecks(true);
});

function withNaN(shape: number[]): tf.Tensor {
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  v[3] = NaN;
  return tf.tensor(v, shape);
}

describe('bad input gives a MedvaeError naming the argument', () => {
  it('shape mismatch → ShapeError naming target and suggesting toOneHot for label maps', () => {
    expect(() => diceLoss(logits, labels, { softmax: true })).toThrow(ShapeError);
    expect(() => diceLoss(logits, labels, { softmax: true })).toThrow(/target must have the same shape as input \[2, 3, 3, 3\].*toOneHot: true/);
    expect(() => diceLoss(logits, tf.zeros([2, 3, 4]), { toOneHot: true })).toThrow(/with toOneHot, target must be a label map \[2, 3, 3\] or \[2, 3, 3, 1\]/);
    expect(() => mse(tf.zeros([2, 3]), tf.zeros([3, 2]))).toThrow(/target must have the same shape as input \[2, 3\], but got \[3, 2\]/);
    expect(() => crossEntropy(logits, tf.zeros([2, 3]))).toThrow(/class labels of shape \[2, 3, 3\] or class probabilities of shape \[2, 3, 3, 3\]/);
    expect(() => gaussianKL(tf.zeros([2, 4]), tf.zeros([2, 5]))).toThrow(/logVar must have the same shape as mu/);
  });

  it('labels out of range for toOneHot → ValueError naming target and the range', () => {
    const bad = tf.tensor([0, 1, 2, 3], [1, 2, 2, 1]);
    const x = g.normal([1, 2, 2, 3]);
    expect(() => diceLoss(x, bad, { toOneHot: true })).toThrow(ValueError);
    expect(() => diceLoss(x, bad, { toOneHot: true })).toThrow(/target must hold integer class labels in \[0, 3\).*range from 0 to 3/);
    expect(() => focalLoss(x, tf.tensor([0, 1, -1, 2], [1, 2, 2]), { toOneHot: true })).toThrow(/target must hold integer class labels/);
    expect(() => diceCELoss(x, tf.tensor([0, 1, 0.5, 2], [1, 2, 2, 1]), { toOneHot: true })).toThrow(/integer class labels/);
    expect(() => crossEntropy(x, tf.tensor([0, 1, 2, 3], [1, 2, 2], 'int32'))).toThrow(/target must hold integer class labels in \[0, 3\) \(or ignoreIndex -100\)/);
    // ignoreIndex itself is allowed.
    expect(() => crossEntropy(x, tf.tensor([0, 1, -100, 2], [1, 2, 2], 'int32'))).not.toThrow();
  });

  it('NaN → NumericalError naming the argument', () => {
    expect(() => diceLoss(withNaN([2, 3, 3, 3]), labels, { toOneHot: true })).toThrow(NumericalError);
    expect(() => diceLoss(withNaN([2, 3, 3, 3]), labels, { toOneHot: true })).toThrow(/diceLoss: input contains NaN/);
    expect(() => bceWithLogits(tf.zeros([2, 5]), withNaN([2, 5]))).toThrow(/bceWithLogits: target contains NaN/);
    expect(() => gaussianKL(tf.zeros([2, 5]), withNaN([2, 5]))).toThrow(/gaussianKL: logVar contains NaN/);
    expect(() => tverskyLoss(withNaN([2, 5]), tf.zeros([2, 5]), { sigmoid: true })).toThrow(NumericalError);
    expect(() => binaryCrossEntropy(withNaN([2, 5]), tf.zeros([2, 5]))).toThrow(/probs contains NaN/);
  });

  it('probabilities outside [0, 1] for binaryCrossEntropy → ValueError pointing to bceWithLogits', () => {
    expect(() => binaryCrossEntropy(tf.tensor([[0.5, 1.5]]), tf.zeros([1, 2]))).toThrow(/probs must lie in \[0, 1\].*bceWithLogits/);
  });

  it('wrong class weights → ShapeError / ValueError', () => {
    expect(() => diceLoss(logits, labels, { toOneHot: true, weight: [1, 2] })).toThrow(/weight must have one entry per class \(3\)/);
    expect(() => diceLoss(logits, labels, { toOneHot: true, includeBackground: false, weight: [1, 2, 3] })).toThrow(/\(2, background excluded\)/);
    expect(() => crossEntropy(logits, tf.zeros([2, 3, 3]), { weight: [1, -1, 1] })).toThrow(/non-negative/);
    expect(() => diceLoss(logits, labels, { toOneHot: true, weight: tf.tensor([1, -2, 1]) })).toThrow(/weight must be non-negative/);
    expect(() => bceWithLogits(tf.zeros([2, 5]), tf.zeros([2, 5]), { posWeight: [1, 2] })).toThrow(/posWeight of shape \[2\] must broadcast/);
  });

  it('integer predictions → DTypeError', () => {
    expect(() => diceLoss(tf.zeros([1, 2, 2, 2], 'int32'), tf.zeros([1, 2, 2, 2]))).toThrow(DTypeError);
  });

  it('option conflicts → ValueError', () => {
    expect(() => gaussianKL(tf.zeros([2, 3]), tf.zeros([2, 3]), { freeBits: 0.1, reduction: 'none' })).toThrow(/freeBits/);
    expect(() => gaussianNLL(tf.zeros([2, 3]), tf.zeros([2, 3]), { logVar: 0, variance: 1 })).toThrow(/either logVar/);
    expect(() => generalizedDiceLoss({ wType: 'cubic' as never })).toThrow(/wType/);
  });

  it('every error is a MedvaeError', () => {
    expect(() => diceLoss(logits, labels)).toThrow(MedvaeError);
  });

  it('setLossInputChecks(false) skips the data-dependent checks (NaN propagates instead)', () => {
    const previous = setLossInputChecks(false);
    expect(previous).toBe(true);
    const out = mse(withNaN([2, 3]), tf.zeros([2, 3]));
    expect(Number.isNaN(out.dataSync()[0])).toBe(true);
    // Shape checks still apply.
    expect(() => mse(tf.zeros([2, 3]), tf.zeros([3, 2]))).toThrow(ShapeError);
  });

  it('a failed check leaves no tensors behind', () => {
    const x = withNaN([2, 3, 3, 3]);
    const badLabels = tf.tensor([0, 1, 2, 3], [1, 2, 2, 1]);
    const small = g.normal([1, 2, 2, 3]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) expect(() => diceCELoss(x, labels, { toOneHot: true, softmax: true })).toThrow(NumericalError);
    expect(() => diceLoss(small, badLabels, { toOneHot: true })).toThrow(ValueError);
    expect(tf.memory().numTensors).toBe(before);
  });
});
