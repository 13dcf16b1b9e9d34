// Luc et al.'s "scaling" encoding of true masks, against its closed form written out per pixel.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError, scaledMaskTarget } from '../../src/index.js';
import { expectClose, setupBackend, values } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

/** The encoding of one pixel, in float64: true class max(τ, s_l), the others s_c·(1 − that)/(1 − s_l). */
function encodePixel(probs: number[], label: number, tau: number): number[] {
  const top = Math.max(tau, probs[label]);
  return probs.map((s, c) => (c === label ? top : probs[label] === 1 ? 0 : (s * (1 - top)) / (1 - probs[label])));
}

describe('scaledMaskTarget', () => {
  it('matches the closed form for K = 3, sums to 1 per pixel, and keeps the true class ≥ τ', () => {
    const probs = [
      [0.7, 0.2, 0.1], // true class 0 below τ: raised to 0.9, the others keep their 2:1 ratio
      [0.05, 0.95, 0.0], // true class 1 already above τ: unchanged
      [0.2, 0.5, 0.3], // true class 2 far below τ
      [0, 0, 1], // certain and right
    ];
    const labels = [0, 1, 2, 2];
    const tau = 0.9;
    const oneHot = tf.reshape(tf.oneHot(tf.tensor1d(labels, 'int32'), 3), [1, 2, 2, 3]);
    const p = tf.tensor(probs.flat(), [1, 2, 2, 3]);
    const out = scaledMaskTarget(oneHot, p, tau);
    const expected = probs.flatMap((row, i) => encodePixel(row, labels[i], tau));
    expectClose(values(out), expected, 1e-6, 1e-7, 'encoded mask');
    for (let i = 0; i < 4; i++) {
      const px = values(out).slice(3 * i, 3 * i + 3);
      expect(px.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(px[labels[i]]).toBeGreaterThanOrEqual(tau - 1e-7);
    }
    tf.dispose([oneHot, p, out]);
  });

  it('encodes a single sigmoid channel as max(τ, p) on the foreground and min(1 − τ, p) on the background', () => {
    const mask = tf.tensor([1, 1, 0, 0], [1, 2, 2, 1]);
    const p = tf.tensor([0.6, 0.97, 0.3, 0.04], [1, 2, 2, 1]);
    const out = scaledMaskTarget(mask, p, 0.8);
    expectClose(values(out), [0.8, 0.97, 0.2, 0.04], 1e-6, 1e-7, 'encoded foreground');
    // The same as the two-class encoding's foreground channel.
    const two = scaledMaskTarget(tf.tensor([0, 1, 0, 1, 1, 0, 1, 0], [1, 2, 2, 2]), tf.tensor([0.4, 0.6, 0.03, 0.97, 0.7, 0.3, 0.96, 0.04], [1, 2, 2, 2]), 0.8);
    expectClose(values(two).filter((_, i) => i % 2 === 1), [0.8, 0.97, 0.2, 0.04], 1e-6, 1e-7, 'two-class foreground');
    tf.dispose([mask, p, out, two]);
  });

  it('rejects a τ outside (0, 1] and shapes that differ', () => {
    const a = tf.zeros([1, 2, 2, 2]);
    expect(() => scaledMaskTarget(a, a, 0)).toThrow(ValueError);
    expect(() => scaledMaskTarget(a, a, 1.5)).toThrow(/tau must be in \(0, 1\]/);
    expect(() => scaledMaskTarget(a, tf.zeros([1, 2, 2, 3]))).toThrow(ShapeError);
    a.dispose();
  });
});
