import type * as tf from '@tensorflow/tfjs-core';
import { ValueError } from './errors.js';
import { toGenerator, type SeedLike } from './random.js';

/**
 * Weight initialisers with PyTorch's names and formulas (`torch.nn.init`). `fanIn`/`fanOut` are
 * passed explicitly because medvae's weight layouts (NHWC, `[kh, kw, in, out]`) differ from
 * PyTorch's, so the fans cannot be read off the shape the same way.
 */

/** Gain for a nonlinearity, as `torch.nn.init.calculate_gain`. */
export function calculateGain(nonlinearity: 'linear' | 'conv' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu', param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new ValueError(`Unknown nonlinearity '${String(nonlinearity)}'.`);
  }
}

/** Uniform U(low, high) tensor. */
export function uniformInit(shape: readonly number[], low: number, high: number, seed?: SeedLike): tf.Tensor {
  return toGenerator(seed).uniform(shape, low, high);
}

/** Normal N(mean, std²) tensor. */
export function normalInit(shape: readonly number[], mean: number, std: number, seed?: SeedLike): tf.Tensor {
  return toGenerator(seed).normal(shape, mean, std);
}

/**
 * Kaiming (He) uniform, as `torch.nn.init.kaiming_uniform_` with `mode='fan_in'`:
 * U(−b, b) with b = gain·√(3 / fanIn), gain from `nonlinearity` and `a`.
 * PyTorch's default for Linear/Conv weights is `a = √5` with `leaky_relu`, which gives b = 1/√fanIn.
 */
export function kaimingUniform(
  shape: readonly number[],
  fanIn: number,
  options: { a?: number; nonlinearity?: 'relu' | 'leaky_relu'; seed?: SeedLike } = {},
): tf.Tensor {
  const gain = calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0);
  const bound = gain * Math.sqrt(3 / Math.max(fanIn, 1));
  return uniformInit(shape, -bound, bound, options.seed);
}

/** Kaiming (He) normal, as `torch.nn.init.kaiming_normal_` with `mode='fan_in'`. */
export function kaimingNormal(
  shape: readonly number[],
  fanIn: number,
  options: { a?: number; nonlinearity?: 'relu' | 'leaky_relu'; seed?: SeedLike } = {},
): tf.Tensor {
  const gain = calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0);
  return normalInit(shape, 0, gain / Math.sqrt(Math.max(fanIn, 1)), options.seed);
}

/** Xavier (Glorot) uniform, as `torch.nn.init.xavier_uniform_`. */
export function xavierUniform(shape: readonly number[], fanIn: number, fanOut: number, gain = 1, seed?: SeedLike): tf.Tensor {
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniformInit(shape, -bound, bound, seed);
}

/** Initial weight and bias tensors, as {@link pytorchDefaultInit} returns them (the caller owns both). */
export interface InitializedParams {
  /** The weight tensor. */
  weight: tf.Tensor;
  /** The bias tensor, or null when no bias shape was given. */
  bias: tf.Tensor | null;
}

/**
 * PyTorch's default Linear/Conv initialisation: weight Kaiming-uniform with a = √5 (bound 1/√fanIn)
 * and bias U(−1/√fanIn, 1/√fanIn).
 */
export function pytorchDefaultInit(
  weightShape: readonly number[],
  biasShape: readonly number[] | null,
  fanIn: number,
  seed?: SeedLike,
): InitializedParams {
  const gen = toGenerator(seed);
  const weight = kaimingUniform(weightShape, fanIn, { a: Math.sqrt(5), seed: gen });
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  const bias = biasShape ? uniformInit(biasShape, -bound, bound, gen) : null;
  return { weight, bias };
}
