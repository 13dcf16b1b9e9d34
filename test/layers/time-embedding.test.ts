import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, SinusoidalTimeEmbedding, ValueError, type SinusoidalTimeEmbeddingOptions } from '../../src/index.js';
import { expectNoLeak, setupBackend, values } from '../helpers/tf.js';
import { loadFixture } from './grad-harness.js';

interface Fixture {
  time_embedding: { t: number[]; cases: { dim: number; options: SinusoidalTimeEmbeddingOptions; y: number[] }[] };
}
const fx = loadFixture<Fixture>('norm_act.json').time_embedding;

beforeAll(() => setupBackend('cpu'));

describe('SinusoidalTimeEmbedding', () => {
  for (const c of fx.cases) {
    it(`matches diffusers' get_timestep_embedding (dim ${c.dim}, ${JSON.stringify(c.options)})`, () => {
      const emb = new SinusoidalTimeEmbedding(c.dim, c.options);
      const t = tf.tensor1d(fx.t);
      const y = emb.forward(t);
      expect(y.shape).toEqual([fx.t.length, c.dim]);
      const got = values(y);
      const scale = c.options.scale ?? 1;
      // The reference is float64. float32 rounds the argument t·f to a relative 6e-8 (and f itself),
      // so the error bound grows with the argument: 1.2e-7·|scale·t| on top of 1e-6.
      for (let i = 0; i < got.length; i++) {
        const row = Math.floor(i / c.dim);
        const tol = 1e-6 + 1.2e-7 * Math.abs(scale * fx.t[row]);
        expect(Math.abs(got[i] - c.y[i]), `element ${i} (t=${fx.t[row]}): ${got[i]} vs ${c.y[i]}`).toBeLessThanOrEqual(tol);
      }
      tf.dispose([t, y]);
    });
  }

  it('accepts int32 timesteps, does not leak, and checks rank and options', async () => {
    const emb = new SinusoidalTimeEmbedding(8);
    const ti = tf.tensor1d([0, 5, 10], 'int32');
    const tfl = tf.tensor1d([0, 5, 10]);
    expect(values(emb.forward(ti))).toEqual(values(emb.forward(tfl)));
    await expectNoLeak(() => tf.dispose(emb.forward(ti)));
    const t2 = tf.zeros([3, 1]);
    expect(() => emb.forward(t2)).toThrow(ShapeError);
    expect(() => new SinusoidalTimeEmbedding(2)).toThrow(/downscaleFreqShift/);
    expect(() => new SinusoidalTimeEmbedding(1)).toThrow(ValueError);
    tf.dispose([ti, tfl, t2]);
  });
});
