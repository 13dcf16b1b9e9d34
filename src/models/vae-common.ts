// Helpers shared by VAE, VAEGAN and LatentClassifier (internal to src/models; not re-exported).
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import type { AnyModule } from '../core/module.js';
import { DataLoader } from '../data/data-loader.js';
import type { Dataset } from '../data/dataset.js';
import type { Batch, Sample } from '../data/sample.js';
import { nonNegativeNumber } from '../core/validate.js';

/** Checks a VAE-family fit's KL weight options: a constant `beta` ≥ 0 or a `klAnnealing` schedule, not both. */
export function checkKLWeight(options: { beta?: number; klAnnealing?: unknown }, what: string): void {
  if (options.beta !== undefined && options.klAnnealing !== undefined) {
    throw new ValueError(`${what}: give either beta (a constant KL weight) or klAnnealing (β per step), not both.`);
  }
  if (options.beta !== undefined) nonNegativeNumber(options.beta, `${what} beta`);
}

/** A Dataset (batched and shuffled by the caller's options) or a ready DataLoader. */
export type TrainData = Dataset<Sample> | DataLoader<Sample, Batch>;

/** True for a Dataset (an object with an integer `length` and a `get` method). */
export function isDataset(x: unknown): x is Dataset<Sample> {
  return x !== null && typeof x === 'object' && typeof (x as Dataset<Sample>).get === 'function' && Number.isInteger((x as Dataset<Sample>).length);
}

/** Wraps a Dataset in a shuffling DataLoader; a DataLoader is used as it is. */
export function toLoader(data: TrainData, batchSize: number, seed: number, shuffle = true): DataLoader<Sample, Batch> {
  return data instanceof DataLoader ? data : new DataLoader(data, { batchSize, shuffle, seed });
}

/** Runs `fn` with `module` in evaluation mode, restoring its previous mode afterwards. */
export function withEval<T>(module: AnyModule, fn: () => T): T {
  const wasTraining = module.training;
  module.eval();
  try {
    return fn();
  } finally {
    module.train(wasTraining);
  }
}

/** Checks that `x` is an NHWC batch `[B, H, W, C]` with the given height, width and channels. */
export function checkImages(x: tf.Tensor, h: number, w: number, c: number, what: string): void {
  if (!(x instanceof tf.Tensor)) throw new ValueError(`${what} must be a tf.Tensor [B, ${h}, ${w}, ${c}], but got ${String(x)}.`);
  if (x.rank !== 4) {
    throw new ShapeError(`${what} must be an NHWC batch [B, ${h}, ${w}, ${c}] (rank 4), but got shape [${x.shape.join(', ')}]. Add a batch axis with expandDims(x, 0) for one image.`);
  }
  const [, hh, ww, cc] = x.shape;
  if (hh !== h || ww !== w || cc !== c) {
    throw new ShapeError(
      `${what} must have shape [B, ${h}, ${w}, ${c}] (height, width, channels as the model was built with), but got [${x.shape.join(', ')}]. ` +
        'Resize the images or build the model with matching imageSize / channels.',
    );
  }
}
