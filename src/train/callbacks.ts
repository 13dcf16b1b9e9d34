import { importNode } from '../core/runtime.js';
import { ValueError } from '../core/errors.js';
import type { ProgressLogOptions } from './fit-options.js';
import type { EpochRecord, Logs, Progress } from './types.js';
import { nonNegativeNumber, oneOf, positiveInt, positiveNumber } from '../core/validate.js';

/**
 * Hooks into the training loop. Every method is optional; `stop()` on the controller ends training
 * after the current step. Step logs are read from the device in batches (see
 * {@link FitOptions.logEvery}), so `onBatchEnd` runs for every step, in order, at each read.
 */
export interface Callback {
  /** Before the first epoch (after a resume, before the first resumed epoch). */
  onTrainBegin?(controller: TrainController): void | Promise<void>;
  /** Before each epoch. */
  onEpochBegin?(epoch: number, controller: TrainController): void | Promise<void>;
  /** After each step with that step's logs. */
  onBatchEnd?(progress: Progress, stepLogs: Logs, controller: TrainController): void | Promise<void>;
  /** After each epoch (and its validation) with the epoch's record. */
  onEpochEnd?(record: EpochRecord, controller: TrainController): void | Promise<void>;
  /** After the last epoch, or after a stop. */
  onTrainEnd?(history: EpochRecord[], controller: TrainController): void | Promise<void>;
}

/** Lets callbacks stop the run. */
export interface TrainController {
  /** Ends training after the current step (the epoch is recorded and checkpointed as it stands). */
  stop(reason?: string): void;
  /** True once `stop` was called. */
  readonly stopped: boolean;
  /** The reason given to `stop`, if any. */
  readonly stopReason: string | undefined;
}

/** Options of {@link earlyStopping}, as Keras' / Lightning's EarlyStopping. */
export interface EarlyStoppingOptions {
  /** The value to watch: `"val.<name>"` or `"train.<name>"`. Default `"val.loss"`. */
  monitor?: string;
  /** Whether smaller (`min`) or larger (`max`) is better. Default `min`. */
  mode?: 'min' | 'max';
  /** Epochs without improvement before stopping. Default 5. */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
}

/**
 * Stops training when a monitored value stops improving. A monitor that the first epoch's record
 * does not hold (a typo, or `val.*` without validation data) is an error at the end of that epoch,
 * not a callback that silently never fires.
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): Callback {
  const monitor = options.monitor ?? 'val.loss';
  const mode = oneOf(options.mode ?? 'min', 'earlyStopping mode', ['min', 'max'] as const);
  const patience = positiveInt(options.patience ?? 5, 'earlyStopping patience');
  const minDelta = nonNegativeNumber(options.minDelta ?? 0, 'earlyStopping minDelta');
  const match = typeof monitor === 'string' ? /^(val|train)\.(.+)$/.exec(monitor) : null;
  if (match === null) throw new ValueError(`earlyStopping monitor must be 'val.<name>' or 'train.<name>', but got ${JSON.stringify(monitor)}.`);
  const section = match[1] as 'val' | 'train';
  const key = match[2];
  let best = mode === 'min' ? Infinity : -Infinity;
  let wait = 0;
  return {
    onEpochEnd(record, controller) {
      const logs = record[section];
      if (!(key in logs)) {
        const known = [...Object.keys(record.train).map((k) => `train.${k}`), ...Object.keys(record.val).map((k) => `val.${k}`)];
        throw new ValueError(
          `earlyStopping monitors '${monitor}', but the epoch logged only ${known.length > 0 ? known.join(', ') : 'nothing'}` +
            `${section === 'val' && Object.keys(record.val).length === 0 ? ' (no validation data was given)' : ''}. Monitor one of those.`,
        );
      }
      const value = logs[key];
      if (Number.isNaN(value)) return;
      const improved = mode === 'min' ? value < best - minDelta : value > best + minDelta;
      if (improved) {
        best = value;
        wait = 0;
      } else if (++wait >= patience) {
        controller.stop(`early stopping: ${monitor} did not improve for ${patience} epochs (best ${best.toPrecision(5)})`);
      }
    },
  };
}

function formatSeconds(s: number): string {
  const t = Math.max(0, Math.round(s));
  const m = Math.floor(t / 60);
  return `${m}:${String(t % 60).padStart(2, '0')}`;
}

function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .map(([k, v]) => `${k} ${Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(3)}`)
    .join('  ');
}

/** A writable text stream (Node's `process.stdout` satisfies it). */
export interface TextSink {
  /** Writes text. */
  write(text: string): unknown;
  /** True when the sink is an interactive terminal (enables the redrawn bar). */
  isTTY?: boolean;
}

/**
 * A progress bar with step/s and ETA, redrawn in place in a terminal; in a non-terminal (CI logs,
 * files) it prints one line per epoch instead, so logs stay readable.
 */
export function progressBar(sink: TextSink = (globalThis as { process?: { stdout: TextSink } }).process?.stdout ?? { write: () => undefined }): Callback {
  const tty = sink.isTTY === true;
  let lastDraw = 0;
  return {
    onBatchEnd(p) {
      if (!tty) return;
      const now = Date.now();
      if (now - lastDraw < 100 && p.step !== p.stepsPerEpoch) return;
      lastDraw = now;
      const width = 24;
      const frac = p.stepsPerEpoch ? Math.min(p.step / p.stepsPerEpoch, 1) : 0;
      const bar = p.stepsPerEpoch ? `[${'='.repeat(Math.round(frac * width)).padEnd(width)}] ${p.step}/${p.stepsPerEpoch}` : `${p.step}`;
      const eta = p.etaSeconds !== undefined ? ` ETA ${formatSeconds(p.etaSeconds)}` : '';
      sink.write(`\r\x1b[2Kepoch ${p.epoch + 1}/${p.epochs} ${bar}  ${formatLogs(p.logs)}  ${p.stepsPerSecond.toFixed(2)} step/s${eta}`);
    },
    onEpochEnd(r, controller) {
      void controller;
      const val = Object.keys(r.val).length > 0 ? `  |  val ${formatLogs(r.val)}` : '';
      sink.write(`${tty ? '\r\x1b[2K' : ''}epoch ${r.epoch + 1}: ${formatLogs(r.train)}${val}  (${r.seconds.toFixed(1)} s)\n`);
    },
  };
}

/** Calls `fn` with the run's progress after every step (for UIs outside a terminal). */
export function progressCallback(fn: (progress: Progress) => void): Callback {
  return { onBatchEnd: (p) => fn(p) };
}

function appendLine(path: string, line: string): Promise<void> {
  return importNode<typeof import('node:fs/promises')>('fs/promises').then((fs) => fs.appendFile(path, line));
}

/**
 * Appends a progress line to a text file every `everySteps` steps or `everySeconds` seconds,
 * whichever comes first, and one per epoch: `tail -f` it to watch a long epoch. Step numbers are
 * the run's (`global`, continues across a resume) and the model's (`model`, continues across `fit`
 * calls). Node only.
 */
export function progressLog(options: ProgressLogOptions): Callback {
  if (options === null || typeof options !== 'object' || typeof options.path !== 'string' || options.path.length === 0) {
    throw new ValueError(`progressLog needs { path, everySteps?, everySeconds? } with a non-empty path, but got ${JSON.stringify(options)}.`);
  }
  const everySteps = positiveInt(options.everySteps ?? 50, 'progressLog everySteps');
  const everySeconds = positiveNumber(options.everySeconds ?? 60, 'progressLog everySeconds');
  let last = Date.now();
  let writes: Promise<void> = Promise.resolve();
  const write = (line: string): Promise<void> => {
    writes = writes.then(() => appendLine(options.path, line));
    return writes;
  };
  return {
    async onBatchEnd(p) {
      const now = Date.now();
      if (p.step % everySteps !== 0 && now - last < everySeconds * 1000) return;
      last = now;
      const of = p.stepsPerEpoch !== undefined ? `/${p.stepsPerEpoch}` : '';
      const eta = p.etaSeconds !== undefined ? `  ETA ${formatSeconds(p.etaSeconds)}` : '';
      await write(`${new Date(now).toISOString()} epoch ${p.epoch + 1}/${p.epochs} step ${p.step}${of} global ${p.globalStep} model ${p.modelStep}  ${formatLogs(p.logs)}  ${p.stepsPerSecond.toFixed(2)} step/s${eta}\n`);
    },
    async onEpochEnd(r) {
      last = Date.now();
      const val = Object.keys(r.val).length > 0 ? `  |  val ${formatLogs(r.val)}` : '';
      await write(`${new Date(last).toISOString()} epoch ${r.epoch + 1} done: ${formatLogs(r.train)}${val}  (${r.seconds.toFixed(1)} s)\n`);
    },
  };
}
