import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { assertRank } from '../core/shape.js';

/** Options of {@link SinusoidalTimeEmbedding}, with diffusers' names and defaults. */
export interface SinusoidalTimeEmbeddingOptions {
  /** Longest period of the sinusoids (the lowest frequency is 1/maxPeriod). Default 10000. */
  maxPeriod?: number;
  /** Put the cosines first (`[cos, sin]`); diffusers' UNet2DModel uses true. Default false (`[sin, cos]`). */
  flipSinToCos?: boolean;
  /**
   * Shift in the frequency denominator: frequency i is maxPeriod^(−i / (dim/2 − shift)). Default 1,
   * as `get_timestep_embedding`; diffusers' UNet2DModel passes 0, the original DDPM code 1.
   */
  downscaleFreqShift?: number;
  /** Multiplies the arguments of sin/cos. Default 1. */
  scale?: number;
}

/**
 * Sinusoidal embedding of diffusion timesteps (Vaswani et al.; DDPM), identical in formula to
 * diffusers' `get_timestep_embedding`: timesteps `[B]` → `[B, embeddingDim]`, with half the
 * columns sin(scale·t·f_i) and half cos(scale·t·f_i), f_i = exp(−ln(maxPeriod)·i / (dim/2 − shift)),
 * and a zero column appended when `embeddingDim` is odd. It has no parameters; a model usually
 * follows it with a small MLP.
 *
 * Computed in float32, so the absolute error grows with the argument: about 1e-7·|t| (≈1e-4 at
 * t = 1000), as in diffusers' own float32 computation.
 */
export class SinusoidalTimeEmbedding extends Module<tf.Tensor, tf.Tensor> {
  /** Output width. */
  readonly embeddingDim: number;
  /** Longest period. */
  readonly maxPeriod: number;
  /** Whether cosines come first. */
  readonly flipSinToCos: boolean;
  /** Frequency-denominator shift. */
  readonly downscaleFreqShift: number;
  /** Argument scale. */
  readonly scale: number;
  private readonly frequencies: Float32Array;

  /**
   * @param embeddingDim - output width (at least 2).
   * @param options - see {@link SinusoidalTimeEmbeddingOptions}.
   */
  constructor(embeddingDim: number, options: SinusoidalTimeEmbeddingOptions = {}) {
    super();
    if (!Number.isInteger(embeddingDim) || embeddingDim < 2) {
      throw new ValueError(`SinusoidalTimeEmbedding embeddingDim must be an integer ≥ 2, but got ${embeddingDim}.`);
    }
    this.embeddingDim = embeddingDim;
    this.maxPeriod = options.maxPeriod ?? 10000;
    this.flipSinToCos = options.flipSinToCos ?? false;
    this.downscaleFreqShift = options.downscaleFreqShift ?? 1;
    this.scale = options.scale ?? 1;
    if (!(this.maxPeriod > 0)) throw new ValueError(`SinusoidalTimeEmbedding maxPeriod must be positive, but got ${this.maxPeriod}.`);
    const half = Math.floor(embeddingDim / 2);
    const denom = half - this.downscaleFreqShift;
    if (denom === 0) {
      throw new ValueError(
        `SinusoidalTimeEmbedding: embeddingDim/2 − downscaleFreqShift is 0 (embeddingDim ${embeddingDim}, ` +
          `downscaleFreqShift ${this.downscaleFreqShift}); use a larger embeddingDim or another shift.`,
      );
    }
    // Constant frequencies, computed once in double precision and rounded to float32.
    this.frequencies = new Float32Array(half);
    for (let i = 0; i < half; i++) this.frequencies[i] = Math.exp((-Math.log(this.maxPeriod) * i) / denom);
  }

  /** Embeds `timesteps` of shape `[B]` (integer or fractional; any numeric dtype) into `[B, embeddingDim]`. */
  forward(timesteps: tf.Tensor): tf.Tensor {
    assertRank(timesteps, 1, 'SinusoidalTimeEmbedding timesteps');
    const half = this.frequencies.length;
    return tf.tidy(() => {
      const t = tf.reshape(tf.cast(timesteps, 'float32'), [-1, 1]);
      let args = tf.mul(t, tf.tensor2d(this.frequencies, [1, half]));
      if (this.scale !== 1) args = tf.mul(args, this.scale);
      const sin = tf.sin(args);
      const cos = tf.cos(args);
      const parts = this.flipSinToCos ? [cos, sin] : [sin, cos];
      if (this.embeddingDim % 2 === 1) parts.push(tf.zeros([timesteps.shape[0], 1]));
      return tf.concat(parts, 1);
    });
  }

  override extraRepr(): string {
    return `${this.embeddingDim}, maxPeriod=${this.maxPeriod}, flipSinToCos=${this.flipSinToCos}, ` +
      `downscaleFreqShift=${this.downscaleFreqShift}, scale=${this.scale}`;
  }
}
