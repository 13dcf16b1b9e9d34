// Helpers shared by the benchmarks in bench/: command-line options, machine description, medians,
// interleaved timing, markdown tables and tf.profile kernel breakdowns. Not part of the library.
import * as tf from '@tensorflow/tfjs-core';
import os from 'node:os';
import { nativeKernelsStatus } from '../src/index.js';

/** The benchmark's command-line arguments (after the script name). */
export const argv = process.argv.slice(2);

/** The value after option `name` on the command line (`--rounds 3` → `'3'`), or undefined. */
export function flag(name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Median of a non-empty list (upper median for even lengths). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The 1-, 5- and 15-minute load averages, formatted. */
export const loadAverage = (): string => os.loadavg().map((l) => l.toFixed(1)).join(' ');

/** One line naming the machine, Node, tfjs and the load, printed at the top of every benchmark. */
export function machineLine(): string {
  return `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical cores, Node ${process.version}, tfjs ${tf.version_core}, load average ${loadAverage()}`;
}

/**
 * One line saying which kernels the active backend runs: on wasm, whether the optional medvae-native
 * addon (OpenBLAS) serves the convolutions and matrix products, with its kernel set and threads,
 * or why not. Printed in every benchmark's header so that a table says what it measured.
 */
export function kernelsLine(): string {
  const backend = tf.getBackend();
  if (backend !== 'wasm') return `backend ${backend}`;
  const s = nativeKernelsStatus();
  if (!s.active) return `backend wasm, medvae's pure-wasm kernels (native kernels off: ${s.reason ?? 'unknown reason'})`;
  return `backend wasm + medvae-native (${s.kernels.join(', ')} on ${s.openblas ?? 'OpenBLAS'}, ${s.threads ?? '?'} threads; OPENBLAS_CORETYPE ${process.env.OPENBLAS_CORETYPE ?? 'unset'} in this process's environment)`;
}

/**
 * A contender in an interleaved benchmark: `step` does one unit of work and returns when it is
 * done. When it returns a number, that is taken as the step's own measured milliseconds (the
 * PyTorch worker measures inside Python, leaving out the pipe); otherwise the wall time counts.
 */
export interface Contender {
  name: string;
  step: () => number | void | Promise<number | void>;
}

/**
 * Times each contender's `step` `rounds` times, interleaved run by run (A, B, C, A, B, C, ...) so
 * that load changes on a shared machine slow them alike, after `warmup` untimed runs of each.
 * Returns milliseconds per run, by contender name. `budgetMs` stops the rounds early (at least
 * `minRounds` are kept). `order` may give each timed round its own order of the contenders (for
 * example rotated, so that no contender always runs first after another kind of work).
 */
export async function interleave(
  contenders: readonly Contender[],
  options: { rounds: number; warmup?: number; budgetMs?: number; minRounds?: number; onRound?: (round: number) => void; order?: (round: number) => readonly Contender[] },
): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let w = 0; w < (options.warmup ?? 1); w++) for (const c of contenders) await c.step();
  const start = performance.now();
  for (let r = 0; r < options.rounds; r++) {
    if (options.budgetMs !== undefined && r >= (options.minRounds ?? 1) && performance.now() - start > options.budgetMs) break;
    for (const c of options.order?.(r) ?? contenders) {
      const t0 = performance.now();
      const own = await c.step();
      times.get(c.name)!.push(typeof own === 'number' ? own : performance.now() - t0);
    }
    options.onRound?.(r);
  }
  return times;
}

/** Prints a markdown table; columns after the first `leftColumns` are right-aligned. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[], leftColumns = 1): void {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, j) => (j < leftColumns ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, j) => (j < leftColumns ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

/** Formats milliseconds with a precision that suits their size. */
export const fmtMs = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

/** Kernel time of profiled units of work, by tfjs kernel name (and by kernel name + input shapes). */
export class KernelBreakdown {
  /** Number of profiled repeats added. */
  repeats = 0;
  private wall = 0;
  /** Totals over all repeats, by kernel name. */
  private readonly byName = new Map<string, { ms: number; calls: number }>();
  /** Totals over all repeats, by kernel name and input shapes. */
  private readonly byCall = new Map<string, { ms: number; calls: number }>();

  /**
   * Runs `work` once under `tf.profile` and adds its kernels. On wasm a kernel's time is its wall
   * time; medvae's own kernels count as one kernel each (their nested wasm kernels run outside the
   * engine). Call it for several contenders in turn so that load affects them alike.
   */
  async add(work: () => unknown | Promise<unknown>): Promise<void> {
    const t0 = performance.now();
    const info = await tf.profile(async () => {
      await work();
      return [] as tf.Tensor[];
    });
    this.wall += performance.now() - t0;
    this.repeats += 1;
    for (const k of info.kernels) {
      // kernelTimeMs is an { error } object when the backend has no timer; wasm and cpu have one.
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      const shapes = k.inputShapes.map((s) => (s ? s.join('×') : '?')).join(', ');
      for (const [map, key] of [[this.byName, k.name], [this.byCall, `${k.name} ${shapes}`]] as const) {
        const e = map.get(key) ?? { ms: 0, calls: 0 };
        e.ms += ms;
        e.calls += 1;
        map.set(key, e);
      }
    }
  }

  private perRepeat(map: Map<string, { ms: number; calls: number }>): Map<string, { ms: number; calls: number }> {
    return new Map([...map].map(([k, e]) => [k, { ms: e.ms / this.repeats, calls: e.calls / this.repeats }]));
  }

  /** Milliseconds and calls per repeat, by kernel name. */
  get kernels(): Map<string, { ms: number; calls: number }> {
    return this.perRepeat(this.byName);
  }

  /** Milliseconds and calls per repeat, by kernel name and input shapes (e.g. `Conv2D 16×64×64×1, 3×3×1×16`). */
  get calls(): Map<string, { ms: number; calls: number }> {
    return this.perRepeat(this.byCall);
  }

  /** Wall time of the profiled work per repeat (ms). */
  get wallMs(): number {
    return this.wall / this.repeats;
  }

  /** Kernel milliseconds per repeat, all kernels. */
  get kernelMs(): number {
    return [...this.byName.values()].reduce((s, e) => s + e.ms, 0) / this.repeats;
  }

  /** Kernel calls per repeat. */
  get kernelCalls(): number {
    return [...this.byName.values()].reduce((s, e) => s + e.calls, 0) / this.repeats;
  }
}
