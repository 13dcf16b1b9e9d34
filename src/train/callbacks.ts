import type { EpochRecord, Logs, Progress } from './types.js';

/** Hooks into the training loop. Every method is optional; `stop()` on the controller ends training after the current epoch. */
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
  /** Ends training after the current epoch. */
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

/** Stops training when a monitored value stops improving. */
export function earlyStopping(options: EarlyStoppingOptions = {}): Callback {
  const monitor = options.monitor ?? 'val.loss';
  const mode = options.mode ?? 'min';
  const patience = options.patience ?? 5;
  const minDelta = options.minDelta ?? 0;
  const [section, key] = monitor.split('.', 2) as ['val' | 'train', string];
  let best = mode === 'min' ? Infinity : -Infinity;
  let wait = 0;
  return {
    onEpochEnd(record, controller) {
      const value = record[section]?.[key];
      if (value === undefined || Number.isNaN(value)) return;
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
