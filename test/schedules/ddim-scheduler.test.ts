import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DDIMScheduler, Generator, ValueError, type PredictionType, type TimestepSpacing } from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';
import { fx } from './fixture.js';

beforeAll(() => setupBackend('cpu'));

const shape = fx.shape;

describe('DDIMScheduler.step', () => {
  const label = (c: (typeof fx.ddim)[number]): string =>
    `${JSON.stringify(c.config)} n=${c.numInferenceSteps} t=${c.t} eta=${c.eta}${c.useClippedModelOutput ? ' clipped-eps' : ''}`;

  it.each(fx.ddim.map((c) => [label(c), c] as const))('%s', (_, c) => {
    const s = new DDIMScheduler(c.config);
    s.setTimesteps(c.numInferenceSteps);
    expect(Array.from(s.timesteps)).toContain(c.t);
    expect(s.previousTimestep(c.t)).toBe(c.prevT);
    expectClose([s.variance(c.t)], [c.variance], 1e-9, 0, 'variance');
    const out = tf.tensor(fx.modelOutput, shape);
    const x = tf.tensor(fx.sample, shape);
    const noise = tf.tensor(fx.noise, shape);
    const r = s.step(out, c.t, x, { eta: c.eta, useClippedModelOutput: c.useClippedModelOutput, varianceNoise: noise });
    expectClose(values(r.predOriginalSample), c.predOriginalSample, 1e-5, 1e-5, 'predOriginalSample');
    expectClose(values(r.prevSample), c.prevSample, 1e-5, 1e-5, 'prevSample');
    tf.dispose([out, x, noise, r]);
  });

  it('draws noise only when eta > 0', () => {
    const s = new DDIMScheduler({ clipSample: false });
    s.setTimesteps(10);
    const x = tf.tensor(fx.sample, shape);
    const eps = tf.tensor(fx.noise, shape);
    const g = new Generator(11);
    const state = g.getState();
    const det = s.step(eps, 900, x, { seed: g });
    expect(g.getState()).toEqual(state);
    const expectedNoise = new Generator(11).normal(shape);
    const drawn = s.step(eps, 900, x, { eta: 1, seed: g });
    const given = s.step(eps, 900, x, { eta: 1, varianceNoise: expectedNoise });
    expect(values(drawn.prevSample)).toEqual(values(given.prevSample));
    expect(values(drawn.prevSample)).not.toEqual(values(det.prevSample));
    tf.dispose([x, eps, det, expectedNoise, drawn, given]);
  });

  // Closed form: if the model's prediction is the truth, x̂₀ = x₀ at every step, and an η = 0
  // chain lands exactly on x₀ (final ᾱ = 1).
  it.each([
    ['epsilon', 'leading', 50],
    ['epsilon', 'trailing', 7],
    ['v_prediction', 'linspace', 12],
    ['sample', 'leading', 20],
  ] as const)('an eta = 0 chain with the true %s prediction (%s, %i steps) recovers x0', (predictionType: PredictionType, timestepSpacing: TimestepSpacing, n: number) => {
    const s = new DDIMScheduler({ predictionType, timestepSpacing });
    s.setTimesteps(n);
    const g = new Generator(5);
    const x0 = g.uniform([2, 4, 4, 1], -1, 1);
    const eps = g.normal([2, 4, 4, 1]);
    const ts = s.timesteps;
    let x = s.addNoise(x0, eps, ts[0]);
    for (const t of ts) {
      const target =
        predictionType === 'epsilon' ? eps.clone() : predictionType === 'sample' ? x0.clone() : s.getVelocity(x0, eps, t);
      const { prevSample, predOriginalSample } = s.step(target, t, x);
      expectClose(values(predOriginalSample), values(x0), 1e-4, 1e-4, `x0 estimate at t=${t}`);
      tf.dispose([x, target, predOriginalSample]);
      x = prevSample;
    }
    expectClose(values(x), values(x0), 1e-4, 1e-4, 'recovered x0');
    tf.dispose([x, x0, eps]);
  });

  it('leaks nothing', async () => {
    const s = new DDIMScheduler({ predictionType: 'sample' });
    s.setTimesteps(10);
    const x = tf.tensor(fx.sample, shape);
    await expectNoLeak(() => tf.dispose(s.step(x, 900, x, { eta: 0.5, seed: 2, useClippedModelOutput: true })));
    await expectNoLeak(() => tf.dispose(s.step(x, 0, x)));
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });

  it('rejects stepping before setTimesteps, bad timesteps and bad eta', () => {
    const s = new DDIMScheduler();
    const x = tf.zeros(shape);
    expect(s.previousTimestep(10)).toBe(9);
    expect(() => s.step(x, 10, x)).toThrow(ValueError);
    expect(() => s.step(x, 10, x)).toThrow(/call setTimesteps\(numInferenceSteps\) first/);
    expect(() => s.setTimesteps(2000)).toThrow(/cannot be larger than numTrainTimesteps/);
    s.setTimesteps(10);
    expect(() => s.step(x, 1000, x)).toThrow(/timestep 1000 is out of range/);
    expect(() => s.step(x, 10, x, { eta: -1 })).toThrow(/eta must be a finite number/);
    expect(() => s.step(x, 11, x)).toThrow(/timestep 11 is not one of the 10 inference timesteps/);
    tf.dispose(x);
  });

  it('setAlphaToOne picks the final alpha', () => {
    expect(new DDIMScheduler().finalAlphaCumprod).toBe(1);
    const s = new DDIMScheduler({ setAlphaToOne: false });
    expect(s.finalAlphaCumprod).toBe(s.alphasCumprod[0]);
  });
});
