import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DDIMScheduler, DDPMScheduler, Generator, ValueError, useBackend } from '../../src/index.js';

// medvae names every option that takes a SeedLike `seed`; step options spelled it `generator`
// before, which still works (deprecated) and gives the same draws. Both at once is refused.
beforeAll(async () => {
  await useBackend('cpu');
});

describe('seed and its deprecated generator spelling', () => {
  it('DDPMScheduler.step draws the same noise from seed as from generator', () => {
    const s = new DDPMScheduler({ numTrainTimesteps: 100 });
    const x = tf.ones([1, 4, 4, 1]);
    const eps = tf.zeros([1, 4, 4, 1]);
    const a = s.step(eps, 50, x, { seed: 3 });
    const b = s.step(eps, 50, x, { generator: 3 });
    const c = s.step(eps, 50, x, { seed: 4 });
    expect(Array.from(a.prevSample.dataSync())).toEqual(Array.from(b.prevSample.dataSync()));
    expect(Array.from(a.prevSample.dataSync())).not.toEqual(Array.from(c.prevSample.dataSync()));
    tf.dispose([x, eps, a, b, c]);
  });

  it('refuses seed and generator together (DDPM and DDIM step)', () => {
    const x = tf.ones([1, 4, 4, 1]);
    expect(() => new DDPMScheduler({ numTrainTimesteps: 100 }).step(x, 50, x, { seed: 1, generator: new Generator(1) })).toThrow(ValueError);
    const ddim = new DDIMScheduler({ numTrainTimesteps: 100 });
    ddim.setTimesteps(10);
    expect(() => ddim.step(x, ddim.timesteps[0], x, { eta: 1, seed: 1, generator: 2 })).toThrow(/both seed and generator/);
    x.dispose();
  });
});
