// Internal: numerically stable elementwise pieces with PyTorch's gradients.
import * as tf from '@tensorflow/tfjs-core';

/**
 * softplus(x) = log(1 + eˣ), evaluated as max(x, 0) + log1p(e^−|x|) so it neither overflows for
 * large x nor loses precision for very negative x, on every backend; its gradient is σ(x)
 * (autodiff of the stable form would give 0 instead of ½ at x = 0).
 */
export const softplus = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  (args[1] as tf.GradSaveFunc)([x]);
  const value = tf.add(tf.relu(x), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
  return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.sigmoid(saved[0])) };
}) as (x: tf.Tensor) => tf.Tensor;

/** log σ(x) = −softplus(−x). */
export function logSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.neg(softplus(tf.neg(x)));
}

/** |x| with the gradient sign(x) (0 at 0, like PyTorch; tfjs' Abs gives −1 there). */
export const absSign = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  (args[1] as tf.GradSaveFunc)([x]);
  return { value: tf.abs(x), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.sign(saved[0])) };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * Per-element BCE with logits: `(1 − t)·x + (1 + (pw − 1)·t)·softplus(−x)`, stable for any |x|.
 * Shared with the Bernoulli likelihood and the adversarial losses.
 */
export function bceWithLogitsElements(logits: tf.Tensor, target: tf.Tensor, posWeight?: tf.Tensor): tf.Tensor {
  const sp = softplus(tf.neg(logits));
  const logWeight = posWeight ? tf.add(1, tf.mul(tf.sub(posWeight, 1), target)) : null;
  return tf.add(tf.mul(tf.sub(1, target), logits), logWeight ? tf.mul(logWeight, sp) : sp);
}
