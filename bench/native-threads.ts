// How many OpenBLAS threads the native kernels should use: the U-Net step of bench/unet-step.ts
// (batch 16, 1×64×64, MSE + Adam) on medvae-native with 1 and with 2 threads, on medvae's pure-wasm
// kernels, and PyTorch 1.13 with 1 thread (NCHW) and 2 threads (channels-last) when /usr/bin/python3
// has torch; all interleaved step by step in one process (the thread count is switched per step), so
// the 1-vs-2 comparison is paired. OPENBLAS_CORETYPE is read when the addon loads: run once as is
// and once with `env -u OPENBLAS_CORETYPE` to compare kernel sets.
// Run: npx tsx bench/native-threads.ts [--rounds N]
import * as tf from '@tensorflow/tfjs-core';
import { setNativeThreads, useBackend } from '../src/index.js';
import { loadNativeAddon } from '../src/backend/native/loader.js';
import { installNativeKernels, uninstallNativeKernels } from '../src/backend/native/native-kernels.js';
import { fmtMs, interleave, kernelsLine, loadAverage, machineLine, median, printTable, type Contender } from './common.js';
import { TorchWorker, torchUnavailable } from './torch-worker.js';
import { makeBatch, makeMedvaeUNet, medvaeStep } from './unet-contenders.js';

const i = process.argv.indexOf('--rounds');
const ROUNDS = i >= 0 ? Number(process.argv[i + 1]) : 20;

async function main(): Promise<void> {
  await useBackend('wasm');
  const native = await loadNativeAddon();
  if (!native.ok) {
    console.log(`medvae-native is not available, nothing to compare: ${native.reason}`);
    return;
  }
  console.log(`U-Net training step (batch 16, 1×64×64), native kernels with 1 and 2 OpenBLAS threads; ${machineLine()}`);
  console.log(kernelsLine().replace(/, \d+ threads;/, ';'));
  const loadStart = loadAverage();
  const batch = makeBatch(16, 64);
  const sets = ['native 1 thr', 'native 2 thr', 'pure wasm'];
  // One network per setup, same seed and weights.
  const nets = sets.map(() => makeMedvaeUNet());
  const steps = nets.map((n) => medvaeStep(n, batch));
  const use = (s: string): void => {
    if (s === 'pure wasm') uninstallNativeKernels('pure-wasm contender');
    else {
      installNativeKernels(native.addon, native.addonPath);
      setNativeThreads(s === 'native 1 thr' ? 1 : 2);
    }
  };
  const contenders: Contender[] = sets.map((s, k) => ({
    name: `medvae ${s}`,
    step: async () => {
      use(s);
      await steps[k].step();
    },
  }));
  const noTorch = torchUnavailable();
  const torch = noTorch === null ? new TorchWorker() : null;
  if (torch) {
    await torch.setup(16, 64);
    contenders.push({ name: 'PyTorch 1 thr NCHW', step: async () => (await torch.step('nchw', 1)).ms });
    contenders.push({ name: 'PyTorch 2 thr channels-last', step: async () => (await torch.step('channels_last', 2)).ms });
  }
  // The two native setups swap places every round, so that neither always runs first after the others.
  const order = (r: number): Contender[] => (r % 2 === 0 ? contenders : [contenders[1], contenders[0], ...contenders.slice(2)]);
  const times = await interleave(contenders, { rounds: ROUNDS, warmup: 2, order });
  torch?.close();
  // Paired: the median over rounds of this contender's step over the reference's step of the same round.
  const paired = (a: string, b: string): string => (times.has(b) ? median(times.get(a)!.map((t, r) => t / times.get(b)![r])).toFixed(2) : '–');
  console.log(`load average at start ${loadStart}, at end ${loadAverage()}; ${ROUNDS} rounds interleaved after 2 warm-up steps each${torch ? '' : `; PyTorch skipped: ${noTorch}`}`);
  printTable(
    ['contender', 'median ms/step', 'min', 'max', 'this / PyTorch 1 thr (paired)', 'this / medvae native 1 thr (paired)'],
    [...times].map(([n, t]) => [n, fmtMs(median(t)), fmtMs(Math.min(...t)), fmtMs(Math.max(...t)), paired(n, 'PyTorch 1 thr NCHW'), paired(n, 'medvae native 1 thr')]),
  );
  for (const s of steps) s.dispose();
  for (const n of nets) n.dispose();
  tf.dispose([batch.x, batch.y]);
}

await main();
