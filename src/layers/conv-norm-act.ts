import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.js';
import type { SeedLike } from '../core/random.js';
import { Conv2d } from './conv2d.js';
import { Conv3d } from './conv3d.js';
import { Dropout } from './dropout.js';
import { Identity } from './identity.js';
import { createActivation, createNorm, type ActivationKind, type BatchNormSettings, type NormKind } from './factories.js';

/** Options of {@link ConvNormAct}. */
export interface ConvNormActOptions {
  /** Kernel size. Default 3. */
  kernelSize?: number;
  /** Stride. Default 1. */
  stride?: number;
  /** Padding; default keeps the size at stride 1 (`(kernelSize − 1) / 2`). */
  padding?: number;
  /** Normalisation after the convolution. Default `'batch'`. */
  norm?: NormKind;
  /** Groups for `norm: 'group'`. Default 8. */
  groups?: number;
  /** Activation. Default `'relu'`. */
  activation?: ActivationKind;
  /** Negative slope for `activation: 'leakyrelu'`. Default 0.01. */
  negativeSlope?: number;
  /** Dropout probability after the activation. Default 0 (none). */
  dropout?: number;
  /** Seed for initialisation and dropout. */
  seed?: SeedLike;
  /** 2 (default): Conv2d on NHWC images; 3: Conv3d and 3-D norms on NDHWC volumes. */
  spatialDims?: 2 | 3;
  /** Momentum and eps of the BatchNorm (`norm: 'batch'`). Default PyTorch's: 0.1 and 1e-5. */
  batchNorm?: BatchNormSettings;
}

/**
 * Convolution → normalisation → activation (→ dropout): the basic unit of U-Nets and GAN
 * discriminators (MONAI's `Convolution` block). The convolution has no bias when a batch or
 * instance norm follows, since the norm's shift makes it redundant.
 *
 * Children: `conv`, `norm`, `act`, and `drop` when `dropout > 0`.
 */
export class ConvNormAct extends Module<tf.Tensor, tf.Tensor> {
  /** The convolution (a Conv3d when built with `spatialDims: 3`). */
  readonly conv: Conv2d | Conv3d;
  /** The normalisation (an Identity for `norm: 'none'`). */
  readonly norm: Module<tf.Tensor, tf.Tensor>;
  /** The activation. */
  readonly act: Module<tf.Tensor, tf.Tensor>;
  /** Dropout, when requested. */
  readonly drop: Dropout | null;

  constructor(inChannels: number, outChannels: number, options: ConvNormActOptions = {}) {
    super();
    const k = options.kernelSize ?? 3;
    const norm = options.norm ?? 'batch';
    const convOptions = {
      stride: options.stride ?? 1,
      padding: options.padding ?? Math.floor((k - 1) / 2),
      bias: norm === 'none' || norm === 'group',
      seed: options.seed,
    };
    const three = options.spatialDims === 3;
    this.conv = this.registerModule('conv', three ? new Conv3d(inChannels, outChannels, k, convOptions) : new Conv2d(inChannels, outChannels, k, convOptions));
    this.norm = this.registerModule('norm', createNorm(norm, outChannels, { groups: options.groups, spatialDims: options.spatialDims, batchNorm: options.batchNorm }));
    this.act = this.registerModule('act', createActivation(options.activation ?? 'relu', { negativeSlope: options.negativeSlope }));
    this.drop = options.dropout ? this.registerModule('drop', new Dropout(options.dropout, { seed: options.seed })) : null;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = this.conv.forward(x);
      // norm: 'none' keeps its Identity child (same structure and state dict) but skips calling it:
      // its clone would add a tape node, and a cast to its gradient, to every unit of a network.
      const h = this.act.forward(this.norm instanceof Identity ? y : this.norm.forward(y));
      return this.drop ? this.drop.forward(h) : h;
    });
  }
}
