import * as tf from '@tensorflow/tfjs-core';
import { checkNumber } from './checks.js';
import { diceLoss, type DiceLossOptions } from './dice.js';
import { focalLoss } from './focal.js';
import { defineLoss, type Loss } from './loss-fn.js';
import { validateSegOptions } from './seg-prep.js';

/** Options of {@link diceFocalLoss}: those of {@link diceLoss} plus MONAI `DiceFocalLoss`'s own. */
export interface DiceFocalLossOptions extends DiceLossOptions {
  /** Focusing parameter of the focal term. Default `2`. */
  gamma?: number;
  /** Balancing factor of the focal term (see {@link FocalLossOptions.alpha}). Default: none. */
  alpha?: number;
  /** Weight of the Dice term. Default `1`. */
  lambdaDice?: number;
  /** Weight of the focal term. Default `1`. */
  lambdaFocal?: number;
  /**
   * Use the softmax focal loss. Default `false`: as in MONAI, the focal term is the sigmoid
   * (per-channel) form on the raw logits even when the Dice term uses `softmax`.
   */
  useSoftmax?: boolean;
}

function compute(input: tf.Tensor, target: tf.Tensor, o: DiceFocalLossOptions): tf.Tensor {
  const dice = diceLoss(input, target, o);
  const focal = focalLoss(input, target, {
    includeBackground: o.includeBackground,
    toOneHot: o.toOneHot,
    gamma: o.gamma,
    alpha: o.alpha,
    weight: o.weight,
    reduction: o.reduction,
    useSoftmax: o.useSoftmax,
  });
  return tf.add(tf.mul(o.lambdaDice ?? 1, dice), tf.mul(o.lambdaFocal ?? 1, focal));
}

/**
 * `lambdaDice·Dice + lambdaFocal·Focal`, exactly as MONAI's `DiceFocalLoss` but channel-last.
 * The Dice term is {@link diceLoss} (with its activation); the focal term is {@link focalLoss} on
 * the raw logits, sharing `includeBackground`, `toOneHot` and `weight`. `reduction` is `'mean'`
 * or `'sum'`.
 */
export const diceFocalLoss: Loss<DiceFocalLossOptions> = defineLoss('diceFocalLoss', compute, (o) => {
  validateSegOptions('diceFocalLoss', o, ['mean', 'sum']);
  checkNumber('diceFocalLoss', 'gamma', o.gamma, 0);
  checkNumber('diceFocalLoss', 'alpha', o.alpha, 0, 1);
  checkNumber('diceFocalLoss', 'lambdaDice', o.lambdaDice, 0);
  checkNumber('diceFocalLoss', 'lambdaFocal', o.lambdaFocal, 0);
});
