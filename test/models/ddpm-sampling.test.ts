import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DDIMScheduler, DDPM, DDPMScheduler, Generator, ShapeError, ValueError, diffusionSample, fromDiffusionRange, toDiffusionRange,
  type Denoiser, type PredictionType,
} from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

const SHAPE = [2, 4, 4, 1] as const;
const N = SHAPE.reduce((a: number, b: number) => a * b, 1);

/** The ideal network for a data set of one image x0: it knows x0, so it returns the exact noise (or v, or x0). */
function perfectDenoiser(x0: tf.Tensor, alphasCumprod: Float64Array, predictionType: PredictionType): Denoiser {
  return (x, t) => tf.tidy(() => {
    const a = alphasCumprod[t];
    const eps = tf.div(tf.sub(x, tf.mul(x0, Math.sqrt(a))), Math.sqrt(1 - a));
    if (predictionType === 'epsilon') return eps;
    if (predictionType === 'sample') return tf.clone(x0);
    return tf.sub(tf.mul(eps, Math.sqrt(a)), tf.mul(x0, Math.sqrt(1 - a)));
  });
}

const zeroDenoiser: Denoiser = (x) => tf.zerosLike(x);

describe('diffusionSample', () => {
  // x0 in [−0.9, 0.9]: a data set of one image.
  const x0Values = Array.from(new Generator(11).uniformArray(N, -0.9, 0.9));
  for (const predictionType of ['epsilon', 'v_prediction', 'sample'] as const) {
    for (const [name, make, steps, eta] of [
      ['ddpm, all steps', () => new DDPMScheduler({ numTrainTimesteps: 50, predictionType, clipSample: false }), 50, 0],
      ['ddpm, 10 skipped steps', () => new DDPMScheduler({ numTrainTimesteps: 50, predictionType, clipSample: false }), 10, 0],
      ['ddim, eta 0', () => new DDIMScheduler({ numTrainTimesteps: 50, predictionType, clipSample: false }), 8, 0],
      ['ddim, eta 0.7', () => new DDIMScheduler({ numTrainTimesteps: 50, predictionType, clipSample: false }), 8, 0.7],
    ] as const) {
      it(`recovers x0 exactly with a perfect ${predictionType} predictor (${name})`, async () => {
        const scheduler = make();
        const x0 = tf.tensor(x0Values, SHAPE.slice());
        const out = await diffusionSample(perfectDenoiser(x0, scheduler.alphasCumprod, predictionType), {
          scheduler, numInferenceSteps: steps, shape: SHAPE, seed: 4, eta,
        });
        expectClose(values(out), x0Values, 0, 2e-4, 'final sample');
        tf.dispose([out, x0]);
      });
    }
  }

  it('with ε = 0, DDIM (η = 0) yields x_T / √ᾱ of the first timestep (closed form)', async () => {
    const scheduler = new DDIMScheduler({ numTrainTimesteps: 50, clipSample: false });
    const out = await diffusionSample(zeroDenoiser, { scheduler, numInferenceSteps: 10, shape: SHAPE, seed: 7 });
    // Each step multiplies by √(ᾱ_prev/ᾱ_t); the product telescopes to 1/√ᾱ_{t_first} (ᾱ after the last step is 1).
    const first = scheduler.timesteps[0];
    expect(first).toBe(45); // 'leading' spacing: 0, 5, …, 45
    const xT = new Generator(7).normalArray(N);
    const expected = Array.from(xT, (v) => v / Math.sqrt(scheduler.alphasCumprod[first]));
    expectClose(values(out), expected, 1e-5, 1e-6, 'DDIM with zero ε');
    out.dispose();
  });

  it('with ε = 0, DDPM follows the posterior-mean recursion with the generator’s noise (closed form)', async () => {
    const T = 20;
    const scheduler = new DDPMScheduler({ numTrainTimesteps: T, clipSample: false });
    const out = await diffusionSample(zeroDenoiser, { scheduler, numInferenceSteps: T, shape: SHAPE, seed: 3 });
    // Independent float64 recursion from the schedule terms: x0̂ = x/√ᾱ_t, mean = c0·x0̂ + ct·x, + √β̃_t·z for t > 0.
    const ab = scheduler.alphasCumprod;
    const g = new Generator(3);
    let x = Array.from(g.normalArray(N));
    for (let t = T - 1; t >= 0; t--) {
      const prev = t > 0 ? ab[t - 1] : 1;
      const beta = 1 - ab[t] / prev;
      const c0 = (Math.sqrt(prev) * beta) / (1 - ab[t]);
      const ct = (Math.sqrt(1 - beta) * (1 - prev)) / (1 - ab[t]);
      const mean = x.map((v) => c0 * (v / Math.sqrt(ab[t])) + ct * v);
      if (t > 0) {
        const z = g.normalArray(N);
        const sigma = Math.sqrt(((1 - prev) / (1 - ab[t])) * beta);
        x = mean.map((m, i) => m + sigma * z[i]);
      } else {
        x = mean;
      }
    }
    expectClose(values(out), x, 1e-4, 1e-5, 'DDPM with zero ε');
    out.dispose();
  });

  it('refuses 0, too many or fractional steps, and a wrong initial noise', async () => {
    const scheduler = new DDIMScheduler({ numTrainTimesteps: 50 });
    for (const steps of [0, 51, 2.5]) {
      await expect(diffusionSample(zeroDenoiser, { scheduler, numInferenceSteps: steps, shape: SHAPE })).rejects.toThrow(ValueError);
    }
    const bad = tf.zeros([1, 4, 4, 1]);
    await expect(diffusionSample(zeroDenoiser, { scheduler, numInferenceSteps: 2, shape: SHAPE, initialNoise: bad })).rejects.toThrow(ShapeError);
    bad.dispose();
  });

  it('leaks no tensors, including when the denoiser throws', async () => {
    const scheduler = new DDPMScheduler({ numTrainTimesteps: 10 });
    await expectNoLeak(async () => tf.dispose(await diffusionSample(zeroDenoiser, { scheduler, numInferenceSteps: 10, shape: SHAPE, seed: 1 })));
    const before = tf.memory().numTensors;
    const failing: Denoiser = (x, t) => {
      if (t < 5) throw new Error('boom');
      return tf.zerosLike(x);
    };
    await expect(diffusionSample(failing, { scheduler, numInferenceSteps: 10, shape: SHAPE, seed: 1 })).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('data range helpers', () => {
  it('map [lo, hi] onto [−1, 1] and back, clamping on the way back', () => {
    const x = tf.tensor1d([0, 0.25, 1, 2]);
    expectClose(values(toDiffusionRange(x)), [-1, -0.5, 1, 3], 1e-6, 1e-7, 'to');
    const y = tf.tensor1d([-1, 0, 1, 1.5]);
    expectClose(values(fromDiffusionRange(y, [0, 255])), [0, 127.5, 255, 255], 1e-6, 1e-6, 'from');
    expectClose(values(fromDiffusionRange(toDiffusionRange(x, [-3, 5]), [-3, 5], false)), values(x), 1e-6, 1e-6, 'round trip');
    expect(() => toDiffusionRange(x, [1, 1])).toThrow(ValueError);
    tf.dispose([x, y]);
  });
});

describe('DDPM.sample', () => {
  const tiny = { inChannels: 1, channels: [8, 16], layersPerBlock: 1, numTrainTimesteps: 20, sampleSize: 8, seed: 0 };

  it('returns [n, H, W, C] in the data range; DDIM η = 0 and DDPM are reproducible for a seed', async () => {
    const model = new DDPM({ ...tiny, dataRange: [0, 1] });
    let steps = 0;
    const a = await model.sample(2, { sampler: 'ddim', seed: 5, onProgress: () => void steps++ });
    expect(steps).toBe(20); // default DDIM steps: min(50, T)
    expect(a.shape).toEqual([2, 8, 8, 1]);
    const va = values(a);
    expect(Math.min(...va)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...va)).toBeLessThanOrEqual(1);
    const b = await model.sample(2, { sampler: 'ddim', seed: 5 });
    expect(values(b)).toEqual(va);
    const c = await model.sample(2, { sampler: 'ddim', seed: 6 });
    expect(values(c)).not.toEqual(va);
    const d1 = await model.sample(1, { sampler: 'ddpm', numInferenceSteps: 10, seed: 9, imageSize: [8, 16] });
    const d2 = await model.sample(1, { sampler: 'ddpm', numInferenceSteps: 10, seed: 9, imageSize: [8, 16] });
    expect(d1.shape).toEqual([1, 8, 16, 1]);
    expect(values(d2)).toEqual(values(d1));
    tf.dispose([a, b, c, d1, d2]);
    model.dispose();
  });

  it('through the model: a network that outputs ε = 0 gives the DDIM closed form', async () => {
    const model = new DDPM({ ...tiny, dataRange: [-1, 1], clipSample: false });
    // Zero output convolution ⇒ the U-Net predicts exactly 0 whatever its input.
    for (const p of model.unet.convOut.parameters()) p.assign(tf.zerosLike(p));
    const out = await model.sample(2, { sampler: 'ddim', numInferenceSteps: 4, seed: 2, clip: false });
    const first = 15; // leading spacing of 4 steps over T = 20: 15, 10, 5, 0
    const xT = new Generator(2).normalArray(2 * 8 * 8);
    const ab = new DDIMScheduler({ numTrainTimesteps: 20 }).alphasCumprod;
    expectClose(values(out), Array.from(xT, (v) => v / Math.sqrt(ab[first])), 1e-5, 1e-6, 'sample');
    out.dispose();
    model.dispose();
  });

  it('applies classifier-free guidance as u + w·(c − u)', async () => {
    const model = new DDPM({ ...tiny, numClassEmbeds: 3, dataRange: [-1, 1], clipSample: false });
    // One DDIM step at t = 0 (leading spacing): x0 = (x_T − √(1−ᾱ₀)·ε̂)/√ᾱ₀.
    const w = 3;
    const out = await model.sample(2, { sampler: 'ddim', numInferenceSteps: 1, seed: 4, classLabels: [2, 0], guidanceScale: w, clip: false });
    const xT = new Generator(4).normal([2, 8, 8, 1]);
    model.eval();
    const cond = model.forward({ x: xT, timesteps: 0, classLabels: [2, 0] });
    const uncond = model.forward({ x: xT, timesteps: 0 });
    const ab0 = model.scheduler.alphasCumprod[0];
    const expected = tf.tidy(() => {
      const eps = tf.add(uncond, tf.mul(tf.sub(cond, uncond), w));
      return tf.div(tf.sub(xT, tf.mul(eps, Math.sqrt(1 - ab0))), Math.sqrt(ab0));
    });
    expectClose(values(out), values(expected), 1e-4, 1e-5, 'guided sample');
    const plain = await model.sample(2, { sampler: 'ddim', numInferenceSteps: 1, seed: 4, classLabels: [2, 0], clip: false });
    expect(values(plain)).not.toEqual(values(out));
    tf.dispose([out, xT, cond, uncond, expected, plain]);
    model.dispose();
  });

  it('refuses bad requests with clear errors', async () => {
    const model = new DDPM({ ...tiny, sampleSize: null });
    await expect(model.sample(1, { numInferenceSteps: 2 })).rejects.toThrow(/needs an image size/);
    await expect(model.sample(0, { imageSize: 8 })).rejects.toThrow(ValueError);
    await expect(model.sample(1, { imageSize: 7 })).rejects.toThrow(ShapeError);
    await expect(model.sample(1, { imageSize: 8, numInferenceSteps: 0 })).rejects.toThrow(/numInferenceSteps/);
    await expect(model.sample(1, { imageSize: 8, sampler: 'ddim', numInferenceSteps: 21 })).rejects.toThrow(/at most|\[1, 20\]/);
    await expect(model.sample(1, { imageSize: 8, classLabels: 1 })).rejects.toThrow(/unconditional/);
    model.dispose();
  });

  it('leaks no tensors over a sampling run (with guidance and EMA swapping)', async () => {
    const model = new DDPM({ ...tiny, numClassEmbeds: 2 });
    model.enableEma({ decay: 0.9 });
    await expectNoLeak(async () => tf.dispose(await model.sample(2, { sampler: 'ddpm', numInferenceSteps: 5, seed: 1, classLabels: 1, guidanceScale: 2 })), 2);
    await expectNoLeak(async () => tf.dispose(await model.sample(1, { sampler: 'ddim', numInferenceSteps: 5, eta: 1, seed: 1 })), 2);
    model.dispose();
  });
});
