import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.js';

/**
 * Returns its input unchanged, as `torch.nn.Identity`: a placeholder where a layer is optional
 * (e.g. a skip projection that is only needed when channel counts differ).
 *
 * The result is a new tensor handle sharing the input's storage (no copy), so the caller owns it
 * and may dispose it without disposing the input.
 */
export class Identity extends Module<tf.Tensor, tf.Tensor> {
  /** Returns a new handle on `x`. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.clone(x);
  }
}
