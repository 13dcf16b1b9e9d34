// Where a 3-D U-Net training step (bench/unet3d-step.ts) spends its time: a tf.profile breakdown
// by kernel on the active kernels (wasm + medvae-native when it loads; MEDVAE_NATIVE=0: pure wasm).
// Run: npx tsx bench/unet3d-profile.ts [--size 64] [--batch 2] [--top 16]
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../src/index.js';
import { KernelBreakdown, fmtMs, kernelsLine, machineLine, printTable } from './common.js';
import { makeUnet3dStep } from './unet3d-step.js';

const argv = process.argv.slice(2);
const num = (name: string, d: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const SIZE = num('--size', 64);
const BATCH = num('--batch', 2);
const TOP = num('--top', 16);

await useBackend('wasm');
console.log(machineLine());
console.log(kernelsLine());
const run = makeUnet3dStep({ batch: BATCH, size: SIZE, channels: [8, 16, 32, 64], classes: 2 });
run.step(); // warm-up
const k = new KernelBreakdown();
await k.add(() => run.step());
run.dispose();
console.log(`\nbatch ${BATCH} of 1×${SIZE}³: wall ${fmtMs(k.wallMs)} ms, kernels ${fmtMs(k.kernelMs)} ms in ${k.kernelCalls} calls`);
printTable(['kernel', 'ms', 'calls'], [...k.kernels].sort((a, b) => b[1].ms - a[1].ms).slice(0, TOP).map(([n, e]) => [n, fmtMs(e.ms), String(e.calls)]));
console.log('\nby call:');
printTable(['kernel call', 'ms', 'calls'], [...k.calls].sort((a, b) => b[1].ms - a[1].ms).slice(0, TOP).map(([n, e]) => [n, fmtMs(e.ms), String(e.calls)]));
console.log(`tensors left: ${tf.memory().numTensors}`);
