import { NumericalError, ValueError } from '../core/errors.js';
import { defaultGenerator, type Generator } from '../core/random.js';
import type { AnyModule } from '../core/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { progressBar, progressCallback, type Callback, type TrainController } from './callbacks.js';
import { checkpointExists, loadCheckpoint, saveCheckpoint, type CheckpointTarget } from './checkpoint.js';
import type { EpochRecord, Logs, Progress, TrainStep } from './types.js';

/** Checkpointing of a run (Node only: checkpoints are files). */
export interface CheckpointOptions {
  /** File the checkpoint is written to (atomically) at the end of epochs. */
  path: string;
  /** Write every this many epochs (and always after the last). Default 1. */
  everyEpochs?: number;
  /** Continue from `path` when it exists, instead of starting over. Default false. */
  resume?: boolean;
}

/** Options of {@link trainLoop}. */
export interface TrainLoopOptions<B> {
  /** The model being trained (saved in checkpoints). */
  module: AnyModule;
  /** Optimizers by name, saved in checkpoints (e.g. `{ adam }`, or `{ generator, discriminator }` for a GAN). */
  optimizers: Record<string, Optimizer>;
  /** Batches of one epoch. Called once per epoch with the epoch index (seed your shuffles with it). */
  data: (epoch: number) => Iterable<B> | AsyncIterable<B>;
  /** The step run on each batch. */
  step: TrainStep<B>;
  /** Number of epochs in the whole run. */
  epochs: number;
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
}

/** What {@link trainLoop} returns. */
export interface TrainResult {
  /** One record per epoch, including epochs restored from a checkpoint. */
  history: EpochRecord[];
  /** Why training stopped early, if it did. */
  stopReason: string | undefined;
}

function isAsyncIterable<B>(x: Iterable<B> | AsyncIterable<B>): x is AsyncIterable<B> {
  return typeof (x as AsyncIterable<B>)[Symbol.asyncIterator] === 'function';
}

/**
 * The training loop every medvae model uses: epochs of steps, validation, callbacks, progress,
 * atomic checkpoints with optimizer and RNG state, exact resume, and a stop with a clear error when
 * a loss becomes NaN or infinite (the last good checkpoint stays in place).
 *
 * @example
 * ```ts
 * const opt = new Adam(model.trainableParameters(), { lr: 1e-3 });
 * await trainLoop({
 *   module: model, optimizers: { opt }, epochs: 10,
 *   data: (epoch) => loader.epoch(epoch),
 *   step: (batch) => { const loss = opt.minimize(() => lossOf(batch)); const v = loss.dataSync()[0]; loss.dispose(); return { loss: v }; },
 *   checkpoint: { path: 'runs/ckpt.safetensors', resume: true },
 * });
 * ```
 */
export async function trainLoop<B>(options: TrainLoopOptions<B>): Promise<TrainResult> {
  if (!Number.isInteger(options.epochs) || options.epochs < 0) throw new ValueError(`epochs must be a non-negative integer, but got ${options.epochs}.`);
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

  let history: EpochRecord[] = [];
  let startEpoch = 0;
  let globalStep = 0;
  let lastGoodCheckpoint: string | undefined;
  const ckpt = options.checkpoint;
  if (ckpt?.resume && (await checkpointExists(ckpt.path))) {
    const restored = await loadCheckpoint(ckpt.path, target);
    history = restored.history;
    startEpoch = restored.epoch + 1;
    globalStep = restored.globalStep;
    lastGoodCheckpoint = ckpt.path;
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

  for (const cb of callbacks) await cb.onTrainBegin?.(controller);
  for (let epoch = startEpoch; epoch < options.epochs && !controller.stopped; epoch++) {
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch, controller);
    options.module.train();
    const started = Date.now();
    const sums: Logs = {};
    let count = 0;
    const batches = options.data(epoch);
    const runStep = async (batch: B): Promise<void> => {
      const logs = await options.step(batch, { epoch, batchIndex: count, globalStep, generator });
      for (const [k, v] of Object.entries(logs)) {
        if (!Number.isFinite(v)) {
          throw new NumericalError(
            `Training stopped: '${k}' became ${v} at epoch ${epoch + 1}, batch ${count + 1} (global step ${globalStep + 1}). ` +
              (lastGoodCheckpoint ? `The last good checkpoint is ${lastGoodCheckpoint}. ` : '') +
              'Lower the learning rate, enable gradient clipping, or check the inputs for NaN.',
          );
        }
        sums[k] = (sums[k] ?? 0) + v;
      }
      count += 1;
      globalStep += 1;
      const elapsed = (Date.now() - started) / 1000;
      const sps = elapsed > 0 ? count / elapsed : 0;
      const p: Progress = {
        epoch,
        epochs: options.epochs,
        step: count,
        stepsPerEpoch: options.stepsPerEpoch,
        logs: Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / count])),
        stepsPerSecond: sps,
        etaSeconds: options.stepsPerEpoch !== undefined && sps > 0 ? (options.stepsPerEpoch - count) / sps : undefined,
      };
      for (const cb of callbacks) await cb.onBatchEnd?.(p, logs, controller);
    };
    if (isAsyncIterable(batches)) {
      for await (const batch of batches) await runStep(batch);
    } else {
      for (const batch of batches) await runStep(batch);
    }
    const train = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(count, 1)]));
    let val: Logs = {};
    if (options.validate) {
      options.module.eval();
      val = await options.validate(epoch);
      options.module.train();
    }
    const record: EpochRecord = { epoch, train, val, seconds: (Date.now() - started) / 1000 };
    history.push(record);
    for (const cb of callbacks) await cb.onEpochEnd?.(record, controller);
    const last = epoch === options.epochs - 1 || controller.stopped;
    if (ckpt && (last || (epoch + 1) % (ckpt.everyEpochs ?? 1) === 0)) {
      await saveCheckpoint(ckpt.path, target, { epoch, globalStep, history });
      lastGoodCheckpoint = ckpt.path;
    }
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(history, controller);
  return { history, stopReason };
}
