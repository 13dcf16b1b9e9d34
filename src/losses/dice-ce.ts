import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors.js';
import { checkNumber } from './checks.js';
import { bceWithLogits } from './bce.js';
import { crossEntropy } from './cross-entropy.js';
import { diceLoss, type DiceLossOptions } from './dice.js';
import { defineLoss, type ClassWeight, type Loss } from './loss-fn.js';
import { validateSegOptions } from './seg-prep.js';

/** Options of {@link diceCELoss}: those of {@link diceLoss} plus MONAI `DiceCELoss`'s own. */
export interface DiceCELossOptions extends DiceLossOptions {
  /**
   * Class weights, one number for all classes or one per class over all C classes even when
   * `includeBackground` is false (MONAI's `DiceCELoss` convention): the Dice term then uses
   * `weight[1:]` and cross-entropy all of them. (Without background, C − 1 entries are accepted for
   * the Dice term only when `ceWeight` is given.)
   */
  weight?: ClassWeight;
  /** Weight of the Dice term. Default `1`. */
  lambdaDice?: number;
  /** Weight of the cross-entropy term. Default `1`. */
  lambdaCE?: number;
  /**
   * Class weights of the cross-entropy term (`[C]`, over all classes even when
   * `includeBackground` is false), or the positive weight of the BCE term for a one-channel
   * prediction. Defaults to `weight` (as MONAI ≥ 1.2, where one `weight` feeds both terms).
   */
  ceWeight?: ClassWeight;
  /** Label smoothing of the cross-entropy term, in [0, 1]. Default `0`. */
  labelSmoothing?: number;
}

/** How many entries a class weight lists (null for a scalar). */
function weightLength(w: ClassWeight): number | null {
  if (typeof w === 'number') return null;
  if (w instanceof tf.Tensor) return w.rank === 0 ? null : w.shape[0];
  return w.length;
}

/**
 * The Dice term's weight. MONAI's convention: one `weight` lists all C classes; without the
 * background the Dice term takes `weight[1:]` while cross-entropy takes it whole. A weight that
 * already lacks the background (C − 1 entries) is kept for the Dice term when `ceWeight` is given.
 */
function diceWeight(o: DiceCELossOptions, c: number): ClassWeight | undefined {
  const w = o.weight;
  if (w === undefined || o.includeBackground !== false || c === 1) return w;
  const n = weightLength(w);
  if (n === c) return w instanceof tf.Tensor ? tf.slice(w, [1], [c - 1]) : (w as readonly number[]).slice(1);
  if (n === c - 1 && o.ceWeight === undefined) {
    throw new ShapeError(
      `diceCELoss: with includeBackground: false, weight must list all ${c} classes (MONAI's convention: the Dice term ` +
        `uses weight[1:], cross-entropy all of them), but got ${c - 1} entries. Put the background's weight first, ` +
        'or give the cross-entropy weights separately as ceWeight.',
    );
  }
  return w;
}

function compute(input: tf.Tensor, target: tf.Tensor, o: DiceCELossOptions): tf.Tensor {
  const c = input.shape[input.rank - 1];
  const dice = diceLoss(input, target, { ...o, weight: diceWeight(o, c) });
  const reduction = o.reduction ?? 'mean';
  const ceWeight = o.ceWeight ?? o.weight;
  let ce: tf.Tensor;
  if (c !== 1) {
    // A one-channel target with a multi-channel prediction holds labels; otherwise it is one-hot / probabilities.
    let t = target;
    if (t.rank === input.rank && t.shape[t.rank - 1] === 1) t = tf.squeeze(t, [t.rank - 1]);
    else if (t.rank === input.rank) t = tf.cast(t, 'float32');
    ce = crossEntropy(input, t, { weight: ceWeight, reduction, labelSmoothing: o.labelSmoothing ?? 0 });
  } else {
    const t = target.rank === input.rank - 1 ? tf.expandDims(target, -1) : target;
    const posWeight = typeof ceWeight === 'number' ? [ceWeight] : ceWeight;
    ce = bceWithLogits(input, tf.cast(t, 'float32'), { posWeight, reduction });
  }
  return tf.add(tf.mul(o.lambdaDice ?? 1, dice), tf.mul(o.lambdaCE ?? 1, ce));
}

/**
 * `lambdaDice·Dice + lambdaCE·CE`, exactly as MONAI's `DiceCELoss` but channel-last. The Dice term
 * is {@link diceLoss} with all its options; as in MONAI, `weight` lists all classes, and with
 * `includeBackground: false` the Dice term uses `weight[1:]` while cross-entropy uses all of it.
 * The cross-entropy term is {@link crossEntropy} on the
 * raw logits over all classes (labels when the target is a label map, soft targets when it is
 * one-hot), or {@link bceWithLogits} when the prediction has one channel. `reduction` is `'mean'`
 * or `'sum'` (the two terms reduce over different axes, so `'none'` is not defined).
 *
 * @example
 * ```ts
 * const loss = diceCELoss({ softmax: true, toOneHot: true });
 * const value = loss(logits, labelMap); // logits [B, H, W, C], labelMap [B, H, W] or [B, H, W, 1]
 * ```
 */
export const diceCELoss: Loss<DiceCELossOptions> = defineLoss('diceCELoss', compute, (o) => {
  validateSegOptions('diceCELoss', o, ['mean', 'sum']);
  checkNumber('diceCELoss', 'lambdaDice', o.lambdaDice, 0);
  checkNumber('diceCELoss', 'lambdaCE', o.lambdaCE, 0);
  checkNumber('diceCELoss', 'labelSmoothing', o.labelSmoothing, 0, 1);
});
