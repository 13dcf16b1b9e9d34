// Throughput of the kernels training depends on, on stock tfjs-backend-cpu and tfjs-backend-wasm and
// on both with medvae's kernels (src/backend/cpu/, src/backend/wasm/), and on wasm with the optional
// native kernels (medvae-native: OpenBLAS on the wasm heap) when they load. Run: npx tsx bench/backends.ts
// Prints GFLOP/s (median of a few runs after one warm-up) and the ratios between the setups.
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import os from 'node:os';
import {
  registerCpuTrainingKernels,
  registerWasmTrainingKernels,
  unregisterCpuTrainingKernels,
  unregisterWasmTrainingKernels,
  useBackend,
} from '../src/index.js';
import { loadNativeAddon } from '../src/backend/native/loader.js';
import { installNativeKernels, uninstallNativeKernels } from '../src/backend/native/native-kernels.js';

type Setup = 'cpu stock' | 'cpu+medvae' | 'wasm stock' | 'wasm+medvae' | 'wasm+native';

interface Shapes {
  conv: { n: number; hw: number; cin: number; cout: number; k: number };
  matmul: number;
  batched: { b: number; m: number };
  /** Input of a 2×2, stride-2 max pool (a U-Net's down-sampling). */
  pool: { n: number; hw: number; c: number };
}

// The pure-JS cpu backend is 50–3000× slower (its stock filter gradient runs ~0.005 GFLOP/s), so it
// gets smaller problems to keep the whole run near a minute; its rates are for those shapes.
const SHAPES: Record<'cpu' | 'wasm', Shapes> = {
  wasm: { conv: { n: 16, hw: 64, cin: 16, cout: 32, k: 3 }, matmul: 512, batched: { b: 16, m: 128 }, pool: { n: 16, hw: 64, c: 32 } },
  cpu: { conv: { n: 1, hw: 32, cin: 16, cout: 32, k: 3 }, matmul: 256, batched: { b: 4, m: 64 }, pool: { n: 4, hw: 32, c: 16 } },
};
const REPEATS = { cpu: 7, wasm: 9 };
/** Stop repeating a measurement once it has taken this long (at least one timed run is kept). */
const CELL_BUDGET_MS = 6000;

interface Row {
  op: string;
  shape: (s: Shapes) => string;
  flops: (s: Shapes) => number;
  /** Returns the function to time, and a disposer for its inputs. */
  setup: (s: Shapes) => { run: () => tf.Tensor; dispose: () => void };
}

const convFlops = ({ conv: c }: Shapes): number => 2 * c.n * c.hw * c.hw * c.k * c.k * c.cin * c.cout;
const convShape = ({ conv: c }: Shapes): string => `${c.n}×${c.hw}×${c.hw}×${c.cin}→${c.cout}, ${c.k}×${c.k}`;
const gen = { seed: 1 };
const rand = (shape: number[]): tf.Tensor => tf.randomUniform(shape, -1, 1, 'float32', gen.seed++);

function convInputs(s: Shapes): { x: tf.Tensor4D; w: tf.Tensor4D; dy: tf.Tensor4D } {
  const c = s.conv;
  return { x: rand([c.n, c.hw, c.hw, c.cin]) as tf.Tensor4D, w: rand([c.k, c.k, c.cin, c.cout]) as tf.Tensor4D, dy: rand([c.n, c.hw, c.hw, c.cout]) as tf.Tensor4D };
}

const convAttrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' };

const ROWS: Row[] = [
  {
    op: 'conv forward',
    shape: convShape,
    flops: convFlops,
    setup: (s) => {
      const { x, w, dy } = convInputs(s);
      return { run: () => tf.conv2d(x, w, 1, 'same'), dispose: () => tf.dispose([x, w, dy]) };
    },
  },
  {
    op: 'conv grad input',
    shape: convShape,
    flops: convFlops,
    setup: (s) => {
      const { x, w, dy } = convInputs(s);
      const attrs = { ...convAttrs, inputShape: x.shape } as unknown as tf.NamedAttrMap;
      return { run: () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w }, attrs) as tf.Tensor, dispose: () => tf.dispose([x, w, dy]) };
    },
  },
  {
    op: 'conv grad filter',
    shape: convShape,
    flops: convFlops,
    setup: (s) => {
      const { x, w, dy } = convInputs(s);
      const attrs = { ...convAttrs, filterShape: w.shape } as unknown as tf.NamedAttrMap;
      return { run: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor, dispose: () => tf.dispose([x, w, dy]) };
    },
  },
  {
    op: 'conv grad filter s2',
    shape: convShape,
    flops: (s) => convFlops(s) / 4,
    setup: (s) => {
      const { x, w } = convInputs(s);
      const c = s.conv;
      const dy = rand([c.n, c.hw / 2, c.hw / 2, c.cout]);
      const attrs = { ...convAttrs, strides: 2, filterShape: w.shape } as unknown as tf.NamedAttrMap;
      return { run: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor, dispose: () => tf.dispose([x, w, dy]) };
    },
  },
  {
    // Not FLOPs: the rate is input elements per second (G/s), one comparison each.
    op: 'max-pool grad (Gelem/s)',
    shape: ({ pool: p }) => `${p.n}×${p.hw}×${p.hw}×${p.c}, 2×2 s2`,
    flops: ({ pool: p }) => p.n * p.hw * p.hw * p.c,
    setup: ({ pool: p }) => {
      const x = rand([p.n, p.hw, p.hw, p.c]) as tf.Tensor4D;
      const y = tf.maxPool(x, 2, 2, 'valid');
      const dy = rand(y.shape);
      const attrs = { filterSize: 2, strides: 2, pad: 'valid' } as unknown as tf.NamedAttrMap;
      return { run: () => tf.engine().runKernel(tf.MaxPoolGrad, { dy, input: x, output: y }, attrs) as tf.Tensor, dispose: () => tf.dispose([x, y, dy]) };
    },
  },
  ...([[false, false], [false, true], [true, false], [true, true]] as const).map(([ta, tb]): Row => ({
    op: `matmul${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''}${!ta && !tb ? ' (plain)' : ''}`,
    shape: (s) => `${s.matmul}³`,
    flops: (s) => 2 * s.matmul ** 3,
    setup: (s) => {
      const a = rand([s.matmul, s.matmul]);
      const b = rand([s.matmul, s.matmul]);
      return { run: () => tf.matMul(a, b, ta, tb), dispose: () => tf.dispose([a, b]) };
    },
  })),
  {
    op: 'batched matmul',
    shape: (s) => `${s.batched.b}×${s.batched.m}³`,
    flops: (s) => 2 * s.batched.b * s.batched.m ** 3,
    setup: (s) => {
      const a = rand([s.batched.b, s.batched.m, s.batched.m]);
      const b = rand([s.batched.b, s.batched.m, s.batched.m]);
      return { run: () => tf.matMul(a, b), dispose: () => tf.dispose([a, b]) };
    },
  },
];

/** Runs `run` once and returns the milliseconds it took, or null when a kernel is missing. */
function timeOnce(run: () => tf.Tensor): number | null {
  const t0 = performance.now();
  let out: tf.Tensor;
  try {
    out = run();
  } catch (err) {
    if (/not registered|Cannot find registered kernel/.test((err as Error).message)) return null;
    throw err;
  }
  out.dataSync();
  const ms = performance.now() - t0;
  out.dispose();
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Median GFLOP/s of `row` under each setup in `setups` (all on the active backend, switched by
 * calling the setup). Runs alternate between setups, so a machine whose load changes during the
 * benchmark slows them alike. Null where a kernel is missing.
 */
function measure(row: Row, shapes: Shapes, repeats: number, setups: Array<() => void>): Array<number | null> {
  const { run, dispose } = row.setup(shapes);
  try {
    const times: Array<number[] | null> = setups.map((enter) => {
      enter();
      // Warm-up: the first run also packs XNNPACK weights and builds operator plans.
      return timeOnce(run) === null ? null : [];
    });
    const start = performance.now();
    for (let i = 0; i < repeats && performance.now() - start < CELL_BUDGET_MS; i++) {
      setups.forEach((enter, j) => {
        const list = times[j];
        if (list === null) return;
        enter();
        list.push(timeOnce(run) as number);
      });
    }
    return times.map((t) => (t === null ? null : row.flops(shapes) / (median(t) * 1e6)));
  } finally {
    dispose();
  }
}

const fmt = (v: number | null): string => (v === null ? 'missing' : v >= 10 ? v.toFixed(1) : v >= 0.1 ? v.toFixed(2) : v.toFixed(4));
const ratio = (a: number | null, b: number | null): string => (a === null || b === null ? '–' : `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}×`);

async function main(): Promise<void> {
  const started = performance.now();
  const results = new Map<Setup, Array<number | null>>();
  await useBackend('cpu');
  const cpu = ROWS.map((row) => measure(row, SHAPES.cpu, REPEATS.cpu, [registerCpuTrainingKernels, unregisterCpuTrainingKernels]));
  registerCpuTrainingKernels();
  results.set('cpu+medvae', cpu.map((r) => r[0]));
  results.set('cpu stock', cpu.map((r) => r[1]));
  await useBackend('wasm');
  const native = await loadNativeAddon();
  const pureWasm = (): void => {
    uninstallNativeKernels('benchmark setup without native kernels');
    registerWasmTrainingKernels();
  };
  const wasmSetups = [pureWasm, unregisterWasmTrainingKernels];
  if (native.ok) {
    wasmSetups.push(() => {
      registerWasmTrainingKernels();
      installNativeKernels(native.addon, native.addonPath);
    });
  }
  const wasm = ROWS.map((row) => measure(row, SHAPES.wasm, REPEATS.wasm, wasmSetups));
  pureWasm();
  if (native.ok) installNativeKernels(native.addon, native.addonPath);
  results.set('wasm+medvae', wasm.map((r) => r[0]));
  results.set('wasm stock', wasm.map((r) => r[1]));
  results.set('wasm+native', wasm.map((r) => (native.ok ? r[2] : null)));

  console.log(`medvae backend benchmark: GFLOP/s, median of up to ${REPEATS.wasm} runs (cpu: ${REPEATS.cpu}) after one warm-up; setups of one backend alternate run by run`);
  console.log(`${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical cores, Node ${process.version}, tfjs ${tf.version_core}, wasm threads ${getThreadsCount()}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  if (!native.ok) console.log(`wasm+native: not measured (${native.reason})`);
  const header = ['op', 'shape (wasm)', 'wasm+native', 'wasm+medvae', 'wasm stock', 'native/medvae', 'medvae/stock', 'shape (cpu)', 'cpu+medvae', 'cpu stock', 'medvae/stock '];
  const lines = ROWS.map((row, i) => {
    const n = results.get('wasm+native')![i];
    const m = results.get('wasm+medvae')![i];
    const s = results.get('wasm stock')![i];
    const cm = results.get('cpu+medvae')![i];
    const cs = results.get('cpu stock')![i];
    return [row.op, row.shape(SHAPES.wasm), native.ok ? fmt(n) : 'n/a', fmt(m), fmt(s), ratio(n, m), ratio(m, s), row.shape(SHAPES.cpu), fmt(cm), fmt(cs), ratio(cm, cs)];
  });
  const left = (j: number): boolean => j < 2 || j === 7;
  const widths = header.map((h, j) => Math.max(h.length, ...lines.map((l) => l[j].length)));
  const print = (cells: string[]): void => console.log(`| ${cells.map((c, j) => (left(j) ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join(' | ')} |`);
  print(header);
  console.log(`|${widths.map((w, j) => (left(j) ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  lines.forEach(print);
  console.log('cpu runs smaller problems (column "shape (cpu)"); compare wasm and cpu rates, not times.');
  console.log('"missing": stock tfjs-backend-wasm has no such kernel. max-pool grad rates are input elements per second, not FLOPs.');
  console.log(`Total time ${((performance.now() - started) / 1000).toFixed(0)} s.`);
}

await main();
