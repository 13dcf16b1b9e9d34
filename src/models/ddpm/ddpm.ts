import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../../core/errors.js';
import { variableGrads } from '../../core/gradients.js';
import { Module, type StateDict } from '../../core/module.js';
import { Generator, seedOption, toGenerator, type SeedLike } from '../../core/random.js';
import { assertFloat, assertRank, formatShape } from '../../core/shape.js';
import { DataLoader } from '../../data/data-loader.js';
import type { Dataset } from '../../data/dataset.js';
import type { Batch, Sample } from '../../data/sample.js';
import { readConfig, type ConfigError } from '../../io/config-schema.js';
import { SavableModel } from '../../io/savable-model.js';
import type { ModelLoadContext } from '../../io/saved-model.js';
import { BETA_SCHEDULE_NAMES, type BetaScheduleName } from '../../schedules/beta-schedules.js';
import { DDIMScheduler } from '../../schedules/ddim-scheduler.js';
import { DDPMScheduler, type DDPMSchedulerConfig } from '../../schedules/ddpm-scheduler.js';
import { minSnrLossWeights } from '../../schedules/min-snr.js';
import { PREDICTION_TYPES, type PredictionType } from '../../schedules/scheduler-base.js';
import { TIMESTEP_SPACINGS, type TimestepSpacing } from '../../schedules/timestep-spacing.js';
import { EMA } from '../../train/ema.js';
import { checkFitOptions, runFit, type FitData } from '../../train/fit.js';
import type { FitOptions, OptimizerOptions } from '../../train/fit-options.js';
import type { TrainResult } from '../../train/train-loop.js';
import type { Logs } from '../../train/types.js';
import { numberInRange } from '../../core/validate.js';
import { DiffusionUNet, type DiffusionUNetConfig, type DiffusionUNetInput, type DiffusionUNetOptions, type PerSampleValues } from './diffusion-unet.js';
import { classLabelTensor } from './internal.js';
import { DDPM_SCHEMA } from '../config-schemas.js';
import { diffusionSample, fromDiffusionRange, toDiffusionRange, type DataRange, type SamplingProgress } from './sampling.js';

/** β schedules a {@link DDPM} accepts: diffusers' names, plus `'cosine'` as an alias of `'squaredcos_cap_v2'`. */
export type DDPMBetaSchedule = BetaScheduleName | 'cosine';

/** Options of {@link DDPM}: the {@link DiffusionUNet} options (the output is shaped like the input) plus the diffusion process. */
export interface DDPMOptions extends Omit<DiffusionUNetOptions, 'outChannels'> {
  /** T, the number of diffusion steps. Default 1000. */
  numTrainTimesteps?: number;
  /**
   * β schedule. Default `'linear'` (1e-4 → 0.02, Ho et al. 2020, as diffusers' DDPMScheduler).
   * `'cosine'` (Nichol & Dhariwal) keeps more signal at mid timesteps, which helps small images.
   */
  betaSchedule?: DDPMBetaSchedule;
  /** β at t = 0 for the linear-type schedules. Default 1e-4. */
  betaStart?: number;
  /** β at t = T − 1 for the linear-type schedules. Default 0.02. */
  betaEnd?: number;
  /** What the network predicts and the loss targets: ε (default), v, or x₀ (`'sample'`). */
  predictionType?: PredictionType;
  /** Variance of DDPM's reverse step: β̃ (`'fixed_small'`, default) or β (`'fixed_large'`). */
  varianceType?: 'fixed_small' | 'fixed_large';
  /** Clamp the predicted x₀ to [−1, 1] at every sampling step (right for images). Default true. */
  clipSample?: boolean;
  /** How DDIM / shortened DDPM sampling spreads its steps (see {@link TimestepSpacing}). Default `'leading'` (diffusers). */
  timestepSpacing?: TimestepSpacing;
  /** Min-SNR-γ loss weighting (Hang et al. 2023; 5 is the paper's value). Default none (plain MSE). */
  minSnrGamma?: number | null;
  /** Default image size for {@link DDPM.sample}: one number for square images, or `[height, width]`. */
  sampleSize?: number | [number, number] | null;
  /**
   * Range of the data given to {@link DDPM.fit} and returned by {@link DDPM.sample}. Training maps
   * it linearly onto [−1, 1] (see {@link toDiffusionRange}); sampling maps back and clamps.
   * Default `[0, 1]`; pass `[-1, 1]` for data already scaled.
   */
  dataRange?: [number, number];
}

/** A {@link DDPMOptions} with every default filled in (seed left out), as saved. */
export interface DDPMConfig extends Omit<DiffusionUNetConfig, 'outChannels'> {
  /** See {@link DDPMOptions.numTrainTimesteps}. */
  numTrainTimesteps: number;
  /** See {@link DDPMOptions.betaSchedule}. */
  betaSchedule: DDPMBetaSchedule;
  /** See {@link DDPMOptions.betaStart}. */
  betaStart: number;
  /** See {@link DDPMOptions.betaEnd}. */
  betaEnd: number;
  /** See {@link DDPMOptions.predictionType}. */
  predictionType: PredictionType;
  /** See {@link DDPMOptions.varianceType}. */
  varianceType: 'fixed_small' | 'fixed_large';
  /** See {@link DDPMOptions.clipSample}. */
  clipSample: boolean;
  /** See {@link DDPMOptions.timestepSpacing}. */
  timestepSpacing: TimestepSpacing;
  /** See {@link DDPMOptions.minSnrGamma}. */
  minSnrGamma: number | null;
  /** See {@link DDPMOptions.sampleSize}. */
  sampleSize: number | [number, number] | null;
  /** See {@link DDPMOptions.dataRange}. */
  dataRange: [number, number];
}

/** Options of {@link DDPM.trainingLoss}. */
export interface DDPMLossOptions {
  /** Source of the random timesteps and noise (a seed, a {@link Generator}, or the global one). */
  seed?: SeedLike;
  /** @deprecated The former name of {@link DDPMLossOptions.seed}; pass `seed`. */
  generator?: SeedLike;
  /** Fixed timesteps (one per sample, or one for all) instead of uniform random ones. */
  timesteps?: ArrayLike<number> | number;
  /** Fixed noise ε (shape of x₀; caller-owned) instead of drawing it. */
  noise?: tf.Tensor;
  /** Class labels (conditional models; −1 = unconditional). */
  classLabels?: PerSampleValues;
}

/**
 * Options of {@link DDPM.fit}: the shared fit and optimizer options (default lr 1e-4 as diffusers'
 * unconditional training script, batch size 16, gradient clipping at norm 1) plus the EMA and
 * class dropout. Validation logs the mean denoising loss on the held-out samples (`val.loss`,
 * fixed timesteps and noise from seed 0, so epochs compare).
 */
export interface DDPMFitOptions extends FitOptions, Omit<OptimizerOptions, 'clipGradNorm'> {
  /** Clip the global gradient norm to this value (> 0); null for no clipping. Default 1 (diffusers). */
  clipGradNorm?: number | null;
  /**
   * Largest decay of the EMA of the weights, updated after every step (see {@link EMA}); `null`
   * trains without one and removes an existing EMA (it would no longer track the weights). Default 0.999.
   */
  emaDecay?: number | null;
  /** Use the EMA's power warmup (diffusers' `use_ema_warmup`) instead of its default ramp. Default false. */
  emaWarmup?: boolean;
  /**
   * Probability of replacing a sample's class label with −1 (unconditional) during training, so the
   * model also learns the unconditional score that classifier-free guidance needs. Default 0.
   */
  classDropoutProb?: number;
}

/** Options of {@link DDPM.sample}. */
export interface DDPMSampleOptions {
  /** `'ddpm'`: ancestral sampling (Ho et al.); `'ddim'`: DDIM (Song et al.), deterministic at η = 0. Default `'ddpm'`. */
  sampler?: 'ddpm' | 'ddim';
  /** Sampling steps: default T for DDPM, 50 (at most T) for DDIM. Fewer DDPM steps skip timesteps, as diffusers. */
  numInferenceSteps?: number;
  /** DDIM's η: 0 deterministic, 1 DDPM-like noise. Default 0. */
  eta?: number;
  /** Seed or generator of x_T and the step noise. Default: the global generator. */
  seed?: SeedLike;
  /** Image size (a number for square, or `[height, width]`). Default: the model's `sampleSize`. */
  imageSize?: number | [number, number];
  /** Classes to generate (conditional models): one per image or one for all; −1 = unconditional. */
  classLabels?: PerSampleValues;
  /**
   * Classifier-free guidance scale w: the prediction is u + w·(c − u) from the unconditional (u) and
   * class-conditional (c) outputs. 1 (default) uses the conditional output alone.
   */
  guidanceScale?: number;
  /** Sample with the EMA weights when the model has them. Default true. */
  useEma?: boolean;
  /** Clamp the output to `dataRange`. Default true. */
  clip?: boolean;
  /** Called after every step. */
  onProgress?: (progress: SamplingProgress) => void | Promise<void>;
}

/**
 * A denoising diffusion probabilistic model (Ho et al. 2020): a {@link DiffusionUNet} trained to
 * predict the noise added by the forward process, with training (random timesteps, MSE on ε or v,
 * optional Min-SNR weighting, an EMA of the weights), DDPM and DDIM sampling, and save/load.
 *
 * **Scaling.** The diffusion runs in [−1, 1]. `fit` takes images in `dataRange` (default [0, 1],
 * as medvae's loaders produce) and maps them there; `sample` maps its output back to `dataRange`.
 * {@link toDiffusionRange} / {@link fromDiffusionRange} do the same by hand.
 *
 * @example
 * ```ts
 * const ddpm = new DDPM({ inChannels: 1, channels: [32, 64, 128], attentionLevels: [2], sampleSize: 32, seed: 0 });
 * await ddpm.fit(slices, { epochs: 50, lr: 2e-4, batchSize: 16 });
 * const images = await ddpm.sample(16, { sampler: 'ddim', numInferenceSteps: 50, seed: 0 });   // [16, 32, 32, 1] in [0, 1]
 * await ddpm.save('models/mri-ddpm');
 * ```
 */
export class DDPM extends SavableModel<DiffusionUNetInput, tf.Tensor4D> {
  /** The name saves record (see {@link SavableModel}). */
  static override readonly modelName: string = 'DDPM';

  /** The noise-prediction network. */
  readonly unet: DiffusionUNet;
  /** The scheduler of the forward process used in training (stateless for `addNoise`). */
  readonly scheduler: DDPMScheduler;
  private readonly options: DDPMConfig;
  private emaModel: EMA | null = null;

  /** @param options - see {@link DDPMOptions}. */
  constructor(options: DDPMOptions) {
    super();
    const rest = { ...options } as DDPMOptions & { outChannels?: unknown };
    if (rest.outChannels !== undefined && rest.outChannels !== options.inChannels) {
      throw new ValueError('DDPM predicts a tensor shaped like its input, so it takes no outChannels different from inChannels.');
    }
    this.unet = this.registerModule('unet', new DiffusionUNet({ ...options, outChannels: options.inChannels }));
    this.options = resolveDDPMConfig(options, this.unet.config);
    this.scheduler = new DDPMScheduler(this.schedulerConfig());
  }

  /** The resolved options (without the seed), as saved by {@link DDPM.save}. */
  get config(): DDPMConfig {
    const c = this.options;
    return {
      ...c,
      channels: [...c.channels],
      attentionLevels: [...c.attentionLevels],
      dataRange: [...c.dataRange] as [number, number],
      sampleSize: Array.isArray(c.sampleSize) ? ([...c.sampleSize] as [number, number]) : c.sampleSize,
    };
  }

  /** The scheduler settings shared by training and both samplers (diffusers' names). */
  schedulerConfig(): DDPMSchedulerConfig {
    const c = this.options;
    return {
      numTrainTimesteps: c.numTrainTimesteps,
      betaSchedule: c.betaSchedule === 'cosine' ? 'squaredcos_cap_v2' : c.betaSchedule,
      betaStart: c.betaStart,
      betaEnd: c.betaEnd,
      predictionType: c.predictionType,
      clipSample: c.clipSample,
      timestepSpacing: c.timestepSpacing,
      varianceType: c.varianceType,
    };
  }

  /** The EMA of the weights, or null when the model has none (before the first `fit`, or with `emaDecay: null`). */
  get ema(): EMA | null {
    return this.emaModel;
  }

  /**
   * Starts tracking an EMA of the network's weights (from their current values), or returns the
   * existing one with its decay settings updated. `fit` calls this; call it yourself for custom loops.
   */
  enableEma(options: { decay?: number; useEmaWarmup?: boolean } = {}): EMA {
    if (!this.emaModel) {
      this.emaModel = new EMA(this.unet, options);
    } else {
      if (options.decay !== undefined) this.emaModel.decay = options.decay;
      if (options.useEmaWarmup !== undefined) this.emaModel.useEmaWarmup = options.useEmaWarmup;
    }
    return this.emaModel;
  }

  /** Frees and removes the EMA, if any. */
  disableEma(): void {
    this.emaModel?.dispose();
    this.emaModel = null;
  }

  /** The network's prediction (ε by default) `[B, H, W, C]` for noisy samples in [−1, 1] at the given timesteps. */
  forward(input: DiffusionUNetInput): tf.Tensor4D {
    return this.unet.forward(input);
  }

  /**
   * The denoising loss on clean samples `x0` **already in [−1, 1]**: draws one timestep per sample
   * (uniform over 0 … T−1) and ε ~ N(0, I) from `generator` (in that order), forms
   * x_t = √ᾱₜ·x0 + √(1−ᾱₜ)·ε, and returns the mean squared error between the network output and
   * the target (ε, v = √ᾱₜ·ε − √(1−ᾱₜ)·x0, or x0, per `predictionType`), each sample's error
   * weighted by Min-SNR-γ when configured. Differentiable: use it inside `tf.variableGrads`.
   */
  trainingLoss(x0: tf.Tensor, options: DDPMLossOptions = {}): tf.Scalar {
    assertRank(x0, 4, 'DDPM x0', 'NHWC');
    assertFloat(x0, 'DDPM x0');
    const batch = x0.shape[0];
    const T = this.options.numTrainTimesteps;
    const gen = toGenerator(seedOption(options, 'DDPM.trainingLoss'));
    let ts: number[];
    if (options.timesteps !== undefined) {
      const given = typeof options.timesteps === 'number' ? [options.timesteps] : Array.from(options.timesteps);
      ts = given.length === 1 ? new Array<number>(batch).fill(given[0]) : given;
      if (ts.length !== batch) throw new ShapeError(`DDPM.trainingLoss got ${ts.length} timesteps for a batch of ${batch}.`);
    } else {
      ts = Array.from({ length: batch }, () => gen.randint(0, T));
    }
    if (options.noise && options.noise.shape.join(',') !== x0.shape.join(',')) {
      throw new ShapeError(`DDPM.trainingLoss noise must have the shape of x0 ${formatShape(x0.shape)}, but got ${formatShape(options.noise.shape)}.`);
    }
    return tf.tidy(() => {
      const noise = options.noise ?? gen.normal(x0.shape);
      const xt = this.scheduler.addNoise(x0, noise, ts);
      const pt = this.options.predictionType;
      const target = pt === 'epsilon' ? noise : pt === 'v_prediction' ? this.scheduler.getVelocity(x0, noise, ts) : x0;
      const pred = this.unet.forward({ x: xt, timesteps: ts, classLabels: options.classLabels });
      const perSample = tf.mean(tf.square(tf.sub(pred, target)), [1, 2, 3]);
      const gamma = this.options.minSnrGamma;
      if (gamma === null) return tf.mean(perSample) as tf.Scalar;
      const w = minSnrLossWeights(ts, this.scheduler.terms.snr, { gamma, predictionType: pt });
      return tf.mean(tf.mul(perSample, w)) as tf.Scalar;
    });
  }

  /**
   * Trains on image samples in `dataRange` (labels are used by class-conditional models) through
   * {@link runFit}. `data` is a Dataset (batched and shuffled here with `batchSize` and `seed`), a
   * DataLoader, or any source of batches. Each step: random timesteps and noise from the run's
   * generator ({@link DDPM.trainingLoss}), one optimizer step with gradient clipping, then an EMA update.
   */
  async fit(data: FitData, options: DDPMFitOptions): Promise<TrainResult> {
    const what = 'DDPM.fit';
    const o = options ?? ({} as DDPMFitOptions);
    const params = this.unet.trainableParameters();
    const clip = o.clipGradNorm === null ? null : o.clipGradNorm ?? 1;
    const dropP = numberInRange(o.classDropoutProb ?? 0, `${what} classDropoutProb`, 0, 1);
    if (o.emaDecay !== undefined && o.emaDecay !== null) numberInRange(o.emaDecay, `${what} emaDecay`, 0, 1);
    checkFitOptions(o, what);
    const emaDecay = o.emaDecay === undefined ? 0.999 : o.emaDecay;
    const ema = emaDecay === null ? (this.disableEma(), null) : this.enableEma({ decay: emaDecay, useEmaWarmup: o.emaWarmup ?? false });
    return runFit({
      what, module: this, data, options: o, defaultBatchSize: 16,
      optimizers: { optimizer: { params, options: { ...o, clipGradNorm: undefined }, defaultClipGradNorm: clip, defaultLr: 1e-4, label: '' } },
      step: (batch, ctx) => {
        const classLabels = this.batchLabels(batch, ctx.generator, dropP);
        const x0 = toDiffusionRange(batch.image, this.options.dataRange);
        let result: { value: tf.Scalar; grads: Record<string, tf.Tensor> };
        try {
          // The labels stay on the device: the network checks them with a deferred check.
          result = variableGrads(() => this.trainingLoss(x0, { seed: ctx.generator, classLabels: classLabels ?? undefined }), params);
        } finally {
          tf.dispose([x0, ...(classLabels ? [classLabels] : [])]);
        }
        ctx.update('optimizer', result.grads);
        ema?.update();
        return { loss: result.value };
      },
      validate: (validation) => this.validationLoss(validation),
    });
  }

  /** Mean denoising loss over `data` with timesteps and noise from seed 0 (the same draws every epoch). */
  private async validationLoss(data: Dataset<Sample>): Promise<Logs> {
    const generator = new Generator(0);
    const loader = new DataLoader(data, { batchSize: 16 });
    let sum = 0;
    let n = 0;
    for await (const batch of loader) {
      const classLabels = this.unet.isConditional && batch.label !== undefined ? batch.label : undefined;
      const loss = tf.tidy(() => {
        const x0 = toDiffusionRange(batch.image, this.options.dataRange);
        return this.trainingLoss(x0, { seed: generator, classLabels });
      });
      const [v] = await loss.data();
      loss.dispose();
      sum += v * batch.image.shape[0];
      n += batch.image.shape[0];
    }
    return { loss: sum / Math.max(n, 1) };
  }

  /**
   * A training batch's class labels as a `[B]` tensor the caller owns (null for an unconditional
   * model), with class dropout: one draw per label from `generator` (host-side, so nothing is read
   * back), and −1 where it falls below `dropP`. Their values are checked by the network.
   */
  private batchLabels(batch: Batch, generator: Generator, dropP: number): tf.Tensor | null {
    if (!this.unet.isConditional) return null;
    if (batch.label === undefined) {
      throw new ValueError('This DDPM is class-conditional (numClassEmbeds is set): its training samples need a label.');
    }
    const label = batch.label;
    if (!(dropP > 0)) return tf.reshape(label, [-1]);
    const drop = Array.from({ length: label.size }, () => generator.random() < dropP);
    return tf.tidy(() => tf.where(tf.tensor1d(drop, 'bool'), tf.fill([label.size], -1, label.dtype), tf.reshape(label, [-1])));
  }

  /**
   * Generates `n` images `[n, H, W, C]` in `dataRange`, with the EMA weights unless
   * `useEma: false` (the live weights are restored afterwards). The generator draws x_T first,
   * then each stochastic step's noise, so a seed fixes the result.
   */
  async sample(n: number, options: DDPMSampleOptions = {}): Promise<tf.Tensor4D> {
    if (!Number.isInteger(n) || n < 1) throw new ValueError(`DDPM.sample: n must be a positive integer, but got ${n}.`);
    const [height, width] = this.resolveImageSize(options.imageSize);
    const sampler = options.sampler ?? 'ddpm';
    if (sampler !== 'ddpm' && sampler !== 'ddim') throw new ValueError(`DDPM.sample: sampler must be 'ddpm' or 'ddim', but got '${String(sampler)}'.`);
    const T = this.options.numTrainTimesteps;
    const steps = options.numInferenceSteps ?? (sampler === 'ddpm' ? T : Math.min(50, T));
    const guidance = options.guidanceScale ?? 1;
    if (!Number.isFinite(guidance)) throw new ValueError(`DDPM.sample: guidanceScale must be finite, but got ${guidance}.`);
    const conditional = this.unet.isConditional;
    if (!conditional && options.classLabels !== undefined) {
      throw new ValueError('DDPM.sample: this model is unconditional (built without numClassEmbeds); it takes no classLabels.');
    }
    const labels = conditional ? classLabelTensor(options.classLabels, n, this.unet.config.numClassEmbeds as number) : null;
    const guided = labels !== null && guidance !== 1;
    const guidedLabels = guided ? tf.tidy(() => tf.concat([labels, tf.fill([n], -1, 'int32')])) : null;
    const cfg = this.schedulerConfig();
    const scheduler = sampler === 'ddim' ? new DDIMScheduler(cfg) : new DDPMScheduler(cfg);
    const denoise = (x: tf.Tensor4D, t: number): tf.Tensor =>
      tf.tidy(() => {
        if (!guided) return this.unet.forward({ x, timesteps: t, classLabels: labels ?? undefined });
        const both = this.unet.forward({ x: tf.concat([x, x]), timesteps: t, classLabels: guidedLabels ?? undefined });
        const [cond, uncond] = tf.split(both, 2, 0);
        return tf.add(uncond, tf.mul(tf.sub(cond, uncond), guidance));
      });
    const useEma = (options.useEma ?? true) && this.emaModel !== null;
    const wasTraining = this.training;
    this.eval();
    if (useEma) {
      this.emaModel?.store();
      this.emaModel?.copyTo();
    }
    try {
      const x0 = await diffusionSample(denoise, {
        scheduler,
        numInferenceSteps: steps,
        shape: [n, height, width, this.unet.config.inChannels],
        seed: toGenerator(options.seed),
        eta: options.eta ?? 0,
        onProgress: options.onProgress,
      });
      const out = fromDiffusionRange(x0, this.options.dataRange, options.clip ?? true) as tf.Tensor4D;
      x0.dispose();
      return out;
    } finally {
      if (useEma) this.emaModel?.restore();
      this.train(wasTraining);
      tf.dispose([labels, guidedLabels].filter((t): t is tf.Tensor => t !== null));
    }
  }

  private resolveImageSize(size: number | [number, number] | undefined): [number, number] {
    const s = size ?? this.options.sampleSize;
    if (s === null || s === undefined) {
      throw new ValueError('DDPM.sample needs an image size: pass { imageSize } or build the model with sampleSize.');
    }
    const [h, w] = typeof s === 'number' ? [s, s] : s;
    const d = this.unet.sizeDivisor;
    if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1 || h % d !== 0 || w % d !== 0) {
      throw new ShapeError(`DDPM image size must be positive integers divisible by ${d}, but got ${h}×${w}.`);
    }
    return [h, w];
  }

  /**
   * Parameters and buffers by dotted name, followed by the EMA's shadow weights under `ema.`
   * (when there is an EMA), so saving, checkpoints and `loadStateDict` carry the EMA too.
   */
  override stateDict(prefix = ''): StateDict {
    const out = super.stateDict(prefix);
    if (this.emaModel) Object.assign(out, this.emaModel.stateDict(prefix ? `${prefix}.ema` : 'ema'));
    return out;
  }

  /** Frees the weights and the EMA. */
  override dispose(): void {
    super.dispose();
    this.disableEma();
  }

  override extraRepr(): string {
    const c = this.options;
    return `T=${c.numTrainTimesteps}, betaSchedule=${c.betaSchedule}, predictionType=${c.predictionType}${this.emaModel ? ', ema' : ''}`;
  }

  /**
   * Builds an untrained DDPM from a saved config, checked field by field ({@link ConfigError} names
   * a wrong one), with an EMA copy when the saved weights hold one (`ema.*`).
   */
  static fromConfig(config: Record<string, unknown>, context?: ModelLoadContext): DDPM {
    const model = new DDPM(readConfig(config, DDPM_SCHEMA, 'DDPM config'));
    if (context?.weightNames.some((k) => k.startsWith('ema.'))) model.enableEma();
    return model;
  }
}

function resolveDDPMConfig(o: DDPMOptions, unet: DiffusionUNetConfig): DDPMConfig {
  const { outChannels, ...unetRest } = unet;
  void outChannels;
  const numTrainTimesteps = o.numTrainTimesteps ?? 1000;
  const betaSchedule = o.betaSchedule ?? 'linear';
  if (betaSchedule !== 'cosine' && !BETA_SCHEDULE_NAMES.includes(betaSchedule)) {
    throw new ValueError(`Unknown betaSchedule '${String(betaSchedule)}'. Use 'cosine' or one of ${BETA_SCHEDULE_NAMES.map((n) => `'${n}'`).join(', ')}.`);
  }
  const predictionType = o.predictionType ?? 'epsilon';
  if (!PREDICTION_TYPES.includes(predictionType)) {
    throw new ValueError(`Unknown predictionType '${String(predictionType)}'. Use one of ${PREDICTION_TYPES.map((p) => `'${p}'`).join(', ')}.`);
  }
  const varianceType = o.varianceType ?? 'fixed_small';
  if (varianceType !== 'fixed_small' && varianceType !== 'fixed_large') {
    throw new ValueError(`DDPM varianceType must be 'fixed_small' or 'fixed_large', but got '${String(varianceType)}'.`);
  }
  const timestepSpacing = o.timestepSpacing ?? 'leading';
  if (!TIMESTEP_SPACINGS.includes(timestepSpacing)) {
    throw new ValueError(`Unknown timestepSpacing '${String(timestepSpacing)}'. Use one of ${TIMESTEP_SPACINGS.map((s) => `'${s}'`).join(', ')}.`);
  }
  const minSnrGamma = o.minSnrGamma ?? null;
  if (minSnrGamma !== null && !(minSnrGamma > 0)) throw new ValueError(`minSnrGamma must be > 0 (or null for none), but got ${minSnrGamma}.`);
  const dataRange: [number, number] = o.dataRange ? [o.dataRange[0], o.dataRange[1]] : [0, 1];
  if (!(Number.isFinite(dataRange[0]) && Number.isFinite(dataRange[1]) && dataRange[1] > dataRange[0])) {
    throw new ValueError(`dataRange must be [low, high] with finite low < high, but got [${dataRange.join(', ')}].`);
  }
  const sampleSize = o.sampleSize ?? null;
  return {
    ...unetRest,
    numTrainTimesteps,
    betaSchedule,
    betaStart: o.betaStart ?? 1e-4,
    betaEnd: o.betaEnd ?? 0.02,
    predictionType,
    varianceType,
    clipSample: o.clipSample ?? true,
    timestepSpacing,
    minSnrGamma,
    sampleSize: Array.isArray(sampleSize) ? [sampleSize[0], sampleSize[1]] : sampleSize,
    dataRange,
  };
}

