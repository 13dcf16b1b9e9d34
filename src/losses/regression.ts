import * as tf from '@tensorflow/tfjs-core';
import { assertFloatArg, assertSameShapeArgs, checkData, checkNumber, checkReduction, reduce } from './checks.js';
import { defineLoss, type Loss, type Reduction } from './loss-fn.js';
import { absSign } from './stable.js';

/** Options of {@link mse} and {@link l1}. */
export interface RegressionLossOptions {
  /** `'mean'` (default), `'sum'`, or `'none'` (the input's shape). */
  reduction?: Reduction;
}

/** Options of {@link smoothL1}. */
export interface SmoothL1Options extends RegressionLossOptions {
  /** Where the loss switches from quadratic to linear; `0` gives L1. Default `1`. */
  beta?: number;
}

/** Options of {@link huber}. */
export interface HuberOptions extends RegressionLossOptions {
  /** Where the loss switches from quadratic to linear (must be > 0). Default `1`. */
  delta?: number;
}

function difference(name: string, input: tf.Tensor, target: tf.Tensor): tf.Tensor {
  assertFloatArg(name, input, 'input');
  assertSameShapeArgs(name, input, target, 'input', 'target');
  checkData(name, [
    { kind: 'nan', arg: 'input', tensor: input },
    { kind: 'nan', arg: 'target', tensor: target },
  ]);
  return tf.sub(input, tf.cast(target, 'float32'));
}

// 1 where |d| < threshold, else 0. tf.step has a (zero) gradient while tfjs registers none for
// comparison ops such as Less, which would make tf.grad fail on this path.
function quadraticRegion(ad: tf.Tensor, threshold: number): tf.Tensor {
  return tf.step(tf.sub(threshold, ad), 0);
}

function select(mask: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(mask, a), tf.mul(tf.sub(1, mask), b));
}

/** Mean squared error `(x − y)²`, as `torch.nn.functional.mse_loss`. */
export const mse: Loss<RegressionLossOptions> = defineLoss(
  'mse',
  (x, y, o) => reduce(tf.square(difference('mse', x, y)), o.reduction ?? 'mean'),
  (o) => checkReduction('mse', o.reduction),
);

/** Mean absolute error `|x − y|`, as `torch.nn.functional.l1_loss` (gradient 0 where x = y). */
export const l1: Loss<RegressionLossOptions> = defineLoss(
  'l1',
  (x, y, o) => reduce(absSign(difference('l1', x, y)), o.reduction ?? 'mean'),
  (o) => checkReduction('l1', o.reduction),
);

/**
 * Smooth L1, as `torch.nn.functional.smooth_l1_loss`: `½d²/β` where `|d| < β`, else `|d| − ½β`
 * (d = x − y). Equals Huber / β.
 */
export const smoothL1: Loss<SmoothL1Options> = defineLoss(
  'smoothL1',
  (x, y, o) => {
    const d = difference('smoothL1', x, y);
    const beta = o.beta ?? 1;
    const ad = absSign(d);
    if (beta === 0) return reduce(ad, o.reduction ?? 'mean');
    const loss = select(quadraticRegion(ad, beta), tf.div(tf.mul(0.5, tf.square(d)), beta), tf.sub(ad, 0.5 * beta));
    return reduce(loss, o.reduction ?? 'mean');
  },
  (o) => {
    checkReduction('smoothL1', o.reduction);
    checkNumber('smoothL1', 'beta', o.beta, 0);
  },
);

/**
 * Huber loss, as `torch.nn.functional.huber_loss`: `½d²` where `|d| < δ`, else `δ·(|d| − ½δ)`.
 * Robust to outliers, smooth at 0.
 */
export const huber: Loss<HuberOptions> = defineLoss(
  'huber',
  (x, y, o) => {
    const d = difference('huber', x, y);
    const delta = o.delta ?? 1;
    const ad = absSign(d);
    const loss = select(quadraticRegion(ad, delta), tf.mul(0.5, tf.square(d)), tf.mul(delta, tf.sub(ad, 0.5 * delta)));
    return reduce(loss, o.reduction ?? 'mean');
  },
  (o) => {
    checkReduction('huber', o.reduction);
    checkNumber('huber', 'delta', o.delta, Number.MIN_VALUE);
  },
);
