// U-Net training step (batch 16, 1×64×64, channels 16/32/64/128, MSE + Adam) four ways:
//   (a) medvae UNet + medvae Adam on wasm, (b) the same network in raw tfjs-core ops + tf.train.adam
//   on wasm, (c) the same network in @tensorflow/tfjs-layers on wasm, (d) PyTorch 1.13 on the CPU
//   (bench/unet_step.py through /usr/bin/python3; skipped when torch is missing).
// All contenders alternate step by step in one run, so load on a shared machine slows them alike.
// Then a tf.profile breakdown of the tfjs steps by kernel.
// Run: npx tsx bench/unet-step.ts [--rounds N] [--batch B] [--size S] [--profile N] [--only medvae,raw,layers,torch]
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { useBackend } from '../src/index.js';
import { fmtMs, interleave, KernelBreakdown, loadAverage, machineLine, median, printTable, type Contender } from './common.js';
import { TorchWorker, torchUnavailable } from './torch-worker.js';
import { layersStep, makeBatch, makeMedvaeUNet, medvaeStep, rawStep, type StepSetup } from './unet-contenders.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROUNDS = arg('rounds', 10);
const BATCH = arg('batch', 16);
const SIZE = arg('size', 64);
const PROFILE_REPEATS = arg('profile', 3);
/** Which contenders run: `--only medvae,raw,layers,torch` (default all). */
const ONLY = (() => {
  const i = process.argv.indexOf('--only');
  return new Set(i >= 0 ? process.argv[i + 1].split(',') : ['medvae', 'raw', 'layers', 'torch']);
})();
/** Targets of issue 7 (ratios of medians, medvae over the other). */
const TARGETS = { raw: 1.05, layers: 1.0, pytorch: 3 };

async function main(): Promise<void> {
  const started = performance.now();
  await useBackend('wasm');
  const loadStart = loadAverage();
  const batch = makeBatch(BATCH, SIZE);
  const net = makeMedvaeUNet();
  const params = net.trainableParameters().reduce((s, p) => s + p.size, 0);
  const setups: Record<string, StepSetup> = { medvae: medvaeStep(net, batch) };
  if (ONLY.has('raw')) setups['raw tfjs-core'] = rawStep(net, batch);
  if (ONLY.has('layers')) setups['tfjs-layers'] = layersStep(net, batch);
  const firstLoss = new Map<string, number>();
  const contenders: Contender[] = Object.entries(setups).map(([name, s]) => ({
    name,
    step: async () => {
      const loss = await s.step();
      if (!firstLoss.has(name)) firstLoss.set(name, loss);
    },
  }));

  const noTorch = ONLY.has('torch') ? torchUnavailable() : null;
  let torch: TorchWorker | null = null;
  let torchVersion = '';
  if (ONLY.has('torch') && noTorch === null) {
    torch = new TorchWorker();
    const info = await torch.setup(BATCH, SIZE);
    torchVersion = info.torch;
    if (info.params !== params) throw new Error(`PyTorch U-Net has ${info.params} parameters, medvae's ${params}.`);
    const t = torch;
    contenders.push(
      { name: 'PyTorch 2 thr NCHW', step: async () => (await t.step('nchw', 2)).ms },
      { name: 'PyTorch 2 thr channels-last', step: async () => (await t.step('channels_last', 2)).ms },
      { name: 'PyTorch 1 thr NCHW', step: async () => (await t.step('nchw', 1)).ms },
    );
  }

  let tensorsAfterFirst = 0;
  const times = await interleave(contenders, {
    rounds: ROUNDS,
    warmup: 2,
    onRound: (r) => {
      if (r === 0) tensorsAfterFirst = tf.memory().numTensors;
      process.stderr.write(`\rround ${r + 1}/${ROUNDS} (load ${loadAverage()})   `);
    },
  });
  process.stderr.write('\n');
  torch?.close();
  const med = new Map([...times].map(([name, t]) => [name, median(t)]));

  console.log(`U-Net training step: batch ${BATCH}, 1×${SIZE}×${SIZE}, channels 16/32/64/128, ${params.toLocaleString('en')} parameters, MSE + Adam`);
  console.log(machineLine().replace(/, load average.*/, `, wasm threads ${getThreadsCount()}${torch ? `, PyTorch ${torchVersion}` : ''}`));
  console.log(`load average at start ${loadStart}, at end ${loadAverage()}; ${ROUNDS} rounds, contenders interleaved step by step after 2 warm-up steps each`);
  console.log(`first-step losses (same weights and batch): ${[...firstLoss].map(([n, l]) => `${n} ${l.toFixed(6)}`).join(', ')}`);
  const m = med.get('medvae')!;
  // Paired ratio: medvae's step over the contender's step of the same round (adjacent in time), so
  // slow drifts of the machine's load cancel; its median is steadier than the ratio of medians.
  const mt = times.get('medvae')!;
  const paired = (name: string): number => median(times.get(name)!.map((t, r) => mt[r] / t));
  printTable(
    ['contender', 'median ms/step', 'min', 'max', 'medvae / this (medians)', 'medvae / this (paired by round)'],
    [...times].map(([name, t]) => [name, fmtMs(med.get(name)!), fmtMs(Math.min(...t)), fmtMs(Math.max(...t)), (m / med.get(name)!).toFixed(2), paired(name).toFixed(2)]),
  );
  const torchBest = torch ? Math.min(...['PyTorch 2 thr NCHW', 'PyTorch 2 thr channels-last', 'PyTorch 1 thr NCHW'].map((n) => med.get(n)!)) : NaN;
  const verdict = (ratio: number, target: number): string => `${ratio.toFixed(2)} (target ≤ ${target}: ${ratio <= target ? 'met' : 'not met'})`;
  const has = (name: string): boolean => times.has(name);
  console.log([
    has('raw tfjs-core') ? `medvae/raw ${verdict(m / med.get('raw tfjs-core')!, TARGETS.raw)}` : null,
    has('tfjs-layers') ? `medvae/layers ${verdict(m / med.get('tfjs-layers')!, TARGETS.layers)}` : null,
    torch ? `medvae/PyTorch (fastest PyTorch setup, medians) ${verdict(m / torchBest, TARGETS.pytorch)}` : `PyTorch skipped: ${noTorch ?? 'not selected'}`,
  ].filter((x) => x !== null).join('; '));
  console.log(`live tensors: ${tensorsAfterFirst} after the first timed round, ${tf.memory().numTensors} after the last`);

  // Kernel breakdown: tf.profile times every kernel the engine runs (wall time on wasm), so the
  // profiled step is slower than an unprofiled one; "outside kernels" is JS work (tape, tidy, ops' JS).
  // Profiled steps alternate between contenders too.
  const breakdowns = new Map(Object.keys(setups).map((n) => [n, new KernelBreakdown()]));
  for (let r = 0; r < PROFILE_REPEATS; r++) {
    for (const [name, s] of Object.entries(setups)) await breakdowns.get(name)!.add(() => s.step());
  }
  console.log(`\ntf.profile kernel time per step (ms), mean of ${PROFILE_REPEATS} profiled steps each (interleaved); sorted by medvae`);
  const names = [...breakdowns.keys()];
  const mv = breakdowns.get('medvae')!;
  const kernelsOf = new Map(names.map((n) => [n, breakdowns.get(n)!.kernels]));
  const allKernels = [...new Set(names.flatMap((n) => [...kernelsOf.get(n)!.keys()]))];
  const ms = (n: string, k: string): number => kernelsOf.get(n)!.get(k)?.ms ?? 0;
  const calls = (n: string, k: string): number => kernelsOf.get(n)!.get(k)?.calls ?? 0;
  allKernels.sort((a, b) => ms('medvae', b) - ms('medvae', a));
  const top = allKernels.slice(0, 16);
  const rest = allKernels.slice(16);
  const share = (v: number): string => `${((100 * v) / mv.kernelMs).toFixed(1)} %`;
  const cell = (n: string, k: string): string => (calls(n, k) ? `${fmtMs(ms(n, k))} (${calls(n, k)})` : '–');
  const rows = top.map((k) => [k, ...names.map((n) => cell(n, k)), share(ms('medvae', k))]);
  rows.push([`${rest.length} other kernels`, ...names.map((n) => fmtMs(rest.reduce((s, k) => s + ms(n, k), 0))), share(rest.reduce((s, k) => s + ms('medvae', k), 0))]);
  rows.push(['all kernels', ...names.map((n) => fmtMs(breakdowns.get(n)!.kernelMs)), '100 %']);
  rows.push(['kernel calls', ...names.map((n) => String(breakdowns.get(n)!.kernelCalls)), '']);
  rows.push(['profiled step (wall)', ...names.map((n) => fmtMs(breakdowns.get(n)!.wallMs)), '']);
  rows.push(['outside kernels', ...names.map((n) => fmtMs(breakdowns.get(n)!.wallMs - breakdowns.get(n)!.kernelMs)), '']);
  printTable(['kernel', ...names.map((n) => `${n} ms (calls)`), 'share of medvae'], rows);

  console.log('\nmedvae: the 14 most expensive kernel calls by input shapes (ms per step, calls per step)');
  const byCall = [...mv.calls].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14);
  printTable(['kernel and input shapes', 'ms', 'calls', 'share'], byCall.map(([k, e]) => [k, fmtMs(e.ms), String(e.calls), share(e.ms)]));
  for (const s of Object.values(setups)) s.dispose();
  tf.dispose([batch.x, batch.y]);
  net.dispose();
  console.log(`\nTotal time ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end ${loadAverage()}.`);
}

await main();
