import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { assertFloatArg, assertMinRank, assertSameShapeArgs, checkData, checkNumber, checkReduction, reduce } from './checks.js';
import { defineLoss, type Loss, type Reduction } from './loss-fn.js';

/** Options of {@link gaussianKL}. */
export interface GaussianKLOptions {
  /** Over the batch: `'mean'` (default), `'sum'`, or `'none'` (one KL per sample, `[B]`). */
  reduction?: Reduction;
  /**
   * Free bits λ (nats per latent dimension, Kingma et al. 2016): the KL of each latent dimension,
   * averaged over the batch, is replaced by `max(λ, KL_j)`, so the encoder is not pushed below λ
   * nats per dimension (dimensions under λ get no gradient). Needs `'mean'` or `'sum'`
   * (`'sum'` = batch size × `'mean'`). Default: off.
   */
  freeBits?: number;
}

function perSampleAxes(x: tf.Tensor): number[] {
  return Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
}

function checkPair(name: string, a: tf.Tensor, b: tf.Tensor, nameA: string, nameB: string): void {
  assertMinRank(name, a, 2, nameA, '[B, ...latent]');
  assertFloatArg(name, a, nameA);
  assertFloatArg(name, b, nameB);
  assertSameShapeArgs(name, a, b, nameA, nameB);
}

function compute(mu: tf.Tensor, logVar: tf.Tensor, o: GaussianKLOptions): tf.Tensor {
  const name = 'gaussianKL';
  checkPair(name, mu, logVar, 'mu', 'logVar');
  checkData(name, [{ kind: 'nan', arg: 'mu', tensor: mu }, { kind: 'nan', arg: 'logVar', tensor: logVar }]);
  // KL(N(μ, σ²) ‖ N(0, 1)) per dimension = ½(μ² + σ² − 1 − log σ²).
  const perDim = tf.mul(0.5, tf.sub(tf.sub(tf.add(tf.square(mu), tf.exp(logVar)), 1), logVar));
  const reduction = o.reduction ?? 'mean';
  if (o.freeBits !== undefined) {
    const clamped = tf.sum(tf.maximum(tf.mean(perDim, 0), o.freeBits));
    return reduction === 'sum' ? tf.mul(clamped, mu.shape[0]) : clamped;
  }
  return reduce(tf.sum(perDim, perSampleAxes(mu)), reduction);
}

/**
 * KL divergence of a diagonal Gaussian posterior from the standard normal prior, the VAE's
 * regulariser, in closed form:
 *
 * `KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²)`, with `logVar = log σ²`,
 *
 * summed over all latent dimensions of each sample (all axes but the first, so `[B, D]` and
 * spatial latents `[B, h, w, c]` both work), then reduced over the batch. Values are in nats.
 *
 * @example
 * ```ts
 * const { recon, mu, logVar } = vae.forward(x);
 * const loss = tf.add(bernoulliNLL(recon, x), tf.mul(beta, gaussianKL(mu, logVar)));
 * ```
 */
export const gaussianKL: Loss<GaussianKLOptions> = defineLoss('gaussianKL', compute, (o) => {
  checkReduction('gaussianKL', o.reduction);
  checkNumber('gaussianKL', 'freeBits', o.freeBits, 0);
  if (o.freeBits !== undefined && o.reduction === 'none') {
    throw new ValueError(`gaussianKL: freeBits clamps the batch-averaged KL of each dimension, so it needs reduction 'mean' or 'sum', not 'none'.`);
  }
});

/** Options of {@link gaussianKLBetween}. */
export interface GaussianKLBetweenOptions {
  /** Over the batch: `'mean'` (default), `'sum'`, or `'none'` (`[B]`). */
  reduction?: Reduction;
}

/**
 * KL divergence between two diagonal Gaussians, `KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²))`, in closed form:
 *
 * `½ Σ_j (log σ₂² − log σ₁² + (σ₁² + (μ₁ − μ₂)²) / σ₂² − 1)`,
 *
 * summed over all axes but the first, then reduced over the batch (nats). Use it for a learned
 * prior or for the KL between two encoders. All four tensors have the same shape.
 */
export function gaussianKLBetween(mu1: tf.Tensor, logVar1: tf.Tensor, mu2: tf.Tensor, logVar2: tf.Tensor, options: GaussianKLBetweenOptions = {}): tf.Tensor {
  const name = 'gaussianKLBetween';
  checkReduction(name, options.reduction);
  return tf.tidy(() => {
    checkPair(name, mu1, logVar1, 'mu1', 'logVar1');
    checkPair(name, mu1, mu2, 'mu1', 'mu2');
    checkPair(name, mu1, logVar2, 'mu1', 'logVar2');
    checkData(name, [
      { kind: 'nan', arg: 'mu1', tensor: mu1 },
      { kind: 'nan', arg: 'logVar1', tensor: logVar1 },
      { kind: 'nan', arg: 'mu2', tensor: mu2 },
      { kind: 'nan', arg: 'logVar2', tensor: logVar2 },
    ]);
    const ratio = tf.div(tf.add(tf.exp(logVar1), tf.square(tf.sub(mu1, mu2))), tf.exp(logVar2));
    const perDim = tf.mul(0.5, tf.sub(tf.add(tf.sub(logVar2, logVar1), ratio), 1));
    return reduce(tf.sum(perDim, perSampleAxes(mu1)), options.reduction ?? 'mean');
  });
}
