import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.js';
import { defaultGenerator, Generator, type SeedLike } from '../core/random.js';
import { assertFloat, assertSameShape } from '../core/shape.js';

/** Options of {@link GaussianReparameterization}. */
export interface GaussianReparameterizationOptions {
  /** Keep sampling in evaluation mode (e.g. to draw several reconstructions). Default false: eval returns μ. */
  sampleInEval?: boolean;
  /** Source of ε: a number (a generator of its own), a shared {@link Generator}, or undefined (the global generator at call time). */
  seed?: SeedLike;
}

/** Input of {@link GaussianReparameterization}: the encoder's two heads, of equal shape. */
export interface GaussianParams {
  /** Mean μ of the approximate posterior. */
  mu: tf.Tensor;
  /** Log-variance log σ² of the approximate posterior. */
  logVar: tf.Tensor;
}

/**
 * The VAE reparameterisation trick (Kingma & Welling 2014): z = μ + exp(½·logVar)·ε with
 * ε ~ N(0, I), so z is a differentiable function of μ and logVar and the encoder can be trained
 * by backpropagation through a sample. In evaluation mode it returns μ (the posterior mean), unless
 * `sampleInEval` is set.
 *
 * @example
 * ```ts
 * const reparam = new GaussianReparameterization({ seed: 0 });
 * const z = reparam.forward({ mu, logVar });   // [B, latentDim]
 * ```
 */
export class GaussianReparameterization extends Module<GaussianParams, tf.Tensor> {
  /** Whether evaluation mode samples too. */
  readonly sampleInEval: boolean;
  private readonly generator: Generator | null;

  /** @param options - see {@link GaussianReparameterizationOptions}. */
  constructor(options: GaussianReparameterizationOptions = {}) {
    super();
    this.sampleInEval = options.sampleInEval ?? false;
    const { seed } = options;
    this.generator = seed === undefined ? null : seed instanceof Generator ? seed : new Generator(seed);
  }

  /** Draws z (training, or `sampleInEval`) or returns a copy of μ (evaluation). */
  forward(input: GaussianParams): tf.Tensor {
    const { mu, logVar } = input;
    assertSameShape(mu, logVar, 'mu', 'logVar');
    assertFloat(mu, 'mu');
    assertFloat(logVar, 'logVar');
    if (!this.training && !this.sampleInEval) return tf.clone(mu);
    const gen = this.generator ?? defaultGenerator();
    return tf.tidy(() => {
      const eps = gen.normal(mu.shape);
      return tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps));
    });
  }

  override extraRepr(): string {
    return `sampleInEval=${this.sampleInEval}`;
  }
}
