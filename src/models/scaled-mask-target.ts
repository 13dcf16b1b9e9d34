import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';

/**
 * Luc et al.'s (2016) "scaling" encoding of a ground-truth mask for an adversarial segmentation
 * discriminator. A one-hot mask is trivially told apart from a softmax output by its hard 0/1
 * values alone; this encoding gives the real mask the softness of the prediction, so that the
 * discriminator has to judge shape. Per pixel, with s the predicted probabilities and l the true
 * class: the true class gets `max(τ, s_l)`, and the other classes share the rest in the
 * proportions the prediction gives them, `s_c · (1 − max(τ, s_l)) / (1 − s_l)`. Each pixel still
 * sums to 1 and the true class still dominates (≥ τ).
 *
 * @param target - The one-hot mask `[..., K]` (K ≥ 2), or for a single sigmoid channel (K = 1) the
 *   binary mask, in which case `probs` are foreground probabilities and the result is the encoded
 *   foreground channel (`max(τ, p)` on the foreground, `min(1 − τ, p)` on the background).
 * @param probs - The segmenter's probabilities, the same shape. Compute the encoding outside any
 *   gradient recording (as the discriminator's real inputs are), or the segmenter gets a gradient
 *   through the real pairs.
 * @param tau - The least weight of the true class, in (0, 1]. Luc et al. use 0.9.
 */
export function scaledMaskTarget(target: tf.Tensor, probs: tf.Tensor, tau = 0.9): tf.Tensor {
  if (!(Number.isFinite(tau) && tau > 0 && tau <= 1)) throw new ValueError(`scaledMaskTarget: tau must be in (0, 1], but got ${tau}.`);
  if (!tf.util.arraysEqual(target.shape, probs.shape)) {
    throw new ShapeError(`scaledMaskTarget: target [${target.shape.join(', ')}] and probs [${probs.shape.join(', ')}] must have the same shape.`);
  }
  return tf.tidy(() => {
    const p = tf.cast(probs, 'float32');
    const t = tf.cast(target, 'float32');
    if (target.shape[target.rank - 1] === 1) {
      // Two classes in one channel: the true class is the foreground where t = 1.
      return tf.add(tf.mul(t, tf.maximum(p, tau)), tf.mul(tf.sub(1, t), tf.minimum(p, 1 - tau)));
    }
    const trueProb = tf.sum(tf.mul(t, p), -1, true);
    const trueWeight = tf.maximum(trueProb, tau);
    // 1 − s_l is 0 only where the prediction is already certain, and then the others get 0 anyway.
    const rest = tf.div(tf.sub(1, trueWeight), tf.maximum(tf.sub(1, trueProb), 1e-12));
    return tf.add(tf.mul(t, trueWeight), tf.mul(tf.sub(1, t), tf.mul(p, rest)));
  });
}
