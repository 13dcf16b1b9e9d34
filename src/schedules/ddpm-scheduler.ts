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

/**
 * The variance of the reverse step p(x_{t−1} | x_t) (diffusers' `variance_type`):
 * - `'fixed_small'`: the true posterior variance β̃ₜ (Ho et al.'s lower bound; best with few steps);
 * - `'fixed_large'`: βₜ (Ho et al.'s upper bound);
 * - `'fixed_small_log'` / `'fixed_large_log'`: the same two, computed in log space (GLIDE);
 * - `'learned'`: the model outputs the variance in a second half of its channels;
 * - `'learned_range'`: the model outputs v ∈ [−1, 1] and the log-variance interpolates
 *   between log β̃ₜ and log βₜ (Nichol & Dhariwal 2021).
 */
export type DDPMVarianceType = 'fixed_small' | 'fixed_small_log' | 'fixed_large' | 'fixed_large_log' | 'learned' | 'learned_range';

/** Every {@link DDPMVarianceType}. */
export const DDPM_VARIANCE_TYPES: readonly DDPMVarianceType[] = [
  'fixed_small', 'fixed_small_log', 'fixed_large', 'fixed_large_log', 'learned', 'learned_range',
];

/** Options of {@link DDPMScheduler}: the shared {@link SchedulerConfig} plus the variance type. */
export interface DDPMSchedulerConfig extends SchedulerConfig {
  /** See {@link DDPMVarianceType}. Default `'fixed_small'`. */
  varianceType?: DDPMVarianceType;
}

/** A {@link DDPMSchedulerConfig} with defaults filled in. */
export interface ResolvedDDPMSchedulerConfig extends ResolvedSchedulerConfig {
  /** See {@link DDPMSchedulerConfig.varianceType}. */
  varianceType: DDPMVarianceType;
}

/** Options of {@link DDPMScheduler.step}. */
export interface DDPMStepOptions {
  /** Where the step's Gaussian noise comes from (a seed, a {@link Generator}, or the global generator). */
  seed?: SeedLike;
  /** @deprecated The former name of {@link DDPMStepOptions.seed}; pass `seed`. */
  generator?: SeedLike;
  /**
   * The standard-normal noise to use instead of drawing it (same shape as `sample`). Lets tests
   * and reproducibility studies fix the randomness; it stays owned by the caller.
   */
  varianceNoise?: tf.Tensor;
}

/**
 * Ancestral sampling of Ho et al. (2020), "Denoising Diffusion Probabilistic Models", matching
 * diffusers' `DDPMScheduler`: the β schedule, the forward process for training
 * ({@link DiffusionScheduler.addNoise}) and the reverse step x_t → x_{t−1}.
 *
 * Coefficients are kept in float64 on the host; tensors are float32, batch first (NHWC).
 * Noise for the reverse step comes from medvae's seeded {@link Generator}, and none is added at t = 0.
 *
 * @example
 * ```ts
 * const scheduler = new DDPMScheduler({ numTrainTimesteps: 1000, betaSchedule: 'linear' });
 * const g = new Generator(0);
 * let x = g.normal([1, 32, 32, 1]);
 * for (const t of scheduler.timesteps) {
 *   const eps = unet.forward({ x, timesteps: t });
 *   const { prevSample, predOriginalSample } = scheduler.step(eps, t, x, { seed: g });
 *   x.dispose(); eps.dispose(); predOriginalSample.dispose();
 *   x = prevSample;
 * }
 * ```
 */
export class DDPMScheduler extends DiffusionScheduler<ResolvedDDPMSchedulerConfig> {
  /**
   * A scheduler from a diffusers `scheduler_config.json` (its text or parsed object), written by
   * diffusers' DDPMScheduler or by another scheduler class (as diffusers' `from_config` allows): every
   * key DDPMScheduler takes is translated from snake_case; keys it does not take are skipped (or throw,
   * with `{ unknownKeys: 'error' }`); values medvae cannot honour throw a {@link ValueError}.
   *
   * @example
   * ```ts
   * const scheduler = DDPMScheduler.fromDiffusersConfig(await fs.readFile('scheduler/scheduler_config.json', 'utf8'));
   * ```
   */
  static fromDiffusersConfig(json: string | DiffusersSchedulerConfig, options: FromDiffusersConfigOptions = {}): DDPMScheduler {
    return new DDPMScheduler(parseDiffusersSchedulerConfig(json, 'DDPMScheduler', options).config as DDPMSchedulerConfig);
  }

  /**
   * This scheduler's configuration as diffusers' DDPMScheduler writes it (snake_case keys,
   * `_class_name`, `_diffusers_version`); `JSON.stringify(config, null, 2)` is a
   * `scheduler_config.json` that diffusers' `DDPMScheduler.from_config` loads unchanged.
   */
  toDiffusersConfig(): DiffusersSchedulerConfig {
    return toDiffusersSchedulerConfig(this.config, 'DDPMScheduler');
  }

  /** @param config - see {@link DDPMSchedulerConfig}; defaults as diffusers. */
  constructor(config: DDPMSchedulerConfig = {}) {
    const varianceType = config.varianceType ?? 'fixed_small';
    if (!DDPM_VARIANCE_TYPES.includes(varianceType)) {
      throw new ValueError(
        `Unknown varianceType ${JSON.stringify(varianceType)}. Use one of ${DDPM_VARIANCE_TYPES.map((v) => `'${v}'`).join(', ')}.`,
      );
    }
    super({ ...resolveSchedulerConfig(config), varianceType });
  }

  /** ᾱ at `t`, with ᾱ₋₁ = 1. */
  private alphaProd(t: number): number {
    return t >= 0 ? this.terms.alphasCumprod[t] : 1;
  }

  /**
   * The variance of the reverse step at `t` for the fixed variance types (from t to its
   * {@link DiffusionScheduler.previousTimestep}, so it accounts for skipped steps):
   * β̃ = (1 − ᾱ_prev)/(1 − ᾱₜ)·βₜ' clamped at 1e-20 for the `small` types, βₜ' = 1 − ᾱₜ/ᾱ_prev for
   * the `large` types. The `_log` variants give the same value (diffusers' `fixed_large_log` takes
   * a square root of a logarithm and yields NaN; medvae uses GLIDE's intended exp(½·log βₜ') as the
   * standard deviation instead). Throws for the learned types, whose variance comes from the model.
   */
  variance(t: number): number {
    const { small, large } = this.fixedVariances(t);
    switch (this.config.varianceType) {
      case 'fixed_small':
        return small;
      case 'fixed_small_log':
        return Math.exp(Math.log(small));
      case 'fixed_large':
        return large;
      case 'fixed_large_log':
        return Math.exp(Math.log(large));
      default:
        throw new ValueError(`DDPMScheduler.variance: varianceType '${this.config.varianceType}' is predicted by the model; it has no fixed value.`);
    }
  }

  /** β̃ (clamped) and β' between `t` and its previous timestep. */
  private fixedVariances(t: number): { small: number; large: number } {
    const prevT = this.previousTimestep(t);
    const alphaProdT = this.alphaProd(t);
    const alphaProdPrev = this.alphaProd(prevT);
    const currentBeta = 1 - alphaProdT / alphaProdPrev;
    const small = Math.max(((1 - alphaProdPrev) / (1 - alphaProdT)) * currentBeta, 1e-20);
    return { small, large: currentBeta };
  }

  /**
   * One reverse step x_t → x_{t−1}: predicts x₀ from the model output (clipped if `clipSample`),
   * forms the posterior mean (Ho et al. eq. 7) and adds σₜ·z with z ~ N(0, I) except at t = 0.
   *
   * @param modelOutput - the network's prediction at `timestep`, shaped like `sample` (twice the
   *   channels, last axis, for the learned variance types: prediction first, variance second).
   * @param timestep - the current t, an entry of {@link DiffusionScheduler.timesteps}.
   * @param sample - x_t.
   * @returns new tensors `{ prevSample, predOriginalSample }`.
   */
  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options: DDPMStepOptions = {}): SchedulerStepOutput {
    const fn = 'DDPMScheduler.step';
    this.assertTimestep(timestep, fn);
    const { varianceType } = this.config;
    const learned = varianceType === 'learned' || varianceType === 'learned_range';
    this.assertStepInputs(modelOutput, sample, fn, learned ? 2 : 1);

    const t = timestep;
    const prevT = this.previousTimestep(t);
    const alphaProdT = this.alphaProd(t);
    const alphaProdPrev = this.alphaProd(prevT);
    const betaProdT = 1 - alphaProdT;
    const betaProdPrev = 1 - alphaProdPrev;
    const currentAlpha = alphaProdT / alphaProdPrev;
    const currentBeta = 1 - currentAlpha;
    const x0Coeff = (Math.sqrt(alphaProdPrev) * currentBeta) / betaProdT;
    const xtCoeff = (Math.sqrt(currentAlpha) * betaProdPrev) / betaProdT;

    return tf.tidy(() => {
      let prediction = modelOutput;
      let predictedVariance: tf.Tensor | undefined;
      if (learned) {
        [prediction, predictedVariance] = tf.split(modelOutput, 2, modelOutput.rank - 1);
      }
      const predOriginalSample = this.predictOriginalSample(prediction, sample, alphaProdT);
      let prevSample = tf.add(tf.mul(predOriginalSample, x0Coeff), tf.mul(sample, xtCoeff));
      if (t > 0) {
        const noise = this.stepNoise(sample.shape, options.varianceNoise, seedOption(options, fn), fn);
        let std: tf.Tensor | number;
        if (varianceType === 'learned' && predictedVariance) {
          std = tf.sqrt(predictedVariance);
        } else if (varianceType === 'learned_range' && predictedVariance) {
          const { small, large } = this.fixedVariances(t);
          const frac = tf.div(tf.add(predictedVariance, 1), 2);
          const logVar = tf.add(tf.mul(frac, Math.log(large)), tf.mul(tf.sub(1, frac), Math.log(small)));
          std = tf.exp(tf.mul(logVar, 0.5));
        } else {
          std = Math.sqrt(this.variance(t));
        }
        prevSample = tf.add(prevSample, tf.mul(noise, std));
      }
      return { prevSample, predOriginalSample };
    });
  }
}
