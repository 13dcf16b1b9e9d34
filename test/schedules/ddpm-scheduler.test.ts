import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DDIMScheduler,
  DDPMScheduler,
  DTypeError,
  Generator,
  inferenceTimesteps,
  ShapeError,
  ValueError,
  type DDPMVarianceType,
} from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';
import { fx } from './fixture.js';

beforeAll(() => setupBackend('cpu'));

const shape = fx.shape;
const channels = shape[3];

describe('setTimesteps / inferenceTimesteps', () => {
  it.each(fx.timesteps.map((c) => [`T=${c.T} n=${c.n} ${c.spacing} offset ${c.stepsOffset}`, c] as const))('%s matches diffusers', (_, c) => {
    expect(Array.from(inferenceTimesteps(c.T, c.n, c.spacing, c.stepsOffset))).toEqual(c.timesteps);
    for (const s of [
      new DDPMScheduler({ numTrainTimesteps: c.T, timestepSpacing: c.spacing, stepsOffset: c.stepsOffset }),
      new DDIMScheduler({ numTrainTimesteps: c.T, timestepSpacing: c.spacing, stepsOffset: c.stepsOffset }),
    ]) {
      s.setTimesteps(c.n);
      expect(s.timesteps).toBeInstanceOf(Int32Array);
      expect(Array.from(s.timesteps)).toEqual(c.timesteps);
      expect(s.numInferenceSteps).toBe(c.n);
    }
  });

  it('rounds half to even like numpy (linspace, 7 steps)', () => {
    // linspace(0, 999, 7) = 0, 166.5, 333, 499.5, 666, 832.5, 999.
    expect(Array.from(inferenceTimesteps(1000, 7, 'linspace'))).toEqual([999, 832, 666, 500, 333, 166, 0]);
  });

  it('starts with all training timesteps, descending', () => {
    const s = new DDPMScheduler({ numTrainTimesteps: 5 });
    expect(Array.from(s.timesteps)).toEqual([4, 3, 2, 1, 0]);
    expect(s.numInferenceSteps).toBeUndefined();
  });

  it('rejects too many steps, bad offsets and unknown spacings', () => {
    const s = new DDPMScheduler();
    expect(() => s.setTimesteps(1001)).toThrow(ValueError);
    expect(() => s.setTimesteps(1001)).toThrow(/numInferenceSteps \(1001\) cannot be larger than numTrainTimesteps \(1000\)/);
    expect(() => s.setTimesteps(0)).toThrow(/positive integer/);
    expect(() => inferenceTimesteps(1000, 1000, 'leading', 1)).toThrow(/falls outside \[0, 999\]/);
    expect(() => new DDPMScheduler({ timestepSpacing: 'even' as 'leading' })).toThrow(/Unknown timestepSpacing "even"/);
  });
});

describe('DDPMScheduler.step', () => {
  const label = (c: (typeof fx.ddpm)[number]): string =>
    `${JSON.stringify(c.config)} t=${c.t}${c.numInferenceSteps ? ` n=${c.numInferenceSteps}` : ''}`;

  it.each(fx.ddpm.map((c) => [label(c), c] as const))('%s', (_, c) => {
    const s = new DDPMScheduler(c.config);
    if (c.numInferenceSteps) s.setTimesteps(c.numInferenceSteps);
    expect(s.previousTimestep(c.t)).toBe(c.prevT);
    if (c.variance !== null) expectClose([s.variance(c.t)], [c.variance], 1e-9, 0, 'variance');
    const learned = c.modelOutput.length === 2 * fx.sample.length;
    const out = tf.tensor(c.modelOutput, learned ? [...shape.slice(0, 3), 2 * channels] : shape);
    const x = tf.tensor(fx.sample, shape);
    const noise = tf.tensor(fx.noise, shape);
    const zeros = tf.zerosLike(x);

    const meanStep = s.step(out, c.t, x, { varianceNoise: zeros });
    expectClose(values(meanStep.predOriginalSample), c.predOriginalSample, 1e-5, 1e-5, 'predOriginalSample');
    expectClose(values(meanStep.prevSample), c.mean, 1e-5, 1e-5, 'posterior mean');
    const noisy = s.step(out, c.t, x, { varianceNoise: noise });
    expectClose(values(noisy.prevSample), c.prevSample, 1e-5, 1e-5, 'prevSample');
    tf.dispose([out, x, noise, zeros, meanStep, noisy]);
  });

  it('draws its noise from the generator, and none at t = 0', () => {
    const s = new DDPMScheduler({ clipSample: false });
    const x = tf.tensor(fx.sample, shape);
    const eps = tf.tensor(fx.noise, shape);
    const g = new Generator(7);
    const expectedNoise = new Generator(7).normal(shape);
    const drawn = s.step(eps, 500, x, { seed: g });
    const given = s.step(eps, 500, x, { varianceNoise: expectedNoise });
    expectClose(values(drawn.prevSample), values(given.prevSample), 0, 0, 'generator noise');
    // Seeds are reproducible.
    const a = s.step(eps, 500, x, { seed: 3 });
    const b = s.step(eps, 500, x, { seed: 3 });
    expect(values(a.prevSample)).toEqual(values(b.prevSample));
    // At t = 0 the step is deterministic and consumes no randomness.
    const state = g.getState();
    const last = s.step(eps, 0, x, { seed: g });
    expect(g.getState()).toEqual(state);
    const mean = s.step(eps, 0, x, { varianceNoise: tf.onesLike(x) });
    expect(values(last.prevSample)).toEqual(values(mean.prevSample));
    tf.dispose([x, eps, expectedNoise, drawn, given, a, b, last, mean]);
  });

  it('does not free the caller tensors and leaks nothing', async () => {
    for (const [predictionType, varianceType] of [['sample', 'fixed_small'], ['epsilon', 'learned_range']] as const) {
      const s = new DDPMScheduler({ predictionType, varianceType, clipSample: false });
      const x = tf.tensor(fx.sample, shape);
      const out = varianceType === 'learned_range' ? tf.concat([x, tf.zerosLike(x)], 3) : tf.tensor(fx.noise, shape);
      await expectNoLeak(() => tf.dispose(s.step(out, 10, x, { seed: 1 })));
      const r = s.step(out, 10, x, { seed: 1 });
      tf.dispose(r);
      expect(out.isDisposed || x.isDisposed).toBe(false);
      tf.dispose([x, out]);
    }
  });

  it('rejects bad timesteps, shapes and options', () => {
    const s = new DDPMScheduler();
    const x = tf.zeros(shape);
    expect(() => s.step(x, 1000, x)).toThrow(ValueError);
    expect(() => s.step(x, 1000, x)).toThrow(/timestep 1000 is out of range; timesteps are integers in \[0, 999\]/);
    expect(() => s.step(x, -1, x)).toThrow(ValueError);
    expect(() => s.step(x, 2.5, x)).toThrow(ValueError);
    expect(() => s.step(tf.zeros([2, 2, 3, 1]), 5, x)).toThrow(ShapeError);
    expect(() => s.step(x, 5, x, { varianceNoise: tf.zeros([1, 2]) })).toThrow(/varianceNoise must have the sample's shape/);
    expect(() => s.step(tf.zeros(shape, 'int32'), 5, x)).toThrow(DTypeError);
    s.setTimesteps(50);
    expect(() => s.step(x, 501, x)).toThrow(/not one of the 50 inference timesteps/);
    const learned = new DDPMScheduler({ varianceType: 'learned_range' });
    expect(() => learned.step(x, 5, x)).toThrow(/twice the channels/);
    expect(() => learned.variance(5)).toThrow(ValueError);
    expect(() => new DDPMScheduler({ varianceType: 'fixed' as DDPMVarianceType })).toThrow(/Unknown varianceType "fixed"/);
    expect(() => new DDPMScheduler({ predictionType: 'x0' as 'sample' })).toThrow(/Unknown predictionType "x0"/);
    expect(() => new DDPMScheduler({ betaSchedule: 'cosine' as 'linear' })).toThrow(/Unknown betaSchedule "cosine"/);
    expect(() => new DDPMScheduler({ trainedBetas: [0.1, 0.2], numTrainTimesteps: 3 })).toThrow(/trainedBetas has 2 values/);
    tf.dispose(x);
  });

  it('uses trainedBetas when given', () => {
    const s = new DDPMScheduler({ numTrainTimesteps: 3, trainedBetas: [0.1, 0.2, 0.3] });
    expect(Array.from(s.betas)).toEqual([0.1, 0.2, 0.3]);
    expectClose(Array.from(s.alphasCumprod), [0.9, 0.72, 0.504], 1e-12, 0, 'alphasCumprod');
  });
});

describe('addNoise / getVelocity', () => {
  it.each(fx.forward.map((c) => [`${JSON.stringify(c.config)} t=${c.timesteps}`, c] as const))('%s', (_, c) => {
    const s = new DDPMScheduler(c.config);
    const x0 = tf.tensor(c.sample, c.shape);
    const eps = tf.tensor(c.noise, c.shape);
    const asTensor = tf.tensor1d(c.timesteps, 'int32');
    for (const ts of [c.timesteps, asTensor]) {
      const noisy = s.addNoise(x0, eps, ts);
      expect(noisy.shape).toEqual(c.shape);
      expectClose(values(noisy), c.noisy, 1e-5, 1e-6, 'addNoise');
      const v = s.getVelocity(x0, eps, ts);
      expectClose(values(v), c.velocity, 1e-5, 1e-6, 'getVelocity');
      tf.dispose([noisy, v]);
    }
    // The DDIM scheduler shares the forward process.
    const ddimNoisy = new DDIMScheduler(c.config).addNoise(x0, eps, c.timesteps);
    expectClose(values(ddimNoisy), c.noisy, 1e-5, 1e-6, 'DDIM addNoise');
    tf.dispose([x0, eps, asTensor, ddimNoisy]);
  });

  it('leaks nothing and rejects bad timesteps', async () => {
    const s = new DDPMScheduler();
    const x = tf.ones([2, 3, 3, 1]);
    const ts = tf.tensor1d([3, 999], 'int32');
    await expectNoLeak(() => {
      tf.dispose([s.addNoise(x, x, ts), s.getVelocity(x, x, [1, 2])]);
    });
    expect(() => s.addNoise(x, x, [0, 1000])).toThrow(ValueError);
    expect(() => s.addNoise(x, x, [0, 1000])).toThrow(/timestep 1000 is out of range/);
    expect(() => s.addNoise(x, x, [0, 1, 2])).toThrow(/got 3 timesteps for a batch of 2/);
    expect(() => s.addNoise(x, tf.ones([2, 3, 3, 2]), [0, 1])).toThrow(ShapeError);
    expect(() => s.addNoise(x, x, tf.zeros([2, 1], 'int32'))).toThrow(/scalar or 1-D/);
    tf.dispose([x, ts]);
  });
});
