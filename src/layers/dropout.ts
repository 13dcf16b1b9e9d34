import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { defaultGenerator, Generator, type SeedLike } from '../core/random.js';
import { assertFloat } from '../core/shape.js';

/** Options of {@link Dropout}. */
export interface DropoutOptions {
  /**
   * Source of the masks: a number (a generator of its own, so two layers with the same seed drop
   * the same elements), a shared {@link Generator}, or undefined (the global generator at call time,
   * so `manualSeed` applies).
   */
  seed?: SeedLike;
}

/**
 * Inverted dropout, as PyTorch's `nn.Dropout`: in training mode each element is zeroed with
 * probability `p` and the survivors are scaled by 1/(1 − p), so the expected output equals the
 * input and evaluation needs no rescaling. In evaluation mode (or with p = 0) it is the identity.
 *
 * Masks come from medvae's seeded {@link Generator}, so a run is reproducible.
 */
export class Dropout extends Module<tf.Tensor, tf.Tensor> {
  /** Probability of zeroing an element. */
  readonly p: number;
  private readonly generator: Generator | null;

  /**
   * @param p - drop probability in [0, 1]. Default 0.5.
   * @param options - see {@link DropoutOptions}.
   */
  constructor(p = 0.5, options: DropoutOptions = {}) {
    super();
    if (!(p >= 0 && p <= 1)) {
      throw new ValueError(`Dropout probability must be in [0, 1], but got ${p}.`);
    }
    this.p = p;
    const { seed } = options;
    this.generator = seed === undefined ? null : seed instanceof Generator ? seed : new Generator(seed);
  }

  /** Applies the mask in training mode; returns a copy of `x` in evaluation mode. */
  forward(x: tf.Tensor): tf.Tensor {
    assertFloat(x, 'Dropout input');
    if (!this.training || this.p === 0) return tf.clone(x);
    if (this.p === 1) return tf.zerosLike(x);
    const gen = this.generator ?? defaultGenerator();
    return tf.tidy(() => {
      const keep = gen.bernoulli(x.shape, 1 - this.p);
      return tf.mul(x, tf.mul(keep, 1 / (1 - this.p)));
    });
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
