import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { assertFloat } from '../core/shape.js';

/** Rectified linear unit, max(0, x), as `nn.ReLU`. */
export class ReLU extends Module<tf.Tensor, tf.Tensor> {
  /** Applies the activation element-wise. */
  forward(x: tf.Tensor): tf.Tensor {
    assertFloat(x, 'ReLU input');
    return tf.relu(x);
  }
}

/** Options of {@link LeakyReLU}. */
export interface LeakyReLUOptions {
  /** Slope for negative inputs. Default 0.01 (as PyTorch; DCGAN discriminators use 0.2). */
  negativeSlope?: number;
}

/** Leaky ReLU, x for x ≥ 0 and negativeSlope·x otherwise, as `nn.LeakyReLU`. */
export class LeakyReLU extends Module<tf.Tensor, tf.Tensor> {
  /** Slope for negative inputs. */
  readonly negativeSlope: number;

  /** @param options - see {@link LeakyReLUOptions}. */
  constructor(options: LeakyReLUOptions = {}) {
    super();
    this.negativeSlope = options.negativeSlope ?? 0.01;
    if (!Number.isFinite(this.negativeSlope)) {
      throw new ValueError(`LeakyReLU negativeSlope must be a finite number, but got ${this.negativeSlope}.`);
    }
  }

  /** Applies the activation element-wise. */
  forward(x: tf.Tensor): tf.Tensor {
    assertFloat(x, 'LeakyReLU input');
    return tf.leakyRelu(x, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** Options of {@link PReLU}. */
export interface PReLUOptions {
  /** 1 (one slope shared by all channels, the default) or the number of channels C. */
  numParameters?: number;
  /** Initial slope. Default 0.25. */
  init?: number;
}

/**
 * Parametric ReLU with a learned negative slope, as `nn.PReLU`. With `numParameters = C` each
 * channel has its own slope; the channel is the last axis (NHWC).
 *
 * Parameter: `weight` `[numParameters]`.
 */
export class PReLU extends Module<tf.Tensor, tf.Tensor> {
  /** Number of slopes (1 or the channel count); the `numParameters` option (a Module method has that name). */
  readonly numSlopes: number;
  /** The learned slopes `[numParameters]`. */
  readonly weight: tf.Variable;

  /** @param options - see {@link PReLUOptions}. */
  constructor(options: PReLUOptions = {}) {
    super();
    const n = options.numParameters ?? 1;
    if (!Number.isInteger(n) || n <= 0) throw new ValueError(`PReLU numParameters must be a positive integer, but got ${n}.`);
    this.numSlopes = n;
    this.weight = this.registerParameter('weight', tf.fill([n], options.init ?? 0.25));
  }

  /** Applies the activation; with several slopes, `x`'s last axis must have `numParameters` entries. */
  forward(x: tf.Tensor): tf.Tensor {
    assertFloat(x, 'PReLU input');
    if (this.numSlopes > 1 && (x.rank === 0 || x.shape[x.rank - 1] !== this.numSlopes)) {
      throw new ShapeError(
        `PReLU with ${this.numSlopes} parameters needs ${this.numSlopes} channels on the last axis (NHWC), ` +
          `but got input shape [${x.shape.join(', ')}].`,
      );
    }
    return tf.prelu(x, this.weight);
  }

  override extraRepr(): string {
    return `numParameters=${this.numSlopes}`;
  }
}

/** Sigmoid-weighted linear unit (swish), x·σ(x), as `nn.SiLU`; the usual choice in diffusion U-Nets. */
export class SiLU extends Module<tf.Tensor, tf.Tensor> {
  /** Applies the activation element-wise. */
  forward(x: tf.Tensor): tf.Tensor {
    assertFloat(x, 'SiLU input');
    return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
  }
}

/** Options of {@link GELU}. */
export interface GELUOptions {
  /** `'none'` (default): the exact x·Φ(x) with the error function; `'tanh'`: the tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/**
 * Gaussian error linear unit, x·Φ(x), as `nn.GELU`. `'none'` uses 0.5·x·(1 + erf(x/√2));
 * `'tanh'` uses 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 */
export class GELU extends Module<tf.Tensor, tf.Tensor> {
  /** Which formula is used. */
  readonly approximate: 'none' | 'tanh';

  /** @param options - see {@link GELUOptions}. */
  constructor(options: GELUOptions = {}) {
    super();
    const mode = options.approximate ?? 'none';
    if (mode !== 'none' && mode !== 'tanh') {
      throw new ValueError(`GELU approximate must be 'none' or 'tanh', but got '${String(mode)}'.`);
    }
    this.approximate = mode;
  }

  /** Applies the activation element-wise. */
  forward(x: tf.Tensor): tf.Tensor {
    assertFloat(x, 'GELU input');
    return tf.tidy(() => {
      const inner =
        this.approximate === 'none'
          ? tf.erf(tf.mul(x, Math.SQRT1_2))
          : tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI)));
      return tf.mul(tf.mul(x, 0.5), tf.add(inner, 1));
    });
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** Hyperbolic tangent, as `nn.Tanh` (the usual output of image generators, range (−1, 1)). */
export class Tanh extends Module<tf.Tensor, tf.Tensor> {
  /** Applies the activation element-wise. */
  forward(x: tf.Tensor): tf.Tensor {
    assertFloat(x, 'Tanh input');
    return tf.tanh(x);
  }
}

/** Logistic sigmoid, 1/(1 + e^−x), as `nn.Sigmoid`. */
export class Sigmoid extends Module<tf.Tensor, tf.Tensor> {
  /** Applies the activation element-wise. */
  forward(x: tf.Tensor): tf.Tensor {
    assertFloat(x, 'Sigmoid input');
    return tf.sigmoid(x);
  }
}

/** Options of {@link Softplus}. */
export interface SoftplusOptions {
  /** Sharpness: the output is log(1 + e^{βx})/β. Default 1. */
  beta?: number;
  /** Above β·x > threshold the layer returns x itself (the two agree to float precision there). Default 20. */
  threshold?: number;
}

/** Smooth ReLU, log(1 + e^{βx})/β, reverting to x where β·x > threshold, as `nn.Softplus`. */
export class Softplus extends Module<tf.Tensor, tf.Tensor> {
  /** Sharpness β. */
  readonly beta: number;
  /** Linear-regime threshold on β·x. */
  readonly threshold: number;

  /** @param options - see {@link SoftplusOptions}. */
  constructor(options: SoftplusOptions = {}) {
    super();
    this.beta = options.beta ?? 1;
    this.threshold = options.threshold ?? 20;
    if (!(this.beta > 0) || !Number.isFinite(this.beta)) {
      throw new ValueError(`Softplus beta must be a positive number, but got ${this.beta}.`);
    }
    if (Number.isNaN(this.threshold)) throw new ValueError('Softplus threshold must be a number, but got NaN.');
  }

  /** Applies the activation element-wise. */
  forward(x: tf.Tensor): tf.Tensor {
    assertFloat(x, 'Softplus input');
    return tf.tidy(() => {
      const bx = this.beta === 1 ? x : tf.mul(x, this.beta);
      // tf.softplus is overflow-safe, so the branch not taken never produces NaN gradients.
      let smooth = tf.softplus(bx);
      if (this.beta !== 1) smooth = tf.div(smooth, this.beta);
      // step() instead of greater(): tfjs has no gradient for comparison ops, step's is zero.
      const linear = tf.cast(tf.step(tf.sub(bx, this.threshold)), 'bool');
      return tf.where(linear, x, smooth);
    });
  }

  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}
