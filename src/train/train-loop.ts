import * as tf from '@tensorflow/tfjs-core';
import { NumericalError, ValueError } from '../core/errors.js';
import { defaultGenerator, type Generator } from '../core/random.js';
import type { AnyModule } from '../core/module.js';
import { withDeferredLossChecks } from '../losses/checks.js';
import type { Optimizer } from '../optim/optimizer.js';
import { progressBar, progressCallback, progressLog, type Callback, type TrainController } from './callbacks.js';
import type { CheckpointTarget } from './checkpoint.js';
import { CheckpointManager } from './checkpoint-manager.js';
import { allFinite, guardedVariables, nonFiniteNames } from './finite-guard.js';
import type { CheckpointOptions, ProgressLogOptions } from './fit-options.js';
import type { CheckMessage, EpochRecord, Logs, Progress, StepLogs, TrainStep } from './types.js';
import { nonNegativeInt, positiveInt } from '../core/validate.js';

export type { CheckpointOptions } from './fit-options.js';

/** Options of {@link trainLoop}. */
export interface TrainLoopOptions<B> {
  /** The model being trained (saved in checkpoints, and watched for non-finite values). */
  module: AnyModule;
  /** Optimizers by name, saved in checkpoints (e.g. `{ adam }`, or `{ generator, discriminator }` for a GAN). */
  optimizers: Record<string, Optimizer>;
  /** Batches of one epoch. Called once per epoch with the epoch index (seed your shuffles with it). */
  data: (epoch: number) => Iterable<B> | AsyncIterable<B>;
  /** The step run on each batch. */
  step: TrainStep<B>;
  /** Number of epochs in the whole run. */
  epochs: number;
  /** Stop after this many steps over the run (counted across a resume), even in the middle of an epoch. */
  maxSteps?: number;
  /** Steps per epoch, for the progress bar's ETA (optional). */
  stepsPerEpoch?: number;
  /** Evaluates the model after each epoch; its logs land in the epoch record's `val`. */
  validate?: (epoch: number) => Logs | Promise<Logs>;
  /** The run's generator, passed to steps and saved in checkpoints. Default: the global generator. */
  generator?: Generator;
  /** Further generators whose states checkpoints must save (e.g. a dropout layer's own). */
  extraGenerators?: Record<string, Generator>;
  /** Callbacks (history is always kept; see {@link earlyStopping}). */
  callbacks?: Callback[];
  /** `'bar'` (terminal bar, one line per epoch elsewhere), `'none'`, or a function called after every step. Default `'bar'`. */
  onProgress?: 'bar' | 'none' | ((progress: Progress) => void);
  /** Write checkpoints and optionally resume from one. */
  checkpoint?: CheckpointOptions;
  /** Steps between asynchronous reads of the step logs (see {@link FitOptions.logEvery}). Default 10. */
  logEvery?: number;
  /** Step-granularity progress lines in a file. */
  progressLog?: ProgressLogOptions;
  /** Check after every step, on the device, that parameters and float buffers stay finite. Default true. */
  guardFinite?: boolean;
  /** Name used in error messages. Default `'trainLoop'`. */
  what?: string;
  /**
   * What defines the run (model class and config, optimizer settings): its hash is stored in
   * checkpoints, and a resume into a checkpoint of another configuration is refused (unless
   * `checkpoint.resume` is `'force'`). Default: none recorded.
   */
  runConfig?: unknown;
}

/** What {@link trainLoop} returns. */
export interface TrainResult {
  /** One record per epoch, including epochs restored from a checkpoint. */
  history: EpochRecord[];
  /** Why training stopped early, if it did. */
  stopReason: string | undefined;
  /** Steps completed over the run (a resumed run counts the checkpoint's steps too). */
  globalStep: number;
}

function isAsyncIterable<B>(x: Iterable<B> | AsyncIterable<B>): x is AsyncIterable<B> {
  return x !== null && typeof x === 'object' && typeof (x as AsyncIterable<B>)[Symbol.asyncIterator] === 'function';
}

function isIterable<B>(x: unknown): x is Iterable<B> {
  return x !== null && typeof x === 'object' && typeof (x as Iterable<B>)[Symbol.iterator] === 'function';
}

/** A step whose logs have not been read from the device yet. */
interface PendingStep {
  epoch: number;
  batchIndex: number;
  globalStep: number;
  logs: StepLogs;
  checks: Array<{ flag: tf.Tensor; message: CheckMessage }>;
  finite: tf.Scalar | null;
}

function disposePending(p: PendingStep): void {
  for (const v of Object.values(p.logs)) if (v instanceof tf.Tensor) v.dispose();
  for (const c of p.checks) c.flag.dispose();
  p.finite?.dispose();
}

/** Steps each module has been trained for over all `trainLoop` calls (the step count a log file shows). */
const modelSteps = new WeakMap<AnyModule, number>();

/** Steps `module` has been trained for by {@link trainLoop} in this process, over every call. */
export function trainedSteps(module: AnyModule): number {
  return modelSteps.get(module) ?? 0;
}

/**
 * The training loop every medvae model uses: epochs of steps, validation, callbacks, progress,
 * atomic checkpoints with optimizer and RNG state, exact resume, and a stop with a clear error when
 * a loss, a parameter or a BatchNorm statistic becomes NaN or infinite.
 *
 * Steps return their logs as tensors (or numbers); the loop reads them from the device
 * asynchronously every `logEvery` steps and at the end of each epoch, so no step waits for a
 * readback. Every step also queues a device-side check that the parameters and float buffers are
 * finite. A read that finds a non-finite value stops the run with a {@link NumericalError} naming
 * the epoch and step where it first appeared; all pending reads are done before a checkpoint is
 * written, so a checkpoint never holds non-finite weights.
 *
 * @example
 * ```ts
 * const opt = new Adam(model.trainableParameters(), { lr: 1e-3 });
 * await trainLoop({
 *   module: model, optimizers: { opt }, epochs: 10,
 *   data: (epoch) => loader.forEpoch(epoch),
 *   step: (batch) => ({ loss: opt.minimize(() => lossOf(batch)) }),   // the loop reads and frees the loss
 *   checkpoint: { path: 'runs/ckpt.safetensors', resume: true },
 * });
 * ```
 */
export async function trainLoop<B>(options: TrainLoopOptions<B>): Promise<TrainResult> {
  const what = options.what ?? 'trainLoop';
  nonNegativeInt(options.epochs, `${what} epochs`);
  if (options.maxSteps !== undefined) positiveInt(options.maxSteps, `${what} maxSteps`);
  const logEvery = positiveInt(options.logEvery ?? 10, `${what} logEvery`);
  const ckpt = options.checkpoint;
  if (ckpt !== undefined) {
    if (ckpt === null || typeof ckpt !== 'object' || typeof ckpt.path !== 'string' || ckpt.path.length === 0) {
      throw new ValueError(`${what} checkpoint must be { path, everyEpochs?, resume? } with a non-empty path, but got ${JSON.stringify(ckpt)}.`);
    }
    if (ckpt.everyEpochs !== undefined) positiveInt(ckpt.everyEpochs, `${what} checkpoint.everyEpochs`);
  }
  const generator = options.generator ?? defaultGenerator();
  const target: CheckpointTarget = {
    module: options.module,
    optimizers: options.optimizers,
    generators: { run: generator, ...(options.extraGenerators ?? {}), ...(generator === defaultGenerator() ? {} : { global: defaultGenerator() }) },
  };
  const callbacks: Callback[] = [...(options.callbacks ?? [])];
  const progress = options.onProgress ?? 'bar';
  if (progress === 'bar') callbacks.push(progressBar());
  else if (typeof progress === 'function') callbacks.push(progressCallback(progress));
  else if (progress !== 'none') throw new ValueError(`${what} onProgress must be 'bar', 'none' or a function, but got ${JSON.stringify(progress)}.`);
  if (options.progressLog) callbacks.push(progressLog(options.progressLog));
  const guarded = options.guardFinite === false ? null : guardedVariables(options.module, new Set(Object.values(options.optimizers).flatMap((o) => [...o.params])));

  let history: EpochRecord[] = [];
  let startEpoch = 0;
  let globalStep = 0;
  // A checkpoint written mid-epoch (maxSteps or a stop) resumes inside that epoch: its first
  // `skipSteps` batches are passed over and the epoch's log sums so far are restored.
  let skipSteps = 0;
  let resumedSums: Logs = {};
  const manager = ckpt
    ? await CheckpointManager.open({ path: ckpt.path, keep: ckpt.keep, resume: ckpt.resume ?? false, identity: { runId: ckpt.runId, config: options.runConfig } })
    : undefined;
  const lastGood = (): string | undefined => manager?.lastGood;
  try {
    const restored = manager ? await manager.resume(target) : undefined;
    if (restored) {
      const done = restored.epoch + 1 + (restored.stepInEpoch ? 1 : 0);
      if (done > options.epochs) {
        throw new ValueError(
          `${what}: the checkpoint ${restored.file} already holds ${done} epochs, but epochs is ${options.epochs}. ` +
            `Ask for more than ${restored.epoch + 1} epochs to continue it, or start a new run with another checkpoint path (or resume: false).`,
        );
      }
      history = restored.history;
      startEpoch = restored.epoch + 1;
      globalStep = restored.globalStep;
      skipSteps = restored.stepInEpoch ?? 0;
      const sums = restored.extra?.sums;
      if (sums !== null && typeof sums === 'object') resumedSums = sums as Logs;
    }
  } catch (err) {
    await manager?.close();
    throw err;
  }

  let stopReason: string | undefined;
  const controller: TrainController = {
    stop(reason?: string) {
      stopReason = reason ?? 'stopped by a callback';
    },
    get stopped() {
      return stopReason !== undefined;
    },
    get stopReason() {
      return stopReason;
    },
  };
  const atMaxSteps = (): boolean => options.maxSteps !== undefined && globalStep >= options.maxSteps;
  if (atMaxSteps()) stopReason = `maxSteps (${options.maxSteps}) reached`;

  const pending: PendingStep[] = [];
  try {
    for (const cb of callbacks) await cb.onTrainBegin?.(controller);
    for (let epoch = startEpoch; epoch < options.epochs && !controller.stopped; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch, controller);
      options.module.train();
      const started = Date.now();
      const resumedInside = epoch === startEpoch ? skipSteps : 0;
      const sums: Logs = resumedInside > 0 ? { ...resumedSums } : {};
      let count = resumedInside;
      let issued = resumedInside;
      let skipping = resumedInside;

      // Reads every pending step's logs and checks (one await for all), then reports the steps in order.
      const flush = async (): Promise<void> => {
        // Optimizers with gated steps (updates a step skipped on the device) learn their step
        // counts here, with the logs, so a checkpoint's getState never has to read them.
        const settled = Promise.all(Object.values(options.optimizers).map((o) => o.settle()));
        if (pending.length === 0) {
          await settled;
          return;
        }
        const batch = pending.splice(0, pending.length);
        try {
          const tensors: tf.Tensor[] = [];
          for (const p of batch) {
            for (const v of Object.values(p.logs)) if (v instanceof tf.Tensor) tensors.push(v);
            for (const c of p.checks) tensors.push(c.flag);
            if (p.finite) tensors.push(p.finite);
          }
          const read = new Map<tf.Tensor, number>();
          const [data] = await Promise.all([Promise.all(tensors.map((t) => t.data())), settled]);
          tensors.forEach((t, i) => read.set(t, Number(data[i][0])));
          for (const p of batch) {
            const where = `epoch ${p.epoch + 1}, batch ${p.batchIndex + 1} (global step ${p.globalStep + 1})`;
            const good = lastGood() ? `The last good checkpoint is ${lastGood()}. ` : '';
            for (const c of p.checks) {
              const value = read.get(c.flag) as number;
              if (value !== 0) throw new ValueError(`${typeof c.message === 'function' ? c.message(value) : c.message} (found at ${where})`);
            }
            const logs: Logs = {};
            for (const [k, v] of Object.entries(p.logs)) {
              const value = v instanceof tf.Tensor ? (read.get(v) as number) : v;
              if (!Number.isFinite(value)) {
                throw new NumericalError(
                  `Training stopped: '${k}' became ${value} at ${where}. ${good}` +
                    'Lower the learning rate, enable gradient clipping, or check the inputs for NaN.',
                );
              }
              logs[k] = value;
            }
            if (p.finite && read.get(p.finite) !== 1) {
              const names = guarded ? await nonFiniteNames(guarded) : [];
              throw new NumericalError(
                `Training stopped: parameters or buffers became non-finite in the update of ${where}` +
                  `${names.length > 0 ? ` (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''})` : ''}; ` +
                  `nothing after it was checkpointed. ${good}Lower the learning rate, enable gradient clipping, or check the inputs for NaN.`,
              );
            }
            for (const [k, v] of Object.entries(logs)) sums[k] = (sums[k] ?? 0) + v;
            count += 1;
            const elapsed = (Date.now() - started) / 1000;
            const sps = elapsed > 0 ? count / elapsed : 0;
            const prog: Progress = {
              epoch: p.epoch,
              epochs: options.epochs,
              step: count,
              stepsPerEpoch: options.stepsPerEpoch,
              globalStep: p.globalStep + 1,
              modelStep: trainedSteps(options.module) - (issued - count),
              logs: Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / count])),
              stepsPerSecond: sps,
              etaSeconds: options.stepsPerEpoch !== undefined && sps > 0 ? (options.stepsPerEpoch - count) / sps : undefined,
            };
            for (const cb of callbacks) await cb.onBatchEnd?.(prog, logs, controller);
          }
        } finally {
          batch.forEach(disposePending);
        }
      };

      const runStep = async (batch: B): Promise<void> => {
        const checks: PendingStep['checks'] = [];
        const ctx = {
          epoch,
          batchIndex: issued,
          globalStep,
          generator,
          check: (flag: tf.Tensor, message: CheckMessage) => void checks.push({ flag, message }),
        };
        let logs: StepLogs;
        try {
          // The losses' input checks are queued with the step's logs instead of read back now.
          logs = await withDeferredLossChecks(ctx.check, () => options.step(batch, ctx));
        } catch (err) {
          tf.dispose(checks.map((c) => c.flag));
          throw err;
        }
        const finite = guarded ? allFinite(guarded) : null;
        pending.push({ epoch, batchIndex: issued, globalStep, logs, checks, finite });
        issued += 1;
        globalStep += 1;
        modelSteps.set(options.module, trainedSteps(options.module) + 1);
        if (pending.length >= logEvery) await flush();
      };
      const stopNow = (): boolean => {
        if (atMaxSteps() && stopReason === undefined) stopReason = `maxSteps (${options.maxSteps}) reached`;
        return controller.stopped;
      };

      const batches = options.data(epoch);
      if (isAsyncIterable(batches)) {
        for await (const batch of batches) {
          if (skipping > 0) {
            skipping -= 1;
            continue;
          }
          await runStep(batch);
          if (stopNow()) break;
        }
      } else if (isIterable<B>(batches)) {
        for (const batch of batches) {
          if (skipping > 0) {
            skipping -= 1;
            continue;
          }
          await runStep(batch);
          if (stopNow()) break;
        }
      } else {
        throw new ValueError(`${what}: the data of epoch ${epoch + 1} is neither iterable nor async iterable (got ${String(batches)}); give a DataLoader, an array of batches, or a function returning one.`);
      }
      await flush();
      if (issued === 0) {
        throw new ValueError(`${what}: epoch ${epoch + 1} had no batches: the dataset is empty (or the loader drops its only, incomplete batch). Give at least one sample.`);
      }
      const train = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(count, 1)]));
      let val: Logs = {};
      if (options.validate) {
        options.module.eval();
        val = await options.validate(epoch);
        options.module.train();
      }
      const record: EpochRecord = { epoch, train, val, seconds: (Date.now() - started) / 1000, steps: count };
      history.push(record);
      for (const cb of callbacks) await cb.onEpochEnd?.(record, controller);
      stopNow();
      const last = epoch === options.epochs - 1 || controller.stopped;
      if (manager && ckpt && (last || (epoch + 1) % (ckpt.everyEpochs ?? 1) === 0)) {
        // An epoch cut short (maxSteps, a stop) is saved as a position inside it, so that a
        // resume finishes that epoch instead of skipping the rest of its batches.
        const partial = options.stepsPerEpoch !== undefined && count < options.stepsPerEpoch;
        const progress = partial
          ? { epoch: epoch - 1, globalStep, history: history.slice(0, -1), stepInEpoch: count, extra: { sums } }
          : { epoch, globalStep, history };
        try {
          await manager.save(target, progress);
        } catch (err) {
          if (err instanceof NumericalError) {
            throw new NumericalError(`Training stopped at the end of epoch ${epoch + 1} (global step ${globalStep}): ${err.message}`, { cause: err });
          }
          throw err;
        }
      }
    }
    for (const cb of callbacks) await cb.onTrainEnd?.(history, controller);
  } finally {
    pending.splice(0, pending.length).forEach(disposePending);
    await manager?.close();
  }
  return { history, stopReason, globalStep };
}
