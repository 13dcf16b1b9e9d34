import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { assertFloat } from '../core/shape.js';
import { nonNegativeNumber, positiveInt } from '../core/validate.js';

/** Options of {@link LayerNorm}, with PyTorch's names and defaults. */
export interface LayerNormOptions {
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /** Learn an element-wise scale `weight` and shift `bias` of shape `normalizedShape`. Default true. */
  elementwiseAffine?: boolean;
}

/**
 * Layer normalisation, as PyTorch's `nn.LayerNorm`: every sample is normalised over its trailing
 * dimensions `normalizedShape` with their mean and biased variance. For NHWC images,
 * `new LayerNorm(C)` normalises each pixel over its channels, and `new LayerNorm([H, W, C])` each
 * whole image.
 *
 * Parameters: `weight` (ones) and `bias` (zeros) of shape `normalizedShape`, when `elementwiseAffine`.
 */
export class LayerNorm extends Module<tf.Tensor, tf.Tensor> {
  /** The trailing shape normalised over. */
  readonly normalizedShape: readonly number[];
  /** Variance stabiliser. */
  readonly eps: number;
  /** Whether `weight` and `bias` exist. */
  readonly elementwiseAffine: boolean;
  /** Element-wise scale of shape `normalizedShape` (null unless `elementwiseAffine`). */
  readonly weight: tf.Variable | null;
  /** Element-wise shift of shape `normalizedShape` (null unless `elementwiseAffine`). */
  readonly bias: tf.Variable | null;

  /**
   * @param normalizedShape - the trailing dimensions to normalise over (a number means one dimension).
   * @param options - see {@link LayerNormOptions}.
   */
  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0) throw new ShapeError('LayerNorm normalizedShape must have at least one dimension, but got [].');
    shape.forEach((d) => positiveInt(d, `LayerNorm normalizedShape entry (in [${shape.join(', ')}])`));
    this.normalizedShape = shape;
    this.eps = nonNegativeNumber(options.eps ?? 1e-5, 'LayerNorm eps');
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? this.registerParameter('weight', tf.ones(shape)) : null;
    this.bias = this.elementwiseAffine ? this.registerParameter('bias', tf.zeros(shape)) : null;
  }

  /** Normalises `x` whose trailing dimensions equal `normalizedShape`. */
  forward(x: tf.Tensor): tf.Tensor {
    const k = this.normalizedShape.length;
    const trailing = x.shape.slice(x.rank - k);
    if (x.rank < k || trailing.some((d, i) => d !== this.normalizedShape[i])) {
      throw new ShapeError(
        `LayerNorm input must end with dimensions [${this.normalizedShape.join(', ')}], but got shape [${x.shape.join(', ')}]. ` +
          'Check the normalizedShape the layer was built with.',
      );
    }
    assertFloat(x, 'LayerNorm input');
    const axes = Array.from({ length: k }, (_, i) => x.rank - k + i);
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, axes, true);
      let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
      if (this.weight !== null) y = tf.mul(y, this.weight);
      if (this.bias !== null) y = tf.add(y, this.bias);
      return y;
    });
  }

  override extraRepr(): string {
    return `[${this.normalizedShape.join(', ')}], eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}`;
  }
}
