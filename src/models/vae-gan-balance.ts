// VAEGAN.fit's balance decision (which player skips this step's update), made on the device so a
// training step reads nothing back. Internal: not re-exported from the barrel.
import * as tf from '@tensorflow/tfjs-core';

/** float32 `x < c` for a float64 threshold `c`, on the device: exactly the host's comparison of the read-back value. */
function lessThan(x: tf.Tensor, c: number): tf.Tensor {
  // The device compares in float32, so c is rounded; where it rounds down, x < c also holds for
  // x equal to the rounded value.
  return Math.fround(c) < c ? tf.lessEqual(x, Math.fround(c)) : tf.less(x, Math.fround(c));
}

/** float32 `x > c` for a float64 threshold `c`, on the device (see {@link lessThan}). */
function greaterThan(x: tf.Tensor, c: number): tf.Tensor {
  return Math.fround(c) > c ? tf.greaterEqual(x, Math.fround(c)) : tf.greater(x, Math.fround(c));
}

/** Device-side update gates of `VAEGAN.fit`'s `balance`: float32 scalars, 1 to update. */
export interface BalanceGates {
  /** 1 when the discriminator is updated this step. */
  discriminator: tf.Scalar;
  /** 1 when the decoder is updated this step. */
  decoder: tf.Scalar;
}

/**
 * Which players to update under `VAEGAN.fit`'s `balance`, decided on the device from the
 * discriminator's logits on `[real (b), reconstructions (b), prior samples (b)]`: its mean
 * cross-entropy on the real images, −log σ(l), and on the prior samples, −log(1 − σ(l)). Below
 * `equilibrium − margin` (either) the discriminator is winning and waits; above
 * `equilibrium + margin` (either) the decoder waits; when both would wait, both are updated. A NaN
 * cross-entropy compares false both ways (both updated). The caller owns the gates.
 */
export function balanceGates(logits: tf.Tensor, b: number, balance: { equilibrium: number; margin: number }): BalanceGates {
  return tf.tidy(() => {
    const real = tf.mean(tf.softplus(tf.neg(tf.slice(logits, [0, 0], [b, -1]))));
    const prior = tf.mean(tf.softplus(tf.slice(logits, [2 * b, 0], [b, -1])));
    const low = balance.equilibrium - balance.margin;
    const high = balance.equilibrium + balance.margin;
    const discriminator = tf.logicalNot(tf.logicalOr(lessThan(real, low), lessThan(prior, low)));
    const decoder = tf.logicalNot(tf.logicalOr(greaterThan(real, high), greaterThan(prior, high)));
    const neither = tf.logicalNot(tf.logicalOr(discriminator, decoder));
    return {
      discriminator: tf.cast(tf.logicalOr(discriminator, neither), 'float32') as tf.Scalar,
      decoder: tf.cast(tf.logicalOr(decoder, neither), 'float32') as tf.Scalar,
    };
  });
}
