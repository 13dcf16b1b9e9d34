import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../../core/errors.js';
import { seedOption, toGenerator, type SeedLike } from '../../core/random.js';
import { assertFloat, formatShape } from '../../core/shape.js';
import { DDIMScheduler } from '../../schedules/ddim-scheduler.js';
import type { DDPMScheduler } from '../../schedules/ddpm-scheduler.js';

/**
 * The network seen by a sampler: the model output (ε, v or x₀, per the scheduler's
 * `predictionType`) for the batch `x` at timestep `t`. It returns a new tensor the sampler owns
 * (and disposes); it must not dispose `x`.
 */
export type Denoiser = (x: tf.Tensor4D, t: number) => tf.Tensor;

/** What a sampler reports after each step. */
export interface SamplingProgress {
  /** Steps done (1 … total). */
  step: number;
  /** Number of steps in the run. */
  total: number;
  /** The timestep just denoised. */
  timestep: number;
}

/** Options of {@link diffusionSample}. */
export interface DiffusionSampleOptions {
  /**
   * The scheduler whose reverse step is used: a {@link DDPMScheduler} (ancestral sampling) or a
   * {@link DDIMScheduler}. Its timesteps are set here, so give one that nothing else is using.
   */
  scheduler: DDPMScheduler | DDIMScheduler;
  /** Sampling steps (≥ 1, at most the scheduler's `numTrainTimesteps`). */
  numInferenceSteps: number;
  /** Shape of the batch `[n, H, W, C]`. */
  shape: readonly [number, number, number, number];
  /**
   * Where randomness comes from: x_T is drawn first (`normal(shape)`), then the noise of each
   * stochastic step in order. Same seed, same samples.
   */
  seed?: SeedLike;
  /** @deprecated The former name of {@link DiffusionSampleOptions.seed}; pass `seed`. */
  generator?: SeedLike;
  /** DDIM's η (0 = deterministic). Ignored by DDPM. Default 0. */
  eta?: number;
  /** x_T to start from instead of drawing it (shape `shape`; stays owned by the caller). */
  initialNoise?: tf.Tensor;
  /** Called after every step (awaited when it returns a promise). */
  onProgress?: (progress: SamplingProgress) => void | Promise<void>;
}

/**
 * The reverse diffusion loop shared by every diffusion model in medvae: draws x_T ~ N(0, I) and
 * steps it through the scheduler's timesteps with the `denoise` network, returning the final
 * sample x₀ in the model's range (usually [−1, 1]; the caller maps it back to data units).
 *
 * Holds at most a few batch-sized tensors at a time: each step's inputs are freed as soon as the
 * next sample exists.
 *
 * @example
 * ```ts
 * const x0 = await diffusionSample((x, t) => unet.forward({ x, timesteps: t }), {
 *   scheduler: new DDIMScheduler({ numTrainTimesteps: 1000 }), numInferenceSteps: 50,
 *   shape: [16, 32, 32, 1], seed: 0,
 * });
 * ```
 */
export async function diffusionSample(denoise: Denoiser, options: DiffusionSampleOptions): Promise<tf.Tensor4D> {
  const { scheduler, numInferenceSteps, shape } = options;
  const T = scheduler.config.numTrainTimesteps;
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > T) {
    throw new ValueError(
      `numInferenceSteps must be an integer in [1, ${T}] (the model was trained on ${T} timesteps), but got ${numInferenceSteps}.`,
    );
  }
  if (shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ShapeError(`diffusionSample shape must be [n, H, W, C] with positive integers, but got ${formatShape(shape)}.`);
  }
  const eta = options.eta ?? 0;
  if (!(eta >= 0) || !Number.isFinite(eta)) throw new ValueError(`eta must be a finite number ≥ 0, but got ${eta}.`);
  const generator = toGenerator(seedOption(options, 'diffusionSample'));
  let x: tf.Tensor4D;
  if (options.initialNoise) {
    assertFloat(options.initialNoise, 'diffusionSample initialNoise');
    if (options.initialNoise.shape.join(',') !== shape.join(',')) {
      throw new ShapeError(`diffusionSample initialNoise must have shape ${formatShape(shape)}, but got ${formatShape(options.initialNoise.shape)}.`);
    }
    x = tf.clone(options.initialNoise) as tf.Tensor4D;
  } else {
    x = generator.normal(shape) as tf.Tensor4D;
  }
  scheduler.setTimesteps(numInferenceSteps);
  const timesteps = scheduler.timesteps;
  try {
    for (let i = 0; i < timesteps.length; i++) {
      const t = timesteps[i];
      const output = denoise(x, t);
      let next: tf.Tensor;
      try {
        const out = scheduler instanceof DDIMScheduler
          ? scheduler.step(output, t, x, { eta, seed: generator })
          : scheduler.step(output, t, x, { seed: generator });
        out.predOriginalSample.dispose();
        next = out.prevSample;
      } finally {
        output.dispose();
      }
      x.dispose();
      x = next as tf.Tensor4D;
      await options.onProgress?.({ step: i + 1, total: timesteps.length, timestep: t });
    }
  } catch (err) {
    x.dispose();
    throw err;
  }
  return x;
}

/** A data range `[low, high]` (e.g. `[0, 1]` for images read as floats). */
export type DataRange = readonly [number, number];

function checkRange(range: DataRange, fn: string): void {
  const [lo, hi] = range;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) {
    throw new ValueError(`${fn}: dataRange must be [low, high] with finite low < high, but got [${lo}, ${hi}].`);
  }
}

/**
 * Maps data in `dataRange` (default [0, 1]) linearly onto [−1, 1], the range DDPM trains in: the
 * noise added by the forward process has unit variance, so the data must be on a comparable scale,
 * and `clipSample` clamps predictions to ±1.
 */
export function toDiffusionRange(x: tf.Tensor, dataRange: DataRange = [0, 1]): tf.Tensor {
  checkRange(dataRange, 'toDiffusionRange');
  const [lo, hi] = dataRange;
  return tf.tidy(() => tf.sub(tf.mul(tf.sub(x, lo), 2 / (hi - lo)), 1));
}

/**
 * Maps samples from [−1, 1] back to `dataRange` (default [0, 1]), clamping to it when `clip`
 * (default true): the inverse of {@link toDiffusionRange}.
 */
export function fromDiffusionRange(x: tf.Tensor, dataRange: DataRange = [0, 1], clip = true): tf.Tensor {
  checkRange(dataRange, 'fromDiffusionRange');
  const [lo, hi] = dataRange;
  return tf.tidy(() => {
    const y = tf.add(tf.mul(tf.add(x, 1), (hi - lo) / 2), lo);
    return clip ? tf.clipByValue(y, lo, hi) : y;
  });
}
