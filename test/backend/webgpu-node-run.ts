// Child process of test/backend/webgpu-node.test.ts: WebGPU in Node (the `webgpu` package's Dawn)
// needs VK_ICD_FILENAMES and LD_LIBRARY_PATH set before the process starts, so the test runs this
// script with them and reads one JSON line from its stdout.
//
// It checks medvae's webgpu kernels (src/backend/webgpu) against the cpu backend, tensor by tensor,
// then trains a small UNetSegmenter and a small DDPM for the same steps on pure wasm and on webgpu
// and reports both loss curves.
import * as tf from '@tensorflow/tfjs-core';
import { ArrayDataset, DDPM, UNetSegmenter, useBackend, type Sample } from '../../src/index.js';
import { registerWebGpuTrainingKernels, unregisterWebGpuTrainingKernels } from '../../src/backend/webgpu/register.js';

const STEPS = Number(process.argv[2] ?? '20');

/** One kernel case: builds its inputs from plain arrays and runs one op on the active backend. */
interface KernelCase { name: string; run: () => tf.Tensor }

function ints(shape: number[], seed: number, max: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({ length: n }, (_, i) => ((i * 7919 + seed * 104729) % (2 * max + 1)) - max), shape, 'int32');
}
function floats(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({ length: n }, (_, i) => Math.sin(i * 1.37 + seed) * 3), shape, 'float32');
}
const bools = (shape: number[], seed: number): tf.Tensor => tf.greater(ints(shape, seed, 5), 1);
/** A one-hot int32 mask [2, 5, 6, 3], as a segmentation loss builds from labels. */
const oneHotMask = (): tf.Tensor => tf.oneHot(tf.tensor3d(Array.from({ length: 60 }, (_, i) => (i * 5) % 3), [2, 5, 6], 'int32'), 3);

const CASES: KernelCase[] = [
  // Transpose: every rank, values beyond 2^24 (an f32 round trip would change them), bool, float32
  // cast from int32 (shares the i32 buffer on webgpu), plain float32 (tfjs's own kernel).
  { name: 'transpose int32 2-D', run: () => tf.transpose(tf.add(ints([5, 7], 1, 9), 1 << 28), [1, 0]) },
  { name: 'transpose int32 3-D', run: () => tf.transpose(tf.add(ints([3, 4, 5], 2, 9), 1 << 28), [2, 0, 1]) },
  { name: 'transpose int32 4-D NHWC→NCHW', run: () => tf.transpose(tf.add(ints([2, 3, 4, 5], 3, 9), 1 << 28), [0, 3, 1, 2]) },
  { name: 'transpose int32 5-D', run: () => tf.transpose(ints([2, 3, 2, 4, 3], 4, 9), [4, 2, 0, 3, 1]) },
  { name: 'transpose int32 6-D', run: () => tf.transpose(ints([2, 2, 3, 2, 2, 3], 5, 9), [5, 0, 4, 1, 3, 2]) },
  { name: 'transpose bool 4-D', run: () => tf.transpose(bools([2, 3, 4, 5], 6), [0, 3, 1, 2]) },
  { name: 'transpose float32 cast from int32', run: () => tf.transpose(tf.cast(ints([2, 3, 4, 5], 7, 9), 'float32'), [0, 3, 1, 2]) },
  { name: 'transpose float32 cast from bool', run: () => tf.transpose(tf.cast(bools([2, 3, 4, 5], 8), 'float32'), [3, 1, 2, 0]) },
  { name: 'transpose float32 (stock)', run: () => tf.transpose(floats([2, 3, 4, 5], 9), [0, 3, 1, 2]) },
  // Reductions over leading axes of tensors in i32 buffers (tfjs transposes them first).
  { name: 'sum one-hot int32 over H, W (Dice)', run: () => tf.sum(oneHotMask(), [1, 2]) },
  { name: 'sum one-hot cast to float32 over H, W', run: () => tf.sum(tf.cast(oneHotMask(), 'float32'), [1, 2]) },
  { name: 'sum int32 keepDims', run: () => tf.sum(ints([3, 4, 5], 10, 50), [0, 1], true) },
  { name: 'mean int32 over axis 0', run: () => tf.mean(ints([4, 6], 11, 50), 0) },
  { name: 'max int32 over axes 0, 2', run: () => tf.max(ints([3, 4, 5], 12, 1000), [0, 2]) },
  { name: 'min int32 over axis 1 keepDims', run: () => tf.min(ints([3, 4, 5], 13, 1000), 1, true) },
  { name: 'prod int32 over axis 0', run: () => tf.prod(ints([3, 4, 5], 14, 3), 0) },
  { name: 'any bool over axis 0', run: () => tf.any(bools([4, 3, 5], 15), 0) },
  { name: 'all bool over axes 0, 1', run: () => tf.all(bools([4, 3, 5], 16), [0, 1]) },
  { name: 'argMax int32 over axis 1', run: () => tf.argMax(ints([3, 7, 5], 17, 1000), 1) },
  { name: 'argMin int32 over axis 0', run: () => tf.argMin(ints([6, 4], 18, 1000), 0) },
  { name: 'sum float32 over H, W (stock)', run: () => tf.sum(floats([2, 5, 6, 3], 19), [1, 2]) },
  // AddN beyond the storage-buffer limit (8 on SwiftShader): 34 inputs as the finite guard of a small U-Net.
  { name: 'addN 34 float32', run: () => tf.addN(Array.from({ length: 34 }, (_, i) => floats([3, 5], i))) },
  { name: 'addN 9 int32', run: () => tf.addN(Array.from({ length: 9 }, (_, i) => ints([4, 3], i, 100))) },
  { name: 'addN 3 float32 (stock)', run: () => tf.addN([floats([3, 5], 1), floats([3, 5], 2), floats([3, 5], 3)]) },
];

interface KernelResult { name: string; dtype: string; shape: number[]; maxAbsDiff: number; dtypeOk: boolean; shapeOk: boolean }

async function runCases(): Promise<Record<string, { dtype: string; shape: number[]; values: number[] }>> {
  const out: Record<string, { dtype: string; shape: number[]; values: number[] }> = {};
  for (const c of CASES) {
    const y = tf.tidy(c.run);
    out[c.name] = { dtype: y.dtype, shape: y.shape, values: Array.from(await y.data(), Number) };
    y.dispose();
  }
  return out;
}

function compare(ref: Awaited<ReturnType<typeof runCases>>, got: Awaited<ReturnType<typeof runCases>>): KernelResult[] {
  return CASES.map(({ name }) => {
    const r = ref[name];
    const g = got[name];
    const maxAbsDiff = r.values.length !== g.values.length ? Infinity : r.values.reduce((m, v, i) => Math.max(m, Number.isNaN(g.values[i]) ? Infinity : Math.abs(v - g.values[i])), 0);
    return { name, dtype: g.dtype, shape: g.shape, maxAbsDiff, dtypeOk: r.dtype === g.dtype, shapeOk: r.shape.join() === g.shape.join() };
  });
}

/** Live data ids on the active backend (catches tensors a kernel makes and never frees). */
const dataIds = (): number => tf.engine().backend.numDataIds();

async function kernels(): Promise<{ results: KernelResult[]; leakedTensors: number; leakedData: number; stockWrong: string[] }> {
  await useBackend('cpu');
  const ref = await runCases();
  await useBackend('webgpu');
  // tfjs-backend-webgpu computes kernels on small tensors whose data is still on the CPU there
  // (WEBGPU_CPU_FORWARD); the cases must run the GPU programs, as training does.
  const cpuForward = tf.env().getBool('WEBGPU_CPU_FORWARD');
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  const got = await runCases();
  const tensors = tf.memory().numTensors;
  const ids = dataIds();
  await runCases();
  const leakedTensors = tf.memory().numTensors - tensors;
  const leakedData = dataIds() - ids;
  // The same cases on tfjs-backend-webgpu's own kernels: which of them come out wrong there.
  unregisterWebGpuTrainingKernels();
  const silence = console.error;
  let stockWrong: string[] = [];
  try {
    console.error = () => {};
    const stock = await runCases();
    stockWrong = compare(ref, stock).filter((r) => !(r.maxAbsDiff <= 1e-4)).map((r) => r.name);
  } finally {
    console.error = silence;
    registerWebGpuTrainingKernels();
    tf.env().set('WEBGPU_CPU_FORWARD', cpuForward);
  }
  return { results: compare(ref, got), leakedTensors, leakedData, stockWrong };
}

/** 8 images `size`×`size`: a bright square on noise, its mask the square (deterministic). */
function segmentationData(size: number): ArrayDataset<Sample> {
  let s = 12345;
  const rand = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out = [];
  for (let i = 0; i < 8; i++) {
    const image = new Float32Array(size * size);
    const mask = new Float32Array(size * size);
    const x0 = 1 + (i % 4);
    const y0 = 2 + (i % 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const inside = x >= x0 && x < x0 + size / 2 && y >= y0 && y < y0 + size / 2;
      image[y * size + x] = (inside ? 0.8 : 0.1) + 0.1 * rand();
      mask[y * size + x] = inside ? 1 : 0;
    }
    out.push({ image: { data: image, shape: [size, size, 1] }, mask: { data: mask, shape: [size, size, 1] } });
  }
  return new ArrayDataset<Sample>(out as never);
}

function imageData(size: number): ArrayDataset<Sample> {
  let s = 777;
  const rand = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out = [];
  for (let i = 0; i < 8; i++) {
    const image = new Float32Array(size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) image[y * size + x] = 0.5 + 0.4 * Math.sin((x + i) * 0.8) * Math.cos(y * 0.6) + 0.05 * rand();
    out.push({ image: { data: image, shape: [size, size, 1] } });
  }
  return new ArrayDataset<Sample>(out as never);
}

interface Curve { losses: number[]; ms: number }

async function trainUNet(): Promise<Curve> {
  const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 0 });
  const losses: number[] = [];
  const t0 = performance.now();
  await model.fit(segmentationData(12), {
    epochs: STEPS, batchSize: 4, lr: 1e-2, seed: 0, maxSteps: STEPS, onProgress: 'none',
    callbacks: [{ onBatchEnd: (_p, logs) => { losses.push(logs.loss); } }],
  });
  const ms = performance.now() - t0;
  model.dispose();
  return { losses, ms };
}

async function trainDDPM(): Promise<Curve> {
  const model = new DDPM({ inChannels: 1, channels: [4, 8], layersPerBlock: 1, numTrainTimesteps: 20, sampleSize: 8, normNumGroups: 4, seed: 0 });
  const losses: number[] = [];
  const t0 = performance.now();
  await model.fit(imageData(8), {
    epochs: STEPS, batchSize: 4, lr: 1e-3, seed: 0, maxSteps: STEPS, onProgress: 'none',
    callbacks: [{ onBatchEnd: (_p, logs) => { losses.push(logs.loss); } }],
  });
  const ms = performance.now() - t0;
  model.dispose();
  return { losses, ms };
}

const t0 = performance.now();
// Progress on stderr, which the test shows when the child fails.
const note = (what: string): void => {
  const cpu = process.cpuUsage();
  process.stderr.write(`[webgpu-node-run] ${what} at ${((performance.now() - t0) / 1000).toFixed(1)} s (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s)\n`);
};
const kernelReport = await kernels();
note('kernels checked');
const train: Record<string, Record<string, Curve>> = { unet: {}, ddpm: {} };
for (const backend of ['wasm', 'webgpu'] as const) {
  await useBackend(backend, { native: false });
  train.unet[backend] = await trainUNet();
  note(`unet on ${backend}`);
  train.ddpm[backend] = await trainDDPM();
  note(`ddpm on ${backend}`);
}
process.stdout.write(`MEDVAE_WEBGPU_REPORT ${JSON.stringify({ kernels: kernelReport, train, totalMs: performance.now() - t0 })}\n`);
