// The one `fit` every model runs: it validates the shared options, batches the data, builds and
// schedules the optimizers, clips and applies gradients, and hands the loop to trainLoop. A model
// contributes only what is its own: the step (its losses and which optimizer gets which
// gradients), its validation, and its defaults.
import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import type { AnyModule } from '../core/module.js';
import { Generator } from '../core/random.js';
import { DataLoader } from '../data/data-loader.js';
import type { Dataset } from '../data/dataset.js';
import type { Batch, Sample } from '../data/sample.js';
import { Adam } from '../optim/adam.js';
import { clipGradNormOnDevice } from '../optim/clip-grad.js';
import { Optimizer, type OptimizerStepOptions } from '../optim/optimizer.js';
import type { Callback } from './callbacks.js';
import type { AdamBetasOption, FitOptions, OptimizerOptions } from './fit-options.js';
import { trainLoop, type TrainResult } from './train-loop.js';
import type { Logs, StepContext, StepLogs } from './types.js';
import { finiteNumber, invalid, nonNegativeInt, positiveInt, positiveNumber } from '../core/validate.js';

/**
 * Training data a model's `fit` accepts: a Dataset of samples (batched and shuffled by `fit` with
 * `batchSize` and `seed`), a {@link DataLoader}, any iterable or async iterable of batches (each
 * epoch iterates it again), or a function from the epoch index to that epoch's batches.
 */
export type FitData =
  | Dataset<Sample>
  | DataLoader<Sample, Batch>
  | Iterable<Batch>
  | AsyncIterable<Batch>
  | ((epoch: number) => Iterable<Batch> | AsyncIterable<Batch>);

/** How a model declares one of its optimizers to {@link runFit}. */
export interface OptimizerSpec {
  /** The parameters it updates (used when the user gives no optimizer of their own). */
  params: tf.Variable[];
  /** The user's settings for it. */
  options: OptimizerOptions & AdamBetasOption;
  /** Learning rate when `options.lr` is not given. */
  defaultLr: number;
  /** Adam's betas when `options.betas` is not given. Default [0.9, 0.999]. */
  defaultBetas?: [number, number];
  /** Gradient-norm clipping when `options.clipGradNorm` is not given (null: none). Default null. */
  defaultClipGradNorm?: number | null;
  /** The option path of these settings in error messages (e.g. `'discriminator'`); `''` for the top level. */
  label: string;
}

/** What a model's step is given by {@link runFit}: the loop's context plus the optimizers. */
export interface FitStepContext extends StepContext {
  /** The run's optimizers by the names the model declared. */
  optimizers: Record<string, Optimizer>;
  /**
   * Applies `grads` with optimizer `name`: clips their global norm on the device when that
   * optimizer has `clipGradNorm`, steps, and disposes the gradients. `options.gate` (a scalar
   * tensor the caller keeps) applies the update only where it is nonzero, decided on the device
   * (see {@link Optimizer.step}), so a step can skip a player's update without a readback.
   */
  update(name: string, grads: Record<string, tf.Tensor>, options?: OptimizerStepOptions): void;
}

/** What a model passes to {@link runFit}. */
export interface FitSpec {
  /** `'<Model>.fit'`, used in error messages. */
  what: string;
  /** The model (checkpointed, and watched for non-finite values). */
  module: AnyModule;
  /** The training data as the user gave it. */
  data: FitData;
  /** The user's shared options. */
  options: FitOptions;
  /** Batch size when the user gives none. */
  defaultBatchSize: number;
  /** The model's optimizers by name (checkpoints store them under these names). */
  optimizers: Record<string, OptimizerSpec>;
  /**
   * One step on one batch: losses, gradients, `ctx.update(...)`, and the logs as scalar tensors.
   * A step may be async to read its *inputs* asynchronously first (never a synchronous read);
   * what runs after an `await` must queue its input checks itself (`withDeferredLossChecks`).
   */
  step: (batch: Batch, ctx: FitStepContext) => StepLogs | Promise<StepLogs>;
  /** Evaluates `options.validation` after each epoch. */
  validate?: (validation: Dataset<Sample>, epoch: number) => Promise<Logs> | Logs;
  /** Generators besides the run's whose state a checkpoint must keep (e.g. reparameterisation noise). */
  extraGenerators?: Record<string, Generator>;
  /** The model's own callbacks, run after the user's. */
  callbacks?: Callback[];
}

interface EpochSource {
  batches: (epoch: number) => Iterable<Batch> | AsyncIterable<Batch>;
  length: number | undefined;
}

function isDataset(x: unknown): x is Dataset<Sample> {
  return x !== null && typeof x === 'object' && typeof (x as Dataset<Sample>).get === 'function' && Number.isInteger((x as Dataset<Sample>).length);
}

function toSource(data: FitData, batchSize: number, seed: number, what: string): EpochSource {
  if (typeof data === 'function') return { batches: data, length: undefined };
  if (data instanceof DataLoader) return { batches: (epoch) => data.forEpoch(epoch), length: data.length };
  if (isDataset(data)) {
    if (data.length === 0) throw new ValueError(`${what} got an empty dataset (length 0); give at least one sample.`);
    const loader = new DataLoader(data, { batchSize, shuffle: true, seed });
    return { batches: (epoch) => loader.forEpoch(epoch), length: loader.length };
  }
  if (data !== null && typeof data === 'object') {
    const it = data as Partial<AsyncIterable<Batch> & Iterable<Batch>> & { length?: unknown; forEpoch?: unknown };
    const length = typeof it.length === 'number' ? it.length : undefined;
    if (typeof it.forEpoch === 'function') {
      const forEpoch = it.forEpoch as (epoch: number) => Iterable<Batch> | AsyncIterable<Batch>;
      return { batches: (epoch) => forEpoch.call(data, epoch), length };
    }
    if (typeof it[Symbol.asyncIterator] === 'function' || typeof it[Symbol.iterator] === 'function') {
      return { batches: () => data as Iterable<Batch> | AsyncIterable<Batch>, length };
    }
  }
  throw new ValueError(
    `${what} data must be a Dataset of samples, a DataLoader, an iterable or async iterable of batches, or a function from the epoch to its batches, but got ${String(data)}.`,
  );
}

function checkBatch(batch: Batch, what: string): Batch {
  if (batch === null || typeof batch !== 'object' || !(batch.image instanceof tf.Tensor)) {
    throw new ValueError(`${what}: every batch must be { image: tf.Tensor [B, H, W, C], mask?, label? } (as a DataLoader yields), but got ${String(batch)}.`);
  }
  if (batch.image.shape[0] === 0) throw new ValueError(`${what}: got an empty batch (0 images); batches need at least one image.`);
  return batch;
}

/** Checks the options every fit shares; throws a ValueError naming the first bad one. */
export function checkFitOptions(options: FitOptions, what: string): void {
  if (options === null || typeof options !== 'object') throw new ValueError(`${what} needs an options object ({ epochs, ... }), but got ${String(options)}.`);
  nonNegativeInt(options.epochs, `${what} epochs`);
  if (options.maxSteps !== undefined) positiveInt(options.maxSteps, `${what} maxSteps`);
  if (options.batchSize !== undefined) positiveInt(options.batchSize, `${what} batchSize`);
  if (options.seed !== undefined) finiteNumber(options.seed, `${what} seed`);
  if (options.logEvery !== undefined) positiveInt(options.logEvery, `${what} logEvery`);
  if (options.validation !== undefined && !isDataset(options.validation)) {
    invalid(`${what} validation`, 'a Dataset of samples (an object with length and get)', options.validation);
  }
  if (options.callbacks !== undefined && !Array.isArray(options.callbacks)) invalid(`${what} callbacks`, 'an array of callbacks', options.callbacks);
}

function optionName(what: string, label: string, key: string): string {
  return `${what} ${label ? `${label}.` : ''}${key}`;
}

/** Checks one optimizer's settings; returns the clipping norm in force (null: none). */
function checkOptimizerOptions(spec: OptimizerSpec, what: string): number | null {
  const o = spec.options ?? {};
  if (o.lr !== undefined) {
    if (typeof o.lr !== 'number' || !Number.isFinite(o.lr) || o.lr < 0) invalid(optionName(what, spec.label, 'lr'), 'a finite number ≥ 0', o.lr);
  }
  if (o.optimizer !== undefined && !(o.optimizer instanceof Optimizer)) invalid(optionName(what, spec.label, 'optimizer'), 'a medvae Optimizer (Adam, AdamW, SGD)', o.optimizer);
  if (o.lrSchedule !== undefined && typeof o.lrSchedule !== 'function') invalid(optionName(what, spec.label, 'lrSchedule'), 'a function (step, totalSteps) => lr', o.lrSchedule);
  if (o.betas !== undefined && !(Array.isArray(o.betas) && o.betas.length === 2 && o.betas.every((b) => typeof b === 'number' && b >= 0 && b < 1))) {
    invalid(optionName(what, spec.label, 'betas'), 'two numbers in [0, 1)', o.betas);
  }
  const clip = o.clipGradNorm === undefined ? spec.defaultClipGradNorm ?? null : o.clipGradNorm;
  if (clip !== null) positiveNumber(clip, optionName(what, spec.label, 'clipGradNorm'), 'A norm ≤ 0 would flip or zero the gradients; leave clipping off instead.');
  return clip;
}

/** Models currently inside `fit`: a second concurrent `fit` on one model would interleave their updates. */
const fitting = new WeakSet<AnyModule>();

/**
 * Runs a model's training: the shared part of every model's `fit` (see {@link FitSpec}). Options
 * are checked before anything is built; optimizers made here are disposed when it returns.
 */
export async function runFit(spec: FitSpec): Promise<TrainResult> {
  const { what, options } = spec;
  checkFitOptions(options, what);
  const clips: Record<string, number | null> = {};
  for (const [name, o] of Object.entries(spec.optimizers)) clips[name] = checkOptimizerOptions(o, what);
  if (fitting.has(spec.module)) {
    throw new ValueError(`${what}: this model is already training (another fit call has not finished); await it before starting another.`);
  }
  const seed = options.seed ?? 0;
  const source = toSource(spec.data, options.batchSize ?? spec.defaultBatchSize, seed, what);
  const totalSteps = options.maxSteps ?? (source.length !== undefined ? options.epochs * source.length : undefined);

  fitting.add(spec.module);
  const owned: Optimizer[] = [];
  try {
    const optimizers: Record<string, Optimizer> = {};
    for (const [name, o] of Object.entries(spec.optimizers)) {
      const given = o.options?.optimizer;
      if (given) {
        optimizers[name] = given;
      } else {
        const opt = new Adam(o.params, { lr: o.options?.lr ?? o.defaultLr, betas: o.options?.betas ?? o.defaultBetas ?? [0.9, 0.999] });
        owned.push(opt);
        optimizers[name] = opt;
      }
    }
    const update = (name: string, grads: Record<string, tf.Tensor>, stepOptions?: OptimizerStepOptions): void => {
      const opt = optimizers[name];
      if (opt === undefined) {
        tf.dispose(Object.values(grads));
        throw new ValueError(`${what}: no optimizer named '${name}' (this model has ${Object.keys(optimizers).join(', ')}).`);
      }
      const maxNorm = clips[name];
      const applied = maxNorm === null ? grads : clipGradNormOnDevice(grads, maxNorm);
      try {
        opt.step(applied === grads ? grads : (applied as { grads: Record<string, tf.Tensor> }).grads, stepOptions);
      } finally {
        if (applied === grads) tf.dispose(Object.values(grads));
        else {
          const clipped = applied as { grads: Record<string, tf.Tensor>; totalNorm: tf.Scalar };
          tf.dispose([...Object.values(clipped.grads), clipped.totalNorm]);
        }
      }
    };
    const validation = options.validation;
    const validate = spec.validate;
    return await trainLoop<Batch>({
      what,
      module: spec.module,
      optimizers,
      epochs: options.epochs,
      maxSteps: options.maxSteps,
      stepsPerEpoch: source.length,
      data: source.batches,
      step: (batch, ctx) => {
        for (const [name, o] of Object.entries(spec.optimizers)) {
          const schedule = o.options?.lrSchedule;
          if (!schedule) continue;
          const lr = schedule(ctx.globalStep, totalSteps);
          if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
            throw new ValueError(`${optionName(what, o.label, 'lrSchedule')} returned ${String(lr)} at step ${ctx.globalStep}; a learning rate must be a finite number ≥ 0.`);
          }
          optimizers[name].lr = lr;
        }
        return spec.step(checkBatch(batch, what), { ...ctx, check: ctx.check, optimizers, update });
      },
      validate: validation && validate ? (epoch) => validate(validation, epoch) : undefined,
      onProgress: options.onProgress,
      callbacks: [...(options.callbacks ?? []), ...(spec.callbacks ?? [])],
      checkpoint: options.checkpoint,
      logEvery: options.logEvery,
      progressLog: options.progressLog,
      generator: new Generator(seed),
      extraGenerators: spec.extraGenerators,
      // The model's class and configuration define the run a checkpoint belongs to.
      runConfig: { className: spec.module.constructor.name, config: (spec.module as { config?: unknown }).config ?? null },
    });
  } finally {
    fitting.delete(spec.module);
    for (const o of owned) o.dispose();
  }
}
