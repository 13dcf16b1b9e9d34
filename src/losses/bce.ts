import * as tf from '@tensorflow/tfjs-core';
import { assertFloatArg, assertSameShapeArgs, broadcastWeight, checkData, checkNumber, checkReduction, reduce } from './checks.js';
import { defineLoss, type Loss, type Reduction } from './loss-fn.js';
import { bceWithLogitsElements } from './stable.js';

/** Options of {@link binaryCrossEntropy}; names and defaults follow `torch.nn.functional.binary_cross_entropy`. */
export interface BinaryCrossEntropyOptions {
  /** Elementwise rescaling weight, broadcast to the input (a tensor, or an array along the last axis). */
  weight?: tf.Tensor | readonly number[];
  /** `'mean'` (default), `'sum'`, or `'none'` (the input's shape). */
  reduction?: Reduction;
  /** Floor of `p·(1 − p)` in the gradient, which keeps it finite at p = 0 or 1 (PyTorch's value). Default `1e-12`. */
  eps?: number;
}

function bceElements(eps: number): (p: tf.Tensor, t: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const p = args[0] as tf.Tensor;
    const t = args[1] as tf.Tensor;
    const save = args[2] as tf.GradSaveFunc;
    // PyTorch clamps each log at −100 so that p = 0 or 1 gives a finite loss.
    const logP = tf.maximum(tf.log(p), -100);
    const log1mP = tf.maximum(tf.log1p(tf.neg(p)), -100);
    save([p, t, logP, log1mP]);
    const value = tf.neg(tf.add(tf.mul(t, logP), tf.mul(tf.sub(1, t), log1mP)));
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sp, st, slogP, slog1mP] = saved;
        // d/dp = (p − t) / max(p(1 − p), eps): PyTorch's formula, finite at the clamped ends.
        const dp = tf.div(tf.sub(sp, st), tf.maximum(tf.mul(sp, tf.sub(1, sp)), eps));
        const dt = tf.sub(slog1mP, slogP);
        return [tf.mul(dy, dp), tf.mul(dy, dt)];
      },
    };
  }) as (p: tf.Tensor, t: tf.Tensor) => tf.Tensor;
}

function computeBCE(probs: tf.Tensor, target: tf.Tensor, o: BinaryCrossEntropyOptions): tf.Tensor {
  const name = 'binaryCrossEntropy';
  assertFloatArg(name, probs, 'probs');
  assertSameShapeArgs(name, probs, target, 'probs', 'target');
  checkData(name, [
    { kind: 'range', arg: 'probs', tensor: probs, min: 0, max: 1, why: '(probabilities; for logits use bceWithLogits)' },
    { kind: 'nan', arg: 'target', tensor: target },
  ]);
  let loss = bceElements(o.eps ?? 1e-12)(probs, tf.cast(target, 'float32'));
  if (o.weight !== undefined) loss = tf.mul(loss, broadcastWeight(name, 'weight', o.weight, probs.shape));
  return reduce(loss, o.reduction ?? 'mean');
}

/**
 * Binary cross-entropy of probabilities, as `torch.nn.functional.binary_cross_entropy`:
 * `−w·(t·log p + (1 − t)·log(1 − p))` with each log clamped at −100 (so p = 0 or 1 gives a finite
 * loss), and PyTorch's gradient `w·(p − t) / max(p(1 − p), eps)`. `probs` must lie in [0, 1];
 * prefer {@link bceWithLogits} on logits, which is more stable.
 */
export const binaryCrossEntropy: Loss<BinaryCrossEntropyOptions> = defineLoss('binaryCrossEntropy', computeBCE, (o) => {
  checkReduction('binaryCrossEntropy', o.reduction);
  checkNumber('binaryCrossEntropy', 'eps', o.eps, 0);
});

/** Options of {@link bceWithLogits}; names and defaults follow `torch.nn.functional.binary_cross_entropy_with_logits`. */
export interface BCEWithLogitsOptions {
  /**
   * Weight of positive examples, broadcast along the last (class) axis: `[C]` (or a tensor
   * broadcastable to the input). > 1 raises recall, < 1 precision.
   */
  posWeight?: tf.Tensor | readonly number[] | number;
  /** Elementwise rescaling weight, broadcast to the input (a tensor, or an array along the last axis). */
  weight?: tf.Tensor | readonly number[];
  /** `'mean'` (default), `'sum'`, or `'none'` (the input's shape). */
  reduction?: Reduction;
}

function computeBCEWithLogits(logits: tf.Tensor, target: tf.Tensor, o: BCEWithLogitsOptions): tf.Tensor {
  const name = 'bceWithLogits';
  assertFloatArg(name, logits, 'logits');
  assertSameShapeArgs(name, logits, target, 'logits', 'target');
  checkData(name, [
    { kind: 'nan', arg: 'logits', tensor: logits },
    { kind: 'nan', arg: 'target', tensor: target },
  ]);
  const pw = o.posWeight !== undefined ? broadcastWeight(name, 'posWeight', o.posWeight, logits.shape) : undefined;
  let loss = bceWithLogitsElements(logits, tf.cast(target, 'float32'), pw);
  if (o.weight !== undefined) loss = tf.mul(loss, broadcastWeight(name, 'weight', o.weight, logits.shape));
  return reduce(loss, o.reduction ?? 'mean');
}

/**
 * Binary cross-entropy on logits (sigmoid + BCE in one stable expression), as
 * `torch.nn.functional.binary_cross_entropy_with_logits`:
 * `w·[(1 − t)·x + (1 + (posWeight − 1)·t)·log(1 + e^(−x))]`, computed without overflow for large
 * |x|. Targets may be soft (in [0, 1]).
 */
export const bceWithLogits: Loss<BCEWithLogitsOptions> = defineLoss('bceWithLogits', computeBCEWithLogits, (o) => checkReduction('bceWithLogits', o.reduction));
