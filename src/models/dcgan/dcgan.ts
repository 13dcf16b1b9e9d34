import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../../core/errors.js';
import { variableGrads, variableGradsWithAux } from '../../core/gradients.js';
import { Generator, toGenerator, type SeedLike } from '../../core/random.js';
import type { Batch } from '../../data/sample.js';
import { readConfig, type ConfigError } from '../../io/config-schema.js';
import { SavableModel } from '../../io/savable-model.js';
import type { BatchNormSettings, NormKind } from '../../layers/factories.js';
import { discriminatorLoss, generatorLoss, type AdversarialLossType } from '../../losses/adversarial.js';
import type { Callback } from '../../train/callbacks.js';
import { runFit, type FitData, type FitStepContext } from '../../train/fit.js';
import type { DiscriminatorOptimizerOptions, FitOptions, OptimizerOptions } from '../../train/fit-options.js';
import type { TrainResult } from '../../train/train-loop.js';
import type { StepLogs } from '../../train/types.js';
import { positiveInt } from '../../core/validate.js';
import { discriminatorSpec, forwardKeepingBuffers, realFakeLogits } from '../gan-internal.js';
import { checkImages } from '../vae-common.js';
import { DCGAN_SCHEMA } from '../config-schemas.js';
import { DCGANDiscriminator, DCGANGenerator, type DCGANImageSize } from './networks.js';

/** Options of {@link DCGAN}. */
export interface DCGANOptions {
  /** Size of the latent vector z. Default 100. */
  latentDim?: number;
  /** Image size (see {@link DCGANGeneratorOptions.imageSize}). Default 64. */
  imageSize?: DCGANImageSize;
  /** Channels of the images. Default 1. */
  imageChannels?: number;
  /** Hidden widths of the generator (see {@link DCGANGeneratorOptions.channels}). */
  generatorChannels?: number[];
  /** Widths of the discriminator's blocks (see {@link DCGANDiscriminatorOptions.channels}). */
  discriminatorChannels?: number[];
  /** Normalisation in the discriminator (not on its first block). Default `'instance'`. */
  discriminatorNorm?: NormKind;
  /**
   * Momentum and eps of every BatchNorm (the generator's, and the discriminator's with
   * `discriminatorNorm: 'batch'`), PyTorch's names and convention. Default `{ momentum: 0.1, eps: 1e-5 }`.
   */
  batchNorm?: BatchNormSettings;
  /** Seed of the weight initialisation. */
  seed?: SeedLike;
}

/** A {@link DCGAN}'s options with defaults filled in (no seed), as saved. */
export interface DCGANConfig {
  /** Size of z. */
  latentDim: number;
  /** `[height, width]`. */
  imageSize: [number, number];
  /** Image channels. */
  imageChannels: number;
  /** Generator widths. */
  generatorChannels: number[];
  /** Discriminator widths. */
  discriminatorChannels: number[];
  /** Discriminator normalisation. */
  discriminatorNorm: NormKind;
  /** BatchNorm momentum and eps. */
  batchNorm: { momentum: number | null; eps: number };
}

/**
 * Options of {@link DCGAN.fit}: the shared fit options; the generator's optimizer settings at the
 * top level (`lr` default 2e-4, Radford et al.) and the discriminator's under `discriminator`
 * (default: the top-level lr). Default batch size 128. Validation data are not used (a GAN has
 * no held-out loss to report); watch `onEpochEnd`'s samples instead.
 */
export interface DCGANFitOptions extends FitOptions, Omit<OptimizerOptions, 'optimizer'>, DiscriminatorOptimizerOptions {
  /** Adam's betas for both optimizers. Default `[0.5, 0.999]` (Radford et al.: β₁ = 0.9 made training oscillate). */
  betas?: [number, number];
  /**
   * The GAN objective (see {@link AdversarialLossType}). Default `'non-saturating'`. `'wasserstein'`
   * is refused: a critic needs a Lipschitz constraint, and the gradient penalty that would give one
   * cannot be differentiated through tfjs's LeakyReLU gradient.
   */
  lossType?: AdversarialLossType;
  /**
   * The range the training images' pixels lie in, mapped linearly to the generator's [−1, 1].
   * Default `[0, 1]` (what medvae's datasets produce); give `[-1, 1]` for data already scaled.
   */
  dataRange?: [number, number];
  /** Number of fixed latent vectors (drawn once from `seed`) rendered for `onEpochEnd`, or the vectors `[n, latentDim]` themselves. Default 64. */
  fixedNoise?: number | tf.Tensor2D;
  /** Render the fixed noise every this many epochs (and after the last). Default 1. */
  sampleEvery?: number;
  /**
   * Receives the images `[n, H, W, C]` generated from the fixed noise (eval mode, in [−1, 1]) at the
   * end of epochs: the usual way to watch a GAN learn. The tensor is disposed when the callback's
   * promise settles; clone it to keep it.
   */
  onEpochEnd?: (images: tf.Tensor4D, epoch: number) => void | Promise<void>;
}

/** Options of {@link DCGAN.sample}. */
export interface DCGANSampleOptions {
  /** Seed (or {@link Generator}) of the latent draws. Default: the global generator. */
  seed?: SeedLike;
  /** Images per forward pass. Default 64. */
  batchSize?: number;
}

/**
 * DCGAN (Radford et al., 2016, "Unsupervised representation learning with deep convolutional
 * generative adversarial networks"): a {@link DCGANGenerator} and a {@link DCGANDiscriminator}
 * trained against each other with two Adam optimizers (lr 2e-4, β = (0.5, 0.999)).
 *
 * Each training step (one {@link trainLoop} step per batch) first updates the discriminator on
 * real images against G(z) (held fixed), then the generator through the updated discriminator on
 * the same z, as PyTorch's DCGAN tutorial does. Step logs: `discriminator` and `generator` (the two
 * losses), `dReal` and `dFake` (mean σ(D(·)) on real and on generated images before the
 * discriminator's update), and `loss` (their sum, for generic callbacks).
 *
 * Children: `generator` and `discriminator`. Training images are mapped from `dataRange`
 * (default [0, 1]) to [−1, 1]; generated images are in [−1, 1].
 *
 * @example
 * ```ts
 * const train = await loadMnist({ split: 'train' });
 * const gan = new DCGAN({ latentDim: 100, imageSize: 28, seed: 0 });
 * await gan.fit(train, { epochs: 5, onEpochEnd: (images, epoch) => saveGrid(images, epoch) });
 * const samples = gan.sample(64, { seed: 1 });   // [64, 28, 28, 1] in [−1, 1]
 * ```
 */
export class DCGAN extends SavableModel<tf.Tensor, tf.Tensor> {
  /** The name saves record (see {@link SavableModel}). */
  static override readonly modelName: string = 'DCGAN';

  /** The generator network (z → image). */
  readonly generator: DCGANGenerator;
  /** The discriminator network (image → logit). */
  readonly discriminator: DCGANDiscriminator;

  constructor(options: DCGANOptions = {}) {
    super();
    const gen = toGenerator(options.seed);
    const imageChannels = options.imageChannels ?? 1;
    this.generator = this.registerModule('generator', new DCGANGenerator({
      latentDim: options.latentDim, imageSize: options.imageSize, outChannels: imageChannels, channels: options.generatorChannels, batchNorm: options.batchNorm, seed: gen,
    }));
    this.discriminator = this.registerModule('discriminator', new DCGANDiscriminator({
      inChannels: imageChannels, imageSize: this.generator.imageSize, channels: options.discriminatorChannels, norm: options.discriminatorNorm, batchNorm: options.batchNorm, seed: gen,
    }));
  }

  /** The options the model was built with, defaults filled in (without the seed). */
  get config(): DCGANConfig {
    return {
      latentDim: this.generator.latentDim,
      imageSize: [...this.generator.imageSize],
      imageChannels: this.generator.outChannels,
      generatorChannels: [...this.generator.channels],
      discriminatorChannels: [...this.discriminator.channels],
      discriminatorNorm: this.discriminator.norm,
      batchNorm: { ...this.generator.batchNorm },
    };
  }

  /** Size of z. */
  get latentDim(): number {
    return this.generator.latentDim;
  }

  /** Images `[B, H, W, C]` in [−1, 1] from latent vectors `[B, latentDim]` (the generator, in the current mode). */
  forward(z: tf.Tensor): tf.Tensor {
    return this.generator.forward(z);
  }

  /** Images `[n, H, W, C]` in [−1, 1] from `n` latent vectors z ~ N(0, I), in eval mode (BatchNorm uses its running statistics). */
  sample(n: number, options: DCGANSampleOptions = {}): tf.Tensor4D {
    positiveInt(n, 'DCGAN.sample n');
    const z = toGenerator(options.seed).normal([n, this.latentDim]);
    try {
      return this.generate(z, options.batchSize);
    } finally {
      z.dispose();
    }
  }

  /** Images from given latent vectors `[n, latentDim]`, in eval mode (see {@link DCGAN.sample}). */
  generate(z: tf.Tensor, batchSize = 64): tf.Tensor4D {
    positiveInt(batchSize, 'DCGAN.generate batchSize');
    const wasTraining = this.training;
    this.generator.eval();
    try {
      return tf.tidy(() => {
        const n = z.shape[0];
        const parts: tf.Tensor[] = [];
        for (let i = 0; i < n; i += batchSize) parts.push(this.generator.forward(tf.slice(z, i, Math.min(batchSize, n - i))));
        return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor4D;
      });
    } finally {
      this.generator.train(wasTraining);
    }
  }

  /** Trains generator and discriminator on images (labels and masks are ignored) through {@link runFit}; see the class description. */
  async fit(data: FitData, options: DCGANFitOptions): Promise<TrainResult> {
    const what = 'DCGAN.fit';
    const o = options ?? ({} as DCGANFitOptions);
    const type = o.lossType ?? 'non-saturating';
    if (type === 'wasserstein') {
      throw new ValueError(
        `${what}: lossType 'wasserstein' needs a Lipschitz-constrained critic (WGAN-GP), and tfjs cannot take the second-order gradient ` +
          "of the discriminator's LeakyReLU that a gradient penalty needs. Use 'non-saturating', 'least-squares' or 'hinge'.",
      );
    }
    const [lo, hi] = o.dataRange ?? [0, 1];
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) throw new ValueError(`${what} dataRange must be [low, high] with low < high, but got [${lo}, ${hi}].`);
    const sampleEvery = positiveInt(o.sampleEvery ?? 1, `${what} sampleEvery`);
    const seed = o.seed ?? 0;
    const lr = o.lr ?? 2e-4;
    const betas = o.betas ?? [0.5, 0.999];
    const gParams = this.generator.trainableParameters();
    const dParams = this.discriminator.trainableParameters();
    const dSpec = discriminatorSpec(o, dParams, { lr, betas }, what);
    const adv = { type };
    const [h, w] = this.generator.imageSize;
    const c = this.generator.outChannels;
    const jointBatch = this.discriminator.norm !== 'batch';
    let fixed: tf.Tensor | null = null;
    const f = o.fixedNoise ?? 64;
    if (o.onEpochEnd) {
      if (typeof f === 'number') positiveInt(f, `${what} fixedNoise`);
      else if (!(f instanceof tf.Tensor) || f.rank !== 2 || f.shape[1] !== this.latentDim) {
        throw new ValueError(`${what} fixedNoise must be [n, ${this.latentDim}], but got ${f instanceof tf.Tensor ? `[${f.shape.join(', ')}]` : String(f)}.`);
      }
    }

    const step = (batch: Batch, ctx: FitStepContext): StepLogs => {
      checkImages(batch.image, h, w, c, `${what} images`);
      const b = batch.image.shape[0];
      const real = tf.tidy(() => tf.sub(tf.mul(batch.image, 2 / (hi - lo)), (hi + lo) / (hi - lo)));
      const z = ctx.generator.normal([b, this.latentDim]);
      const owned: tf.Tensor[] = [real, z];
      try {
        const fake = forwardKeepingBuffers(this.generator, () => this.generator.forward(z));
        owned.push(fake);
        const d = variableGradsWithAux(() => {
          const [rl, fl] = realFakeLogits(this.discriminator, real, fake, b, jointBatch);
          return { value: discriminatorLoss(rl, fl, adv), aux: { dReal: tf.mean(tf.sigmoid(rl)), dFake: tf.mean(tf.sigmoid(fl)) } };
        }, dParams);
        ctx.update('discriminator', d.grads);
        const g = variableGrads(() => generatorLoss(this.discriminator.forward(this.generator.forward(z)), adv), gParams);
        ctx.update('generator', g.grads);
        return { loss: tf.add(d.value, g.value), discriminator: d.value, generator: g.value, dReal: d.aux.dReal, dFake: d.aux.dFake };
      } finally {
        tf.dispose(owned);
      }
    };

    const callbacks: Callback[] = [];
    const onEpochEnd = o.onEpochEnd;
    if (onEpochEnd) {
      callbacks.push({
        onEpochEnd: async (record) => {
          if ((record.epoch + 1) % sampleEvery !== 0 && record.epoch !== o.epochs - 1) return;
          const images = this.generate(fixed as tf.Tensor);
          try {
            await onEpochEnd(images, record.epoch);
          } finally {
            images.dispose();
          }
        },
      });
    }
    if (onEpochEnd) fixed = typeof f === 'number' ? new Generator(seed).fork().normal([f, this.latentDim]) : tf.clone(f);
    try {
      return await runFit({
        what, module: this, data, options: o, defaultBatchSize: 128,
        optimizers: {
          generator: { params: gParams, options: { ...o, optimizer: undefined }, defaultLr: 2e-4, defaultBetas: betas, label: '' },
          discriminator: { ...dSpec, options: { ...dSpec.options, betas: dSpec.options.betas ?? o.betas } },
        },
        step,
        callbacks,
      });
    } finally {
      fixed?.dispose();
    }
  }

  /** Builds an untrained DCGAN from a saved config, checked field by field ({@link ConfigError} names a wrong one). */
  static fromConfig(config: Record<string, unknown>): DCGAN {
    return new DCGAN(readConfig(config, DCGAN_SCHEMA, 'DCGAN config'));
  }

  override extraRepr(): string {
    return `latentDim=${this.latentDim}, imageSize=[${this.generator.imageSize.join(',')}]`;
  }
}
