import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { reduce, sumOver } from './checks.js';
import { defineLoss, type Loss, type Reduction } from './loss-fn.js';
import { prepareSegmentation, regionAxes, validateSegOptions } from './seg-prep.js';

/** Options of {@link generalizedDiceLoss}; names and defaults are MONAI's `GeneralizedDiceLoss`. */
export interface GeneralizedDiceLossOptions {
  /** Keep channel 0 (background); `false` drops it from prediction and target. Default `true`. */
  includeBackground?: boolean;
  /** One-hot encode a label-map target (`[B, ...spatial]` or `[B, ...spatial, 1]`). Default `false`. */
  toOneHot?: boolean;
  /** Apply a sigmoid to the prediction first. Default `false`. */
  sigmoid?: boolean;
  /** Apply a softmax over the channel (last) axis first. Default `false`. */
  softmax?: boolean;
  /**
   * Class weights from the target volume `V_c = Σ g`: `'square'` → 1/V_c² (default, Sudre et al.
   * 2017), `'simple'` → 1/V_c, `'uniform'` → 1. Classes absent from the target get the largest
   * weight of the sample (of the batch with `batch`).
   */
  wType?: 'square' | 'simple' | 'uniform';
  /** `'mean'` (default), `'sum'`, or `'none'`, which returns `[B, 1]` (or `[1]` with `batch`). */
  reduction?: Reduction;
  /** Added to the numerator. Default `1e-5`. */
  smoothNr?: number;
  /** Added to the denominator. Default `1e-5`. */
  smoothDr?: number;
  /** Pool the whole batch into one score. Default `false`. */
  batch?: boolean;
}

function compute(input: tf.Tensor, target: tf.Tensor, o: GeneralizedDiceLossOptions): tf.Tensor {
  const [x, t] = prepareSegmentation('generalizedDiceLoss', input, target, o);
  const batch = o.batch ?? false;
  const axes = regionAxes(x.rank, batch);
  const intersection = sumOver(tf.mul(t, x), axes);
  const groundO = sumOver(t, axes);
  const denominator = tf.add(groundO, sumOver(x, axes));
  const wType = o.wType ?? 'square';
  let w = wType === 'simple' ? tf.reciprocal(groundO) : wType === 'square' ? tf.reciprocal(tf.square(groundO)) : tf.onesLike(groundO);
  // An absent class has an infinite weight: MONAI replaces it with the largest finite weight.
  const infs = tf.isInf(w);
  w = tf.where(infs, tf.zerosLike(w), w);
  const classAxis = w.rank - 1;
  const maxW = batch ? tf.max(w) : tf.max(w, classAxis, true);
  w = tf.add(w, tf.mul(tf.cast(infs, 'float32'), maxW));
  const numer = tf.add(tf.mul(2, tf.sum(tf.mul(intersection, w), classAxis, true)), o.smoothNr ?? 1e-5);
  const denom = tf.add(tf.sum(tf.mul(denominator, w), classAxis, true), o.smoothDr ?? 1e-5);
  return reduce(tf.sub(1, tf.div(numer, denom)), o.reduction ?? 'mean');
}

/**
 * Generalised Dice loss (Sudre et al. 2017), exactly as MONAI's `GeneralizedDiceLoss` but
 * channel-last: `1 − (2·Σ_c w_c·Σ p·g + smoothNr) / (Σ_c w_c·Σ (p + g) + smoothDr)` per sample
 * (or for the whole batch with `batch`), where the class weights `w_c` come from the target volume
 * (see `wType`) and carry no gradient. It balances small structures against large ones.
 */
export const generalizedDiceLoss: Loss<GeneralizedDiceLossOptions> = defineLoss('generalizedDiceLoss', compute, (o) => {
  validateSegOptions('generalizedDiceLoss', o);
  if (o.wType !== undefined && !['square', 'simple', 'uniform'].includes(o.wType)) {
    throw new ValueError(`generalizedDiceLoss: wType must be 'square', 'simple' or 'uniform', but got ${JSON.stringify(o.wType)}.`);
  }
});
