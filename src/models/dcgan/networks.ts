import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../../core/errors.js';
import { Module } from '../../core/module.js';
import { toGenerator, type SeedLike } from '../../core/random.js';
import { LeakyReLU, ReLU, Tanh } from '../../layers/activations.js';
import { BatchNorm2d } from '../../layers/batchnorm.js';
import { Conv2d } from '../../layers/conv2d.js';
import { ConvTranspose2d } from '../../layers/conv-transpose2d.js';
import { createNorm2d, resolveBatchNorm, type BatchNormSettings, type NormKind } from '../../layers/factories.js';
import { Sequential } from '../../layers/sequential.js';
import { dcganInit } from './init.js';

/** An image size: one number for square images, or `[height, width]`. */
export type DCGANImageSize = number | [number, number];

/** Options of {@link DCGANGenerator}. */
export interface DCGANGeneratorOptions {
  /** Size of the latent vector z (PyTorch tutorial's `nz`). Default 100. */
  latentDim?: number;
  /** Output image size. Default 64. 28 (MNIST: 7 → 14 → 28) and 32 (4 → 8 → 16 → 32) work too. */
  imageSize?: DCGANImageSize;
  /** Channels of the generated images (PyTorch tutorial's `nc`). Default 1. */
  outChannels?: number;
  /**
   * Feature widths of the hidden maps, from the projected z down to the last map before the output
   * layer; each entry after the first doubles the size, and the output layer doubles it once more,
   * so the size divisor is 2^channels.length. Default: as many doublings as keep the first map at
   * least 4 pixels wide, with widths `[64·2^(n−1), …, 128, 64]` (e.g. `[512, 256, 128, 64]` at 64×64,
   * `[128, 64]` at 28×28).
   */
  channels?: number[];
  /** Momentum and eps of its BatchNorms, PyTorch's names and convention. Default PyTorch's: 0.1 and 1e-5. */
  batchNorm?: BatchNormSettings;
  /** Seed (or {@link Generator}) of the weight initialisation. */
  seed?: SeedLike;
}

/** Options of {@link DCGANDiscriminator}. */
export interface DCGANDiscriminatorOptions {
  /** Channels of the images judged. Default 1. */
  inChannels?: number;
  /**
   * Size of the images judged. Required unless `patch` is set (the last layer then spans the
   * whole remaining map); with `patch` it only sets the default `channels`.
   */
  imageSize?: DCGANImageSize;
  /**
   * Widths of the stride-2 conv blocks (each halves the size). Default: as many blocks as keep the
   * last map at least 4 pixels wide, with widths `[64, 128, …, 64·2^(n−1)]`; `[64, 128, 256]` for
   * a patch discriminator without `imageSize`.
   */
  channels?: number[];
  /** Normalisation of every block but the first (the input layer is never normalised, as in DCGAN). Default `'instance'` (affine). */
  norm?: NormKind;
  /** Slope of the LeakyReLUs. Default 0.2. */
  negativeSlope?: number;
  /**
   * PatchGAN output (Isola et al., 2017): a `[B, H/2^n, W/2^n, 1]` map of logits, one per
   * overlapping patch, from a final 3×3 conv, instead of one logit per image. Any image size then
   * works. Default false.
   */
  patch?: boolean;
  /** Momentum and eps of its BatchNorms (`norm: 'batch'`), PyTorch's names and convention. Default PyTorch's: 0.1 and 1e-5. */
  batchNorm?: BatchNormSettings;
  /** Seed (or {@link Generator}) of the weight initialisation. */
  seed?: SeedLike;
}

function toSize(size: DCGANImageSize, what: string): [number, number] {
  const hw: [number, number] = typeof size === 'number' ? [size, size] : [size[0], size[1]];
  if (!hw.every((d) => Number.isInteger(d) && d > 0)) throw new ValueError(`${what} imageSize must be a positive integer or [height, width], but got ${JSON.stringify(size)}.`);
  return hw;
}

function checkWidths(channels: number[], what: string): void {
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => Number.isInteger(c) && c > 0)) {
    throw new ValueError(`${what} channels must be a non-empty list of positive integers, but got ${JSON.stringify(channels)}.`);
  }
}

function checkPositive(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 1) throw new ValueError(`${what} must be a positive integer, but got ${v}.`);
}

/** The number of halvings that keep both sides integers and the smaller one at least 4. */
function defaultLevels([h, w]: [number, number], what: string): number {
  let n = 0;
  while (h % 2 ** (n + 1) === 0 && w % 2 ** (n + 1) === 0 && Math.min(h, w) / 2 ** (n + 1) >= 4) n += 1;
  if (n === 0) {
    throw new ValueError(`${what}: imageSize ${h}×${w} cannot be halved to a map of at least 4×4; use an even size of at least 8, or give channels explicitly.`);
  }
  return n;
}

/**
 * The DCGAN generator (Radford et al., 2016): z is read as a 1×1 map and a transposed convolution
 * with the first map's size as kernel projects it (as PyTorch's DCGAN tutorial), then transposed
 * convolutions (kernel 4, stride 2, padding 1) with BatchNorm and ReLU double the size, and a last
 * one to `outChannels` with Tanh gives images in [−1, 1]. Convolutions have no bias (the norms'
 * shifts make it redundant; the output layer has none either, as in the tutorial), and weights are
 * initialised by {@link dcganInit}.
 *
 * Children: `main`, a {@link Sequential} laid out as the tutorial's `main`, so a PyTorch DCGAN
 * generator's state dict maps onto it name for name.
 *
 * @example
 * ```ts
 * const g = new DCGANGenerator({ latentDim: 100, imageSize: 28, seed: 0 });   // 7 → 14 → 28
 * const images = g.forward(new Generator(1).normal([16, 100]));               // [16, 28, 28, 1]
 * ```
 */
export class DCGANGenerator extends Module<tf.Tensor, tf.Tensor> {
  /** The layers, z (as a 1×1 map) to image. */
  readonly main: Sequential;
  /** Size of z. */
  readonly latentDim: number;
  /** `[height, width]` of the images produced. */
  readonly imageSize: [number, number];
  /** Channels of the images produced. */
  readonly outChannels: number;
  /** Hidden widths (defaults filled in). */
  readonly channels: number[];
  /** Momentum and eps of its BatchNorms (defaults filled in). */
  readonly batchNorm: { momentum: number | null; eps: number };

  constructor(options: DCGANGeneratorOptions = {}) {
    super();
    this.latentDim = options.latentDim ?? 100;
    checkPositive(this.latentDim, 'DCGANGenerator latentDim');
    this.outChannels = options.outChannels ?? 1;
    checkPositive(this.outChannels, 'DCGANGenerator outChannels');
    this.imageSize = toSize(options.imageSize ?? 64, 'DCGANGenerator');
    const [h, w] = this.imageSize;
    const n = options.channels?.length ?? defaultLevels(this.imageSize, 'DCGANGenerator');
    const channels = options.channels ?? Array.from({ length: n }, (_, i) => 64 * 2 ** (n - 1 - i));
    checkWidths(channels, 'DCGANGenerator');
    const d = 2 ** n;
    if (h % d !== 0 || w % d !== 0) {
      throw new ValueError(
        `DCGANGenerator: ${n} doublings (one per channels entry) need an imageSize divisible by ${d}, but got ${h}×${w}. ` +
          'Change the image size or the number of channels entries.',
      );
    }
    this.channels = [...channels];
    this.batchNorm = resolveBatchNorm(options.batchNorm);
    const bn = this.batchNorm;
    const gen = toGenerator(options.seed);
    const layers: Module<tf.Tensor, tf.Tensor>[] = [
      new ConvTranspose2d(this.latentDim, channels[0], [h / d, w / d], { bias: false, seed: gen }),
      new BatchNorm2d(channels[0], bn),
      new ReLU(),
    ];
    for (let i = 1; i < n; i++) {
      layers.push(new ConvTranspose2d(channels[i - 1], channels[i], 4, { stride: 2, padding: 1, bias: false, seed: gen }), new BatchNorm2d(channels[i], bn), new ReLU());
    }
    layers.push(new ConvTranspose2d(channels[n - 1], this.outChannels, 4, { stride: 2, padding: 1, bias: false, seed: gen }), new Tanh());
    this.main = this.registerModule('main', new Sequential(...layers));
    dcganInit(this, gen);
  }

  /** Images `[B, H, W, outChannels]` in [−1, 1] from latent vectors `[B, latentDim]`. */
  forward(z: tf.Tensor): tf.Tensor {
    if (z.rank !== 2 || z.shape[1] !== this.latentDim) {
      throw new ShapeError(`DCGANGenerator input must be latent vectors [B, ${this.latentDim}], but got shape [${z.shape.join(', ')}].`);
    }
    return tf.tidy(() => this.main.forward(tf.reshape(z, [z.shape[0], 1, 1, this.latentDim])));
  }

  override extraRepr(): string {
    return `latentDim=${this.latentDim}, imageSize=[${this.imageSize.join(',')}], outChannels=${this.outChannels}`;
  }
}

/**
 * The DCGAN discriminator: stride-2 convolutions (kernel 4, padding 1), each followed by a
 * normalisation (instance norm by default, none on the first block) and LeakyReLU(0.2), then a
 * convolution spanning the remaining map to one logit per image `[B, 1]`, or with `patch` a 3×3
 * convolution to a map of patch logits `[B, h, w, 1]`. No sigmoid: the adversarial losses take
 * logits. Convolutions followed by a norm have no bias; the first and the last have one (PyTorch's
 * DCGAN tutorial leaves them out too, which with a scale-invariant norm after the first block makes
 * the discriminator blind to contrast). Weights are initialised by {@link dcganInit}.
 *
 * Gradient penalties (WGAN-GP, R1) need the gradient of a gradient; tfjs cannot differentiate its
 * LeakyReLU gradient a second time, so train this discriminator with the plain objectives of
 * {@link generatorLoss} / {@link discriminatorLoss} (non-saturating, least-squares, hinge).
 *
 * Children: `main` ({@link Sequential}).
 *
 * @example
 * ```ts
 * const d = new DCGANDiscriminator({ inChannels: 1, imageSize: 28, seed: 0 });   // 28 → 14 → 7 → 1 logit
 * const logits = d.forward(images);                                              // [B, 1]
 * ```
 */
export class DCGANDiscriminator extends Module<tf.Tensor, tf.Tensor> {
  /** The layers, image to logits. */
  readonly main: Sequential;
  /** Channels of the images judged. */
  readonly inChannels: number;
  /** Size of the images judged (null for a patch discriminator built without one). */
  readonly imageSize: [number, number] | null;
  /** Widths of the conv blocks (defaults filled in). */
  readonly channels: number[];
  /** Whether the output is a map of patch logits. */
  readonly patch: boolean;
  /** Normalisation of the blocks after the first. */
  readonly norm: NormKind;
  /** Slope of the LeakyReLUs. */
  readonly negativeSlope: number;

  constructor(options: DCGANDiscriminatorOptions = {}) {
    super();
    this.inChannels = options.inChannels ?? 1;
    checkPositive(this.inChannels, 'DCGANDiscriminator inChannels');
    this.patch = options.patch ?? false;
    this.norm = options.norm ?? 'instance';
    this.negativeSlope = options.negativeSlope ?? 0.2;
    if (!Number.isFinite(this.negativeSlope)) throw new ValueError(`DCGANDiscriminator negativeSlope must be a finite number, but got ${this.negativeSlope}.`);
    if (options.imageSize === undefined && !this.patch) {
      throw new ValueError('DCGANDiscriminator needs imageSize (its last layer spans the whole remaining map), unless patch: true.');
    }
    this.imageSize = options.imageSize === undefined ? null : toSize(options.imageSize, 'DCGANDiscriminator');
    const n = options.channels?.length ?? (this.imageSize ? defaultLevels(this.imageSize, 'DCGANDiscriminator') : 3);
    const channels = options.channels ?? Array.from({ length: n }, (_, i) => 64 * 2 ** i);
    checkWidths(channels, 'DCGANDiscriminator');
    this.channels = [...channels];
    let last: [number, number] | null = null;
    if (this.imageSize) {
      last = [this.imageSize[0], this.imageSize[1]];
      for (let i = 0; i < n; i++) last = [Math.floor(last[0] / 2), Math.floor(last[1] / 2)];
      if (last[0] < 1 || last[1] < 1) {
        throw new ValueError(`DCGANDiscriminator: ${n} stride-2 blocks shrink a ${this.imageSize.join('×')} image to nothing; use fewer channels entries.`);
      }
    }
    const gen = toGenerator(options.seed);
    const layers: Module<tf.Tensor, tf.Tensor>[] = [];
    channels.forEach((c, i) => {
      const norm: NormKind = i === 0 ? 'none' : this.norm;
      // A norm's shift makes a bias redundant; without norm the bias matters: with no bias anywhere
      // before the first instance norm, D(c·x) = D(x) for every c > 0, so the discriminator could
      // not see contrast and the generator drifts to flat grey images.
      layers.push(new Conv2d(i === 0 ? this.inChannels : channels[i - 1], c, 4, { stride: 2, padding: 1, bias: norm === 'none' || norm === 'group', seed: gen }));
      if (norm !== 'none') layers.push(createNorm2d(norm, c, { batchNorm: options.batchNorm }));
      layers.push(new LeakyReLU({ negativeSlope: this.negativeSlope }));
    });
    layers.push(this.patch
      ? new Conv2d(channels[n - 1], 1, 3, { padding: 1, seed: gen })
      : new Conv2d(channels[n - 1], 1, last as [number, number], { seed: gen }));
    this.main = this.registerModule('main', new Sequential(...layers));
    dcganInit(this, gen);
  }

  /** Logits: `[B, 1]`, or `[B, h, w, 1]` with `patch`. */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new ShapeError(`DCGANDiscriminator input must be NHWC images [B, H, W, ${this.inChannels}], but got shape [${x.shape.join(', ')}].`);
    }
    if (!this.patch && this.imageSize && (x.shape[1] !== this.imageSize[0] || x.shape[2] !== this.imageSize[1])) {
      throw new ShapeError(
        `DCGANDiscriminator was built for ${this.imageSize.join('×')} images, but got ${x.shape[1]}×${x.shape[2]} (shape [${x.shape.join(', ')}]). ` +
          'Resize the images, build it with this imageSize, or use patch: true.',
      );
    }
    const min = 2 ** this.channels.length;
    const [, h, w] = x.shape as number[];
    if (h < min || w < min) {
      throw new ShapeError(`DCGANDiscriminator with ${this.channels.length} stride-2 blocks needs images of at least ${min}×${min}, but got ${h}×${w}.`);
    }
    return tf.tidy(() => {
      const y = this.main.forward(x);
      return this.patch ? y : tf.reshape(y, [x.shape[0], 1]);
    });
  }

  override extraRepr(): string {
    return `inChannels=${this.inChannels}, channels=[${this.channels.join(',')}], norm=${this.norm}, patch=${this.patch}`;
  }
}
