import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';

/**
 * How a loss turns its per-element (or per-sample) values into the returned tensor, as in
 * PyTorch: `'mean'` (the default) and `'sum'` return a scalar, `'none'` returns the unreduced
 * values (each loss documents their shape).
 */
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Per-class weights as losses accept them: one number for every class, one number per class, or a
 * `[C]` tensor. Weights are not normalised; they must be non-negative.
 */
export type ClassWeight = number | readonly number[] | tf.Tensor;

/**
 * A loss with its options already bound: `(input, target) => loss`. This is what the curried
 * call form of every loss returns, so it can be handed to a training loop
 * (`loss: diceCELoss({ softmax: true })`).
 */
export type LossFn = (input: tf.Tensor, target: tf.Tensor) => tf.Tensor;

/**
 * A loss of a prediction alone (for example a generator's adversarial loss), with its options
 * already bound.
 */
export type UnaryLossFn = (input: tf.Tensor) => tf.Tensor;

/**
 * The two call forms every two-tensor loss in medvae has: call it with tensors to compute the
 * loss now, or with options only to get a {@link LossFn} to pass around.
 *
 * @typeParam O - the loss's options.
 */
export interface Loss<O> {
  /** Computes the loss of `input` against `target` now. */
  (input: tf.Tensor, target: tf.Tensor, options?: O): tf.Tensor;
  /** Binds `options` and returns the loss as a function of `(input, target)`. */
  (options?: O): LossFn;
}

/** The two call forms of a loss of one tensor (see {@link Loss}). */
export interface UnaryLoss<O> {
  /** Computes the loss of `input` now. */
  (input: tf.Tensor, options?: O): tf.Tensor;
  /** Binds `options` and returns the loss as a function of `input`. */
  (options?: O): UnaryLossFn;
}

let inputChecks = true;

/**
 * Turns the data-dependent input checks of all losses on or off (on by default).
 *
 * With checks on, each loss call reads back one small tensor to detect NaN in its inputs and
 * out-of-range class labels, and throws a clear error naming the argument instead of returning
 * NaN. That read is a GPU→CPU synchronisation; switch the checks off in a tuned training loop on a
 * GPU backend once the pipeline is known to be sound. Shape and option checks are always done.
 *
 * @returns the previous setting, so a caller can restore it.
 */
export function setLossInputChecks(enabled: boolean): boolean {
  const previous = inputChecks;
  inputChecks = enabled;
  return previous;
}

/** Whether data-dependent input checks are on (see {@link setLossInputChecks}). */
export function lossInputChecksEnabled(): boolean {
  return inputChecks;
}

function isTensor(x: unknown): x is tf.Tensor {
  return x instanceof tf.Tensor;
}

function describe(x: unknown): string {
  if (x === undefined) return 'undefined';
  if (x === null) return 'null';
  if (isTensor(x)) return `a tensor of shape [${x.shape.join(', ')}]`;
  if (Array.isArray(x)) return 'an array';
  return typeof x;
}

function checkOptionsObject(name: string, options: unknown): void {
  if (options !== undefined && (typeof options !== 'object' || options === null || isTensor(options) || Array.isArray(options))) {
    throw new ValueError(`${name}: options must be a plain object, but got ${describe(options)}.`);
  }
}

/**
 * Builds a two-tensor loss with both call forms of {@link Loss} from one compute function, so
 * each loss states its math once. `compute` runs inside `tf.tidy`, so it may create intermediate
 * tensors freely; `validate` (optional) checks the options once, when they are bound, so a bad
 * option fails at configuration time rather than in the middle of training.
 *
 * @param name - the public name, used in error messages.
 * @param compute - the loss itself: `(input, target, options) => tensor`.
 * @param validate - checks options; throws a {@link ValueError} for bad ones.
 */
export function defineLoss<O extends object>(
  name: string,
  compute: (input: tf.Tensor, target: tf.Tensor, options: O) => tf.Tensor,
  validate?: (options: O) => void,
): Loss<O> {
  const run = (input: tf.Tensor, target: tf.Tensor, options: O): tf.Tensor => {
    validate?.(options);
    return tf.tidy(() => compute(input, target, options));
  };
  function loss(input: tf.Tensor, target: tf.Tensor, options?: O): tf.Tensor;
  function loss(options?: O): LossFn;
  function loss(a?: tf.Tensor | O, b?: tf.Tensor, c?: O): tf.Tensor | LossFn {
    if (isTensor(a)) {
      if (!isTensor(b)) {
        throw new ValueError(`${name}: the second argument (target) must be a tensor, but got ${describe(b)}. ` +
          `Call ${name}(input, target, options) to compute, or ${name}(options) for a loss function.`);
      }
      checkOptionsObject(name, c);
      return run(a, b, (c ?? {}) as O);
    }
    if (b !== undefined) {
      throw new ValueError(`${name}: the first argument (input) must be a tensor, but got ${describe(a)}.`);
    }
    checkOptionsObject(name, a);
    const options = (a ?? {}) as O;
    validate?.(options);
    const bound: LossFn = (input, target) => loss(input, target, options);
    return bound;
  }
  Object.defineProperty(loss, 'name', { value: name });
  return loss;
}

/** Like {@link defineLoss}, for a loss of one tensor ({@link UnaryLoss}). */
export function defineUnaryLoss<O extends object>(
  name: string,
  compute: (input: tf.Tensor, options: O) => tf.Tensor,
  validate?: (options: O) => void,
): UnaryLoss<O> {
  function loss(input: tf.Tensor, options?: O): tf.Tensor;
  function loss(options?: O): UnaryLossFn;
  function loss(a?: tf.Tensor | O, b?: O): tf.Tensor | UnaryLossFn {
    if (isTensor(a)) {
      checkOptionsObject(name, b);
      const options = (b ?? {}) as O;
      validate?.(options);
      return tf.tidy(() => compute(a, options));
    }
    if (b !== undefined) {
      throw new ValueError(`${name}: the first argument (input) must be a tensor, but got ${describe(a)}.`);
    }
    checkOptionsObject(name, a);
    const options = (a ?? {}) as O;
    validate?.(options);
    const bound: UnaryLossFn = (input) => loss(input, options);
    return bound;
  }
  Object.defineProperty(loss, 'name', { value: name });
  return loss;
}
