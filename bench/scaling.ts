// U-Net training step time (medvae UNet + Adam on wasm, the network of bench/unet-step.ts) against
// batch size (1, 4, 16) and image size (64, 128, 256), with PyTorch 1.13 on 1 thread (NCHW)
// interleaved step by step as a reference when /usr/bin/python3 has torch.
// Writes docs/benchmarks/scaling.svg (lineChartSvg) and prints a table.
// Run: npx tsx bench/scaling.ts [--rounds N] [--rounds256 N] [--native false] [--native-threads N] [--svg PATH]
//   --native false: medvae on its pure-wasm kernels instead of the medvae-native addon (when it loads);
//   the chart is then written only where --svg says, so docs/benchmarks/scaling.svg keeps the default setup.
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineChartSvg, nativeKernelsStatus, setNativeThreads, useBackend, type Series } from '../src/index.js';
import { fmtMs, interleave, kernelsLine, loadAverage, machineLine, median, printTable, type Contender } from './common.js';
import { TorchWorker, torchUnavailable } from './torch-worker.js';
import { makeBatch, makeMedvaeUNet, medvaeStep } from './unet-contenders.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const BATCHES = [1, 4, 16];
const SIZES = [64, 128, 256];
const ROUNDS = arg('rounds', 7);
/** 256×256 steps are 16× the work of 64×64 ones, so they get fewer repeats. */
const ROUNDS_256 = arg('rounds256', 3);
/** `--native false` runs medvae on its pure-wasm kernels; default: the native kernels when the addon loads. */
const NATIVE = process.argv.indexOf('--native') >= 0 && process.argv[process.argv.indexOf('--native') + 1] === 'false' ? false : 'auto';
/**
 * tfjs-backend-wasm's heap cannot grow past 4 GiB (wasm32; its getHeapMax is 4294901760), and a
 * failed allocation aborts the wasm instance for good, so a cell whose predicted peak (the same
 * image size at a quarter of the batch, ×4) exceeds this is skipped rather than tried.
 */
const WASM_HEAP_BUDGET = 3.5 * 1024 ** 3;
const NATIVE_THREADS = arg('native-threads', 0);
const SVG = (() => {
  const i = process.argv.indexOf('--svg');
  if (i >= 0) return process.argv[i + 1];
  return NATIVE === false ? null : fileURLToPath(new URL('../docs/benchmarks/scaling.svg', import.meta.url));
})();

interface Cell {
  batch: number;
  size: number;
  medvae: number | null;
  medvaeMin: number | null;
  torch: number | null;
  torchMin: number | null;
  /** Peak tensor bytes of one medvae step (tf.profile peakBytes). */
  peak: number | null;
  rounds: number;
  note?: string;
}

async function main(): Promise<void> {
  const started = performance.now();
  await useBackend('wasm', { native: NATIVE });
  if (NATIVE_THREADS > 0 && nativeKernelsStatus().active) setNativeThreads(NATIVE_THREADS);
  const kernels = kernelsLine();
  const loadStart = loadAverage();
  const noTorch = torchUnavailable();
  const torch = noTorch === null ? new TorchWorker() : null;
  const net = makeMedvaeUNet();
  const cells: Cell[] = [];
  for (const size of SIZES) {
    for (const batch of BATCHES) {
      const rounds = size >= 256 ? ROUNDS_256 : ROUNDS;
      const smaller = cells.find((c) => c.size === size && c.batch * 4 === batch);
      if (smaller?.peak != null && smaller.peak * 4 > WASM_HEAP_BUDGET) {
        const note = `skipped: needs ~${((smaller.peak * 4) / 1024 ** 3).toFixed(1)} GiB of tensors (4 × batch ${smaller.batch}'s peak), over the 4 GiB wasm heap`;
        cells.push({ batch, size, rounds: 0, medvae: null, medvaeMin: null, torch: null, torchMin: null, peak: null, note });
        continue;
      }
      const data = makeBatch(batch, size);
      const medvae = medvaeStep(net, data);
      const contenders: Contender[] = [{ name: 'medvae', step: async () => void (await medvae.step()) }];
      if (torch) {
        await torch.setup(batch, size);
        contenders.push({ name: 'torch', step: async () => (await torch.step('nchw', 1)).ms });
      }
      process.stderr.write(`batch ${batch}, ${size}×${size}: ${rounds} rounds (load ${loadAverage()})\n`);
      try {
        const times = await interleave(contenders, { rounds, warmup: 1 });
        const peak = (await tf.profile(async () => { await medvae.step(); return []; })).peakBytes;
        const tt = torch ? times.get('torch')! : null;
        cells.push({
          batch, size, rounds, peak,
          medvae: median(times.get('medvae')!), medvaeMin: Math.min(...times.get('medvae')!),
          torch: tt ? median(tt) : null, torchMin: tt ? Math.min(...tt) : null,
        });
      } catch (err) {
        cells.push({ batch, size, rounds, medvae: null, medvaeMin: null, torch: null, torchMin: null, peak: null, note: (err as Error).message.split('\n')[0] });
      } finally {
        medvae.dispose();
        tf.dispose([data.x, data.y]);
      }
    }
  }
  torch?.close();
  net.dispose();

  console.log(`U-Net training step vs batch and image size: medvae UNet (16/32/64/128, norm none) + Adam, MSE, on wasm${nativeKernelsStatus().active ? ' + medvae-native' : ' (1 thread)'}${torch ? ', PyTorch 1.13 1 thread NCHW interleaved' : ''}`);
  console.log(machineLine());
  console.log(kernels);
  console.log(`load average at start ${loadStart}; medians (and minima) of ${ROUNDS} steps (${ROUNDS_256} at 256×256) after 1 warm-up step${torch ? '' : `; PyTorch skipped: ${noTorch}`}`);
  console.log('peak tensors: tf.profile peakBytes of one more medvae step (weights, Adam moments, batch and saved activations; not the scratch inside medvae kernels)');
  printTable(
    ['batch', 'size', 'medvae ms/step (min)', 'ms/image', 'peak tensors', 'PyTorch ms/step (min)', 'medvae/PyTorch medians (mins)', 'note'],
    cells.map((c) => [
      String(c.batch), `${c.size}×${c.size}`,
      c.medvae === null ? '–' : `${fmtMs(c.medvae)} (${fmtMs(c.medvaeMin as number)})`,
      c.medvae === null ? '–' : fmtMs(c.medvae / c.batch),
      c.peak === null ? '–' : `${(c.peak / 1024 ** 2).toFixed(0)} MiB`,
      c.torch === null ? '–' : `${fmtMs(c.torch)} (${fmtMs(c.torchMin as number)})`,
      c.medvae === null || c.torch === null ? '–' : `${(c.medvae / c.torch).toFixed(2)} (${((c.medvaeMin as number) / (c.torchMin as number)).toFixed(2)})`,
      c.note ?? '',
    ]),
    2,
  );

  const series: Series[] = [];
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c'];
  SIZES.forEach((size, i) => {
    const row = cells.filter((c) => c.size === size && c.medvae !== null);
    series.push({ name: `medvae ${size}×${size}`, x: row.map((c) => c.batch), y: row.map((c) => c.medvae as number), color: colors[i] });
    const trow = cells.filter((c) => c.size === size && c.torch !== null);
    if (trow.length) series.push({ name: `PyTorch 1 thr ${size}×${size}`, x: trow.map((c) => c.batch), y: trow.map((c) => c.torch as number), color: `${colors[i]}88` });
  });
  if (SVG !== null) {
    mkdirSync(dirname(SVG), { recursive: true });
    const medvaeName = nativeKernelsStatus().active ? 'medvae wasm + native' : 'medvae wasm';
    writeFileSync(SVG, lineChartSvg(series, {
      title: `U-Net training step (16/32/64/128, MSE + Adam): ${medvaeName} vs PyTorch CPU`,
      xLabel: 'batch size',
      yLabel: 'ms per step (log)',
      logY: true,
      width: 720,
      height: 440,
    }));
    console.log(`wrote ${SVG}`);
  }
  console.log(`Total time ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end ${loadAverage()}.`);
}

await main();
