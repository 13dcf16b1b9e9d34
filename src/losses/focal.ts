import * as tf from '@tensorflow/tfjs-core';
import { checkNumber, checkReduction, classWeightTensor } from './checks.js';
import { defineLoss, type ClassWeight, type Loss, type Reduction } from './loss-fn.js';
import { prepareSegmentation } from './seg-prep.js';
import { logSigmoid } from './stable.js';

/** Options of {@link focalLoss}; names and defaults are MONAI's `FocalLoss`. */
export interface FocalLossOptions {
  /** Keep channel 0 (background); `false` drops it from logits and target. Default `true`. */
  includeBackground?: boolean;
  /** One-hot encode a label-map target (`[B, ...spatial]` or `[B, ...spatial, 1]`). Default `false`. */
  toOneHot?: boolean;
  /** Focusing parameter: down-weights well-classified elements by `(1 − p_t)^γ`. Default `2`. */
  gamma?: number;
  /**
   * Balancing factor in [0, 1]: sigmoid form — α for positives and 1 − α for negatives; softmax
   * form — 1 − α for the background class and α for the others (ignored, as in MONAI, when
   * `includeBackground` is false). Default: none.
   */
  alpha?: number;
  /** Per-class weights (one number or one per remaining class). Ignored with one channel. */
  weight?: ClassWeight;
  /** `'mean'` (default); `'sum'` averages over spatial axes, then sums over batch and classes (MONAI); `'none'` keeps the logits' shape. */
  reduction?: Reduction;
  /** Use the softmax (multi-class) focal loss instead of the per-channel sigmoid one. Default `false`. */
  useSoftmax?: boolean;
}

function compute(input: tf.Tensor, target: tf.Tensor, o: FocalLossOptions): tf.Tensor {
  const name = 'focalLoss';
  const [x, t] = prepareSegmentation(name, input, target, { includeBackground: o.includeBackground, toOneHot: o.toOneHot });
  const gamma = o.gamma ?? 2;
  const c = t.shape[t.rank - 1];
  let loss: tf.Tensor;
  if (o.useSoftmax) {
    // Softmax over the channels that remain (after dropping background, as MONAI does).
    const logp = tf.logSoftmax(x, -1);
    const focus = gamma === 0 ? tf.onesLike(logp) : tf.pow(tf.sub(1, tf.exp(logp)), gamma);
    loss = tf.neg(tf.mul(tf.mul(focus, logp), t));
    const alpha = o.includeBackground === false ? undefined : o.alpha;
    if (alpha !== undefined) {
      const factor = tf.tensor1d(Array.from({ length: c }, (_, i) => (i === 0 ? 1 - alpha : alpha)), 'float32');
      loss = tf.mul(loss, factor);
    }
  } else {
    // BCE with logits, x − x·t − log σ(x), times (1 − p_t)^γ computed as exp(γ·log σ(−x·(2t − 1))).
    const bce = tf.sub(tf.sub(x, tf.mul(x, t)), logSigmoid(x));
    const invProbs = logSigmoid(tf.mul(tf.neg(x), tf.sub(tf.mul(t, 2), 1)));
    loss = tf.mul(tf.exp(tf.mul(invProbs, gamma)), bce);
    if (o.alpha !== undefined) {
      loss = tf.mul(tf.add(tf.mul(t, o.alpha), tf.mul(tf.sub(1, t), 1 - o.alpha)), loss);
    }
  }
  if (c !== 1) {
    const w = classWeightTensor(name, 'weight', o.weight, c, o.includeBackground === false ? ', background excluded' : '');
    if (w) loss = tf.mul(loss, w);
  }
  const reduction = o.reduction ?? 'mean';
  if (reduction === 'mean') return tf.mean(loss);
  if (reduction === 'sum') {
    const spatial = Array.from({ length: loss.rank - 2 }, (_, i) => i + 1);
    return tf.sum(spatial.length > 0 ? tf.mean(loss, spatial) : loss);
  }
  return loss;
}

/**
 * Focal loss (Lin et al. 2017), exactly as MONAI's `FocalLoss` but channel-last. The input is
 * logits `[B, ...spatial, C]`. By default each channel is an independent binary problem:
 * `(1 − p_t)^γ · BCEWithLogits(x, t)`, optionally times α_t; with `useSoftmax`, it is
 * `−(1 − p_c)^γ · t_c · log p_c` with a softmax over the channels. Class weights multiply each
 * channel. γ = 0 (and no α) gives plain BCE / CE.
 */
export const focalLoss: Loss<FocalLossOptions> = defineLoss('focalLoss', compute, (o) => {
  checkReduction('focalLoss', o.reduction);
  checkNumber('focalLoss', 'gamma', o.gamma, 0);
  checkNumber('focalLoss', 'alpha', o.alpha, 0, 1);
});
