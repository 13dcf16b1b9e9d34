// Where the main job's training step spends its time: a tf.profile kernel breakdown of one fit step
// of the main example's model (as bench/main-job.ts: UNetSegmenter 16/32/64/128, BatchNorm, diceCE,
// Adam), with BatchNorm fused (src/layers/batchnorm-train.ts) and unfused (the composition it
// replaced), on the active kernels (wasm + medvae-native when it loads; MEDVAE_NATIVE=0: pure wasm).
// Run: npx tsx bench/main-job-profile.ts [--size 128] [--batch 16] [--top 14]
import * as tf from '@tensorflow/tfjs-core';
import { ArrayDataset, Generator, UNetSegmenter, imageArray, useBackend, type Sample } from '../src/index.js';
import { KernelBreakdown, fmtMs, kernelsLine, machineLine, printTable } from './common.js';
import { useUnfusedBatchNorm } from './unfused-batchnorm.js';

const argv = process.argv.slice(2);
const num = (name: string, d: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const SIZE = num('--size', 128);
const BATCH = num('--batch', 16);
const TOP = num('--top', 14);

await useBackend('wasm');
console.log(machineLine());
console.log(kernelsLine());
const g = new Generator(1);
const data = new ArrayDataset(Array.from({ length: BATCH }, (): Sample => {
  const img = Float32Array.from({ length: SIZE * SIZE }, () => g.random());
  return { image: imageArray(img, [SIZE, SIZE]), mask: imageArray(Float32Array.from(img, (v) => (v < 0.4 ? 1 : 0)), [SIZE, SIZE]) };
}));
const results: Array<[string, KernelBreakdown]> = [];
for (const unfused of [false, true]) {
  const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [16, 32, 64, 128], norm: 'batch', seed: 0 });
  useUnfusedBatchNorm(unfused);
  const fit = (): Promise<unknown> => model.fit(data, { epochs: 1, batchSize: BATCH, onProgress: 'none', logEvery: 1 });
  await fit(); // warm-up
  const k = new KernelBreakdown();
  await k.add(fit);
  useUnfusedBatchNorm(false);
  model.dispose();
  results.push([unfused ? 'unfused BN' : 'fused BN', k]);
}
for (const [name, k] of results) {
  console.log(`\n${name}: wall ${fmtMs(k.wallMs)} ms, kernels ${fmtMs(k.kernelMs)} ms in ${k.kernelCalls} calls`);
  const top = [...k.kernels].sort((a, b) => b[1].ms - a[1].ms).slice(0, TOP);
  printTable(['kernel', 'ms', 'calls'], top.map(([n, e]) => [n, fmtMs(e.ms), String(e.calls)]));
}
console.log(`tensors left: ${tf.memory().numTensors}`);
