import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { assertRank } from '../core/shape.js';
import { toGenerator, type SeedLike } from '../core/random.js';
import { Conv2d } from '../layers/conv2d.js';
import { Conv3d } from '../layers/conv3d.js';
import { ConvTranspose3d } from '../layers/conv-transpose3d.js';
import { MaxPool3d } from '../layers/max-pool3d.js';
import { ConvNormAct } from '../layers/conv-norm-act.js';
import { ConvTranspose2d } from '../layers/conv-transpose2d.js';
import { resolveBatchNorm, type ActivationKind, type BatchNormSettings, type NormKind } from '../layers/factories.js';
import { MaxPool2d } from '../layers/max-pool2d.js';
import { Sequential } from '../layers/sequential.js';
import { Upsample } from '../layers/upsample.js';

/** Options of {@link UNet} (names as MONAI's `UNet` / `BasicUNet` where they overlap). */
export interface UNetOptions {
  /** Channels of the input image. */
  inChannels: number;
  /** Channels of the output map (classes for segmentation, image channels for diffusion). */
  outChannels: number;
  /**
   * Feature widths from the top level down; the last entry is the bottleneck, so the network
   * downsamples `channels.length − 1` times. Default `[16, 32, 64, 128]`.
   */
  channels?: number[];
  /** Normalisation in every conv block. Default `'batch'`. */
  norm?: NormKind;
  /** Groups for `norm: 'group'`. Default 8. */
  groups?: number;
  /** Activation in every conv block. Default `'relu'`. */
  activation?: ActivationKind;
  /** Residual units: each double-conv block adds its input (through a 1×1 conv when widths differ). Default false. */
  residual?: boolean;
  /** Dropout probability inside conv blocks. Default 0. */
  dropout?: number;
  /** How the decoder upsamples: a 2×2 stride-2 transposed conv, or nearest/bilinear resize followed by a 1×1 conv. Default `'transpose'`. */
  upsample?: 'transpose' | 'nearest' | 'bilinear';
  /** Seed for weight initialisation and dropout. */
  seed?: SeedLike;
  /**
   * 2 (default): NHWC images with Conv2d/BatchNorm2d/… layers; 3: NDHWC volumes with the
   * Conv3d/BatchNorm3d/… layers (MONAI's `spatial_dims`). The state-dict keys are the same.
   * With `upsample: 'bilinear'` and 3 the resize is trilinear.
   */
  spatialDims?: 2 | 3;
  /**
   * Momentum and eps of every BatchNorm (`norm: 'batch'`), PyTorch's names and convention:
   * `running = (1 − momentum)·running + momentum·batch`. Default `{ momentum: 0.1, eps: 1e-5 }`.
   */
  batchNorm?: BatchNormSettings;
}

/** Two {@link ConvNormAct} units, optionally with a residual connection around them. */
export class DoubleConv extends Module<tf.Tensor, tf.Tensor> {
  /** The two conv units. */
  readonly body: Sequential;
  /** 1×1 projection for the residual path when widths differ (null when identity or no residual). */
  readonly skip: Conv2d | Conv3d | null;
  private readonly residual: boolean;

  constructor(inChannels: number, outChannels: number, options: Pick<UNetOptions, 'norm' | 'groups' | 'activation' | 'dropout' | 'residual' | 'seed' | 'spatialDims' | 'batchNorm'> = {}) {
    super();
    const unit = { norm: options.norm, groups: options.groups, activation: options.activation, seed: options.seed, spatialDims: options.spatialDims, batchNorm: options.batchNorm };
    this.body = this.registerModule('body', new Sequential(
      new ConvNormAct(inChannels, outChannels, { ...unit, dropout: options.dropout }),
      new ConvNormAct(outChannels, outChannels, unit),
    ));
    this.residual = options.residual ?? false;
    this.skip = this.residual && inChannels !== outChannels
      ? this.registerModule('skip', options.spatialDims === 3
        ? new Conv3d(inChannels, outChannels, 1, { seed: options.seed })
        : new Conv2d(inChannels, outChannels, 1, { seed: options.seed }))
      : null;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = this.body.forward(x);
      if (!this.residual) return h;
      return tf.add(h, this.skip ? this.skip.forward(x) : x);
    });
  }
}

/**
 * A U-Net (Ronneberger et al., 2015) over NHWC images, or NDHWC volumes with `spatialDims: 3`
 * (Çiçek et al., 2016): an encoder of double-conv blocks with
 * 2×2 max-pooling, a bottleneck, and a decoder that upsamples, concatenates the encoder's skip
 * features and applies a double-conv block, ending in a 1×1 conv to `outChannels` (logits).
 *
 * Children: `encoders.<i>` (one {@link DoubleConv} per level, the last being the bottleneck),
 * `ups.<i>` and `decoders.<i>` (from the deepest level up), and `head`.
 *
 * Input height and width (and depth in 3-D) must be divisible by 2^(levels − 1).
 *
 * @example
 * ```ts
 * const net = new UNet({ inChannels: 1, outChannels: 2, channels: [16, 32, 64, 128], seed: 0 });
 * const logits = net.forward(tf.zeros([4, 64, 64, 1]));   // [4, 64, 64, 2]
 * ```
 */
export class UNet extends Module<tf.Tensor, tf.Tensor> {
  /** The options the network was built with (defaults filled in), for saving. */
  readonly config: Required<Omit<UNetOptions, 'seed'>>;
  /** Encoder blocks, top level first; the last is the bottleneck. */
  readonly encoders: Sequential;
  /** Upsampling modules, deepest first. */
  readonly ups: Sequential;
  /** Decoder blocks, deepest first. */
  readonly decoders: Sequential;
  /** Final 1×1 convolution to `outChannels`. */
  readonly head: Conv2d | Conv3d;
  private readonly pool: MaxPool2d | MaxPool3d;

  constructor(options: UNetOptions) {
    super();
    const channels = options.channels ?? [16, 32, 64, 128];
    if (channels.length < 2 || !channels.every((c) => Number.isInteger(c) && c > 0)) {
      throw new ValueError(`UNet channels must list at least two positive integers (top level … bottleneck), but got [${channels.join(', ')}].`);
    }
    for (const key of ['inChannels', 'outChannels'] as const) {
      if (!Number.isInteger(options[key]) || options[key] < 1) throw new ValueError(`UNet ${key} must be a positive integer, but got ${options[key]}.`);
    }
    this.config = {
      inChannels: options.inChannels,
      outChannels: options.outChannels,
      channels: [...channels],
      norm: options.norm ?? 'batch',
      groups: options.groups ?? 8,
      activation: options.activation ?? 'relu',
      residual: options.residual ?? false,
      dropout: options.dropout ?? 0,
      upsample: options.upsample ?? 'transpose',
      spatialDims: options.spatialDims ?? 2,
      batchNorm: resolveBatchNorm(options.batchNorm),
    };
    if (this.config.spatialDims !== 2 && this.config.spatialDims !== 3) {
      throw new ValueError(`UNet spatialDims must be 2 or 3, but got ${String(this.config.spatialDims)}.`);
    }
    const three = this.config.spatialDims === 3;
    this.pool = three ? new MaxPool3d(2) : new MaxPool2d(2);
    const conv1 = (a: number, b: number, seed: SeedLike) => (three ? new Conv3d(a, b, 1, { seed }) : new Conv2d(a, b, 1, { seed }));
    const gen = toGenerator(options.seed);
    const block = { norm: this.config.norm, groups: this.config.groups, activation: this.config.activation, residual: this.config.residual, dropout: this.config.dropout, seed: gen, spatialDims: this.config.spatialDims, batchNorm: this.config.batchNorm };
    this.encoders = this.registerModule('encoders', new Sequential(
      ...channels.map((c, i) => new DoubleConv(i === 0 ? options.inChannels : channels[i - 1], c, block)),
    ));
    const ups: Module<tf.Tensor, tf.Tensor>[] = [];
    const decoders: Module<tf.Tensor, tf.Tensor>[] = [];
    for (let i = channels.length - 2; i >= 0; i--) {
      const deep = channels[i + 1];
      const width = channels[i];
      const resizeMode = this.config.upsample === 'bilinear' && three ? 'trilinear' : this.config.upsample;
      ups.push(this.config.upsample === 'transpose'
        ? (three ? new ConvTranspose3d(deep, width, 2, { stride: 2, seed: gen }) : new ConvTranspose2d(deep, width, 2, { stride: 2, seed: gen }))
        : new Sequential(new Upsample({ scaleFactor: 2, mode: resizeMode as 'nearest' | 'bilinear' | 'trilinear' }), conv1(deep, width, gen)));
      decoders.push(new DoubleConv(2 * width, width, block));
    }
    this.ups = this.registerModule('ups', new Sequential(...ups));
    this.decoders = this.registerModule('decoders', new Sequential(...decoders));
    this.head = this.registerModule('head', conv1(channels[0], options.outChannels, gen));
  }

  /** The factor input sizes must be divisible by (2^(levels − 1)). */
  get sizeDivisor(): number {
    return 2 ** (this.config.channels.length - 1);
  }

  forward(x: tf.Tensor): tf.Tensor {
    const three = this.config.spatialDims === 3;
    assertRank(x, three ? 5 : 4, 'UNet input', three ? 'NDHWC' : 'NHWC');
    const d = this.sizeDivisor;
    const spatial = x.shape.slice(1, -1);
    const channels = x.shape[x.rank - 1];
    if (spatial.some((s) => s % d !== 0)) {
      throw new ShapeError(
        `UNet input ${three ? 'depth, height and width' : 'height and width'} must be divisible by ${d} ` +
          `(${this.config.channels.length - 1} downsamplings), but got ${spatial.join('×')}. ` +
          'Pad or crop the input, or use sliding-window inference.',
      );
    }
    if (channels !== this.config.inChannels) {
      throw new ShapeError(`UNet input must have ${this.config.inChannels} channels (last axis), but got ${channels}.`);
    }
    return tf.tidy(() => {
      const skips: tf.Tensor[] = [];
      let h = x;
      const levels = this.encoders.length;
      for (let i = 0; i < levels; i++) {
        if (i > 0) h = this.pool.forward(h);
        h = this.encoders.at(i).forward(h);
        if (i < levels - 1) skips.push(h);
      }
      for (let j = 0; j < this.decoders.length; j++) {
        const skip = skips[skips.length - 1 - j];
        h = this.decoders.at(j).forward(tf.concat([skip, this.ups.at(j).forward(h)], -1));
      }
      return this.head.forward(h);
    });
  }
}
