import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DDPMScheduler, minSnrLossWeights, ValueError, type PredictionType } from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';
import { fx } from './fixture.js';

beforeAll(() => setupBackend('cpu'));

describe('minSnrLossWeights', () => {
  it.each(fx.minSnr.map((c) => [`${c.name} γ=${c.gamma} ${c.predictionType}`, c] as const))('%s matches Hang et al. 2023', (_, c) => {
    const snr = new DDPMScheduler(c.config).terms.snr;
    const w = minSnrLossWeights(c.timesteps, snr, { gamma: c.gamma, predictionType: c.predictionType });
    expect(w.shape).toEqual([c.timesteps.length]);
    expect(w.dtype).toBe('float32');
    expectClose(values(w), c.weights, 1e-5, 1e-7, 'weights');
    const ts = tf.tensor1d(c.timesteps, 'int32');
    const w2 = minSnrLossWeights(ts, snr, { gamma: c.gamma, predictionType: c.predictionType });
    expect(values(w2)).toEqual(values(w));
    tf.dispose([w, ts, w2]);
  });

  it('defaults to γ = 5 and epsilon, and leaks nothing', async () => {
    const snr = [100, 5, 0.5];
    const w = minSnrLossWeights([0, 1, 2], snr);
    expectClose(values(w), [0.05, 1, 1], 1e-6, 0, 'weights');
    w.dispose();
    const ts = tf.tensor1d([0, 2], 'int32');
    await expectNoLeak(() => minSnrLossWeights(ts, snr).dispose());
    ts.dispose();
  });

  it('rejects bad input', () => {
    expect(() => minSnrLossWeights([3], [1, 2])).toThrow(ValueError);
    expect(() => minSnrLossWeights([3], [1, 2])).toThrow(/timestep 3 is out of range/);
    expect(() => minSnrLossWeights([0], [1], { gamma: 0 })).toThrow(/gamma must be > 0/);
    expect(() => minSnrLossWeights([0], [1], { predictionType: 'x0' as PredictionType })).toThrow(/unknown predictionType "x0"/);
  });
});
