import * as tf from '@tensorflow/tfjs-core';
import { positiveNumber } from '../core/validate.js';

/** What {@link clipGradNorm} returns. */
export interface ClippedGradients {
  /** The gradients after clipping (the input map itself when no clipping was needed). */
  grads: Record<string, tf.Tensor>;
  /** The global L2 norm before clipping. */
  totalNorm: number;
}

/**
 * Rescales gradients in place so their global L2 norm is at most `maxNorm`, as
 * `torch.nn.utils.clip_grad_norm_` (scale = maxNorm / (norm + 1e-6), applied only when < 1).
 * Returns the new gradient map (old tensors that were replaced are disposed) and the total norm
 * before clipping.
 */
export function clipGradNorm(grads: Record<string, tf.Tensor>, maxNorm: number): ClippedGradients {
  positiveNumber(maxNorm, 'clipGradNorm maxNorm', 'A norm ≤ 0 would flip or zero the gradients; leave clipping off instead.');
  const keys = Object.keys(grads);
  if (keys.length === 0) return { grads, totalNorm: 0 };
  const totalNorm = tf.tidy(() => tf.sqrt(tf.addN(keys.map((k) => tf.sum(tf.square(grads[k]))))).dataSync()[0]);
  const scale = maxNorm / (totalNorm + 1e-6);
  if (scale >= 1) return { grads, totalNorm };
  const out: Record<string, tf.Tensor> = {};
  for (const k of keys) {
    out[k] = tf.mul(grads[k], scale);
    grads[k].dispose();
  }
  return { grads: out, totalNorm };
}

/** Clamps every gradient element to [−clipValue, clipValue], as `torch.nn.utils.clip_grad_value_`. */
export function clipGradValue(grads: Record<string, tf.Tensor>, clipValue: number): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) {
    out[k] = tf.clipByValue(g, -clipValue, clipValue);
    g.dispose();
  }
  return out;
}

/** What {@link clipGradNormOnDevice} returns. */
export interface DeviceClippedGradients {
  /** The gradients after clipping (new tensors; the inputs are disposed). */
  grads: Record<string, tf.Tensor>;
  /** The global L2 norm before clipping, a scalar the caller owns. */
  totalNorm: tf.Scalar;
}

/**
 * {@link clipGradNorm} without reading anything back: the scale min(1, maxNorm / (norm + 1e-6)) is
 * computed and applied on the device, so a training step need not wait for the norm. Gradients
 * whose norm is within `maxNorm` are multiplied by exactly 1, so the result equals
 * {@link clipGradNorm}'s. Takes ownership of `grads` (they are disposed).
 */
export function clipGradNormOnDevice(grads: Record<string, tf.Tensor>, maxNorm: number): DeviceClippedGradients {
  positiveNumber(maxNorm, 'clipGradNorm maxNorm', 'A norm ≤ 0 would flip or zero the gradients; leave clipping off instead.');
  const keys = Object.keys(grads);
  if (keys.length === 0) return { grads, totalNorm: tf.scalar(0) };
  const totalNorm = tf.tidy(() => tf.sqrt(tf.addN(keys.map((k) => tf.sum(tf.square(grads[k])))))) as tf.Scalar;
  const out = tf.tidy(() => {
    // The same float32 arithmetic as clipGradNorm's maxNorm / (norm + 1e-6), capped at 1.
    const scale = tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(totalNorm, 1e-6)), 1);
    const clipped: Record<string, tf.Tensor> = {};
    for (const k of keys) clipped[k] = tf.mul(grads[k], scale);
    return clipped;
  });
  tf.dispose(Object.values(grads));
  return { grads: out, totalNorm };
}
