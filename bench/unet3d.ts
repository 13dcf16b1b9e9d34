// A 3-D U-Net training step against PyTorch 1.13 in one run: medvae's UNet with spatialDims 3
// (channels 8/16/32/64, BatchNorm, ReLU, 2×2×2 max-pooling, stride-2 transposed convolutions), MONAI's
// DiceCE loss and Adam on batch 2 of 1×64×64×64 (bench/unet3d-step.ts), and the same network, loss and
// Adam in PyTorch (bench/unet3d.py) with 1 and 2 threads. Contenders: medvae on wasm + medvae-native
// (OpenBLAS, 2 threads), medvae on pure wasm (native kernels switched off in the same process, as
// `useBackend('wasm', { native: false })` does), PyTorch 1 thread, PyTorch 2 threads; one warm-up step
// each, then one timed step of each per round, interleaved, so that the load of a shared machine hits
// them alike (the order of the contenders rotates from round to round).
// Run: npm run bench:unet3d -- [--rounds N] [--quick] [--size S] [--batch B]
//   --quick: tiny network and volumes, 1 round (what the test runs).
import * as tf from '@tensorflow/tfjs-core';
import { setNativeThreads, useBackend } from '../src/index.js';
import { loadNativeAddon } from '../src/backend/native/loader.js';
import { installNativeKernels, uninstallNativeKernels } from '../src/backend/native/native-kernels.js';
import { argv, flag, fmtMs, interleave, kernelsLine, loadAverage, machineLine, median, printTable, type Contender } from './common.js';
import { Unet3dTorch, torchUnavailable } from './unet3d-torch.js';
import { makeUnet3dStep, type Unet3dProblem, type Unet3dStep } from './unet3d-step.js';

const QUICK = argv.includes('--quick');
const ROUNDS = Number(flag('--rounds') ?? (QUICK ? 1 : 3));
const PROBLEM: Unet3dProblem = {
  batch: Number(flag('--batch') ?? (QUICK ? 1 : 2)),
  size: Number(flag('--size') ?? (QUICK ? 8 : 64)),
  channels: QUICK ? [2, 4] : [8, 16, 32, 64],
  classes: 2,
};
/** The target on the native path: medvae at most this many times PyTorch's step time. */
const TARGET = 2;

async function main(): Promise<void> {
  const started = performance.now();
  await useBackend('wasm');
  const native = await loadNativeAddon();
  const { batch, size, channels, classes } = PROBLEM;
  console.log(`3-D U-Net [${channels.join(', ')}] with BatchNorm, diceCE (softmax, one-hot), Adam; batch ${batch} of 1×${size}×${size}×${size}${QUICK ? ' (--quick)' : ''}`);
  console.log(machineLine());
  const loadStart = loadAverage();

  const contenders: Contender[] = [];
  const models: Unet3dStep[] = [];
  /** CPU milliseconds per step (all threads of the process), by contender, warm-up included: the load disturbs them far less than the wall times. */
  const cpu = new Map<string, number[]>();
  const medvae = (name: string, setup: () => void): void => {
    setup();
    const run = makeUnet3dStep(PROBLEM);
    models.push(run);
    contenders.push({
      name,
      step: () => {
        setup();
        const c0 = process.cpuUsage();
        run.step();
        const c = process.cpuUsage(c0);
        cpu.get(name)!.push((c.user + c.system) / 1000);
      },
    });
    cpu.set(name, []);
  };
  if (native.ok) {
    medvae('medvae wasm + native (2 OpenBLAS threads)', () => {
      installNativeKernels(native.addon, native.addonPath);
      setNativeThreads(2);
    });
  } else {
    console.log(`medvae-native not available, only pure wasm: ${native.reason}`);
  }
  medvae('medvae pure wasm', () => uninstallNativeKernels('pure-wasm contender of bench/unet3d.ts'));
  const params = models[0].params;

  const noTorch = torchUnavailable();
  const torch = noTorch === null ? new Unet3dTorch() : null;
  if (torch) {
    const info = await torch.setup(batch, size, channels, classes);
    console.log(`PyTorch ${info.torch}, ${info.params} parameters (medvae: ${params})`);
    for (const threads of [1, 2]) {
      const name = `PyTorch ${threads} thread${threads > 1 ? 's' : ''}`;
      cpu.set(name, []);
      contenders.push({
        name,
        step: async () => {
          const r = await torch.step(threads);
          cpu.get(name)!.push(r.cpuMs);
          return r.ms;
        },
      });
    }
  } else {
    console.log(`PyTorch skipped: ${noTorch}`);
  }

  const times = await interleave(contenders, {
    rounds: ROUNDS,
    warmup: 1,
    order: (r) => contenders.map((_, i) => contenders[(i + r) % contenders.length]),
    onRound: (r) => console.log(`round ${r + 1}/${ROUNDS} done, load ${loadAverage()}`),
  });
  // Leave the native kernels as they were found (installed when the addon loads).
  if (native.ok) installNativeKernels(native.addon, native.addonPath);
  console.log(kernelsLine());
  torch?.close();

  const torch1 = torch ? median(times.get('PyTorch 1 thread')!) : NaN;
  const torch2 = torch ? median(times.get('PyTorch 2 threads')!) : NaN;
  const ratio = (ms: number, ref: number): string => (Number.isFinite(ref) ? `${(ms / ref).toFixed(2)}×` : '–');
  console.log(`load average at start ${loadStart}, at end ${loadAverage()}; ${ROUNDS} rounds, 1 timed step per contender per round`);
  // CPU time per step, timed steps only (the first entry of each list is the warm-up).
  const cpuOf = (name: string): number => median(cpu.get(name)!.slice(1));
  const cpuTorch1 = torch ? cpuOf('PyTorch 1 thread') : NaN;
  printTable(
    ['contender', 'median ms/step', 'min', 'steps timed', 'this / PyTorch 1 thr', 'this / PyTorch 2 thr', 'CPU ms/step', 'CPU / PyTorch 1 thr'],
    contenders.map(({ name }) => {
      const t = times.get(name)!;
      const m = median(t);
      const c = cpuOf(name);
      return [name, fmtMs(m), fmtMs(Math.min(...t)), String(t.length), ratio(m, torch1), ratio(m, torch2), fmtMs(c), ratio(c, cpuTorch1)];
    }),
  );
  if (torch && native.ok) {
    const m = median(times.get(contenders[0].name)!);
    const worst = Math.max(m / torch1, m / torch2);
    console.log(`medvae wasm + native / PyTorch: ${(m / torch1).toFixed(2)}× (1 thread), ${(m / torch2).toFixed(2)}× (2 threads); target ≤ ${TARGET}×: ${worst <= TARGET ? 'met' : 'not met'}`);
    console.log(`CPU time per step, medvae wasm + native / PyTorch 1 thread: ${(cpuOf(contenders[0].name) / cpuTorch1).toFixed(2)}×; medvae pure wasm / PyTorch 1 thread: ${(cpuOf('medvae pure wasm') / cpuTorch1).toFixed(2)}×`);
  }
  for (const m of models) m.dispose();
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s; tensors left: ${tf.memory().numTensors}`);
}

await main();
