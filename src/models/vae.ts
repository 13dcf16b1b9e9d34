import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { variableGradsWithAux } from '../core/gradients.js';
import { Generator, toGenerator, type SeedLike } from '../core/random.js';
import { DataLoader } from '../data/data-loader.js';
import type { Dataset } from '../data/dataset.js';
import type { Batch, Sample } from '../data/sample.js';
import { readConfig, type ConfigError } from '../io/config-schema.js';
import { SavableModel } from '../io/savable-model.js';
import { resolveBatchNorm, type ActivationKind, type BatchNormSettings, type NormKind } from '../layers/factories.js';
import { Linear } from '../layers/linear.js';
import { GaussianReparameterization } from '../layers/reparameterization.js';
import type { Sequential } from '../layers/sequential.js';
import type { BetaSchedule } from '../losses/kl-annealing.js';
import { gaussianKL } from '../losses/kl.js';
import { bernoulliNLL, gaussianNLL } from '../losses/likelihood.js';
import { runFit, type FitData } from '../train/fit.js';
import type { FitOptions, OptimizerOptions } from '../train/fit-options.js';
import type { TrainResult } from '../train/train-loop.js';
import type { StepContext } from '../train/types.js';
import { nonNegativeNumber, oneOf, positiveInt } from '../core/validate.js';
import { checkRange } from './fit-checks.js';
import { checkImages, checkKLWeight, withEval } from './vae-common.js';
import { VAE_SCHEMA } from './config-schemas.js';
import { buildConvDecoder, buildConvEncoder, buildMlpDecoder, buildMlpEncoder, type VAENetworkSpec } from './vae-networks.js';

/** Encoder/decoder family of a {@link VAE}. */
export type VAEArchitecture = 'conv' | 'mlp';

/**
 * The decoder's output distribution p(x | z), which fixes what the decoder emits and the
 * reconstruction term: `'bernoulli'` — logits of independent Bernoullis (binary or [0, 1] images
 * and masks; reconstruction = {@link bernoulliNLL}); `'gaussian'` — means of independent Gaussians
 * with a fixed variance (real-valued images; reconstruction = {@link gaussianNLL}).
 */
export type VAELikelihood = 'bernoulli' | 'gaussian';

/** Options of {@link VAE}. */
export interface VAEOptions {
  /** Channels of the input images (last axis). */
  inChannels: number;
  /** Height and width of the input images, `[H, W]`; the dense layers are sized from it. */
  imageSize: [number, number];
  /** Size of the latent code z (e.g. 2 for a plottable latent space, 16–128 for real data). */
  latentDim: number;
  /** `'conv'` (default): strided conv encoder, transposed-conv decoder. `'mlp'`: fully connected both ways. */
  architecture?: VAEArchitecture;
  /**
   * Conv encoder widths, one stride-2 convolution (kernel 3, padding 1) each, so the image shrinks
   * by 2 per entry; the decoder mirrors them with stride-2 transposed convolutions. Default `[32, 64]`.
   * Ignored by the MLP.
   */
  channels?: number[];
  /** Hidden widths of the MLP encoder (the decoder uses them in reverse). Default `[512, 256]`. Ignored by the conv architecture. */
  hiddenDims?: number[];
  /** Normalisation after each hidden conv / transposed conv (`'batch'` or `'none'` usually). Default `'batch'`. */
  norm?: NormKind;
  /** Activation of every hidden layer. Default `'relu'`. */
  activation?: ActivationKind;
  /**
   * Channels the decoder produces. Default `inChannels` (an autoencoder of the image). Set it to
   * the mask's channels to train a decoder that outputs a segmentation mask from the encoded image
   * (VAE-based segmentation: `fit(data, { target: 'mask' })`).
   */
  outChannels?: number;
  /** Decoder distribution (see {@link VAELikelihood}). Default `'bernoulli'`. */
  likelihood?: VAELikelihood;
  /**
   * Fixed variance σ² of the Gaussian decoder (`likelihood: 'gaussian'` only). It sets the weight
   * of the reconstruction against the KL: the squared error is divided by 2σ², so a smaller σ²
   * gives sharper reconstructions and a less regular latent space. Default 1 (the standard N(μ, I)).
   */
  gaussianVariance?: number;
  /**
   * Momentum and eps of every BatchNorm (`norm: 'batch'`), PyTorch's names and convention:
   * `running = (1 − momentum)·running + momentum·batch`. Default `{ momentum: 0.1, eps: 1e-5 }`.
   */
  batchNorm?: BatchNormSettings;
  /** Seed for weight initialisation and the reparameterisation noise. */
  seed?: SeedLike;
}

/** A {@link VAE}'s options with defaults filled in (no seed), as stored by {@link VAE.save}. */
export type VAEConfig = Required<Omit<VAEOptions, 'seed'>>;

/** Output of {@link VAE.forward}. Every tensor is the caller's to dispose. */
export interface VAEOutput {
  /** Decoder output `[B, H, W, outChannels]`: logits (Bernoulli) or means (Gaussian). */
  recon: tf.Tensor4D;
  /** Posterior means `[B, latentDim]`. */
  mu: tf.Tensor2D;
  /** Posterior log-variances `[B, latentDim]`. */
  logVar: tf.Tensor2D;
  /** The latent code fed to the decoder `[B, latentDim]`: a sample μ + σ·ε in training mode, μ in evaluation mode. */
  z: tf.Tensor2D;
}

/** The approximate posterior q(z | x) = N(μ, diag(exp(logVar))). */
export interface VAEPosterior {
  /** Means `[B, latentDim]`. */
  mu: tf.Tensor2D;
  /** Log-variances `[B, latentDim]`. */
  logVar: tf.Tensor2D;
}

/** Options of {@link VAE.loss}. */
export interface VAELossOptions {
  /** Weight β of the KL term (β-VAE; 1 gives the negative ELBO). Default 1. */
  beta?: number;
  /** Free bits λ, nats per latent dimension (see {@link gaussianKL}). Default: off. */
  freeBits?: number;
}

/** The terms of {@link VAE.loss}: scalars, each the caller's to dispose. */
export interface VAELossTerms {
  /** `reconstruction + β·kl`: what training minimises. */
  loss: tf.Scalar;
  /** Reconstruction negative log-likelihood in nats, summed over pixels and channels, mean over the batch. */
  reconstruction: tf.Scalar;
  /** KL(q(z|x) ‖ N(0, I)) in nats, summed over latent dimensions, mean over the batch. */
  kl: tf.Scalar;
}

/** Options of {@link VAE.elbo}. */
export interface VAEElboOptions {
  /** What the decoder should reproduce, `[B, H, W, outChannels]`. Default: the input itself. */
  target?: tf.Tensor;
  /** Samples z ~ q(z|x) averaged in the reconstruction term's Monte-Carlo estimate. Default 1. */
  samples?: number;
  /** Source of the posterior samples (number, Generator, or the global generator when omitted). */
  seed?: SeedLike;
}

/** Options of {@link VAE.sample}. */
export interface VAESampleOptions {
  /** Source of the prior draws z ~ N(0, I) (number, Generator, or the global generator when omitted). */
  seed?: SeedLike;
}

/** Options of {@link VAE.evaluate}. */
export interface VAEEvaluateOptions {
  /** `'image'` (default): reconstruct the image; `'mask'`: the sample's mask is the decoder's target. */
  target?: 'image' | 'mask';
  /** Images per forward pass. Default 64. */
  batchSize?: number;
  /** Posterior samples per image. Default 1. */
  samples?: number;
  /** Seed of the posterior samples. Default 0, so repeated evaluations of one model agree. */
  seed?: number;
}

/** What {@link VAE.evaluate} reports: per-image means over the dataset, in nats. */
export type VAEMetrics = {
  /** Negative ELBO: reconstruction + KL (an upper bound on −log p(x)). */
  negElbo: number;
  /** Reconstruction NLL, −E_q[log p(x | z)]. */
  reconstruction: number;
  /** KL(q(z|x) ‖ N(0, I)). */
  kl: number;
};

/** Options of {@link VAE.fit}: the shared fit and optimizer options (default lr 1e-3, batch size 128) plus the ELBO's settings. */
export interface VAEFitOptions extends FitOptions, OptimizerOptions {
  /** Constant KL weight β. Default 1. Give either `beta` or `klAnnealing`. */
  beta?: number;
  /**
   * β per global step, e.g. `linearKLWarmup({ warmupSteps: 1000 })` or
   * `cyclicalKLSchedule({ totalSteps })` from the losses; it replaces `beta`. Annealing lets the
   * decoder learn before the KL pulls the posterior to the prior (posterior collapse).
   */
  klAnnealing?: BetaSchedule;
  /** Free bits λ (nats per latent dimension). Default: off. */
  freeBits?: number;
  /** What the decoder reconstructs: `'image'` (default) or `'mask'` (each sample's mask; VAE-based segmentation). */
  target?: 'image' | 'mask';
}

const DEFAULTS = {
  architecture: 'conv' as VAEArchitecture,
  channels: [32, 64],
  hiddenDims: [512, 256],
  norm: 'batch' as NormKind,
  activation: 'relu' as ActivationKind,
  likelihood: 'bernoulli' as VAELikelihood,
  gaussianVariance: 1,
};

function checkWidths(list: unknown, what: string): number[] {
  if (!Array.isArray(list) || list.length === 0 || !list.every((c) => Number.isInteger(c) && c > 0)) {
    throw new ValueError(`VAE ${what} must be a non-empty list of positive integers, but got ${JSON.stringify(list)}.`);
  }
  return [...(list as number[])];
}

function resolveConfig(options: VAEOptions): VAEConfig {
  if (options === null || typeof options !== 'object') throw new ValueError('VAE needs an options object ({ inChannels, imageSize, latentDim, ... }).');
  positiveInt(options.inChannels, 'VAE inChannels');
  positiveInt(options.latentDim, 'VAE latentDim');
  const size = options.imageSize;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ValueError(`VAE imageSize must be [height, width] with positive integers, but got ${JSON.stringify(size)}.`);
  }
  const config: VAEConfig = {
    inChannels: options.inChannels,
    imageSize: [size[0], size[1]],
    latentDim: options.latentDim,
    architecture: options.architecture ?? DEFAULTS.architecture,
    channels: checkWidths(options.channels ?? DEFAULTS.channels, 'channels'),
    hiddenDims: checkWidths(options.hiddenDims ?? DEFAULTS.hiddenDims, 'hiddenDims'),
    norm: options.norm ?? DEFAULTS.norm,
    activation: options.activation ?? DEFAULTS.activation,
    outChannels: options.outChannels ?? options.inChannels,
    likelihood: options.likelihood ?? DEFAULTS.likelihood,
    gaussianVariance: options.gaussianVariance ?? DEFAULTS.gaussianVariance,
    batchNorm: resolveBatchNorm(options.batchNorm),
  };
  if (config.architecture !== 'conv' && config.architecture !== 'mlp') {
    throw new ValueError(`VAE architecture must be 'conv' or 'mlp', but got ${JSON.stringify(config.architecture)}.`);
  }
  if (config.likelihood !== 'bernoulli' && config.likelihood !== 'gaussian') {
    throw new ValueError(`VAE likelihood must be 'bernoulli' or 'gaussian', but got ${JSON.stringify(config.likelihood)}.`);
  }
  positiveInt(config.outChannels, 'VAE outChannels');
  if (!(Number.isFinite(config.gaussianVariance) && config.gaussianVariance > 0)) {
    throw new ValueError(`VAE gaussianVariance must be a finite number > 0, but got ${config.gaussianVariance}.`);
  }
  return config;
}

/**
 * A variational autoencoder (Kingma & Welling 2014) on NHWC images: an encoder (strided convs or an
 * MLP) whose features feed two Linear heads, μ and log σ², a {@link GaussianReparameterization}
 * z = μ + σ·ε, and a decoder back to `[H, W, outChannels]`. Trained on the negative ELBO,
 * reconstruction NLL + β·KL, optionally with KL annealing.
 *
 * Children: `encoder` (Sequential ending in a Flatten), `fcMu`, `fcLogVar` (Linear heads), `reparam`,
 * and `decoder` (Sequential starting with a Linear from the latent).
 *
 * Methods that return images for display (`reconstruct`, `sample`, `interpolate`) return the
 * decoder's *mean*: sigmoid probabilities for Bernoulli, means for Gaussian ({@link VAE.decodeMean});
 * `forward` and {@link VAE.decode} return the raw distribution parameters the loss uses (logits for
 * Bernoulli). The inference helpers run in evaluation mode and restore the previous mode.
 *
 * @example
 * ```ts
 * const train = await loadMnist({ split: 'train', binarize: true });
 * const test = await loadMnist({ split: 'test', binarize: true });
 * const vae = new VAE({ inChannels: 1, imageSize: [28, 28], latentDim: 16, seed: 0 });
 * await vae.fit(train, { epochs: 10, klAnnealing: linearKLWarmup({ warmupSteps: 2000 }) });
 * const { negElbo } = await vae.evaluate(test);             // nats per image
 * const grid = vae.sample(64, { seed: 1 });               // [64, 28, 28, 1] probabilities
 * ```
 */
export class VAE extends SavableModel<tf.Tensor, VAEOutput> {
  /** The name saves record (see {@link SavableModel}). */
  static override readonly modelName: string = 'VAE';

  /** Feature extractor; ends in a Flatten (`[B, features]`). */
  readonly encoder: Sequential;
  /** Head producing μ. */
  readonly fcMu: Linear;
  /** Head producing log σ². */
  readonly fcLogVar: Linear;
  /** z = μ + σ·ε in training mode (μ in evaluation mode). */
  readonly reparam: GaussianReparameterization;
  /** Maps z `[B, latentDim]` to the decoder output `[B, H, W, outChannels]`. */
  readonly decoder: Sequential;
  /** The generator of the reparameterisation noise (saved in training checkpoints). */
  readonly noiseGenerator: Generator;
  private readonly cfg: VAEConfig;

  constructor(options: VAEOptions) {
    super();
    this.cfg = resolveConfig(options);
    const gen = toGenerator(options.seed);
    const spec: VAENetworkSpec = { ...this.cfg };
    const enc = this.cfg.architecture === 'conv' ? buildConvEncoder(spec, gen) : buildMlpEncoder(spec, gen);
    this.encoder = this.registerModule('encoder', enc.net);
    this.fcMu = this.registerModule('fcMu', new Linear(enc.features, this.cfg.latentDim, { seed: gen }));
    this.fcLogVar = this.registerModule('fcLogVar', new Linear(enc.features, this.cfg.latentDim, { seed: gen }));
    this.noiseGenerator = gen.fork();
    this.reparam = this.registerModule('reparam', new GaussianReparameterization({ seed: this.noiseGenerator }));
    this.decoder = this.registerModule('decoder', this.cfg.architecture === 'conv' ? buildConvDecoder(spec, gen) : buildMlpDecoder(spec, gen));
  }

  /** The options the model was built with, defaults filled in (without the seed), as saved by {@link VAE.save}. */
  get config(): VAEConfig {
    return { ...this.cfg, imageSize: [...this.cfg.imageSize], channels: [...this.cfg.channels], hiddenDims: [...this.cfg.hiddenDims], batchNorm: { ...this.cfg.batchNorm } };
  }

  /** Size of the latent code. */
  get latentDim(): number {
    return this.cfg.latentDim;
  }

  /** Parameters of the encoder and its μ / log σ² heads (what a latent classifier fine-tunes). */
  encoderParameters(): tf.Variable[] {
    return [...this.encoder.parameters(), ...this.fcMu.parameters(), ...this.fcLogVar.parameters()];
  }

  /** Parameters of the decoder. */
  decoderParameters(): tf.Variable[] {
    return this.decoder.parameters();
  }

  private checkInput(x: tf.Tensor, what: string): void {
    checkImages(x, this.cfg.imageSize[0], this.cfg.imageSize[1], this.cfg.inChannels, what);
  }

  private checkTarget(target: tf.Tensor, batch: number, what: string): void {
    checkImages(target, this.cfg.imageSize[0], this.cfg.imageSize[1], this.cfg.outChannels, what);
    if (target.shape[0] !== batch) throw new ValueError(`${what} has ${target.shape[0]} images but the input has ${batch}; give one target per image.`);
  }

  /** The default reconstruction target: the input itself, which needs outChannels = inChannels. */
  private defaultTarget(x: tf.Tensor, what: string): tf.Tensor {
    if (this.cfg.outChannels !== this.cfg.inChannels) {
      throw new ValueError(`${what}: this VAE's decoder outputs ${this.cfg.outChannels} channels but the input has ${this.cfg.inChannels}, so the input cannot be its own target; pass the target (e.g. the mask).`);
    }
    return x;
  }

  /** The approximate posterior's parameters for images `[B, H, W, inChannels]` (in the current mode). */
  encode(x: tf.Tensor): VAEPosterior {
    this.checkInput(x, 'VAE.encode input');
    return tf.tidy(() => {
      const h = this.encoder.forward(x);
      return { mu: this.fcMu.forward(h) as tf.Tensor2D, logVar: this.fcLogVar.forward(h) as tf.Tensor2D };
    }) as unknown as VAEPosterior;
  }

  private checkLatent(z: tf.Tensor, what: string): void {
    if (z.rank !== 2 || z.shape[1] !== this.cfg.latentDim) {
      throw new ValueError(`${what} must be latent codes [B, ${this.cfg.latentDim}], but got shape [${z.shape.join(', ')}].`);
    }
  }

  /** Raw decoder output `[B, H, W, outChannels]` for codes `[B, latentDim]`: logits (Bernoulli) or means (Gaussian). */
  decode(z: tf.Tensor): tf.Tensor4D {
    this.checkLatent(z, 'VAE.decode input');
    return this.decoder.forward(z) as tf.Tensor4D;
  }

  /** Expected image `[B, H, W, outChannels]` under p(x | z): sigmoid(logits) for Bernoulli, the means for Gaussian. */
  decodeMean(z: tf.Tensor): tf.Tensor4D {
    this.checkLatent(z, 'VAE.decodeMean input');
    return tf.tidy(() => this.likelihoodMean(this.decoder.forward(z)));
  }

  /** The mean of p(x | z) from the decoder's raw output: sigmoid of the logits (Bernoulli) or the means themselves (Gaussian, a copy). */
  likelihoodMean(raw: tf.Tensor): tf.Tensor4D {
    return (this.cfg.likelihood === 'bernoulli' ? tf.sigmoid(raw) : tf.clone(raw)) as tf.Tensor4D;
  }

  /** Encodes, reparameterises and decodes (see {@link VAEOutput}). */
  forward(x: tf.Tensor): VAEOutput {
    this.checkInput(x, 'VAE input');
    return tf.tidy(() => {
      const h = this.encoder.forward(x);
      const mu = this.fcMu.forward(h);
      const logVar = this.fcLogVar.forward(h);
      const z = this.reparam.forward({ mu, logVar });
      const recon = this.decoder.forward(z);
      return { recon, mu, logVar, z };
    }) as unknown as VAEOutput;
  }

  /**
   * −log p(target | z) per image `[B]`, in nats, from the decoder's raw output (logits or means):
   * the reconstruction term of the ELBO under this model's likelihood.
   */
  reconstructionNLL(raw: tf.Tensor, target: tf.Tensor): tf.Tensor1D {
    return (this.cfg.likelihood === 'bernoulli'
      ? bernoulliNLL(raw, target, { reduction: 'none' })
      : gaussianNLL(raw, target, { variance: this.cfg.gaussianVariance, reduction: 'none' })) as tf.Tensor1D;
  }

  /**
   * The training objective on one batch: reconstruction NLL (nats, summed over pixels, mean over
   * the batch) + β·KL, through {@link VAE.forward} (z is a posterior sample in training mode, μ in
   * evaluation mode). `target` defaults to `x`; give the mask for a mask-decoding VAE.
   */
  loss(x: tf.Tensor, target?: tf.Tensor, options: VAELossOptions = {}): VAELossTerms {
    this.checkInput(x, 'VAE.loss input');
    const tgt = target ?? this.defaultTarget(x, 'VAE.loss');
    if (target !== undefined) this.checkTarget(target, x.shape[0], 'VAE.loss target');
    const beta = options.beta ?? 1;
    if (!(Number.isFinite(beta) && beta >= 0)) throw new ValueError(`VAE.loss beta must be a finite number ≥ 0, but got ${beta}.`);
    return tf.tidy(() => {
      const out = this.forward(x);
      const reconstruction = tf.mean(this.reconstructionNLL(out.recon, tgt)) as tf.Scalar;
      const kl = gaussianKL(out.mu, out.logVar, options.freeBits === undefined ? {} : { freeBits: options.freeBits }) as tf.Scalar;
      const loss = tf.add(reconstruction, tf.mul(kl, beta)) as tf.Scalar;
      return { loss, reconstruction, kl };
    }) as unknown as VAELossTerms;
  }

  /** Per-sample reconstruction NLL and KL `[B]` (evaluation mode, z sampled from the posterior). */
  private elboTerms(x: tf.Tensor, target: tf.Tensor, samples: number, gen: Generator): { nll: tf.Tensor1D; kl: tf.Tensor1D } {
    return withEval(this, () =>
      tf.tidy(() => {
        const { mu, logVar } = this.encode(x);
        const std = tf.exp(tf.mul(logVar, 0.5));
        let nll: tf.Tensor = tf.zeros([x.shape[0]]);
        for (let k = 0; k < samples; k++) {
          const z = tf.add(mu, tf.mul(std, gen.normal(mu.shape)));
          nll = tf.add(nll, this.reconstructionNLL(this.decoder.forward(z), target));
        }
        return { nll: tf.div(nll, samples) as tf.Tensor1D, kl: gaussianKL(mu, logVar, { reduction: 'none' }) as tf.Tensor1D };
      }) as unknown as { nll: tf.Tensor1D; kl: tf.Tensor1D },
    );
  }

  /**
   * The evidence lower bound per image `[B]`, in nats:
   * `E_q[log p(x | z)] − KL(q(z|x) ‖ N(0, I))`, the expectation estimated with `samples` draws of z
   * (evaluation mode). Report `−elbo` as the test negative ELBO (an upper bound on −log p(x));
   * for MNIST use the Bernoulli likelihood on binarised digits.
   */
  elbo(x: tf.Tensor, options: VAEElboOptions = {}): tf.Tensor1D {
    this.checkInput(x, 'VAE.elbo input');
    const samples = options.samples ?? 1;
    positiveInt(samples, 'VAE.elbo samples');
    const target = options.target ?? this.defaultTarget(x, 'VAE.elbo');
    if (options.target !== undefined) this.checkTarget(options.target, x.shape[0], 'VAE.elbo target');
    const { nll, kl } = this.elboTerms(x, target, samples, toGenerator(options.seed));
    const out = tf.neg(tf.add(nll, kl)) as tf.Tensor1D;
    tf.dispose([nll, kl]);
    return out;
  }

  /** Reconstructions `[B, H, W, outChannels]` (decoder mean at z = μ, evaluation mode). */
  reconstruct(x: tf.Tensor): tf.Tensor4D {
    this.checkInput(x, 'VAE.reconstruct input');
    return withEval(this, () => tf.tidy(() => this.decodeMean(this.encode(x).mu)));
  }

  /** `n` new images `[n, H, W, outChannels]`: decoder means at z ~ N(0, I) (evaluation mode). */
  sample(n: number, options: VAESampleOptions = {}): tf.Tensor4D {
    positiveInt(n, 'VAE.sample n');
    const gen = toGenerator(options.seed);
    return withEval(this, () => tf.tidy(() => this.decodeMean(gen.normal([n, this.cfg.latentDim]))));
  }

  /**
   * Decoded straight-line walks in latent space between the posterior means of `xa` and `xb`:
   * `steps` points (both ends included) per pair. `xa` and `xb` are `[B, H, W, C]` with the same
   * B (or single images `[H, W, C]`); the result is `[B·steps, H, W, outChannels]`, pair by pair,
   * ready for an image grid with `steps` columns.
   */
  interpolate(xa: tf.Tensor, xb: tf.Tensor, steps: number): tf.Tensor4D {
    if (!Number.isInteger(steps) || steps < 2) throw new ValueError(`VAE.interpolate steps must be an integer ≥ 2 (both ends are included), but got ${steps}.`);
    return withEval(this, () =>
      tf.tidy(() => {
        const a = xa.rank === 3 ? tf.expandDims(xa, 0) : xa;
        const b = xb.rank === 3 ? tf.expandDims(xb, 0) : xb;
        this.checkInput(a, 'VAE.interpolate xa');
        this.checkInput(b, 'VAE.interpolate xb');
        if (a.shape[0] !== b.shape[0]) throw new ValueError(`VAE.interpolate: xa has ${a.shape[0]} images and xb ${b.shape[0]}; give one xb per xa.`);
        const ma = this.encode(a).mu;
        const mb = this.encode(b).mu;
        const t = tf.reshape(tf.linspace(0, 1, steps), [1, steps, 1]);
        const z = tf.add(tf.expandDims(ma, 1), tf.mul(t, tf.expandDims(tf.sub(mb, ma), 1)));
        return this.decodeMean(tf.reshape(z, [a.shape[0] * steps, this.cfg.latentDim]));
      }),
    );
  }

  /**
   * Mean per-image negative ELBO and its two terms over a dataset, in nats (evaluation mode):
   * `{ negElbo, reconstruction, kl }`.
   */
  async evaluate(data: Dataset<Sample>, options: VAEEvaluateOptions = {}): Promise<VAEMetrics> {
    const samples = options.samples ?? 1;
    positiveInt(samples, 'VAE.evaluate samples');
    const gen = new Generator(options.seed ?? 0);
    const loader = new DataLoader(data, { batchSize: options.batchSize ?? 64 });
    let nllSum = 0;
    let klSum = 0;
    let count = 0;
    for await (const batch of loader) {
      const target = this.batchTarget(batch, options.target ?? 'image', 'VAE.evaluate');
      const { nll, kl } = this.elboTerms(batch.image, target, samples, gen);
      const [nllValues, klValues] = await Promise.all([nll.data(), kl.data()]);
      tf.dispose([nll, kl]);
      for (let i = 0; i < nllValues.length; i++) {
        nllSum += nllValues[i];
        klSum += klValues[i];
      }
      count += batch.image.shape[0];
    }
    if (count === 0) throw new ValueError('VAE.evaluate got an empty dataset.');
    return { negElbo: (nllSum + klSum) / count, reconstruction: nllSum / count, kl: klSum / count };
  }

  private batchTarget(batch: Batch, kind: 'image' | 'mask', where: string): tf.Tensor {
    if (kind === 'image') return this.defaultTarget(batch.image, where);
    if (kind !== 'mask') throw new ValueError(`${where}: target must be 'image' or 'mask', but got ${JSON.stringify(kind)}.`);
    if (batch.mask === undefined) throw new ValueError(`${where}: target 'mask' needs samples with a mask.`);
    this.checkTarget(batch.mask, batch.image.shape[0], `${where} mask`);
    return batch.mask;
  }

  /**
   * Trains on the negative ELBO (reconstruction + β·KL) with Adam (lr 1e-3 by default) through
   * {@link runFit}. Logs `loss`, `reconstruction`, `kl` and `beta` per step. `data` is a Dataset
   * (batched and shuffled here with `batchSize` and `seed`), a DataLoader, or any source of batches.
   * With the Bernoulli likelihood the targets must lie in [0, 1] (a step finding others stops the
   * run with a ValueError: scale 0–255 images to [0, 1], or use `likelihood: 'gaussian'`).
   */
  async fit(data: FitData, options: VAEFitOptions): Promise<TrainResult> {
    const what = 'VAE.fit';
    const o = options ?? ({} as VAEFitOptions);
    checkKLWeight(o, what);
    if (o.freeBits !== undefined) nonNegativeNumber(o.freeBits, `${what} freeBits`);
    const kind = oneOf(o.target ?? 'image', `${what} target`, ['image', 'mask'] as const);
    const params = (o.optimizer?.params ?? this.trainableParameters()).filter((p) => p.trainable);
    return runFit({
      what, module: this, data, options: o, defaultBatchSize: 128,
      optimizers: { optimizer: { params, options: o, defaultLr: 1e-3, label: '' } },
      step: (batch, ctx) => {
        const target = this.batchTarget(batch, kind, what);
        if (this.cfg.likelihood === 'bernoulli') this.checkBernoulliTarget(ctx, target, what);
        const beta = o.klAnnealing ? o.klAnnealing(ctx.globalStep) : o.beta ?? 1;
        const { value, grads, aux } = variableGradsWithAux(() => {
          const terms = this.loss(batch.image, target, { beta, freeBits: o.freeBits });
          return { value: terms.loss, aux: { reconstruction: terms.reconstruction, kl: terms.kl } };
        }, params);
        ctx.update('optimizer', grads);
        return { loss: value, reconstruction: aux.reconstruction, kl: aux.kl, beta };
      },
      validate: (validation) => this.evaluate(validation, { target: kind }),
      extraGenerators: { noise: this.noiseGenerator },
    });
  }

  /** Queues the device-side check that Bernoulli targets lie in [0, 1] (see {@link VAE.fit}). */
  private checkBernoulliTarget(ctx: Pick<StepContext, 'check'>, target: tf.Tensor, what: string): void {
    checkRange(
      ctx,
      target,
      0,
      1,
      `${what}: the Bernoulli likelihood needs targets in [0, 1] (probabilities of a pixel being on), but a batch has values outside` +
        ' (0–255 images?). Scale the images to [0, 1] (e.g. scaleIntensity), or build the VAE with likelihood: \'gaussian\'',
    );
  }

  /** Builds an untrained VAE from a saved config, checked field by field ({@link ConfigError} names a wrong one). */
  static fromConfig(config: Record<string, unknown>): VAE {
    return new VAE(readConfig(config, VAE_SCHEMA, 'VAE config'));
  }

  override extraRepr(): string {
    const c = this.cfg;
    const widths = c.architecture === 'conv' ? `channels=[${c.channels.join(',')}]` : `hiddenDims=[${c.hiddenDims.join(',')}]`;
    return `architecture=${c.architecture}, inChannels=${c.inChannels}, imageSize=[${c.imageSize.join(',')}], latentDim=${c.latentDim}, ${widths}, outChannels=${c.outChannels}, likelihood=${c.likelihood}`;
  }
}
