// U-Net training step (batch 16, 1×64×64, channels 16/32/64/128, MSE + Adam) four ways:
//   (a) medvae UNet + medvae Adam on wasm, (b) the same network in raw tfjs-core ops + tf.train.adam
//   on wasm, (c) the same network in @tensorflow/tfjs-layers on wasm, (d) PyTorch 1.13 on the CPU
//   (bench/unet_step.py through /usr/bin/python3; skipped when torch is missing).
// All contenders alternate step by step in one run, so load on a shared machine slows them alike.
// Then a tf.profile breakdown of the tfjs steps by kernel.
// With the medvae-native addon built, every tfjs contender also runs on the native kernels
// ("+ native": the same wasm backend, with Conv2D/grads/MatMul through OpenBLAS), switched per step,
// so that "medvae vs raw tfjs-core" is always measured on one kernel set.
// Run: npx tsx bench/unet-step.ts [--rounds N] [--batch B] [--size S] [--profile N] [--only medvae,raw,layers,torch]
//        [--kernels wasm,native] [--native-threads N]
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { nativeKernelsStatus, setNativeThreads, useBackend } from '../src/index.js';
import { loadNativeAddon } from '../src/backend/native/loader.js';
import { installNativeKernels, uninstallNativeKernels } from '../src/backend/native/native-kernels.js';
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
/** Kernel sets the tfjs contenders run on: `--kernels wasm,native` (default both; native only when the addon loads). */
const KERNEL_SETS = (() => {
  const i = process.argv.indexOf('--kernels');
  return new Set(i >= 0 ? process.argv[i + 1].split(',') : ['wasm', 'native']);
})();
const NATIVE_THREADS = arg('native-threads', 0);
/** Targets of issue 7 (ratios of medians, medvae over the other). */
const TARGETS = { raw: 1.05, layers: 1.0, pytorch: 3 };

async function main(): Promise<void> {
  const started = performance.now();
  await useBackend('wasm');
  const native = await loadNativeAddon();
  const kernelSets = [...KERNEL_SETS].filter((k) => k === 'wasm' || (k === 'native' && native.ok));
  if (KERNEL_SETS.has('native') && !native.ok) console.log(`native kernels skipped: ${native.reason}`);
  if (native.ok && NATIVE_THREADS > 0) setNativeThreads(NATIVE_THREADS);
  const nativeLine = native.ok ? `native: ${nativeKernelsStatus().openblas}, ${nativeKernelsStatus().threads} OpenBLAS threads` : '';
  // Kernel set of each contender, switched (a few registry calls) before its step.
  let current = '';
  const use = (set: string): void => {
    if (set === current) return;
    if (set === 'native' && native.ok) installNativeKernels(native.addon, native.addonPath);
    else uninstallNativeKernels('benchmark contender on the pure-wasm kernels');
    current = set;
  };
  const suffix = (set: string): string => (set === 'native' ? ' + native' : '');
  const loadStart = loadAverage();
  const batch = makeBatch(BATCH, SIZE);
  const net = makeMedvaeUNet();
  const params = net.trainableParameters().reduce((s, p) => s + p.size, 0);
  const setups: Record<string, StepSetup> = {};
  const setOf = new Map<string, string>();
  // One network per kernel set (same seed, same weights): medvae's contenders train their network in place.
  const nets = kernelSets.map((_, i) => (i === 0 ? net : makeMedvaeUNet()));
  for (const [i, set] of kernelSets.entries()) {
    const netI = nets[i];
    const add = (name: string, s: StepSetup): void => {
      setups[name + suffix(set)] = s;
      setOf.set(name + suffix(set), set);
    };
    add('medvae', medvaeStep(netI, batch));
    if (ONLY.has('raw')) add('raw tfjs-core', rawStep(netI, batch));
    if (ONLY.has('layers')) add('tfjs-layers', layersStep(netI, batch));
  }
  const firstLoss = new Map<string, number>();
  const contenders: Contender[] = Object.entries(setups).map(([name, s]) => ({
    name,
    step: async () => {
      use(setOf.get(name)!);
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

  // Within each kernel set the order rotates round by round: the first step after a kernel-set switch
  // (or after PyTorch's turn) finds colder caches and, with 2 OpenBLAS threads, sleeping OpenBLAS
  // threads; a fixed order charged that to medvae alone (it came first in its set).
  const groups = [...new Set([...setOf.values()])].map((set) => contenders.filter((c) => setOf.get(c.name) === set));
  const others = contenders.filter((c) => !setOf.has(c.name));
  const rotated = (r: number): Contender[] => [...groups.flatMap((g) => g.map((_, k) => g[(k + r) % g.length])), ...others];
  let tensorsAfterFirst = 0;
  const times = await interleave(contenders, {
    rounds: ROUNDS,
    warmup: 2,
    order: rotated,
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
  if (nativeLine) console.log(nativeLine);
  console.log(`load average at start ${loadStart}, at end ${loadAverage()}; ${ROUNDS} rounds, contenders interleaved step by step (order rotated within each kernel set every round) after 2 warm-up steps each`);
  console.log(`first-step losses (same weights and batch): ${[...firstLoss].map(([n, l]) => `${n} ${l.toFixed(6)}`).join(', ')}`);
  // The headline medvae: on native kernels when they run, else on medvae's wasm kernels.
  const head = times.has('medvae + native') ? 'medvae + native' : 'medvae';
  const m = med.get(head)!;
  // Paired ratio: medvae's step over the contender's step of the same round (adjacent in time), so
  // slow drifts of the machine's load cancel; its median is steadier than the ratio of medians.
  // tfjs contenders are compared with medvae on the same kernel set; PyTorch with each medvae.
  const pairedWith = (base: string, name: string): number => median(times.get(name)!.map((t, r) => times.get(base)![r] / t));
  const medvaes = ['medvae', 'medvae + native'].filter((n) => times.has(n));
  printTable(
    ['contender', 'median ms/step', 'min', 'max', ...medvaes.map((b) => `${b} / this (paired)`)],
    [...times].map(([name, t]) => [
      name, fmtMs(med.get(name)!), fmtMs(Math.min(...t)), fmtMs(Math.max(...t)),
      ...medvaes.map((b) => (setOf.has(name) && setOf.get(name) !== setOf.get(b) ? '' : pairedWith(b, name).toFixed(2))),
    ]),
  );
  const torchBest = torch ? Math.min(...['PyTorch 2 thr NCHW', 'PyTorch 2 thr channels-last', 'PyTorch 1 thr NCHW'].map((n) => med.get(n)!)) : NaN;
  const verdict = (ratio: number, target: number): string => `${ratio.toFixed(2)} (target ≤ ${target}: ${ratio <= target ? 'met' : 'not met'})`;
  const has = (name: string): boolean => times.has(name);
  const sx = suffix(setOf.get(head)!);
  console.log([
    has(`raw tfjs-core${sx}`) ? `${head}/raw${sx} ${verdict(m / med.get(`raw tfjs-core${sx}`)!, TARGETS.raw)}` : null,
    has(`tfjs-layers${sx}`) ? `${head}/layers${sx} ${verdict(m / med.get(`tfjs-layers${sx}`)!, TARGETS.layers)}` : null,
    torch ? `${head}/PyTorch (fastest PyTorch setup, medians) ${verdict(m / torchBest, TARGETS.pytorch)}` : `PyTorch skipped: ${noTorch ?? 'not selected'}`,
    head !== 'medvae' && torch && times.has('medvae') ? `medvae (pure wasm)/PyTorch ${(med.get('medvae')! / torchBest).toFixed(2)}` : null,
  ].filter((x) => x !== null).join('; '));
  console.log(`live tensors: ${tensorsAfterFirst} after the first timed round, ${tf.memory().numTensors} after the last`);

  // Kernel breakdown: tf.profile times every kernel the engine runs (wall time on wasm), so the
  // profiled step is slower than an unprofiled one; "outside kernels" is JS work (tape, tidy, ops' JS).
  // Profiled steps alternate between contenders too.
  const breakdowns = new Map(Object.keys(setups).map((n) => [n, new KernelBreakdown()]));
  for (let r = 0; r < PROFILE_REPEATS; r++) {
    for (const c of rotated(r)) {
      if (!setOf.has(c.name)) continue;
      use(setOf.get(c.name)!);
      await breakdowns.get(c.name)!.add(() => setups[c.name].step());
    }
  }
  console.log(`\ntf.profile kernel time per step (ms), mean of ${PROFILE_REPEATS} profiled steps each (interleaved); sorted by ${head}`);
  const names = [...breakdowns.keys()];
  const mv = breakdowns.get(head)!;
  const kernelsOf = new Map(names.map((n) => [n, breakdowns.get(n)!.kernels]));
  const allKernels = [...new Set(names.flatMap((n) => [...kernelsOf.get(n)!.keys()]))];
  const ms = (n: string, k: string): number => kernelsOf.get(n)!.get(k)?.ms ?? 0;
  const calls = (n: string, k: string): number => kernelsOf.get(n)!.get(k)?.calls ?? 0;
  allKernels.sort((a, b) => ms(head, b) - ms(head, a));
  const top = allKernels.slice(0, 16);
  const rest = allKernels.slice(16);
  const share = (v: number): string => `${((100 * v) / mv.kernelMs).toFixed(1)} %`;
  const cell = (n: string, k: string): string => (calls(n, k) ? `${fmtMs(ms(n, k))} (${calls(n, k)})` : '–');
  const rows = top.map((k) => [k, ...names.map((n) => cell(n, k)), share(ms(head, k))]);
  rows.push([`${rest.length} other kernels`, ...names.map((n) => fmtMs(rest.reduce((s, k) => s + ms(n, k), 0))), share(rest.reduce((s, k) => s + ms(head, k), 0))]);
  rows.push(['all kernels', ...names.map((n) => fmtMs(breakdowns.get(n)!.kernelMs)), '100 %']);
  rows.push(['kernel calls', ...names.map((n) => String(breakdowns.get(n)!.kernelCalls)), '']);
  rows.push(['profiled step (wall)', ...names.map((n) => fmtMs(breakdowns.get(n)!.wallMs)), '']);
  rows.push(['outside kernels', ...names.map((n) => fmtMs(breakdowns.get(n)!.wallMs - breakdowns.get(n)!.kernelMs)), '']);
  printTable(['kernel', ...names.map((n) => `${n} ms (calls)`), `share of ${head}`], rows);

  for (const name of medvaes) {
    const b = breakdowns.get(name)!;
    console.log(`\n${name}: the 14 most expensive kernel calls by input shapes (ms per step, calls per step)`);
    const byCall = [...b.calls].sort((x, y) => y[1].ms - x[1].ms).slice(0, 14);
    printTable(['kernel and input shapes', 'ms', 'calls', 'share'], byCall.map(([k, e]) => [k, fmtMs(e.ms), String(e.calls), `${((100 * e.ms) / b.kernelMs).toFixed(1)} %`]));
  }
  for (const s of Object.values(setups)) s.dispose();
  tf.dispose([batch.x, batch.y]);
  for (const n of nets) n.dispose();
  console.log(`\nTotal time ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end ${loadAverage()}.`);
}

await main();
