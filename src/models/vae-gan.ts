import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { variableGradsWithAux } from '../core/gradients.js';
import { Module } from '../core/module.js';
import { Generator, toGenerator, type SeedLike } from '../core/random.js';
import type { Dataset } from '../data/dataset.js';
import type { Batch, Sample } from '../data/sample.js';
import { readConfig, type ConfigError } from '../io/config-schema.js';
import { SavableModel } from '../io/savable-model.js';
import { ConvNormAct } from '../layers/conv-norm-act.js';
import type { BatchNormSettings, NormKind } from '../layers/factories.js';
import { Flatten } from '../layers/flatten.js';
import { Linear } from '../layers/linear.js';
import { Sequential } from '../layers/sequential.js';
import { discriminatorLoss, generatorLoss, type AdversarialLossType } from '../losses/adversarial.js';
import type { BetaSchedule } from '../losses/kl-annealing.js';
import { gaussianKL } from '../losses/kl.js';
import { runFit, type FitData, type FitStepContext } from '../train/fit.js';
import type { DiscriminatorOptimizerOptions, FitOptions, OptimizerOptions } from '../train/fit-options.js';
import type { TrainResult } from '../train/train-loop.js';
import type { StepLogs } from '../train/types.js';
import { positiveInt } from '../core/validate.js';
import { discriminatorSpec } from './gan-internal.js';
import { balanceGates } from './vae-gan-balance.js';
import { checkImages, checkKLWeight } from './vae-common.js';
import { convLevelSizes } from './vae-networks.js';
import { VAEGAN_SCHEMA } from './config-schemas.js';
import { VAE, type VAEConfig, type VAEElboOptions, type VAEEvaluateOptions, type VAEMetrics, type VAEOptions, type VAEOutput, type VAESampleOptions } from './vae.js';

/** Options of {@link VAEGANDiscriminator}. */
export interface VAEGANDiscriminatorOptions {
  /** Channels of the images judged. */
  inChannels: number;
  /** `[H, W]` of the images judged. */
  imageSize: [number, number];
  /** Widths of the stride-2 conv blocks (kernel 3, padding 1, LeakyReLU). Default `[32, 64]`. */
  channels?: number[];
  /** Normalisation of every block but the first (DCGAN's rule: never normalise the input layer). Default `'batch'`. */
  norm?: NormKind;
  /** Slope of the LeakyReLU. Default 0.2 (DCGAN). */
  negativeSlope?: number;
  /** Momentum and eps of its BatchNorms (`norm: 'batch'`). Default PyTorch's: 0.1 and 1e-5. */
  batchNorm?: BatchNormSettings;
  /** Seed for weight initialisation. */
  seed?: SeedLike;
}

/** Output of {@link VAEGANDiscriminator.forwardWithFeatures}. */
export interface DiscriminatorFeatures {
  /** Real-vs-fake logits `[B, 1]`. */
  logits: tf.Tensor2D;
  /** The last conv block's activations, flattened `[B, F]`: Larsen et al.'s Dis_l, used for feature matching. */
  features: tf.Tensor2D;
}

/**
 * The VAE-GAN's discriminator: stride-2 conv blocks (Conv → norm → LeakyReLU), a Flatten, and a
 * Linear head to one logit per image. Its last conv features are exposed for the learned
 * similarity metric of Larsen et al. (2016).
 *
 * Children: `blocks` (Sequential of {@link ConvNormAct}, ending in a Flatten) and `head` (Linear).
 */
export class VAEGANDiscriminator extends Module<tf.Tensor, tf.Tensor> {
  /** Conv blocks, ending in a Flatten. */
  readonly blocks: Sequential;
  /** Linear layer from the flattened features to one logit. */
  readonly head: Linear;
  private readonly inChannels: number;
  private readonly imageSize: [number, number];

  constructor(options: VAEGANDiscriminatorOptions) {
    super();
    positiveInt(options.inChannels, 'VAEGANDiscriminator inChannels');
    const channels = options.channels ?? [32, 64];
    if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => Number.isInteger(c) && c > 0)) {
      throw new ValueError(`VAEGANDiscriminator channels must be a non-empty list of positive integers, but got ${JSON.stringify(channels)}.`);
    }
    this.inChannels = options.inChannels;
    this.imageSize = [options.imageSize[0], options.imageSize[1]];
    const gen = toGenerator(options.seed);
    const norm = options.norm ?? 'batch';
    const blocks = channels.map((c, i) => new ConvNormAct(i === 0 ? options.inChannels : channels[i - 1], c, {
      kernelSize: 3, stride: 2, padding: 1, norm: i === 0 ? 'none' : norm, activation: 'leakyrelu', negativeSlope: options.negativeSlope ?? 0.2, seed: gen, batchNorm: options.batchNorm,
    }));
    this.blocks = this.registerModule('blocks', new Sequential(...blocks, new Flatten()));
    const levels = channels.length;
    const features = convLevelSizes(this.imageSize[0], levels)[levels] * convLevelSizes(this.imageSize[1], levels)[levels] * channels[levels - 1];
    this.head = this.registerModule('head', new Linear(features, 1, { seed: gen }));
  }

  /** Logits and the features they are computed from. */
  forwardWithFeatures(x: tf.Tensor): DiscriminatorFeatures {
    checkImages(x, this.imageSize[0], this.imageSize[1], this.inChannels, 'VAEGANDiscriminator input');
    return tf.tidy(() => {
      const features = this.blocks.forward(x);
      return { logits: this.head.forward(features), features };
    }) as unknown as DiscriminatorFeatures;
  }

  /** Real-vs-fake logits `[B, 1]`. */
  forward(x: tf.Tensor): tf.Tensor {
    checkImages(x, this.imageSize[0], this.imageSize[1], this.inChannels, 'VAEGANDiscriminator input');
    return tf.tidy(() => this.head.forward(this.blocks.forward(x)));
  }
}

/** Options of {@link VAEGAN}: the {@link VAE} options plus the discriminator and the loss weights. */
export interface VAEGANOptions extends VAEOptions {
  /** Widths of the discriminator's conv blocks. Default `[32, 64]`. */
  discriminatorChannels?: number[];
  /** Normalisation in the discriminator (not on its first block). Default `'batch'`. */
  discriminatorNorm?: NormKind;
  /**
   * Reconstruct in the discriminator's feature space (Larsen et al.'s learned similarity:
   * ½‖Dis_l(x̃) − Dis_l(x)‖² per image, a Gaussian NLL on the features without its constant).
   * Default true.
   */
  featureMatching?: boolean;
  /**
   * Weight of the feature-matching term. Default 1 (Larsen et al.'s unit-variance Gaussian on
   * Dis_l). The term is a sum over every Dis_l feature (3,136 for 28×28 images and channels
   * [32, 64]), so at weight 1 it outweighs the KL many times over: the posteriors drift away from
   * N(0, I) and decoded prior draws land where the decoder never trained. A weight well below 1
   * (e.g. 0.05) keeps the learned similarity as a sharpening term next to the pixel likelihood.
   */
  featureWeight?: number;
  /**
   * Weight of the pixel-wise reconstruction NLL (the VAE's own likelihood term) in the encoder's and
   * decoder's losses. Default 0 with `featureMatching` (features instead of pixels), 1 without;
   * set it > 0 with `featureMatching` to use both.
   */
  pixelWeight?: number;
  /** Larsen's γ: weight of the reconstruction term against the adversarial term in the decoder's loss. Default 1. */
  gamma?: number;
  /** GAN objective of {@link generatorLoss} / {@link discriminatorLoss}. Default `'non-saturating'`. */
  adversarialLoss?: AdversarialLossType;
}

/** A {@link VAEGAN}'s options with defaults filled in (no seed), as saved. */
export type VAEGANConfig = VAEConfig & Required<Omit<VAEGANOptions, keyof VAEOptions>>;

/**
 * Options of {@link VAEGAN.fit}: the shared fit options; the encoder's and decoder's optimizer
 * settings at the top level (`lr` default 1e-3, `lrSchedule`, `clipGradNorm`; both get the same) and
 * the discriminator's under `discriminator` (default: the top-level lr). Default batch size 128.
 */
export interface VAEGANFitOptions extends FitOptions, Omit<OptimizerOptions, 'optimizer'>, DiscriminatorOptimizerOptions {
  /** Adam's betas for all three optimizers. Default `[0.5, 0.999]` (the usual GAN setting: less momentum keeps the players in step). */
  betas?: [number, number];
  /** Constant KL weight β in the encoder's loss. Default 1. Give either `beta` or `klAnnealing`. */
  beta?: number;
  /** β per global step (e.g. `linearKLWarmup(...)`); replaces `beta`. */
  klAnnealing?: BetaSchedule;
  /**
   * Keep the decoder and the discriminator in balance by skipping updates, as in widely used VAE-GAN
   * implementations (equilibrium 0.68, margin 0.35). Each step measures the discriminator's mean
   * binary cross-entropy on the real images and on the decoded prior samples (ln 2 ≈ 0.69 is a
   * discriminator at chance): when either is below `equilibrium − margin` the discriminator is
   * winning and is not updated; when either is above `equilibrium + margin` it is losing and the
   * decoder is not updated; when both would be skipped, both are updated. `true` uses the defaults.
   * Default: off (every player updated every step). The logs gain `discriminatorUpdated` and
   * `decoderUpdated` (1 or 0 per step, so their epoch means are the fractions of steps updated).
   * The decision is made on the device (the optimizers apply or skip the update by a gate tensor),
   * so balancing reads nothing back during the step.
   */
  balance?: boolean | VAEGANBalance;
}

/** The thresholds of {@link VAEGANFitOptions.balance}. */
export interface VAEGANBalance {
  /** The discriminator cross-entropy (nats) the two players are held around. Default 0.68. */
  equilibrium?: number;
  /** Half-width of the band around `equilibrium` inside which both are updated. Default 0.35. */
  margin?: number;
}

/** Resolves {@link VAEGANFitOptions.balance} to thresholds, or null when off. */
function resolveBalance(balance: boolean | VAEGANBalance | undefined): Required<VAEGANBalance> | null {
  if (balance === undefined || balance === false) return null;
  const b = balance === true ? {} : balance;
  const resolved = { equilibrium: b.equilibrium ?? 0.68, margin: b.margin ?? 0.35 };
  if (!Number.isFinite(resolved.equilibrium)) throw new ValueError(`VAEGAN.fit balance.equilibrium must be a finite number, but got ${resolved.equilibrium}.`);
  if (!(Number.isFinite(resolved.margin) && resolved.margin >= 0)) throw new ValueError(`VAEGAN.fit balance.margin must be a finite number ≥ 0, but got ${resolved.margin}.`);
  return resolved;
}

/**
 * VAE-GAN (Larsen et al., 2016, "Autoencoding beyond pixels using a learned similarity metric"):
 * a {@link VAE} whose decoder doubles as a GAN generator, and a conv discriminator that judges real
 * images, reconstructions and samples decoded from prior draws z_p ~ N(0, I). With
 * `featureMatching` the reconstruction error is measured on the discriminator's features instead
 * of pixels, which gives sharper images than a pixel likelihood.
 *
 * Training (one {@link trainLoop} step per batch) follows the paper's Algorithm 1 with three Adam
 * optimizers, all gradients taken at the same parameters before any update:
 * - encoder (encoder + μ/logVar heads): `β·KL + L_rec`;
 * - decoder: `γ·L_rec + L_gen`, where `L_gen` is {@link generatorLoss} on the logits of the
 *   reconstructions and the prior samples together (the encoder gets no adversarial gradient);
 * - discriminator: {@link discriminatorLoss} of real images against reconstructions and prior
 *   samples together (the fakes are held fixed).
 * `L_rec = [featureMatching] featureWeight·½‖Dis_l(x̃) − Dis_l(x)‖² + pixelWeight·(pixel NLL)`, per image, mean
 * over the batch. Real and fake images go through the discriminator in one batch, so its
 * BatchNorm sees them together. Decoded images are the likelihood mean (probabilities for
 * Bernoulli). The decoder must reproduce the input (`outChannels = inChannels`).
 *
 * Children: `vae` ({@link VAE}) and `discriminator` ({@link VAEGANDiscriminator}).
 *
 * @example
 * ```ts
 * const train = await loadMnist({ split: 'train', binarize: true });
 * const model = new VAEGAN({ inChannels: 1, imageSize: [28, 28], latentDim: 128, seed: 0 });
 * await model.fit(train, { epochs: 5, batchSize: 128, balance: true });
 * const samples = model.sample(64, { seed: 1 });   // [64, 28, 28, 1]
 * ```
 */
export class VAEGAN extends SavableModel<tf.Tensor, VAEOutput> {
  /** The name saves record (see {@link SavableModel}). */
  static override readonly modelName: string = 'VAEGAN';

  /** The VAE (encoder, heads, decoder = generator). */
  readonly vae: VAE;
  /** The discriminator. */
  readonly discriminator: VAEGANDiscriminator;
  private readonly ganCfg: Required<Omit<VAEGANOptions, keyof VAEOptions>>;

  constructor(options: VAEGANOptions) {
    super();
    const gen = toGenerator(options.seed);
    const { discriminatorChannels, discriminatorNorm, featureMatching, featureWeight, pixelWeight, gamma, adversarialLoss, ...vaeOptions } = options;
    this.vae = this.registerModule('vae', new VAE({ ...vaeOptions, seed: gen }));
    const vc = this.vae.config;
    if (vc.outChannels !== vc.inChannels) {
      throw new ValueError(`VAEGAN's decoder must reproduce its input (outChannels = inChannels = ${vc.inChannels}), but got outChannels ${vc.outChannels}.`);
    }
    const fm = featureMatching ?? true;
    this.ganCfg = {
      discriminatorChannels: [...(discriminatorChannels ?? [32, 64])],
      discriminatorNorm: discriminatorNorm ?? 'batch',
      featureMatching: fm,
      featureWeight: featureWeight ?? 1,
      pixelWeight: pixelWeight ?? (fm ? 0 : 1),
      gamma: gamma ?? 1,
      adversarialLoss: adversarialLoss ?? 'non-saturating',
    };
    for (const key of ['featureWeight', 'pixelWeight', 'gamma'] as const) {
      const v = this.ganCfg[key];
      if (!(Number.isFinite(v) && v >= 0)) throw new ValueError(`VAEGAN ${key} must be a finite number ≥ 0, but got ${v}.`);
    }
    if (!fm && this.ganCfg.pixelWeight === 0) {
      throw new ValueError('VAEGAN needs a reconstruction term: set featureMatching: true or pixelWeight > 0.');
    }
    this.discriminator = this.registerModule('discriminator', new VAEGANDiscriminator({
      inChannels: vc.inChannels, imageSize: vc.imageSize, channels: this.ganCfg.discriminatorChannels, norm: this.ganCfg.discriminatorNorm, batchNorm: vc.batchNorm, seed: gen,
    }));
  }

  /** The options the model was built with, defaults filled in (without the seed). */
  get config(): VAEGANConfig {
    return { ...this.vae.config, ...this.ganCfg, discriminatorChannels: [...this.ganCfg.discriminatorChannels] };
  }

  /** The VAE's forward pass (see {@link VAE.forward}). */
  forward(x: tf.Tensor): VAEOutput {
    return this.vae.forward(x);
  }

  /** Decoded prior samples `[n, H, W, C]` (see {@link VAE.sample}). */
  sample(n: number, options: VAESampleOptions = {}): tf.Tensor4D {
    return this.vae.sample(n, options);
  }

  /** Reconstructions `[B, H, W, C]` (see {@link VAE.reconstruct}). */
  reconstruct(x: tf.Tensor): tf.Tensor4D {
    return this.vae.reconstruct(x);
  }

  /** Latent interpolations (see {@link VAE.interpolate}). */
  interpolate(xa: tf.Tensor, xb: tf.Tensor, steps: number): tf.Tensor4D {
    return this.vae.interpolate(xa, xb, steps);
  }

  /** The VAE's per-image ELBO under its pixel likelihood (see {@link VAE.elbo}). */
  elbo(x: tf.Tensor, options: VAEElboOptions = {}): tf.Tensor1D {
    return this.vae.elbo(x, options);
  }

  /** The VAE's negative ELBO on a dataset (see {@link VAE.evaluate}). */
  evaluate(data: Dataset<Sample>, options: VAEEvaluateOptions = {}): Promise<VAEMetrics> {
    return this.vae.evaluate(data, options);
  }

  /** Per-image reconstruction term `[B]` from raw decoder output and, when feature matching, discriminator features of the real and reconstructed images. */
  private reconstructionTerm(x: tf.Tensor, raw: tf.Tensor, realFeatures: tf.Tensor | null, fakeFeatures: tf.Tensor | null): tf.Tensor {
    let term: tf.Tensor = tf.zeros([x.shape[0]]);
    if (this.ganCfg.featureMatching && realFeatures && fakeFeatures) {
      term = tf.add(term, tf.mul(0.5 * this.ganCfg.featureWeight, tf.sum(tf.square(tf.sub(fakeFeatures, realFeatures)), 1)));
    }
    if (this.ganCfg.pixelWeight > 0) term = tf.add(term, tf.mul(this.vae.reconstructionNLL(raw, x), this.ganCfg.pixelWeight));
    return term;
  }

  /**
   * Trains encoder, decoder and discriminator together (see the class description) through
   * {@link runFit}. Logs per step: `loss` (the encoder's loss, β·KL + reconstruction), `kl`,
   * `reconstruction`, `decoder` (γ·reconstruction + adversarial), `generator` (the adversarial term)
   * and `discriminator`; with `balance`, also `discriminatorUpdated` and `decoderUpdated`.
   */
  async fit(data: FitData, options: VAEGANFitOptions): Promise<TrainResult> {
    const what = 'VAEGAN.fit';
    const o = options ?? ({} as VAEGANFitOptions);
    checkKLWeight(o, what);
    const balance = resolveBalance(o.balance);
    const lr = o.lr ?? 1e-3;
    const betas = o.betas ?? [0.5, 0.999];
    const encParams = this.vae.encoderParameters().filter((p) => p.trainable);
    const decParams = this.vae.decoderParameters().filter((p) => p.trainable);
    const discParams = this.discriminator.trainableParameters();
    const shared = { lr: o.lr, lrSchedule: o.lrSchedule, clipGradNorm: o.clipGradNorm, betas: o.betas };
    const dSpec = discriminatorSpec(o, discParams, { lr, betas }, what);
    const adv = { type: this.ganCfg.adversarialLoss };
    const gamma = this.ganCfg.gamma;
    const latentDim = this.vae.latentDim;
    const vc = this.vae.config;

    const step = (batch: Batch, ctx: FitStepContext): StepLogs => {
      const x = batch.image;
      checkImages(x, vc.imageSize[0], vc.imageSize[1], vc.inChannels, `${what} images`);
      const b = x.shape[0];
      const beta = o.klAnnealing ? o.klAnnealing(ctx.globalStep) : o.beta ?? 1;
      const zPrior = ctx.generator.normal([b, latentDim]);
      const owned: tf.Tensor[] = [zPrior];
      try {
        // Encoder: β·KL + reconstruction, through the discriminator's features but no adversarial term.
        const enc = variableGradsWithAux(() => {
          const out = this.vae.forward(x);
          const kl = gaussianKL(out.mu, out.logVar);
          let realF: tf.Tensor | null = null;
          let fakeF: tf.Tensor | null = null;
          if (this.ganCfg.featureMatching) {
            // The same discriminator batch as the decoder's pass (real, reconstructions, prior
            // samples), so BatchNorm statistics, and hence the features, agree between the two.
            const prior = this.vae.decodeMean(zPrior);
            const { features } = this.discriminator.forwardWithFeatures(tf.concat([x, this.vae.likelihoodMean(out.recon), prior], 0));
            realF = tf.slice(features, [0, 0], [b, -1]);
            fakeF = tf.slice(features, [b, 0], [b, -1]);
          }
          const rec = tf.mean(this.reconstructionTerm(x, out.recon, realF, fakeF));
          return { value: tf.add(tf.mul(kl, beta), rec), aux: { z: out.z, kl, rec } };
        }, encParams);
        owned.push(enc.aux.z);
        // Decoder: γ·reconstruction + generator loss on reconstructions and prior samples (z held fixed).
        const dec = variableGradsWithAux(() => {
          const raw = this.vae.decode(enc.aux.z);
          const rawPrior = this.vae.decode(zPrior);
          const fakes = tf.concat([this.vae.likelihoodMean(raw), this.vae.likelihoodMean(rawPrior)], 0);
          const { logits, features } = this.discriminator.forwardWithFeatures(tf.concat([x, fakes], 0));
          const recTerm = tf.mean(this.reconstructionTerm(x, raw, tf.slice(features, [0, 0], [b, -1]), tf.slice(features, [b, 0], [b, -1])));
          const gen = generatorLoss(tf.slice(logits, [b, 0], [2 * b, -1]), adv);
          return { value: tf.add(tf.mul(recTerm, gamma), gen), aux: { fakes, gen } };
        }, decParams);
        owned.push(dec.aux.fakes);
        // Discriminator: real images against the (fixed) reconstructions and prior samples.
        const disc = variableGradsWithAux(() => {
          const logits = this.discriminator.forward(tf.concat([x, dec.aux.fakes], 0));
          return { value: discriminatorLoss(tf.slice(logits, [0, 0], [b, -1]), tf.slice(logits, [b, 0], [2 * b, -1]), adv), aux: logits };
        }, discParams);
        owned.push(disc.aux);
        // All three gradients were taken at the same parameters; now the updates. With balance, the
        // decoder's and discriminator's optimizers apply theirs only where the device-side gate is 1.
        const gates = balance ? balanceGates(disc.aux, b, balance) : null;
        if (gates) owned.push(gates.discriminator, gates.decoder);
        ctx.update('encoder', enc.grads);
        ctx.update('decoder', dec.grads, gates ? { gate: gates.decoder } : undefined);
        ctx.update('discriminator', disc.grads, gates ? { gate: gates.discriminator } : undefined);
        const logs: StepLogs = {
          loss: enc.value, kl: enc.aux.kl, reconstruction: enc.aux.rec, decoder: dec.value, generator: dec.aux.gen, discriminator: disc.value, beta,
        };
        if (gates) {
          // The loop owns and frees its logs; the gates are freed with the step's other tensors.
          logs.discriminatorUpdated = tf.clone(gates.discriminator);
          logs.decoderUpdated = tf.clone(gates.decoder);
        }
        return logs;
      } finally {
        tf.dispose(owned);
      }
    };

    return runFit({
      what, module: this, data, options: o, defaultBatchSize: 128,
      optimizers: {
        encoder: { params: encParams, options: shared, defaultLr: 1e-3, defaultBetas: [0.5, 0.999], label: '' },
        decoder: { params: decParams, options: shared, defaultLr: 1e-3, defaultBetas: [0.5, 0.999], label: '' },
        discriminator: { ...dSpec, options: { ...dSpec.options, betas: dSpec.options.betas ?? o.betas } },
      },
      step,
      validate: (validation) => this.vae.evaluate(validation),
      extraGenerators: { noise: this.vae.noiseGenerator },
    });
  }

  /** Builds an untrained VAEGAN from a saved config, checked field by field ({@link ConfigError} names a wrong one). */
  static fromConfig(config: Record<string, unknown>): VAEGAN {
    return new VAEGAN(readConfig(config, VAEGAN_SCHEMA, 'VAEGAN config'));
  }

  override extraRepr(): string {
    const c = this.ganCfg;
    return `featureMatching=${c.featureMatching}, featureWeight=${c.featureWeight}, pixelWeight=${c.pixelWeight}, gamma=${c.gamma}, adversarialLoss=${c.adversarialLoss}`;
  }
}
