import type * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import type { Module } from '../core/module.js';
import { GELU, LeakyReLU, ReLU, SiLU, Tanh } from './activations.js';
import { BatchNorm2d, BatchNorm3d, type BatchNorm2dOptions } from './batchnorm.js';
import { GroupNorm } from './groupnorm.js';
import { Identity } from './identity.js';
import { InstanceNorm2d, InstanceNorm3d } from './instancenorm.js';

/** Normalisation choices for configurable blocks (as MONAI's `norm` argument). */
export type NormKind = 'batch' | 'instance' | 'group' | 'none';

/** Activation choices for configurable blocks (as MONAI's `act` argument). */
export type ActivationKind = 'relu' | 'leakyrelu' | 'silu' | 'gelu' | 'tanh';

/**
 * BatchNorm settings a model hands to every BatchNorm layer it builds, with PyTorch's names and
 * defaults: `momentum` weighs the batch statistic in the running average,
 * `running = (1 − momentum)·running + momentum·batch` (default 0.1; `null` a cumulative average),
 * and `eps` is added to the variance (default 1e-5).
 */
export type BatchNormSettings = Pick<BatchNorm2dOptions, 'momentum' | 'eps'>;

/** {@link BatchNormSettings} with PyTorch's defaults filled in (momentum 0.1, eps 1e-5), as models save them. */
export function resolveBatchNorm(settings: BatchNormSettings | undefined): { momentum: number | null; eps: number } {
  return { momentum: settings?.momentum === undefined ? 0.1 : settings.momentum, eps: settings?.eps ?? 1e-5 };
}

/**
 * Builds a 2-D normalisation layer for `channels` channels. `'instance'` is affine (as MONAI's
 * blocks use it); `'group'` uses `groups` groups, reduced to the largest divisor of `channels`
 * not above it so any width works.
 */
export function createNorm2d(kind: NormKind, channels: number, options: { groups?: number; batchNorm?: BatchNormSettings } = {}): Module<tf.Tensor, tf.Tensor> {
  return createNorm(kind, channels, { ...options, spatialDims: 2 });
}

/**
 * Builds a normalisation layer for 2-D (NHWC, default) or 3-D (NDHWC) inputs: BatchNorm2d/3d,
 * affine InstanceNorm2d/3d, GroupNorm (rank-independent) or Identity, as {@link createNorm2d};
 * BatchNorm layers take `batchNorm`'s momentum and eps.
 */
export function createNorm(kind: NormKind, channels: number, options: { groups?: number; spatialDims?: 2 | 3; batchNorm?: BatchNormSettings } = {}): Module<tf.Tensor, tf.Tensor> {
  const three = options.spatialDims === 3;
  switch (kind) {
    case 'batch':
      return three ? new BatchNorm3d(channels, options.batchNorm) : new BatchNorm2d(channels, options.batchNorm);
    case 'instance':
      return three ? new InstanceNorm3d(channels, { affine: true }) : new InstanceNorm2d(channels, { affine: true });
    case 'group': {
      let g = Math.min(options.groups ?? 8, channels);
      while (channels % g !== 0) g -= 1;
      return new GroupNorm(g, channels);
    }
    case 'none':
      return new Identity();
    default:
      throw new ValueError(`Unknown norm '${String(kind)}'; choose 'batch', 'instance', 'group' or 'none'.`);
  }
}

/** Builds an activation layer (`leakyrelu` uses `negativeSlope`, default 0.01; DCGAN uses 0.2). */
export function createActivation(kind: ActivationKind, options: { negativeSlope?: number } = {}): Module<tf.Tensor, tf.Tensor> {
  switch (kind) {
    case 'relu':
      return new ReLU();
    case 'leakyrelu':
      return new LeakyReLU({ negativeSlope: options.negativeSlope ?? 0.01 });
    case 'silu':
      return new SiLU();
    case 'gelu':
      return new GELU();
    case 'tanh':
      return new Tanh();
    default:
      throw new ValueError(`Unknown activation '${String(kind)}'; choose 'relu', 'leakyrelu', 'silu', 'gelu' or 'tanh'.`);
  }
}
