// Input checks the models' training steps share (internal to src/models). They queue a device-side
// flag with ctx.check instead of reading the batch back, so a step never waits for the device;
// the training loop reads the flags with the logs and stops with a ValueError naming the step.
import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import type { Batch } from '../data/sample.js';
import type { StepContext } from '../train/types.js';

/** The batch's mask, or a ValueError saying the model needs one. */
export function requireMask(batch: Batch, what: string): tf.Tensor {
  if (batch.mask === undefined) throw new ValueError(`${what} needs samples with a mask (class indices, [H, W, 1]).`);
  return batch.mask;
}

/**
 * Queues a check that every value of `x` lies in `[low, high]` (NaN fails too), with a message
 * saying what `x` is and what to do.
 */
export function checkRange(ctx: Pick<StepContext, 'check'>, x: tf.Tensor, low: number, high: number, message: string): void {
  ctx.check(
    tf.tidy(() => tf.logicalNot(tf.all(tf.logicalAnd(tf.greaterEqual(x, low), tf.lessEqual(x, high))))),
    message,
  );
}

/** Queues a check that a mask holds class indices of a `numClasses` model (0/1 for a binary one). */
export function checkMaskClasses(ctx: Pick<StepContext, 'check'>, mask: tf.Tensor, numClasses: number, what: string): void {
  const high = Math.max(numClasses, 2) - 1;
  checkRange(
    ctx,
    mask,
    0,
    high,
    `${what}: masks must hold class indices in [0, ${high}]${numClasses === 1 ? ' (0 background, 1 foreground: the binary loss is a cross-entropy on [0, 1] targets)' : ''}, but a batch has values outside. ` +
      'Map the labels to 0 … numClasses − 1 (e.g. with a discrete transform), or build the model with more classes',
  );
}
