import * as tf from '@tensorflow/tfjs-core';
import { checkNumber, reduce, sumOver } from './checks.js';
import { defineLoss, type Loss, type Reduction } from './loss-fn.js';
import { prepareSegmentation, regionAxes, validateSegOptions } from './seg-prep.js';

/** Options of {@link tverskyLoss}; names and defaults are MONAI's `TverskyLoss`. */
export interface TverskyLossOptions {
  /** Keep channel 0 (background); `false` drops it from prediction and target. Default `true`. */
  includeBackground?: boolean;
  /** One-hot encode a label-map target (`[B, ...spatial]` or `[B, ...spatial, 1]`). Default `false`. */
  toOneHot?: boolean;
  /** Apply a sigmoid to the prediction first. Default `false`. */
  sigmoid?: boolean;
  /** Apply a softmax over the channel (last) axis first. Default `false`. */
  softmax?: boolean;
  /** Weight of false positives. Default `0.5`. */
  alpha?: number;
  /** Weight of false negatives (raise it to favour recall). Default `0.5`. */
  beta?: number;
  /** `'mean'` (default), `'sum'`, or `'none'` (`[B, C]`, or `[C]` with `batch`). */
  reduction?: Reduction;
  /** Added to the numerator. Default `1e-5`. */
  smoothNr?: number;
  /** Added to the denominator. Default `1e-5`. */
  smoothDr?: number;
  /** Sum over the batch too (one score per class). Default `false`. */
  batch?: boolean;
}

function compute(input: tf.Tensor, target: tf.Tensor, o: TverskyLossOptions): tf.Tensor {
  const [p, g] = prepareSegmentation('tverskyLoss', input, target, o);
  const axes = regionAxes(p.rank, o.batch ?? false);
  const tp = sumOver(tf.mul(p, g), axes);
  const fp = tf.mul(o.alpha ?? 0.5, sumOver(tf.mul(p, tf.sub(1, g)), axes));
  const fn = tf.mul(o.beta ?? 0.5, sumOver(tf.mul(tf.sub(1, p), g), axes));
  const score = tf.sub(1, tf.div(tf.add(tp, o.smoothNr ?? 1e-5), tf.add(tf.add(tf.add(tp, fp), fn), o.smoothDr ?? 1e-5)));
  return reduce(score, o.reduction ?? 'mean');
}

/**
 * Tversky loss (Salehi et al. 2017), exactly as MONAI's `TverskyLoss` but channel-last, per
 * sample and class: `1 − (TP + smoothNr) / (TP + α·FP + β·FN + smoothDr)` with soft counts
 * `TP = Σ p·g`, `FP = Σ p·(1 − g)`, `FN = Σ (1 − p)·g`. α = β = ½ is the Dice loss; α = β = 1 the
 * Jaccard loss.
 */
export const tverskyLoss: Loss<TverskyLossOptions> = defineLoss('tverskyLoss', compute, (o) => {
  validateSegOptions('tverskyLoss', o);
  checkNumber('tverskyLoss', 'alpha', o.alpha, 0);
  checkNumber('tverskyLoss', 'beta', o.beta, 0);
});
