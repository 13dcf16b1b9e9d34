import * as tf from '@tensorflow/tfjs-core';
import { classWeightTensor, reduce, sumOver } from './checks.js';
import { defineLoss, type ClassWeight, type Loss, type Reduction } from './loss-fn.js';
import { prepareSegmentation, regionAxes, validateSegOptions } from './seg-prep.js';

/**
 * Options of {@link diceLoss}; names and defaults are MONAI's `DiceLoss` (in camelCase).
 */
export interface DiceLossOptions {
  /** Keep channel 0 (background) in the loss; `false` drops it from prediction and target. Default `true`. */
  includeBackground?: boolean;
  /**
   * Treat `target` as a label map (`[B, ...spatial]` or `[B, ...spatial, 1]`) and one-hot encode it
   * to the prediction's C channels. Labels must be integers in [0, C). Default `false`.
   */
  toOneHot?: boolean;
  /** Apply a sigmoid to the prediction first (multi-label / binary logits). Default `false`. */
  sigmoid?: boolean;
  /** Apply a softmax over the channel (last) axis first (multi-class logits). Default `false`. */
  softmax?: boolean;
  /** Use squared prediction and target in the denominator (Milletari et al. 2016's V-Net form). Default `false`. */
  squaredPred?: boolean;
  /** Compute the soft Jaccard (IoU) loss instead of Dice. Default `false`. */
  jaccard?: boolean;
  /** `'mean'` (default) or `'sum'` over batch and classes; `'none'` returns `[B, C]` (or `[C]` with `batch`). */
  reduction?: Reduction;
  /** Added to the numerator, so empty classes give a finite loss. Default `1e-5`. */
  smoothNr?: number;
  /** Added to the denominator, so empty classes give a finite loss. Default `1e-5`. */
  smoothDr?: number;
  /** Sum intersection and areas over the batch too (one Dice per class for the whole batch). Default `false`. */
  batch?: boolean;
  /**
   * Per-class weights multiplying each class's loss: one number for all classes or one per class
   * (per remaining class when `includeBackground` is false). Must be non-negative.
   */
  weight?: ClassWeight;
}

function computeDice(input: tf.Tensor, target: tf.Tensor, o: DiceLossOptions): tf.Tensor {
  const [x, t] = prepareSegmentation('diceLoss', input, target, o);
  const axes = regionAxes(x.rank, o.batch ?? false);
  const intersection = sumOver(tf.mul(t, x), axes);
  const groundO = sumOver(o.squaredPred ? tf.square(t) : t, axes);
  const predO = sumOver(o.squaredPred ? tf.square(x) : x, axes);
  let denominator = tf.add(groundO, predO);
  if (o.jaccard) denominator = tf.mul(2, tf.sub(denominator, intersection));
  const smoothNr = o.smoothNr ?? 1e-5;
  const smoothDr = o.smoothDr ?? 1e-5;
  let f = tf.sub(1, tf.div(tf.add(tf.mul(2, intersection), smoothNr), tf.add(denominator, smoothDr)));
  const c = t.shape[t.rank - 1];
  if (c !== 1) {
    const w = classWeightTensor('diceLoss', 'weight', o.weight, c, o.includeBackground === false ? ', background excluded' : '');
    if (w) f = tf.mul(f, w);
  }
  // Without spatial axes (input [B, C]) the per-element loss is already [B, C] (or [C] after batch).
  return reduce(f, o.reduction ?? 'mean');
}

/**
 * Soft Dice loss (Milletari et al. 2016), exactly as MONAI's `DiceLoss` but channel-last.
 *
 * For each sample and class (or each class, with `batch`), with `p` the (activated) prediction and
 * `g` the target summed over the spatial axes:
 * `f = 1 − (2·Σ p·g + smoothNr) / (Σ g + Σ p + smoothDr)`; with `squaredPred` the areas are
 * `Σ g²` and `Σ p²`; with `jaccard` the denominator is `2·(Σ g + Σ p − Σ p·g)`, giving the soft
 * Jaccard (IoU) loss. Optional class weights multiply `f`, then `reduction` applies
 * (`'none'` keeps `[B, C]`, or `[C]` with `batch`).
 *
 * Prediction `[B, ...spatial, C]` (or `[B, C]`); target of the same shape, or a label map
 * `[B, ...spatial]` / `[B, ...spatial, 1]` with `toOneHot`.
 *
 * @example
 * ```ts
 * const loss = diceLoss(logits, labels, { softmax: true, toOneHot: true });
 * // or, bound for a training loop:
 * await model.fit(data, { epochs: 10, loss: diceLoss({ softmax: true, toOneHot: true }) });
 * ```
 */
export const diceLoss: Loss<DiceLossOptions> = defineLoss('diceLoss', computeDice, (o) => validateSegOptions('diceLoss', o));
