import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DTypeError, GaussianReparameterization, Generator, ShapeError } from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

describe('GaussianReparameterization', () => {
  it('returns μ exactly in eval mode (as a new tensor)', () => {
    const mu = tf.tensor2d([[0.1, -2.5, 3]]);
    const logVar = tf.tensor2d([[0, 1, -1]]);
    const layer = new GaussianReparameterization({ seed: 0 }).eval();
    const z = layer.forward({ mu, logVar });
    expect(z).not.toBe(mu);
    expect(values(z)).toEqual(values(mu));
    tf.dispose([mu, logVar, z]);
  });

  it('samples with mean μ and standard deviation exp(½·logVar) in training', () => {
    const n = 20000;
    const means = [1.5, -2];
    const sigmas = [0.5, 2];
    const mu = tf.tile(tf.tensor2d([means]), [n, 1]);
    const logVar = tf.tile(tf.tensor2d([sigmas.map((s) => Math.log(s * s))]), [n, 1]);
    const z = new GaussianReparameterization({ seed: 11 }).forward({ mu, logVar });
    const zs = z.arraySync() as number[][];
    for (let j = 0; j < 2; j++) {
      const col = zs.map((r) => r[j]);
      const m = col.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
      // 5 standard errors of the sample mean (σ/√n) and of the sample std (≈ σ/√(2n)).
      expect(Math.abs(m - means[j])).toBeLessThan((5 * sigmas[j]) / Math.sqrt(n));
      expect(Math.abs(sd - sigmas[j])).toBeLessThan((5 * sigmas[j]) / Math.sqrt(2 * n));
    }
    tf.dispose([mu, logVar, z]);
  });

  it('gives z = μ + σ·ε and dz/dμ = 1, dz/dlogVar = ½·σ·ε for ε from the same seed', () => {
    const shape = [3, 4];
    const muV = tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 1));
    const lvV = tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 2));
    const g = tf.randomNormal(shape, 0, 1, 'float32', 3);
    const layer = new GaussianReparameterization({ seed: 123 });
    let z: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const out = layer.forward({ mu: muV, logVar: lvV });
      z = tf.keep(out);
      return tf.sum(tf.mul(out, g)) as tf.Scalar;
    }, [muV, lvV]);
    const eps = values(new Generator(123).normal(shape));
    const mu = values(muV);
    const lv = values(lvV);
    const gv = values(g);
    const sigma = lv.map((v) => Math.exp(0.5 * v));
    expectClose(values(z as unknown as tf.Tensor), mu.map((m, i) => m + sigma[i] * eps[i]), 1e-6, 1e-6, 'z');
    expectClose(values(grads[muV.name]), gv, 0, 0, 'dz/dmu');
    expectClose(values(grads[lvV.name]), gv.map((gi, i) => gi * 0.5 * sigma[i] * eps[i]), 1e-6, 1e-7, 'dz/dlogVar');
    tf.dispose([muV, lvV, g, value, z as unknown as tf.Tensor]);
    tf.dispose(grads);
  });

  it('samples in eval mode when sampleInEval is set, reproducibly per seed', () => {
    const mu = tf.zeros([2, 3]);
    const logVar = tf.zeros([2, 3]);
    const a = new GaussianReparameterization({ sampleInEval: true, seed: 9 }).eval().forward({ mu, logVar });
    const b = new GaussianReparameterization({ sampleInEval: true, seed: 9 }).eval().forward({ mu, logVar });
    expect(values(a)).toEqual(values(b));
    expect(values(a)).toEqual(values(new Generator(9).normal([2, 3])));
    tf.dispose([mu, logVar, a, b]);
  });

  it('does not leak and rejects mismatched or non-float inputs', async () => {
    const layer = new GaussianReparameterization({ seed: 0 });
    const mu = tf.zeros([2, 3]);
    const logVar = tf.zeros([2, 3]);
    await expectNoLeak(() => tf.dispose(layer.forward({ mu, logVar })));
    const wrong = tf.zeros([2, 4]);
    const ints = tf.zeros([2, 3], 'int32');
    expect(() => layer.forward({ mu, logVar: wrong })).toThrow(ShapeError);
    expect(() => layer.forward({ mu, logVar: wrong })).toThrow(/mu and logVar must have the same shape/);
    expect(() => layer.forward({ mu: ints, logVar })).toThrow(DTypeError);
    tf.dispose([mu, logVar, wrong, ints]);
  });
});
