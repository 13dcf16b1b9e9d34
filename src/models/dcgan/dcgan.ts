import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../../core/errors.js';
import { variableGrads } from '../../core/gradients.js';
import { Module } from '../../core/module.js';
import { Generator, toGenerator, type SeedLike } from '../../core/random.js';
import type { DataLoader } from '../../data/data-loader.js';
import type { Dataset } from '../../data/dataset.js';
import type { Batch, Sample } from '../../data/sample.js';
import { loadModelAs, saveModel } from '../../io/saved-model.js';
import type { NormKind } from '../../layers/factories.js';
import { discriminatorLoss, generatorLoss, type AdversarialLossType } from '../../losses/adversarial.js';
import { Adam } from '../../optim/adam.js';
import type { Callback } from '../../train/callbacks.js';
import { trainLoop, type CheckpointOptions, type TrainResult } from '../../train/train-loop.js';
import type { Logs, Progress } from '../../train/types.js';
import { forwardKeepingBuffers, splitBatch } from '../gan-internal.js';
import { checkImages, checkPositiveInt, toLoader } from '../vae-common.js';
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
}

/** Options of {@link DCGAN.fit}. */
export interface DCGANFitOptions {
  /** Number of epochs. */
  epochs: number;
  /** Learning rate of both Adam optimizers. Default 2e-4 (Radford et al.). */
  lr?: number;
  /** Learning rate of the discriminator's Adam. Default `lr`. */
  discriminatorLr?: number;
  /** Adam's betas for both optimizers. Default `[0.5, 0.999]` (Radford et al.: β₁ = 0.9 made training oscillate). */
  betas?: [number, number];
  /**
   * The GAN objective (see {@link AdversarialLossType}). Default `'non-saturating'`. `'wasserstein'`
   * is refused: a critic needs a Lipschitz constraint, and the gradient penalty that would give one
   * cannot be differentiated through tfjs's LeakyReLU gradient.
   */
  lossType?: AdversarialLossType;
  /** Batch size when `data` is a Dataset. Default 128. */
  batchSize?: number;
  /** Seed of the shuffle, of the noise drawn each step, and of the fixed noise. Default 0. */
  seed?: number;
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
  /** Progress display: `'bar'` (default), `'none'`, or a callback. */
  onProgress?: 'bar' | 'none' | ((progress: Progress) => void);
  /** Further callbacks. */
  callbacks?: Callback[];
  /** Atomic checkpoints (weights, both optimizers as `generator` and `discriminator`, the noise stream) and resume. */
  checkpoint?: CheckpointOptions;
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
export class DCGAN extends Module<tf.Tensor, tf.Tensor> {
  /** The generator network (z → image). */
  readonly generator: DCGANGenerator;
  /** The discriminator network (image → logit). */
  readonly discriminator: DCGANDiscriminator;

  constructor(options: DCGANOptions = {}) {
    super();
    const gen = toGenerator(options.seed);
    const imageChannels = options.imageChannels ?? 1;
    this.generator = this.registerModule('generator', new DCGANGenerator({
      latentDim: options.latentDim, imageSize: options.imageSize, outChannels: imageChannels, channels: options.generatorChannels, seed: gen,
    }));
    this.discriminator = this.registerModule('discriminator', new DCGANDiscriminator({
      inChannels: imageChannels, imageSize: this.generator.imageSize, channels: options.discriminatorChannels, norm: options.discriminatorNorm, seed: gen,
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
    checkPositiveInt(n, 'DCGAN.sample n');
    const z = toGenerator(options.seed).normal([n, this.latentDim]);
    try {
      return this.generate(z, options.batchSize);
    } finally {
      z.dispose();
    }
  }

  /** Images from given latent vectors `[n, latentDim]`, in eval mode (see {@link DCGAN.sample}). */
  generate(z: tf.Tensor, batchSize = 64): tf.Tensor4D {
    checkPositiveInt(batchSize, 'DCGAN.generate batchSize');
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

  /** Trains generator and discriminator on images (labels and masks are ignored); see the class description. */
  async fit(data: Dataset<Sample> | DataLoader<Sample, Batch>, options: DCGANFitOptions): Promise<TrainResult> {
    const type = options.lossType ?? 'non-saturating';
    if (type === 'wasserstein') {
      throw new ValueError(
        "DCGAN.fit: lossType 'wasserstein' needs a Lipschitz-constrained critic (WGAN-GP), and tfjs cannot take the second-order gradient " +
          "of the discriminator's LeakyReLU that a gradient penalty needs. Use 'non-saturating', 'least-squares' or 'hinge'.",
      );
    }
    const [lo, hi] = options.dataRange ?? [0, 1];
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) throw new ValueError(`DCGAN.fit dataRange must be [low, high] with low < high, but got [${lo}, ${hi}].`);
    const sampleEvery = options.sampleEvery ?? 1;
    checkPositiveInt(sampleEvery, 'DCGAN.fit sampleEvery');
    const seed = options.seed ?? 0;
    const lr = options.lr ?? 2e-4;
    const betas = options.betas ?? [0.5, 0.999];
    const gParams = this.generator.trainableParameters();
    const dParams = this.discriminator.trainableParameters();
    const loader = toLoader(data, options.batchSize ?? 128, seed);
    const runGenerator = new Generator(seed);
    let fixed: tf.Tensor | null = null;
    if (options.onEpochEnd) {
      const f = options.fixedNoise ?? 64;
      if (typeof f === 'number') {
        checkPositiveInt(f, 'DCGAN.fit fixedNoise');
        fixed = new Generator(seed).fork().normal([f, this.latentDim]);
      } else {
        if (f.rank !== 2 || f.shape[1] !== this.latentDim) throw new ValueError(`DCGAN.fit fixedNoise must be [n, ${this.latentDim}], but got [${f.shape.join(', ')}].`);
        fixed = tf.clone(f);
      }
    }
    const optimizers = {
      generator: new Adam(gParams, { lr, betas }),
      discriminator: new Adam(dParams, { lr: options.discriminatorLr ?? lr, betas }),
    };
    const adv = { type };
    const [h, w] = this.generator.imageSize;
    const c = this.generator.outChannels;
    const jointBatch = this.discriminator.norm !== 'batch';

    const step = (batch: Batch, ctx: { generator: Generator }): Logs => {
      checkImages(batch.image, h, w, c, 'DCGAN.fit images');
      const b = batch.image.shape[0];
      const real = tf.tidy(() => tf.sub(tf.mul(batch.image, 2 / (hi - lo)), (hi + lo) / (hi - lo)));
      const z = ctx.generator.normal([b, this.latentDim]);
      const owned: tf.Tensor[] = [real, z];
      try {
        const fake = forwardKeepingBuffers(this.generator, () => this.generator.forward(z));
        owned.push(fake);
        let dReal: tf.Tensor | undefined;
        let dFake: tf.Tensor | undefined;
        const d = variableGrads(() => {
          let rl: tf.Tensor;
          let fl: tf.Tensor;
          // Instance norm judges each image alone, so one batch is the same as two; batch norm is not.
          if (jointBatch) [rl, fl] = splitBatch(this.discriminator.forward(tf.concat([real, fake], 0)), b);
          else [rl, fl] = [this.discriminator.forward(real), this.discriminator.forward(fake)];
          dReal = tf.keep(tf.mean(tf.sigmoid(rl)));
          dFake = tf.keep(tf.mean(tf.sigmoid(fl)));
          return discriminatorLoss(rl, fl, adv) as tf.Scalar;
        }, dParams);
        owned.push(d.value, dReal as tf.Tensor, dFake as tf.Tensor, ...Object.values(d.grads));
        optimizers.discriminator.step(d.grads);
        const g = variableGrads(() => generatorLoss(this.discriminator.forward(this.generator.forward(z)), adv) as tf.Scalar, gParams);
        owned.push(g.value, ...Object.values(g.grads));
        optimizers.generator.step(g.grads);
        const read = (t: tf.Tensor | undefined): number => (t as tf.Tensor).dataSync()[0];
        const dl = read(d.value);
        const gl = read(g.value);
        return { loss: dl + gl, discriminator: dl, generator: gl, dReal: read(dReal), dFake: read(dFake) };
      } finally {
        tf.dispose(owned);
      }
    };

    const callbacks: Callback[] = [...(options.callbacks ?? [])];
    const onEpochEnd = options.onEpochEnd;
    if (onEpochEnd && fixed) {
      const noise = fixed;
      callbacks.push({
        onEpochEnd: async (record) => {
          if ((record.epoch + 1) % sampleEvery !== 0 && record.epoch !== options.epochs - 1) return;
          const images = this.generate(noise);
          try {
            await onEpochEnd(images, record.epoch);
          } finally {
            images.dispose();
          }
        },
      });
    }
    try {
      return await trainLoop<Batch>({
        module: this,
        optimizers,
        epochs: options.epochs,
        stepsPerEpoch: loader.length,
        data: (epoch) => loader.forEpoch(epoch),
        step,
        onProgress: options.onProgress,
        callbacks,
        checkpoint: options.checkpoint,
        generator: runGenerator,
      });
    } finally {
      optimizers.generator.dispose();
      optimizers.discriminator.dispose();
      fixed?.dispose();
    }
  }

  /** Saves config and weights (both networks) to a directory or a tfjs IO URL. */
  async save(target: string): Promise<void> {
    await saveModel(this, target, { className: 'DCGAN', config: { ...this.config } });
  }

  /** Loads a model written by {@link DCGAN.save}. */
  static async load(source: string): Promise<DCGAN> {
    return loadModelAs(source, 'DCGAN', (config) => new DCGAN(config as unknown as DCGANOptions));
  }

  override extraRepr(): string {
    return `latentDim=${this.latentDim}, imageSize=[${this.generator.imageSize.join(',')}]`;
  }
}
