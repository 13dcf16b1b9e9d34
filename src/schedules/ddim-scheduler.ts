import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { seedOption, type Generator, type SeedLike } from '../core/random.js';
import {
  DiffusionScheduler,
  resolveSchedulerConfig,
  type ResolvedSchedulerConfig,
  type SchedulerConfig,
  type SchedulerStepOutput,
} from './scheduler-base.js';
import {
  parseDiffusersSchedulerConfig,
  toDiffusersSchedulerConfig,
  type DiffusersSchedulerConfig,
  type FromDiffusersConfigOptions,
} from './diffusers-config.js';

/** Options of {@link DDIMScheduler}: the shared {@link SchedulerConfig} plus `setAlphaToOne`. */
export interface DDIMSchedulerConfig extends SchedulerConfig {
  /**
   * What ᾱ the last step lands on: 1 (a clean sample; true, the default) or ᾱ₀ (false, as
   * Stable Diffusion's config), since there is no ᾱ₋₁ in the schedule.
   */
  setAlphaToOne?: boolean;
}

/** A {@link DDIMSchedulerConfig} with defaults filled in. */
export interface ResolvedDDIMSchedulerConfig extends ResolvedSchedulerConfig {
  /** See {@link DDIMSchedulerConfig.setAlphaToOne}. */
  setAlphaToOne: boolean;
}

/** Options of {@link DDIMScheduler.step}. */
export interface DDIMStepOptions {
  /** η ∈ [0, 1]: 0 gives deterministic DDIM, 1 the DDPM posterior variance. Default 0. */
  eta?: number;
  /**
   * Recompute ε from the clipped x₀ before forming the direction to x_t (diffusers'
   * `use_clipped_model_output`), which keeps the step consistent when clipping is active. Default false.
   */
  useClippedModelOutput?: boolean;
  /** Where the noise comes from when η > 0 (a seed, a {@link Generator}, or the global generator). */
  seed?: SeedLike;
  /** @deprecated The former name of {@link DDIMStepOptions.seed}; pass `seed`. */
  generator?: SeedLike;
  /** Standard-normal noise to use instead of drawing it when η > 0 (same shape as `sample`; caller-owned). */
  varianceNoise?: tf.Tensor;
}

/**
 * Denoising diffusion implicit models (Song et al. 2021), matching diffusers' `DDIMScheduler`:
 * sample a DDPM-trained model in far fewer steps, deterministically at η = 0.
 *
 * Call {@link DiffusionScheduler.setTimesteps} first, then `step` through `timesteps`. Each step
 * moves to the next chosen timestep ({@link DiffusionScheduler.previousTimestep}); with the default
 * `'leading'` spacing this is exactly diffusers' t − ⌊T/n⌋, while for `'trailing'` / `'linspace'`
 * medvae lands on the chosen timesteps (and on a clean sample after the last one) where diffusers
 * approximates with t − ⌊T/n⌋.
 *
 * @example
 * ```ts
 * const ddim = new DDIMScheduler({ clipSample: false });
 * ddim.setTimesteps(50);
 * let x = new Generator(0).normal([1, 32, 32, 1]);
 * for (const t of ddim.timesteps) {
 *   const eps = unet.forward({ x, timesteps: t });
 *   const out = ddim.step(eps, t, x, { eta: 0 });
 *   x.dispose(); eps.dispose(); out.predOriginalSample.dispose();
 *   x = out.prevSample;
 * }
 * ```
 */
export class DDIMScheduler extends DiffusionScheduler<ResolvedDDIMSchedulerConfig> {
  /** ᾱ used after the last step: 1 if `setAlphaToOne`, else ᾱ₀. */
  readonly finalAlphaCumprod: number;

  /**
   * A scheduler from a diffusers `scheduler_config.json` (its text or parsed object), written by
   * diffusers' DDIMScheduler or by another scheduler class (as diffusers' `from_config` allows): every
   * key DDIMScheduler takes is translated from snake_case; keys it does not take are skipped (or throw,
   * with `{ unknownKeys: 'error' }`); values medvae cannot honour throw a {@link ValueError}.
   *
   * @example
   * ```ts
   * const scheduler = DDIMScheduler.fromDiffusersConfig(await fs.readFile('scheduler/scheduler_config.json', 'utf8'));
   * ```
   */
  static fromDiffusersConfig(json: string | DiffusersSchedulerConfig, options: FromDiffusersConfigOptions = {}): DDIMScheduler {
    return new DDIMScheduler(parseDiffusersSchedulerConfig(json, 'DDIMScheduler', options).config as DDIMSchedulerConfig);
  }

  /**
   * This scheduler's configuration as diffusers' DDIMScheduler writes it (snake_case keys,
   * `_class_name`, `_diffusers_version`); `JSON.stringify(config, null, 2)` is a
   * `scheduler_config.json` that diffusers' `DDIMScheduler.from_config` loads unchanged.
   */
  toDiffusersConfig(): DiffusersSchedulerConfig {
    return toDiffusersSchedulerConfig(this.config, 'DDIMScheduler');
  }

  /** @param config - see {@link DDIMSchedulerConfig}; defaults as diffusers. */
  constructor(config: DDIMSchedulerConfig = {}) {
    super({ ...resolveSchedulerConfig(config), setAlphaToOne: config.setAlphaToOne ?? true });
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.terms.alphasCumprod[0];
  }

  private requireSteps(fn: string): number {
    const n = this.numInferenceSteps;
    if (n === undefined) {
      throw new ValueError(`${fn}: the number of inference steps is not set; call setTimesteps(numInferenceSteps) first.`);
    }
    return n;
  }

  private alphaProd(t: number): number {
    return t >= 0 ? this.terms.alphasCumprod[t] : this.finalAlphaCumprod;
  }

  /**
   * σₜ²/η² of Song et al. eq. 16 between `t` and its previous timestep:
   * (1 − ᾱ_prev)/(1 − ᾱₜ) · (1 − ᾱₜ/ᾱ_prev).
   */
  variance(t: number): number {
    const alphaProdT = this.alphaProd(t);
    const alphaProdPrev = this.alphaProd(this.previousTimestep(t));
    return ((1 - alphaProdPrev) / (1 - alphaProdT)) * (1 - alphaProdT / alphaProdPrev);
  }

  /**
   * One DDIM step (Song et al. eq. 12): x_{t−1} = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σₜ²)·ε̂ + σₜ·z,
   * with σₜ = η·√variance(t) and z added only when η > 0.
   *
   * @param modelOutput - the network's prediction at `timestep` (ε, x₀ or v per `predictionType`).
   * @param timestep - the current t, an entry of {@link DiffusionScheduler.timesteps}.
   * @param sample - x_t.
   * @returns new tensors `{ prevSample, predOriginalSample }`.
   */
  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options: DDIMStepOptions = {}): SchedulerStepOutput {
    const fn = 'DDIMScheduler.step';
    const { eta = 0, useClippedModelOutput = false } = options;
    this.assertTimestep(timestep, fn);
    this.requireSteps(fn);
    this.assertStepInputs(modelOutput, sample, fn);
    if (!(eta >= 0) || !Number.isFinite(eta)) throw new ValueError(`${fn}: eta must be a finite number ≥ 0, but got ${eta}.`);

    const alphaProdT = this.alphaProd(timestep);
    const alphaProdPrev = this.alphaProd(this.previousTimestep(timestep));
    const sqrtA = Math.sqrt(alphaProdT);
    const sqrtB = Math.sqrt(1 - alphaProdT);
    const stdDev = eta * Math.sqrt(this.variance(timestep));
    const directionCoeff = Math.sqrt(Math.max(1 - alphaProdPrev - stdDev * stdDev, 0));

    return tf.tidy(() => {
      const predOriginalSample = this.predictOriginalSample(modelOutput, sample, alphaProdT);
      let predEpsilon: tf.Tensor;
      if (useClippedModelOutput || this.config.predictionType === 'sample') {
        // ε̂ that is consistent with x̂₀: (x_t − √ᾱ·x̂₀)/√(1−ᾱ).
        const x0ForEps = useClippedModelOutput ? predOriginalSample : modelOutput;
        predEpsilon = tf.div(tf.sub(sample, tf.mul(x0ForEps, sqrtA)), sqrtB);
      } else if (this.config.predictionType === 'v_prediction') {
        predEpsilon = tf.add(tf.mul(modelOutput, sqrtA), tf.mul(sample, sqrtB));
      } else {
        predEpsilon = modelOutput;
      }
      let prevSample = tf.add(tf.mul(predOriginalSample, Math.sqrt(alphaProdPrev)), tf.mul(predEpsilon, directionCoeff));
      if (eta > 0) {
        const noise = this.stepNoise(sample.shape, options.varianceNoise, seedOption(options, fn), fn);
        prevSample = tf.add(prevSample, tf.mul(noise, stdDev));
      }
      return { prevSample, predOriginalSample };
    });
  }
}
