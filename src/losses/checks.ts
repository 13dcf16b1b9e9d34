// Internal helpers shared by the loss functions (not re-exported from the barrel).
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, NumericalError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { lossInputChecksEnabled, type ClassWeight, type Reduction } from './loss-fn.js';


const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

/** Throws unless `reduction` is one of `allowed`. */
export function checkReduction(loss: string, reduction: unknown, allowed: readonly Reduction[] = REDUCTIONS): void {
  if (reduction !== undefined && !allowed.includes(reduction as Reduction)) {
    throw new ValueError(`${loss}: reduction must be one of ${allowed.map((r) => `'${r}'`).join(', ')}, but got ${JSON.stringify(reduction)}.`);
  }
}

/** Throws unless `value` is a finite number (when given) within [min, max]. */
export function checkNumber(loss: string, option: string, value: unknown, min = -Infinity, max = Infinity): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? (min === -Infinity ? 'a finite number' : `a number ≥ ${min}`) : `a number in [${min}, ${max}]`;
    throw new ValueError(`${loss}: ${option} must be ${range}, but got ${String(value)}.`);
  }
}

/** Applies a PyTorch-style reduction to a tensor of unreduced values. */
export function reduce(x: tf.Tensor, reduction: Reduction): tf.Tensor {
  if (reduction === 'mean') return tf.mean(x);
  if (reduction === 'sum') return tf.sum(x);
  return x;
}

/** Sums over `axes`, or returns `x` itself when there are none (tfjs' sum needs at least one axis). */
export function sumOver(x: tf.Tensor, axes: readonly number[], keepDims = false): tf.Tensor {
  return axes.length === 0 ? x : tf.sum(x, axes.slice(), keepDims);
}

/** Throws a {@link DTypeError} unless a prediction tensor is float32. */
export function assertFloatArg(loss: string, x: tf.Tensor, arg: string): void {
  if (x.dtype !== 'float32') {
    throw new DTypeError(`${loss}: ${arg} must be float32, but got ${x.dtype}. Convert it with tf.cast(${arg}, 'float32').`);
  }
}

/** Throws a {@link ShapeError} unless `a` and `b` have the same shape. */
export function assertSameShapeArgs(loss: string, a: tf.Tensor, b: tf.Tensor, nameA: string, nameB: string, hint = ''): void {
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${loss}: ${nameB} must have the same shape as ${nameA} ${formatShape(a.shape)}, but got ${formatShape(b.shape)}.${hint ? ' ' + hint : ''}`);
  }
}

/** Throws a {@link ShapeError} unless `x` has at least `rank` dimensions. */
export function assertMinRank(loss: string, x: tf.Tensor, rank: number, arg: string, layout: string): void {
  if (x.rank < rank) {
    throw new ShapeError(`${loss}: ${arg} must have rank ≥ ${rank} (${layout}, channel-last), but got shape ${formatShape(x.shape)}.`);
  }
}

/** One data-dependent check; see {@link checkData}. */
export type DataCheck =
  | { kind: 'nan'; arg: string; tensor: tf.Tensor }
  | { kind: 'labels'; arg: string; tensor: tf.Tensor; numClasses: number; ignoreIndex?: number; why: string }
  | { kind: 'nonneg'; arg: string; tensor: tf.Tensor }
  | { kind: 'range'; arg: string; tensor: tf.Tensor; min: number; max: number; why: string };

// Tensors are immutable (variables excepted), so a check that passed once need not be read back
// again: combined losses (DiceCE = Dice + CE) and repeated calls on the same target skip it.
const passed = new WeakMap<tf.Tensor, Set<string>>();

function checkKey(c: DataCheck): string {
  if (c.kind === 'labels') return `labels:${c.numClasses}:${c.ignoreIndex ?? ''}`;
  if (c.kind === 'range') return `range:${c.min}:${c.max}`;
  return c.kind;
}

/**
 * Runs data-dependent checks (NaN, label range, non-negative weights) with a single read-back,
 * unless disabled with `setLossInputChecks(false)`. Throws {@link NumericalError} for NaN and
 * {@link ValueError} for bad labels or weights, naming the argument.
 */
export function checkData(loss: string, checks: readonly DataCheck[]): void {
  if (!lossInputChecksEnabled()) return;
  const todo = checks.filter((c) => {
    if (c.kind === 'nan' && c.tensor.dtype !== 'float32') return false;
    if (c.tensor.size === 0) return false;
    return !(passed.get(c.tensor)?.has(checkKey(c)) ?? false);
  });
  if (todo.length === 0) return;
  const flags = tf.tidy(() => {
    const bad = todo.map((c) => {
      const x = c.tensor;
      if (c.kind === 'nan') return tf.any(tf.isNaN(x));
      if (c.kind === 'range') {
        const xr = tf.cast(x, 'float32');
        return tf.any(tf.logicalOr(tf.logicalOr(tf.less(xr, c.min), tf.greater(xr, c.max)), tf.isNaN(xr)));
      }
      if (c.kind === 'nonneg') return tf.any(tf.logicalOr(tf.less(x, 0), tf.isNaN(tf.cast(x, 'float32'))));
      const xf = tf.cast(x, 'float32');
      let wrong = tf.logicalOr(tf.logicalOr(tf.less(xf, 0), tf.greaterEqual(xf, c.numClasses)), tf.notEqual(xf, tf.floor(xf)));
      wrong = tf.logicalOr(wrong, tf.isNaN(xf));
      if (c.ignoreIndex !== undefined) wrong = tf.logicalAnd(wrong, tf.notEqual(xf, c.ignoreIndex));
      return tf.any(wrong);
    });
    return bad.map((b) => tf.reshape(b, []));
  });
  if (deferredSink !== null) {
    // Training: hand each flag to the loop, which reads it with the step's logs (asynchronously).
    const sink = deferredSink;
    todo.forEach((c, i) => sink(tf.keep(flags[i]), deferredMessage(loss, c)));
    return;
  }
  const stacked = tf.stack(flags);
  tf.dispose(flags);
  const values = stacked.dataSync();
  stacked.dispose();
  todo.forEach((c, i) => {
    if (values[i]) throw dataError(loss, c);
    if (!(c.tensor instanceof tf.Variable)) {
      let set = passed.get(c.tensor);
      if (!set) passed.set(c.tensor, (set = new Set()));
      set.add(checkKey(c));
    }
  });
}

/**
 * Receives a data check's flag (a scalar, nonzero when the check failed) and its message (or a
 * function making the message from the flag's value).
 */
export type DeferredCheckSink = (flag: tf.Tensor, message: string | ((flagValue: number) => string)) => void;

let deferredSink: DeferredCheckSink | null = null;

/**
 * The sink of the enclosing {@link withDeferredLossChecks} (a training step's), or null outside
 * one. Other input checks (e.g. class labels) queue their device-side flags here instead of reading
 * the inputs back when a step is running.
 */
export function activeDeferredCheckSink(): DeferredCheckSink | null {
  return deferredSink;
}

/**
 * Runs `fn` with the losses' data checks queued to `sink` instead of read back at once: each
 * check's flag (a scalar the sink owns) goes to `sink` with the message to raise when it is set.
 * The training loop uses this so a step never waits for the device; it reads the flags with the
 * step's logs. Only the synchronous part of `fn` is covered.
 */
export function withDeferredLossChecks<T>(sink: DeferredCheckSink, fn: () => T): T {
  const previous = deferredSink;
  deferredSink = sink;
  try {
    return fn();
  } finally {
    deferredSink = previous;
  }
}

/** The message of a failed check when its tensor can no longer be inspected (deferred checks). */
function deferredMessage(loss: string, c: DataCheck): string {
  if (c.kind === 'nan') return `${loss}: ${c.arg} contains NaN. Check the model output and data for NaN/Inf (e.g. a too high learning rate or a division by zero upstream)`;
  if (c.kind === 'range') return `${loss}: ${c.arg} must lie in [${c.min}, ${c.max}] ${c.why}, but a batch had values outside (or NaN)`;
  if (c.kind === 'nonneg') return `${loss}: ${c.arg} must be non-negative, but contains negative or NaN values`;
  const ignore = c.ignoreIndex !== undefined ? ` (or ignoreIndex ${c.ignoreIndex})` : '';
  return `${loss}: ${c.arg} must hold integer class labels in [0, ${c.numClasses})${ignore} ${c.why}, but a batch had other values. Check the label map, or the number of channels of the prediction`;
}

function dataError(loss: string, c: DataCheck): Error {
  if (c.kind === 'nan') {
    return new NumericalError(`${loss}: ${c.arg} contains NaN. Check the model output and data for NaN/Inf (e.g. a too high learning rate or a division by zero upstream).`);
  }
  if (c.kind === 'range') {
    const isNaN = tf.tidy(() => tf.any(tf.isNaN(tf.cast(c.tensor, 'float32'))).dataSync()[0]);
    if (isNaN) return new NumericalError(`${loss}: ${c.arg} contains NaN. Check the model output and data for NaN/Inf.`);
    const [lo, hi] = tf.tidy(() => [tf.min(c.tensor).dataSync()[0], tf.max(c.tensor).dataSync()[0]]);
    return new ValueError(`${loss}: ${c.arg} must lie in [${c.min}, ${c.max}] ${c.why}, but its values range from ${lo} to ${hi}.`);
  }
  if (c.kind === 'nonneg') {
    return new ValueError(`${loss}: ${c.arg} must be non-negative, but contains negative or NaN values.`);
  }
  const [lo, hi] = tf.tidy(() => {
    let xf = tf.cast(c.tensor, 'float32');
    if (c.ignoreIndex !== undefined) xf = tf.where(tf.equal(xf, c.ignoreIndex), tf.zerosLike(xf), xf);
    return [tf.min(xf).dataSync()[0], tf.max(xf).dataSync()[0]];
  });
  const ignore = c.ignoreIndex !== undefined ? ` (or ignoreIndex ${c.ignoreIndex})` : '';
  return new ValueError(
    `${loss}: ${c.arg} must hold integer class labels in [0, ${c.numClasses})${ignore} ${c.why}, but its values range from ${lo} to ${hi}` +
      ` or are not integers. Check the label map, or the number of channels of the prediction.`,
  );
}

/**
 * Turns a class-weight option into a `[C]` float32 tensor (the caller disposes it via tidy), after
 * checking its length against the number of classes. Returns null when no weight is given.
 */
export function classWeightTensor(loss: string, arg: string, weight: ClassWeight | undefined, numClasses: number, hint = ''): tf.Tensor | null {
  if (weight === undefined) return null;
  let w: tf.Tensor;
  if (typeof weight === 'number') {
    if (!Number.isFinite(weight) || weight < 0) throw new ValueError(`${loss}: ${arg} must be a non-negative number, but got ${weight}.`);
    return tf.fill([numClasses], weight);
  }
  if (weight instanceof tf.Tensor) {
    if (weight.rank === 0) {
      checkData(loss, [{ kind: 'nonneg', arg, tensor: weight }]);
      return tf.mul(tf.ones([numClasses]), tf.cast(weight, 'float32'));
    }
    w = tf.cast(weight, 'float32');
  } else {
    if (!Array.isArray(weight) || weight.some((v) => typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new ValueError(`${loss}: ${arg} must hold non-negative finite numbers, but got ${JSON.stringify(weight)}.`);
    }
    w = tf.tensor1d(weight as number[], 'float32');
  }
  if (w.rank !== 1 || w.shape[0] !== numClasses) {
    throw new ShapeError(`${loss}: ${arg} must have one entry per class (${numClasses}${hint}), but got shape ${formatShape(w.shape)}.`);
  }
  if (weight instanceof tf.Tensor) checkData(loss, [{ kind: 'nonneg', arg, tensor: weight }]);
  return w;
}

const warned = new Set<string>();

/** Prints a warning once per process (MONAI warns when an option cannot apply, e.g. softmax on one channel). */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(`medvae: ${message}`);
}

/**
 * Turns an elementwise weight option (a tensor, or an array read as a 1-D tensor along the last
 * axis) into a float32 tensor that broadcasts to `shape` without changing it.
 */
export function broadcastWeight(loss: string, arg: string, weight: tf.Tensor | readonly number[] | number, shape: readonly number[]): tf.Tensor {
  const w = typeof weight === 'number' ? tf.scalar(weight) : weight instanceof tf.Tensor ? tf.cast(weight, 'float32') : tf.tensor1d(weight as number[], 'float32');
  const ok = w.rank <= shape.length && w.shape.every((d, i) => d === 1 || d === shape[shape.length - w.rank + i]);
  if (!ok) {
    throw new ShapeError(`${loss}: ${arg} of shape ${formatShape(w.shape)} must broadcast to the input shape ${formatShape(shape)} (trailing axes aligned).`);
  }
  if (weight instanceof tf.Tensor) checkData(loss, [{ kind: 'nan', arg, tensor: w }]);
  return w;
}
