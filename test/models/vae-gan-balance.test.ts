// VAEGAN's balance decision is made on the device; these tests hold it to the host-side rule it
// replaced, written out here: read the two mean cross-entropies back as numbers, compare them in
// float64 with equilibrium ± margin, and update both players when both would wait.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Generator } from '../../src/index.js';
import { balanceGates } from '../../src/models/vae-gan-balance.js';
import { setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

/** The host-side rule, from the read-back cross-entropies. */
function hostDecision(real: number, prior: number, equilibrium: number, margin: number): [number, number] {
  const low = equilibrium - margin;
  const high = equilibrium + margin;
  const discriminator = !(real < low || prior < low);
  const decoder = !(real > high || prior > high);
  return discriminator || decoder ? [discriminator ? 1 : 0, decoder ? 1 : 0] : [1, 1];
}

/** Mean cross-entropies of the real and prior-sample thirds of `logits`, read back (float32 values). */
function crossEntropies(logits: tf.Tensor, b: number): [number, number] {
  return tf.tidy(() => [
    tf.mean(tf.softplus(tf.neg(tf.slice(logits, [0, 0], [b, -1])))).dataSync()[0],
    tf.mean(tf.softplus(tf.slice(logits, [2 * b, 0], [b, -1]))).dataSync()[0],
  ]) as [number, number];
}

function deviceDecision(logits: tf.Tensor, b: number, equilibrium: number, margin: number): [number, number] {
  const g = balanceGates(logits, b, { equilibrium, margin });
  const out: [number, number] = [g.discriminator.dataSync()[0], g.decoder.dataSync()[0]];
  tf.dispose([g.discriminator, g.decoder]);
  return out;
}

describe('VAEGAN balance gates (device) follow the host-side rule', () => {
  it('on random logits and thresholds, every combination of skips included', () => {
    const gen = new Generator(7);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const b = 1 + (i % 4);
      const scale = 0.2 + 3 * gen.random();
      const logits = tf.tensor2d(Float32Array.from({ length: 3 * b }, () => scale * (2 * gen.random() - 1) + (gen.random() - 0.5)), [3 * b, 1]);
      const [real, prior] = crossEntropies(logits, b);
      const equilibrium = 0.3 + 0.8 * gen.random();
      const margin = 0.3 * gen.random();
      const expected = hostDecision(real, prior, equilibrium, margin);
      expect(deviceDecision(logits, b, equilibrium, margin), `case ${i}: real ${real}, prior ${prior}, ${equilibrium} ± ${margin}`).toEqual(expected);
      seen.add(expected.join(''));
      logits.dispose();
    }
    // Both skips and the both-updated case occurred, so the comparison covered each branch.
    expect([...seen].sort()).toEqual(['01', '10', '11']);
  });

  it('at the thresholds themselves: float64 thresholds just above, at and below a float32 cross-entropy', () => {
    const b = 2;
    const logits = tf.tensor2d([0.3, -0.7, 1.1, 0.2, -0.4, 0.9], [3 * b, 1]);
    const [real, prior] = crossEntropies(logits, b);
    const lowOnly = Math.min(real, prior);
    const highOnly = Math.max(real, prior);
    // The threshold lands within float32 rounding of a cross-entropy, so a device comparison
    // against the rounded threshold alone would get some of these wrong.
    for (const delta of [-1e-12, 0, 1e-12, -1e-9, 1e-9]) {
      const low = lowOnly + delta;
      const margin = 0.01;
      const atLow = hostDecision(real, prior, low + margin, margin);
      expect(deviceDecision(logits, b, low + margin, margin), `low = ${low}`).toEqual(atLow);
      const high = highOnly + delta;
      const atHigh = hostDecision(real, prior, high - margin, margin);
      expect(deviceDecision(logits, b, high - margin, margin), `high = ${high}`).toEqual(atHigh);
    }
    // NaN cross-entropies compare false both ways: both updated.
    const nan = tf.tensor2d([NaN, 0, 0, 0, NaN, 0], [3 * b, 1]);
    expect(deviceDecision(nan, b, 0.68, 0.35)).toEqual(hostDecision(NaN, NaN, 0.68, 0.35));
    expect(deviceDecision(nan, b, 0.68, 0.35)).toEqual([1, 1]);
    tf.dispose([logits, nan]);
  });

  it('leaves no tensors behind', () => {
    const logits = tf.tensor2d([0.3, -0.7, 1.1, 0.2, -0.4, 0.9], [6, 1]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const g = balanceGates(logits, 2, { equilibrium: 0.68, margin: 0.35 });
      tf.dispose([g.discriminator, g.decoder]);
    }
    expect(tf.memory().numTensors).toBe(before);
    logits.dispose();
  });
});
