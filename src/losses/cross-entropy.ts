import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { assertFloatArg, assertMinRank, checkData, checkNumber, checkReduction, classWeightTensor } from './checks.js';
import { defineLoss, type ClassWeight, type Loss, type Reduction } from './loss-fn.js';

/** Options of {@link crossEntropy}; names and defaults are `torch.nn.functional.cross_entropy`'s. */
export interface CrossEntropyOptions {
  /** Per-class rescaling weights (`[C]`, or one number for all classes). */
  weight?: ClassWeight;
  /** Targets equal to this label contribute neither loss nor weight (label targets only). Default `-100`. */
  ignoreIndex?: number;
  /** `'mean'` (default; weighted mean for label targets with `weight`), `'sum'`, or `'none'` (shape of logits without the class axis). */
  reduction?: Reduction;
  /** Mixes the target with the uniform distribution: `(1 − ε)·target + ε/C`. In [0, 1]. Default `0`. */
  labelSmoothing?: number;
}

function validate(o: CrossEntropyOptions): void {
  checkReduction('crossEntropy', o.reduction);
  checkNumber('crossEntropy', 'labelSmoothing', o.labelSmoothing, 0, 1);
  checkNumber('crossEntropy', 'ignoreIndex', o.ignoreIndex);
}

function compute(logits: tf.Tensor, target: tf.Tensor, o: CrossEntropyOptions): tf.Tensor {
  const name = 'crossEntropy';
  assertMinRank(name, logits, 1, 'logits', '[..., C]');
  assertFloatArg(name, logits, 'logits');
  const c = logits.shape[logits.rank - 1];
  const reduction = o.reduction ?? 'mean';
  const eps = o.labelSmoothing ?? 0;
  const sameShape = target.rank === logits.rank && target.shape.every((d, i) => d === logits.shape[i]);
  const labelShape = target.rank === logits.rank - 1 && target.shape.every((d, i) => d === logits.shape[i]);
  if (!sameShape && !labelShape) {
    throw new ShapeError(
      `${name}: target must be class labels of shape ${formatShape(logits.shape.slice(0, -1))} or class probabilities ` +
        `of shape ${formatShape(logits.shape)} (logits are channel-last [..., C]), but got ${formatShape(target.shape)}.`,
    );
  }
  const w = classWeightTensor(name, 'weight', o.weight, c);
  const logp = tf.logSoftmax(logits, -1);
  if (sameShape) {
    // Class probabilities (PyTorch ≥ 1.10): no ignoreIndex; 'mean' divides by the number of positions, not by weights.
    assertFloatArg(name, target, 'target (class probabilities)');
    checkData(name, [{ kind: 'nan', arg: 'logits', tensor: logits }, { kind: 'nan', arg: 'target', tensor: target }]);
    const t = eps > 0 ? tf.add(tf.mul(target, 1 - eps), eps / c) : target;
    const weighted = w ? tf.mul(t, w) : t;
    const perPosition = tf.neg(tf.sum(tf.mul(logp, weighted), -1));
    if (reduction === 'none') return perPosition;
    const total = tf.sum(perPosition);
    return reduction === 'sum' ? total : tf.div(total, logits.size / c);
  }
  const ignoreIndex = o.ignoreIndex ?? -100;
  checkData(name, [
    { kind: 'nan', arg: 'logits', tensor: logits },
    { kind: 'labels', arg: 'target', tensor: target, numClasses: c, ignoreIndex, why: `for logits with ${c} classes` },
  ]);
  const labels = tf.cast(target, 'int32');
  const keep = tf.notEqual(labels, ignoreIndex);
  const keepF = tf.cast(keep, 'float32');
  const oneHot = tf.mul(tf.cast(tf.oneHot(tf.where(keep, labels, tf.zerosLike(labels)), c), 'float32'), tf.expandDims(keepF, -1));
  const wOneHot = w ? tf.mul(oneHot, w) : oneHot;
  const nll = tf.neg(tf.sum(tf.mul(logp, wOneHot), -1));
  // The label-smoothing term: the (weighted) cross-entropy against the uniform distribution.
  const smooth = eps > 0 ? tf.mul(tf.neg(tf.sum(w ? tf.mul(logp, w) : logp, -1)), keepF) : null;
  if (reduction === 'none') return smooth ? tf.add(tf.mul(nll, 1 - eps), tf.mul(smooth, eps / c)) : nll;
  let nllR = tf.sum(nll);
  let smoothR = smooth ? tf.sum(smooth) : null;
  if (reduction === 'mean') {
    // PyTorch's weighted mean: divide by the total weight of the non-ignored targets.
    const denom = tf.sum(wOneHot);
    nllR = tf.div(nllR, denom);
    if (smoothR) smoothR = tf.div(smoothR, denom);
  }
  return smoothR ? tf.add(tf.mul(nllR, 1 - eps), tf.mul(smoothR, eps / c)) : nllR;
}

/**
 * Cross-entropy of channel-last logits `[..., C]` (e.g. `[B, C]` or `[B, H, W, C]`), with the
 * semantics of `torch.nn.functional.cross_entropy`:
 *
 * - **label target** `[...]` (integer class indices, any dtype): `−w[y]·log softmax(x)[y]` per
 *   position; positions equal to `ignoreIndex` are skipped; `'mean'` divides by `Σ w[y]` over the
 *   kept positions (a weighted mean). With label smoothing ε, the loss is
 *   `(1 − ε)·nll + (ε/C)·Σ_c −w_c·log p_c`, reduced the same way.
 * - **probability target** `[..., C]` (same shape as the logits): `−Σ_c w_c·t_c·log p_c`, with
 *   `t ← (1 − ε)·t + ε/C`; `'mean'` divides by the number of positions.
 *
 * `'none'` returns the logits' shape without the class axis.
 */
export const crossEntropy: Loss<CrossEntropyOptions> = defineLoss('crossEntropy', compute, validate);
