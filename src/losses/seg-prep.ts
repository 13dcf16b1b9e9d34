// Internal: the input/target preparation MONAI's segmentation losses share (activation, one-hot
// encoding of label maps, dropping the background channel), in channel-last layout.
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { assertFloatArg, assertMinRank, checkData, checkNumber, checkReduction, warnOnce, type DataCheck } from './checks.js';
import type { Reduction } from './loss-fn.js';

/** Options that decide how predictions and targets are prepared. */
export interface SegPrepOptions {
  includeBackground?: boolean;
  toOneHot?: boolean;
  sigmoid?: boolean;
  softmax?: boolean;
}

/** Throws when sigmoid and softmax are both requested (MONAI rejects it too). */
export function checkActivation(loss: string, o: SegPrepOptions): void {
  if (o.sigmoid && o.softmax) {
    throw new ValueError(`${loss}: sigmoid and softmax cannot both be true; pick the activation that matches the model's output.`);
  }
}

/** Checks the options the region losses (Dice family, Tversky) share. */
export function validateSegOptions(
  loss: string,
  o: SegPrepOptions & { reduction?: Reduction; smoothNr?: number; smoothDr?: number },
  reductions?: readonly Reduction[],
): void {
  checkActivation(loss, o);
  checkReduction(loss, o.reduction, reductions);
  checkNumber(loss, 'smoothNr', o.smoothNr, 0);
  checkNumber(loss, 'smoothDr', o.smoothDr, 0);
}

/**
 * Makes `target` a one-hot tensor with the shape of `input` when `toOneHot` is set (and the
 * prediction has more than one channel), after checking the labels. Also checks `input` for NaN.
 * Returns float32 tensors with equal shapes (not yet activated or background-sliced).
 */
export function alignTarget(loss: string, input: tf.Tensor, target: tf.Tensor, toOneHot: boolean): tf.Tensor {
  assertMinRank(loss, input, 2, 'input', '[B, C] or [B, ...spatial, C]');
  assertFloatArg(loss, input, 'input');
  const c = input.shape[input.rank - 1];
  const checks: DataCheck[] = [{ kind: 'nan', arg: 'input', tensor: input }];
  const lead = input.shape.slice(0, -1);
  const sameLead = (shape: number[]): boolean => shape.length === lead.length && shape.every((d, i) => d === lead[i]);
  let labels: tf.Tensor | null = null;
  if (toOneHot) {
    if (target.rank === input.rank - 1 && sameLead(target.shape)) labels = target;
    else if (target.rank === input.rank && target.shape[target.rank - 1] === 1 && sameLead(target.shape.slice(0, -1))) labels = tf.squeeze(target, [target.rank - 1]);
    else {
      throw new ShapeError(
        `${loss}: with toOneHot, target must be a label map ${formatShape([...lead])} or ${formatShape([...lead, 1])} ` +
          `matching input ${formatShape(input.shape)}, but got ${formatShape(target.shape)}.`,
      );
    }
    if (c === 1) {
      warnOnce(`${loss}: single channel prediction, toOneHot=true ignored.`);
      checks.push({ kind: 'nan', arg: 'target', tensor: target });
      checkData(loss, checks);
      return tf.expandDims(tf.cast(labels, 'float32'), -1);
    }
    checks.push({ kind: 'labels', arg: 'target', tensor: target, numClasses: c, why: `for toOneHot with ${c} input channels` });
    checkData(loss, checks);
    return tf.cast(tf.oneHot(tf.cast(labels, 'int32'), c), 'float32');
  }
  if (target.rank !== input.rank || target.shape.some((d, i) => d !== input.shape[i])) {
    const hint = target.rank === input.rank - 1 || (target.rank === input.rank && target.shape[target.rank - 1] === 1 && c > 1)
      ? ' If target is a label map, set toOneHot: true.'
      : '';
    throw new ShapeError(`${loss}: target must have the same shape as input ${formatShape(input.shape)}, but got ${formatShape(target.shape)}.${hint}`);
  }
  checks.push({ kind: 'nan', arg: 'target', tensor: target });
  checkData(loss, checks);
  return tf.cast(target, 'float32');
}

/**
 * MONAI's preprocessing, channel-last: activation (sigmoid or softmax over the last axis), one-hot
 * target, then drops channel 0 of both when `includeBackground` is false. With one channel,
 * softmax / toOneHot / includeBackground=false do not apply and are ignored with a warning, as in MONAI.
 */
export function prepareSegmentation(loss: string, input: tf.Tensor, target: tf.Tensor, o: SegPrepOptions): [tf.Tensor, tf.Tensor] {
  checkActivation(loss, o);
  let t = alignTarget(loss, input, target, o.toOneHot ?? false);
  let x = input;
  const c = input.shape[input.rank - 1];
  if (o.sigmoid) x = tf.sigmoid(x);
  if (o.softmax) {
    if (c === 1) warnOnce(`${loss}: single channel prediction, softmax=true ignored.`);
    else x = tf.softmax(x, -1);
  }
  if (o.includeBackground === false) {
    if (c === 1) warnOnce(`${loss}: single channel prediction, includeBackground=false ignored.`);
    else {
      x = dropBackground(x);
      t = dropBackground(t);
    }
  }
  return [x, t];
}

/** Removes channel 0 (the background class) from a channel-last tensor. */
export function dropBackground(x: tf.Tensor): tf.Tensor {
  const begin = x.shape.map(() => 0);
  begin[x.rank - 1] = 1;
  return tf.slice(x, begin, x.shape.map(() => -1));
}

/** The axes a region loss sums over: spatial axes, plus the batch axis when `batch` is set. */
export function regionAxes(rank: number, batch: boolean): number[] {
  const axes: number[] = [];
  if (batch) axes.push(0);
  for (let i = 1; i < rank - 1; i++) axes.push(i);
  return axes;
}
