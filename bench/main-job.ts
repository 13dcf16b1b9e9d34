// The job users actually run: the main example's model (examples/segment-brain.ts — UNetSegmenter,
// channels 16/32/64/128, BatchNorm, the default diceCE loss, Adam) trained through its real `fit`,
// batch 16 of 1×128×128, against the same network, loss and Adam in PyTorch 1.13 (bench/main_job.py)
// with 1 and 2 threads. Contenders: medvae on wasm + medvae-native (OpenBLAS), medvae on pure wasm
// (native kernels switched off in the same process, as `useBackend('wasm', { native: false })` does),
// PyTorch 1 thread, PyTorch 2 threads; all interleaved round by round in one run, so that the load of a
// shared machine hits them alike. Each medvae round is one `fit` over a fixed number of batches; its
// step times are the gaps between consecutive `onBatchEnd` calls (logEvery 1, so every step is read
// as it ends; the first step of each fit, which carries fit's setup, is left out).
// Run: npm run bench:main-job -- [--rounds N] [--quick] [--unfused-bn]
//   --quick: tiny network and images, 1 round; --unfused-bn: also both medvae contenders with BatchNorm
//   trained through the composition the fused op replaced (before/after, interleaved).
import * as tf from '@tensorflow/tfjs-core';
import { ArrayDataset, Generator, UNetSegmenter, imageArray, setNativeThreads, useBackend, type Sample } from '../src/index.js';
import { loadNativeAddon } from '../src/backend/native/loader.js';
import { installNativeKernels, uninstallNativeKernels } from '../src/backend/native/native-kernels.js';
import { argv, flag, fmtMs, kernelsLine, loadAverage, machineLine, median, printTable } from './common.js';
import { MainJobTorch, torchUnavailable } from './main-job-torch.js';
import { useUnfusedBatchNorm } from './unfused-batchnorm.js';

const QUICK = argv.includes('--quick');
/** Also run both medvae contenders with BatchNorm's unfused composition (before/after the fusion). */
const UNFUSED_BN = argv.includes('--unfused-bn');
const ROUNDS = Number(flag('--rounds') ?? (QUICK ? 1 : 4));
const SIZE = QUICK ? 32 : 128;
const BATCH = QUICK ? 4 : 16;
const CHANNELS = QUICK ? [4, 8] : [16, 32, 64, 128];
/** Batches per fit call: the first is left out of the step times, the others are timed. */
const STEPS_PER_FIT = QUICK ? 2 : 4;
const CLASSES = 2;

/** Random images with a blob-free 0/1 mask (timing only: the values do not matter). */
function samples(n: number, seed: number): Sample[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, () => {
    const img = Float32Array.from({ length: SIZE * SIZE }, () => g.random());
    const mask = Float32Array.from(img, (v) => (v < 0.4 ? 1 : 0));
    return { image: imageArray(img, [SIZE, SIZE]), mask: imageArray(mask, [SIZE, SIZE]) };
  });
}

/** One medvae contender: a model and the ms of every timed step so far. */
interface MedvaeRun {
  name: string;
  model: UNetSegmenter;
  setup: () => void;
  /** Train BatchNorm through the unfused composition (bench/unfused-batchnorm.ts). */
  unfusedBN: boolean;
  times: number[];
}

async function fitRound(run: MedvaeRun, data: ArrayDataset<Sample>): Promise<void> {
  run.setup();
  useUnfusedBatchNorm(run.unfusedBN);
  const stamps: number[] = [];
  await run.model.fit(data, {
    epochs: 1,
    batchSize: BATCH,
    lr: 1e-3,
    seed: 0,
    onProgress: 'none',
    logEvery: 1,
    callbacks: [{ onBatchEnd: () => void stamps.push(performance.now()) }],
  });
  useUnfusedBatchNorm(false);
  for (let k = 1; k < stamps.length; k++) run.times.push(stamps[k] - stamps[k - 1]);
}

async function main(): Promise<void> {
  await useBackend('wasm');
  const native = await loadNativeAddon();
  console.log(`Main job: UNetSegmenter [${CHANNELS.join(', ')}] with BatchNorm, diceCE (softmax, one-hot), Adam, through fit; batch ${BATCH} of 1×${SIZE}×${SIZE}${QUICK ? ' (--quick)' : ''}`);
  console.log(machineLine());
  const loadStart = loadAverage();
  const data = new ArrayDataset(samples(BATCH * STEPS_PER_FIT, 1));
  const makeModel = (): UNetSegmenter => new UNetSegmenter({ inChannels: 1, numClasses: CLASSES, channels: CHANNELS, norm: 'batch', seed: 0 });
  const runs: MedvaeRun[] = [];
  const useNative = (): void => {
    if (!native.ok) return;
    installNativeKernels(native.addon, native.addonPath);
    setNativeThreads(2);
  };
  const usePureWasm = (): void => uninstallNativeKernels('pure-wasm contender of bench/main-job.ts');
  for (const unfusedBN of UNFUSED_BN ? [false, true] : [false]) {
    const tag = unfusedBN ? ', unfused BN' : '';
    if (native.ok) runs.push({ name: `medvae wasm + native (2 OpenBLAS threads)${tag}`, model: makeModel(), setup: useNative, unfusedBN, times: [] });
    runs.push({ name: `medvae pure wasm${tag}`, model: makeModel(), setup: usePureWasm, unfusedBN, times: [] });
  }
  if (!native.ok) console.log(`medvae-native not available, only pure wasm: ${native.reason}`);
  const params = runs[0].model.numParameters();

  const noTorch = torchUnavailable();
  const torch = noTorch === null ? new MainJobTorch() : null;
  const torchTimes = new Map<number, number[]>([[1, []], [2, []]]);
  if (torch) {
    const info = await torch.setup(BATCH, SIZE, CHANNELS, CLASSES);
    console.log(`PyTorch ${info.torch}, ${info.params} parameters (medvae: ${params})`);
  } else {
    console.log(`PyTorch skipped: ${noTorch}`);
  }
  const torchRound = async (): Promise<void> => {
    if (!torch) return;
    for (const threads of [1, 2]) for (let s = 0; s < STEPS_PER_FIT - 1; s++) torchTimes.get(threads)!.push((await torch.step(threads)).ms);
  };

  // Warm-up: one fit of each medvae contender, a few PyTorch steps; nothing recorded.
  for (const r of runs) {
    await fitRound(r, data);
    r.times.length = 0;
  }
  await torchRound();
  for (const t of torchTimes.values()) t.length = 0;

  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order of the medvae contenders so that neither always runs right after PyTorch.
    const order = round % 2 === 0 ? runs : [...runs].reverse();
    for (const r of order) await fitRound(r, data);
    await torchRound();
    console.log(`round ${round + 1}/${ROUNDS} done, load ${loadAverage()}`);
  }
  // Leave the native kernels as they were found (installed when the addon loads).
  if (native.ok) installNativeKernels(native.addon, native.addonPath);
  console.log(kernelsLine());
  torch?.close();

  const rows: Array<[string, number[]]> = runs.map((r) => [r.name, r.times]);
  if (torch) for (const [threads, t] of torchTimes) rows.push([`PyTorch ${threads} thread${threads > 1 ? 's' : ''}`, t]);
  const torch1 = torch ? median(torchTimes.get(1)!) : NaN;
  const torch2 = torch ? median(torchTimes.get(2)!) : NaN;
  const ratio = (ms: number, ref: number): string => (Number.isFinite(ref) ? `${(ms / ref).toFixed(2)}×` : '–');
  console.log(`load average at start ${loadStart}, at end ${loadAverage()}; ${ROUNDS} rounds, ${STEPS_PER_FIT - 1} timed steps per contender per round`);
  printTable(
    ['contender', 'median ms/step', 'min', 'steps/s', 'steps timed', 'this / PyTorch 1 thr', 'this / PyTorch 2 thr'],
    rows.map(([n, t]) => {
      const m = median(t);
      return [n, fmtMs(m), fmtMs(Math.min(...t)), (1000 / m).toFixed(2), String(t.length), ratio(m, torch1), ratio(m, torch2)];
    }),
  );
  for (const r of runs) r.model.dispose();
  console.log(`tensors left: ${tf.memory().numTensors}`);
}

await main();
