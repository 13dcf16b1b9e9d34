// Zero tensor growth over 1,000 training steps: a tiny UNetSegmenter trained two ways, with
// tf.memory() read at checkpoints. (1) The step UNetSegmenter.fit runs (variableGrads of the default
// Dice+CE loss, Adam step) called by hand; counts after step 1 (when Adam's slots exist) must equal
// counts after step 1,000. (2) UNetSegmenter.fit itself for 1,000 steps (trainLoop, DataLoader,
// progress off): counts before and after must be equal (fit creates and frees its own Adam).
// Exits with status 1 on any growth.
// Run: npx tsx bench/leak-soak.ts [--backend cpu|wasm] [--steps N]
import * as tf from '@tensorflow/tfjs-core';
import { Adam, ArrayDataset, UNetSegmenter, useBackend, variableGrads, type Sample } from '../src/index.js';
import { kernelsLine, loadAverage, machineLine, printTable } from './common.js';

const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const BACKEND = (argValue('backend') ?? 'wasm') as 'cpu' | 'wasm';
const STEPS = Number(argValue('steps') ?? 1000);
const SIZE = 16;
const BATCH = 2;

/** Eight random 16×16 images with two-class masks (class 1 where the image is bright). */
function samples(): Sample[] {
  let s = 12345;
  const rand = (): number => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  return Array.from({ length: 8 }, () => {
    const image = Float32Array.from({ length: SIZE * SIZE }, rand);
    const mask = image.map((v) => (v > 0.5 ? 1 : 0));
    return { image: { data: image, shape: [SIZE, SIZE, 1] as const }, mask: { data: mask, shape: [SIZE, SIZE, 1] as const } };
  });
}

const snapshot = (): { tensors: number; bytes: number } => ({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes });
/**
 * Size of the wasm heap in MiB ('' on other backends). medvae's wasm kernels allocate scratch there
 * outside tfjs's tensor accounting; the heap never shrinks, so a leak of that scratch would show as
 * growth from checkpoint to checkpoint. (The native addon keeps one reused scratch buffer of its own.)
 */
const wasmHeapMiB = (): string => {
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return heap ? (heap.buffer.byteLength / 1024 ** 2).toFixed(0) : '';
};

async function main(): Promise<void> {
  const started = performance.now();
  await useBackend(BACKEND);
  console.log(`leak soak: ${STEPS} tiny UNetSegmenter training steps (channels 4/8, batch norm, 2 classes, batch ${BATCH} of ${SIZE}×${SIZE}) on ${BACKEND}`);
  console.log(machineLine());
  console.log(kernelsLine());
  const data = samples();
  const images = tf.tensor4d(data.slice(0, BATCH).flatMap((d) => Array.from(d.image.data)), [BATCH, SIZE, SIZE, 1]);
  const masks = tf.tensor4d(data.slice(0, BATCH).flatMap((d) => Array.from(d.mask!.data)), [BATCH, SIZE, SIZE, 1]);

  // (1) The training step by hand.
  const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 0 });
  const params = model.trainableParameters();
  const adam = new Adam(params, { lr: 1e-3 });
  const loss = model.defaultLoss();
  const checkpoints = new Set([1, 10, 100, STEPS]);
  const rows: string[][] = [];
  let first: { tensors: number; bytes: number } | null = null;
  let lastLoss = NaN;
  for (let step = 1; step <= STEPS; step++) {
    const { value, grads } = variableGrads(() => loss(model.forward(images), masks) as tf.Scalar, params);
    adam.step(grads);
    tf.dispose(grads);
    lastLoss = value.dataSync()[0];
    value.dispose();
    if (checkpoints.has(step)) {
      const snap = snapshot();
      first ??= snap;
      rows.push([`manual step ${step}`, String(snap.tensors), String(snap.bytes), lastLoss.toFixed(4), wasmHeapMiB()]);
    }
  }
  const manualEnd = snapshot();
  adam.dispose();

  // (2) fit(): 8 samples, batch 2 → 4 steps per epoch.
  const before = snapshot();
  const heapBeforeFit = wasmHeapMiB();
  const epochs = Math.ceil(STEPS / 4);
  const result = await model.fit(new ArrayDataset(data), { epochs, batchSize: BATCH, onProgress: 'none', seed: 0 });
  const after = snapshot();
  rows.push([`before fit (${epochs} epochs × 4 steps)`, String(before.tensors), String(before.bytes), '', heapBeforeFit]);
  rows.push([`after fit`, String(after.tensors), String(after.bytes), result.history.at(-1)?.train.loss?.toFixed(4) ?? '', wasmHeapMiB()]);
  printTable(['point', 'numTensors', 'numBytes', 'loss', 'wasm heap MiB'], rows);

  tf.dispose([images, masks]);
  model.dispose();
  const ok = first !== null && first.tensors === manualEnd.tensors && first.bytes === manualEnd.bytes && before.tensors === after.tensors && before.bytes === after.bytes;
  console.log(`manual steps: ${first?.tensors} tensors / ${first?.bytes} bytes after step 1, ${manualEnd.tensors} / ${manualEnd.bytes} after step ${STEPS}; ` +
    `fit: ${before.tensors} / ${before.bytes} before, ${after.tensors} / ${after.bytes} after → ${ok ? 'no growth' : 'GROWTH'}`);
  console.log(`after disposing the model and data: ${tf.memory().numTensors} tensors. Total time ${((performance.now() - started) / 1000).toFixed(0)} s, load average ${loadAverage()}.`);
  if (!ok) process.exitCode = 1;
}

await main();
