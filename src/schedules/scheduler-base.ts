import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { toGenerator, type SeedLike } from '../core/random.js';
import { assertFloat, assertSameShape, formatShape } from '../core/shape.js';
import { BETA_SCHEDULE_NAMES, betaSchedule, type BetaScheduleName } from './beta-schedules.js';
import { scheduleTerms, type ScheduleTerms } from './schedule-terms.js';
import { inferenceTimesteps, TIMESTEP_SPACINGS, type TimestepSpacing } from './timestep-spacing.js';
import { rescaleZeroTerminalSnr } from './zero-terminal-snr.js';

/**
 * What the denoising network predicts (diffusers' `prediction_type`): the noise ε (`'epsilon'`,
 * Ho et al. 2020), the clean sample x₀ (`'sample'`), or the velocity v = √ᾱ ε − √(1−ᾱ) x₀
 * (`'v_prediction'`, Salimans & Ho 2022).
 */
export type PredictionType = 'epsilon' | 'sample' | 'v_prediction';

/** Every {@link PredictionType}. */
export const PREDICTION_TYPES: readonly PredictionType[] = ['epsilon', 'sample', 'v_prediction'];

/**
 * Options shared by {@link DDPMScheduler} and {@link DDIMScheduler}, named and defaulted as in
 * diffusers (camelCase), so a diffusers `scheduler_config.json` translates key by key.
 */
export interface SchedulerConfig {
  /** T, the number of diffusion steps used in training. Default 1000. */
  numTrainTimesteps?: number;
  /** β at t = 0 for the linear-type schedules. Default 1e-4 (as diffusers, whatever the schedule). */
  betaStart?: number;
  /** β at t = T − 1 for the linear-type schedules. Default 0.02. */
  betaEnd?: number;
  /** Which β schedule to build; see {@link BetaScheduleName}. Default `'linear'`. */
  betaSchedule?: BetaScheduleName;
  /** Explicit betas (length T), overriding `betaSchedule`, `betaStart` and `betaEnd`. */
  trainedBetas?: ArrayLike<number> | null;
  /** Clamp the predicted x₀ to ±`clipSampleRange` at each step; right for images scaled to [−1, 1], wrong for latents. Default true. */
  clipSample?: boolean;
  /** Bound used by `clipSample`. Default 1. */
  clipSampleRange?: number;
  /** What the model predicts; see {@link PredictionType}. Default `'epsilon'`. */
  predictionType?: PredictionType;
  /** How `setTimesteps` spreads inference steps; see {@link TimestepSpacing}. Default `'leading'`. */
  timestepSpacing?: TimestepSpacing;
  /** Offset added to `'leading'` timesteps (Stable Diffusion uses 1). Default 0. */
  stepsOffset?: number;
  /** Rescale betas to zero terminal SNR ({@link rescaleZeroTerminalSnr}). Default false. */
  rescaleBetasZeroSnr?: boolean;
}

/** A {@link SchedulerConfig} with every default filled in, as stored on a scheduler's `config`. */
export interface ResolvedSchedulerConfig {
  /** See {@link SchedulerConfig.numTrainTimesteps}. */
  numTrainTimesteps: number;
  /** See {@link SchedulerConfig.betaStart}. */
  betaStart: number;
  /** See {@link SchedulerConfig.betaEnd}. */
  betaEnd: number;
  /** See {@link SchedulerConfig.betaSchedule}. */
  betaSchedule: BetaScheduleName;
  /** See {@link SchedulerConfig.trainedBetas}; `null` when the schedule is built from its name. */
  trainedBetas: readonly number[] | null;
  /** See {@link SchedulerConfig.clipSample}. */
  clipSample: boolean;
  /** See {@link SchedulerConfig.clipSampleRange}. */
  clipSampleRange: number;
  /** See {@link SchedulerConfig.predictionType}. */
  predictionType: PredictionType;
  /** See {@link SchedulerConfig.timestepSpacing}. */
  timestepSpacing: TimestepSpacing;
  /** See {@link SchedulerConfig.stepsOffset}. */
  stepsOffset: number;
  /** See {@link SchedulerConfig.rescaleBetasZeroSnr}. */
  rescaleBetasZeroSnr: boolean;
}

/**
 * What a scheduler's `step` returns; both tensors belong to the caller. (A type alias rather than
 * an interface so the whole result can be passed to `tf.dispose`.)
 */
export type SchedulerStepOutput = {
  /** x_{t−1}: the sample to feed the model at the next (less noisy) timestep. */
  prevSample: tf.Tensor;
  /** The scheduler's estimate of the clean sample x₀ at this step (after clipping, if enabled). */
  predOriginalSample: tf.Tensor;
};

/**
 * Per-sample timesteps: a rank-0/1 int tensor (read back to the host; it is tiny), an array, or
 * one number for the whole batch.
 */
export type TimestepsLike = tf.Tensor | ArrayLike<number> | number;

function oneOf<T extends string>(value: T, allowed: readonly T[], name: string): T {
  if (!allowed.includes(value)) {
    throw new ValueError(`Unknown ${name} ${JSON.stringify(value)}. Use one of ${allowed.map((a) => `'${a}'`).join(', ')}.`);
  }
  return value;
}

/** Fills defaults and validates a {@link SchedulerConfig}; every bad value throws a {@link ValueError}. */
export function resolveSchedulerConfig(config: SchedulerConfig = {}): ResolvedSchedulerConfig {
  const r: ResolvedSchedulerConfig = {
    numTrainTimesteps: config.numTrainTimesteps ?? 1000,
    betaStart: config.betaStart ?? 1e-4,
    betaEnd: config.betaEnd ?? 0.02,
    betaSchedule: config.betaSchedule ?? 'linear',
    trainedBetas: config.trainedBetas ? Array.from(config.trainedBetas) : null,
    clipSample: config.clipSample ?? true,
    clipSampleRange: config.clipSampleRange ?? 1,
    predictionType: config.predictionType ?? 'epsilon',
    timestepSpacing: config.timestepSpacing ?? 'leading',
    stepsOffset: config.stepsOffset ?? 0,
    rescaleBetasZeroSnr: config.rescaleBetasZeroSnr ?? false,
  };
  if (!Number.isInteger(r.numTrainTimesteps) || r.numTrainTimesteps < 2) {
    throw new ValueError(`numTrainTimesteps must be an integer ≥ 2, but got ${r.numTrainTimesteps}.`);
  }
  oneOf(r.betaSchedule, BETA_SCHEDULE_NAMES, 'betaSchedule');
  oneOf(r.predictionType, PREDICTION_TYPES, 'predictionType');
  oneOf(r.timestepSpacing, TIMESTEP_SPACINGS, 'timestepSpacing');
  if (!(r.clipSampleRange > 0)) throw new ValueError(`clipSampleRange must be > 0, but got ${r.clipSampleRange}.`);
  if (!Number.isInteger(r.stepsOffset) || r.stepsOffset < 0) {
    throw new ValueError(`stepsOffset must be a non-negative integer, but got ${r.stepsOffset}.`);
  }
  if (r.trainedBetas && r.trainedBetas.length !== r.numTrainTimesteps) {
    throw new ValueError(
      `trainedBetas has ${r.trainedBetas.length} values but numTrainTimesteps is ${r.numTrainTimesteps}; they must agree.`,
    );
  }
  return r;
}

/** The betas a resolved config describes (trained, or built by name, then optionally zero-SNR rescaled). */
function betasOf(c: ResolvedSchedulerConfig): Float64Array {
  const betas = c.trainedBetas
    ? Float64Array.from(c.trainedBetas)
    : betaSchedule(c.betaSchedule, c.numTrainTimesteps, { betaStart: c.betaStart, betaEnd: c.betaEnd });
  return c.rescaleBetasZeroSnr ? rescaleZeroTerminalSnr(betas) : betas;
}

/**
 * The part DDPM and DDIM share: the β schedule and its float64 {@link ScheduleTerms}, inference
 * timesteps, the forward process (`addNoise`, `getVelocity`) and turning a model output into x₀.
 * Schedulers hold no tensors, so they need no `dispose`.
 */
export abstract class DiffusionScheduler<C extends ResolvedSchedulerConfig = ResolvedSchedulerConfig> {
  /** The resolved configuration (every default filled in). */
  readonly config: Readonly<C>;
  /** All per-timestep coefficients, float64, computed once. */
  readonly terms: ScheduleTerms;
  private currentTimesteps: Int32Array;
  private inferenceSteps: number | undefined;

  protected constructor(config: C) {
    this.config = Object.freeze({ ...config });
    this.terms = scheduleTerms(betasOf(config));
    this.currentTimesteps = Int32Array.from({ length: config.numTrainTimesteps }, (_, i) => config.numTrainTimesteps - 1 - i);
    this.inferenceSteps = undefined;
  }

  /** βₜ (float64). */
  get betas(): Float64Array {
    return this.terms.betas;
  }

  /** ᾱₜ (float64). */
  get alphasCumprod(): Float64Array {
    return this.terms.alphasCumprod;
  }

  /**
   * The timesteps a sampling loop visits, in descending order: all T before
   * {@link DiffusionScheduler.setTimesteps} is called, then the chosen subset. A copy, so editing it changes nothing.
   */
  get timesteps(): Int32Array {
    return this.currentTimesteps.slice();
  }

  /** The number of sampling steps set by {@link DiffusionScheduler.setTimesteps}, or `undefined` before. */
  get numInferenceSteps(): number | undefined {
    return this.inferenceSteps;
  }

  /**
   * Chooses the `numInferenceSteps` timesteps to sample with, spaced by `config.timestepSpacing`
   * exactly as diffusers does. Throws a {@link ValueError} when it exceeds `numTrainTimesteps`.
   */
  setTimesteps(numInferenceSteps: number): void {
    const { numTrainTimesteps, timestepSpacing, stepsOffset } = this.config;
    this.currentTimesteps = inferenceTimesteps(numTrainTimesteps, numInferenceSteps, timestepSpacing, stepsOffset);
    this.inferenceSteps = numInferenceSteps;
  }

  /**
   * The timestep sampling moves to from `t`: the next entry of {@link DiffusionScheduler.timesteps}
   * once `setTimesteps` was called (−1 after the last one, meaning "clean sample"), else t − 1.
   * This is current diffusers' `DDPMScheduler.previous_timestep`, and the sub-sequence τ of Song
   * et al. for DDIM. (diffusers' DDIM uses t − ⌊T/n⌋ instead, which is the same for `'leading'`
   * spacing but skips off the chosen timesteps for `'trailing'` and `'linspace'`.) Throws a
   * {@link ValueError} for a timestep that is not among the inference timesteps.
   */
  previousTimestep(t: number): number {
    const fn = 'previousTimestep';
    this.assertTimestep(t, fn);
    if (this.inferenceSteps === undefined) return t - 1;
    const ts = this.currentTimesteps;
    const index = ts.indexOf(t);
    if (index < 0) {
      throw new ValueError(
        `${fn}: timestep ${t} is not one of the ${ts.length} inference timesteps set by setTimesteps(${this.inferenceSteps}). ` +
          `Step through scheduler.timesteps.`,
      );
    }
    return index === ts.length - 1 ? -1 : ts[index + 1];
  }

  /**
   * The forward process q(xₜ | x₀): √ᾱₜ·x₀ + √(1−ᾱₜ)·noise, with one timestep per sample
   * broadcast over the remaining axes (NHWC or any layout with the batch first).
   *
   * @param originalSamples - x₀, float32, batch first.
   * @param noise - ε, same shape.
   * @param timesteps - one per sample, or one for all.
   */
  addNoise(originalSamples: tf.Tensor, noise: tf.Tensor, timesteps: TimestepsLike): tf.Tensor {
    return this.mixPerSample(originalSamples, noise, timesteps, 'addNoise', 'originalSamples', 'noise', (a, b) => [a, b]);
  }

  /**
   * The velocity target for `'v_prediction'` training (Salimans & Ho 2022):
   * v = √ᾱₜ·noise − √(1−ᾱₜ)·sample, per-sample timesteps as in {@link DiffusionScheduler.addNoise}.
   */
  getVelocity(sample: tf.Tensor, noise: tf.Tensor, timesteps: TimestepsLike): tf.Tensor {
    return this.mixPerSample(sample, noise, timesteps, 'getVelocity', 'sample', 'noise', (a, b) => [-b, a]);
  }

  /** c₁·x + c₂·y where (c₁, c₂) = coeffs(√ᾱₜ, √(1−ᾱₜ)) per sample. */
  private mixPerSample(
    x: tf.Tensor,
    y: tf.Tensor,
    timesteps: TimestepsLike,
    fn: string,
    nameX: string,
    nameY: string,
    coeffs: (sqrtAlpha: number, sqrtOneMinus: number) => [number, number],
  ): tf.Tensor {
    assertFloat(x, `${fn} ${nameX}`);
    assertFloat(y, `${fn} ${nameY}`);
    assertSameShape(x, y, `${fn} ${nameX}`, nameY);
    if (x.rank < 1) throw new ShapeError(`${fn}: ${nameX} must have a batch axis first, but got a scalar.`);
    const ts = this.timestepList(timesteps, fn);
    const batch = x.shape[0];
    if (ts.length !== 1 && ts.length !== batch) {
      throw new ShapeError(
        `${fn}: got ${ts.length} timesteps for a batch of ${batch} (${nameX} shape ${formatShape(x.shape)}); pass one per sample or a single one.`,
      );
    }
    const c1 = new Float32Array(ts.length);
    const c2 = new Float32Array(ts.length);
    ts.forEach((t, i) => {
      [c1[i], c2[i]] = coeffs(this.terms.sqrtAlphasCumprod[t], this.terms.sqrtOneMinusAlphasCumprod[t]);
    });
    const bshape = [ts.length, ...new Array<number>(x.rank - 1).fill(1)];
    return tf.tidy(() => tf.add(tf.mul(x, tf.tensor(c1, bshape)), tf.mul(y, tf.tensor(c2, bshape))));
  }

  /** Reads and validates per-sample timesteps into a plain array of integers in [0, T). */
  protected timestepList(timesteps: TimestepsLike, fn: string): number[] {
    let list: number[];
    if (timesteps instanceof tf.Tensor) {
      if (timesteps.rank > 1) {
        throw new ShapeError(`${fn}: timesteps must be a scalar or 1-D tensor, but got shape ${formatShape(timesteps.shape)}.`);
      }
      list = Array.from(timesteps.dataSync());
    } else if (typeof timesteps === 'number') {
      list = [timesteps];
    } else {
      list = Array.from(timesteps);
    }
    if (list.length === 0) throw new ValueError(`${fn}: timesteps is empty.`);
    for (const t of list) this.assertTimestep(t, fn);
    return list;
  }

  /** Throws a {@link ValueError} unless `t` is an integer timestep in [0, T). */
  protected assertTimestep(t: number, fn: string): void {
    const T = this.config.numTrainTimesteps;
    if (!Number.isInteger(t) || t < 0 || t >= T) {
      throw new ValueError(`${fn}: timestep ${t} is out of range; timesteps are integers in [0, ${T - 1}] (numTrainTimesteps = ${T}).`);
    }
  }

  /** Checks the operands of a `step` call. */
  protected assertStepInputs(modelOutput: tf.Tensor, sample: tf.Tensor, fn: string, channelFactor = 1): void {
    assertFloat(modelOutput, `${fn} modelOutput`);
    assertFloat(sample, `${fn} sample`);
    const expected = sample.shape.map((d, i) => (i === sample.rank - 1 ? d * channelFactor : d));
    const same = modelOutput.rank === sample.rank && modelOutput.shape.every((d, i) => d === expected[i]);
    if (!same) {
      throw new ShapeError(
        `${fn}: modelOutput must have shape ${formatShape(expected)} to match sample ${formatShape(sample.shape)}` +
          `${channelFactor > 1 ? ` (twice the channels: a learned variance is predicted alongside)` : ''}, but got ${formatShape(modelOutput.shape)}.`,
      );
    }
  }

  /**
   * x₀ from the model output at ᾱₜ = `alphaProdT`, per `config.predictionType`, then clipped to
   * ±`clipSampleRange` if `clipSample` (call inside a tidy).
   */
  protected predictOriginalSample(modelOutput: tf.Tensor, sample: tf.Tensor, alphaProdT: number): tf.Tensor {
    const sqrtA = Math.sqrt(alphaProdT);
    const sqrtB = Math.sqrt(1 - alphaProdT);
    let x0: tf.Tensor;
    switch (this.config.predictionType) {
      case 'epsilon':
        // (x − √(1−ᾱ)·ε)/√ᾱ, divided last as diffusers does: at ᾱ = 0 (zero-terminal-SNR betas at
        // t = T − 1) that gives ±inf, clipped to ±clipSampleRange, where multiplying by 1/√ᾱ first
        // would give inf − inf = NaN.
        x0 = tf.div(tf.sub(sample, tf.mul(modelOutput, sqrtB)), sqrtA);
        break;
      case 'sample':
        // A copy: the caller disposes the returned x₀ and must not free its own model output.
        x0 = tf.clone(modelOutput);
        break;
      case 'v_prediction':
        x0 = tf.sub(tf.mul(sample, sqrtA), tf.mul(modelOutput, sqrtB));
        break;
    }
    if (this.config.clipSample) {
      const r = this.config.clipSampleRange;
      x0 = tf.clipByValue(x0, -r, r);
    }
    return x0;
  }

  /** The noise a step adds: `varianceNoise` when given (checked against `shape`), else drawn from `generator`. */
  protected stepNoise(shape: readonly number[], varianceNoise: tf.Tensor | undefined, generator: SeedLike, fn: string): tf.Tensor {
    if (varianceNoise) {
      assertFloat(varianceNoise, `${fn} varianceNoise`);
      if (varianceNoise.rank !== shape.length || varianceNoise.shape.some((d, i) => d !== shape[i])) {
        throw new ShapeError(`${fn}: varianceNoise must have the sample's shape ${formatShape(shape)}, but got ${formatShape(varianceNoise.shape)}.`);
      }
      return varianceNoise;
    }
    return toGenerator(generator).normal(shape);
  }
}
