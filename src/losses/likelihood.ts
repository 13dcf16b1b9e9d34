import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { assertFloatArg, assertMinRank, assertSameShapeArgs, broadcastWeight, checkData, checkReduction, reduce } from './checks.js';
import { defineLoss, type Loss, type Reduction } from './loss-fn.js';
import { bceWithLogitsElements } from './stable.js';

/** Options of {@link bernoulliNLL}. */
export interface BernoulliNLLOptions {
  /** Over the batch: `'mean'` (default), `'sum'`, or `'none'` (`[B]`). */
  reduction?: Reduction;
}

function perSample(x: tf.Tensor, reduction: Reduction): tf.Tensor {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
  return reduce(axes.length ? tf.sum(x, axes) : x, reduction);
}

/**
 * Negative log-likelihood of `target` under independent Bernoulli distributions with the given
 * logits, `−Σ [t·log σ(x) + (1 − t)·log(1 − σ(x))]`, summed over all axes but the batch axis
 * (nats per sample), then reduced over the batch — the reconstruction term of a VAE's ELBO for
 * images in [0, 1]. Computed stably from logits; soft targets are allowed.
 */
export const bernoulliNLL: Loss<BernoulliNLLOptions> = defineLoss(
  'bernoulliNLL',
  (logits, target, o) => {
    const name = 'bernoulliNLL';
    assertMinRank(name, logits, 1, 'logits', '[B, ...]');
    assertFloatArg(name, logits, 'logits');
    assertSameShapeArgs(name, logits, target, 'logits', 'target');
    checkData(name, [{ kind: 'nan', arg: 'logits', tensor: logits }, { kind: 'nan', arg: 'target', tensor: target }]);
    return perSample(bceWithLogitsElements(logits, tf.cast(target, 'float32')), o.reduction ?? 'mean');
  },
  (o) => checkReduction('bernoulliNLL', o.reduction),
);

/** Options of {@link gaussianNLL}: give the variance as `logVar` (learned) or `variance` (fixed), not both. */
export interface GaussianNLLOptions {
  /** Log-variance per element, broadcastable to `mean` (e.g. a decoder's second head). */
  logVar?: tf.Tensor | number;
  /** A fixed variance σ² > 0 (a number or a broadcastable tensor). Default `1` when `logVar` is not given. */
  variance?: number | tf.Tensor;
  /** Over the batch: `'mean'` (default), `'sum'`, or `'none'` (`[B]`). */
  reduction?: Reduction;
}

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Negative log-likelihood of `target` under independent Gaussians `N(mean, σ²)`, with the
 * normalising constant: `Σ ½(log 2π + log σ² + (t − μ)²/σ²)`, summed over all axes but the batch
 * axis (nats per sample), then reduced over the batch. Unlike `torch.nn.GaussianNLLLoss` (which
 * drops `log 2π` by default) this is the full NLL, so it can be added to a KL to give the ELBO.
 */
export const gaussianNLL: Loss<GaussianNLLOptions> = defineLoss(
  'gaussianNLL',
  (mean, target, o) => {
    const name = 'gaussianNLL';
    assertMinRank(name, mean, 1, 'mean', '[B, ...]');
    assertFloatArg(name, mean, 'mean');
    assertSameShapeArgs(name, mean, target, 'mean', 'target');
    checkData(name, [{ kind: 'nan', arg: 'mean', tensor: mean }, { kind: 'nan', arg: 'target', tensor: target }]);
    let logVar: tf.Tensor;
    if (o.logVar !== undefined) {
      logVar = broadcastWeight(name, 'logVar', o.logVar, mean.shape);
    } else {
      const v = o.variance ?? 1;
      if (typeof v === 'number') logVar = tf.scalar(Math.log(v));
      else {
        const vt = broadcastWeight(name, 'variance', v, mean.shape);
        checkData(name, [{ kind: 'range', arg: 'variance', tensor: vt, min: Number.MIN_VALUE, max: Infinity, why: '(a variance must be > 0)' }]);
        logVar = tf.log(vt);
      }
    }
    const sq = tf.square(tf.sub(tf.cast(target, 'float32'), mean));
    const perElement = tf.mul(0.5, tf.add(tf.add(LOG_2PI, logVar), tf.mul(sq, tf.exp(tf.neg(logVar)))));
    return perSample(perElement, o.reduction ?? 'mean');
  },
  (o) => {
    checkReduction('gaussianNLL', o.reduction);
    if (o.logVar !== undefined && o.variance !== undefined) {
      throw new ValueError('gaussianNLL: give either logVar (a learned log-variance) or variance (a fixed one), not both.');
    }
    if (typeof o.variance === 'number' && !(Number.isFinite(o.variance) && o.variance > 0)) {
      throw new ValueError(`gaussianNLL: variance must be a finite number > 0, but got ${o.variance}.`);
    }
  },
);
