import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Dropout, Generator, ValueError, manualSeed } from '../../src/index.js';
import { expectNoLeak, setupBackend, values } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

describe('Dropout', () => {
  it('zeroes about a fraction p and scales survivors by 1/(1 − p)', () => {
    for (const p of [0.2, 0.5, 0.8]) {
      const n = 20000;
      const drop = new Dropout(p, { seed: 1 });
      const x = tf.fill([n], 3);
      const y = values(drop.forward(x));
      const zeros = y.filter((v) => v === 0).length;
      // Binomial(n, p): 5 standard deviations.
      expect(Math.abs(zeros / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
      const kept = y.filter((v) => v !== 0);
      const worst = Math.max(...kept.map((v) => Math.abs(v - 3 / (1 - p))));
      expect(worst).toBeLessThan(1e-5);
      x.dispose();
    }
  });

  it('is the identity in eval mode and with p = 0; p = 1 gives zeros', () => {
    const x = tf.randomNormal([4, 5], 0, 1, 'float32', 8);
    const drop = new Dropout(0.5, { seed: 2 }).eval();
    const y = drop.forward(x);
    expect(values(y)).toEqual(values(x));
    expect(y).not.toBe(x);
    y.dispose();
    expect(values(new Dropout(0).forward(x))).toEqual(values(x));
    expect(values(new Dropout(1).forward(x)).every((v) => v === 0)).toBe(true);
    x.dispose();
  });

  it('reproduces masks from the same seed and differs between calls', () => {
    const x = tf.ones([64]);
    const a = new Dropout(0.5, { seed: 42 });
    const b = new Dropout(0.5, { seed: 42 });
    const a1 = values(a.forward(x));
    expect(values(b.forward(x))).toEqual(a1);
    expect(values(a.forward(x))).not.toEqual(a1);
    const g1 = new Generator(7);
    const g2 = new Generator(7);
    expect(values(new Dropout(0.3, { seed: g1 }).forward(x))).toEqual(values(new Dropout(0.3, { seed: g2 }).forward(x)));
    manualSeed(5);
    const c1 = values(new Dropout(0.5).forward(x));
    manualSeed(5);
    expect(values(new Dropout(0.5).forward(x))).toEqual(c1);
    x.dispose();
  });

  it('passes gradients through the kept elements only', () => {
    const drop = new Dropout(0.5, { seed: 3 });
    const x = tf.ones([100]);
    const y = values(drop.forward(x));
    const replay = new Dropout(0.5, { seed: 3 });
    const dx = values(tf.grad((t: tf.Tensor) => tf.sum(replay.forward(t)))(x));
    expect(dx).toEqual(y);
  });

  it('does not leak and rejects bad p', async () => {
    const drop = new Dropout(0.3, { seed: 0 });
    const x = tf.ones([8, 8]);
    await expectNoLeak(() => tf.dispose(drop.forward(x)));
    drop.eval();
    await expectNoLeak(() => tf.dispose(drop.forward(x)));
    x.dispose();
    expect(() => new Dropout(1.5)).toThrow(ValueError);
    expect(() => new Dropout(-0.1)).toThrow(/\[0, 1\]/);
  });
});
