// Pipeline 3 (`npm run example:vae-diagnosis`): lesion vs normal from a VAE's latent features.
//
// Dataset (one subject, so the classes differ only by the lesion):
// - Anatomy: axial slices of the Colin27 T1 template, read from /usr/share/mricron/templates/ch2.nii.gz
//   (+ ch2bet.nii.gz for the brain mask) when present, else the embedded Colin27 axial slices
//   (made from the same files); intensities / 255 in [0, 1], zero-padded to square and resized to
//   S×S (S = 64).
// - Lesions: the 24 simulated lesion masks of Debian's mricron-doc
//   (/usr/share/doc/mricron/examples/dataset/*.voi, gzipped NIfTI on the ch2 grid; `--data DIR` for
//   another folder of .voi / .nii(.gz) masks on that grid), cut at the same axial index with the
//   same flip, pad and nearest-neighbour resize.
// - Every (lesion mask, axial slice) whose lesion covers ≥ 200 voxels (2 cm²) of the 1-mm slice
//   gives a positive: the slice with its lesion pixels (inside the brain) darkened to
//   LESION_FACTOR = 0.4 × their intensity, as T1-hypointense infarcts. Its negative is the same
//   slice without a lesion. Every image then gets its own Gaussian noise (σ = 0.02, seeded) and is
//   clipped to [0, 1], so no two images are identical.
// - Without the Debian lesion masks: synthetic lesions instead, one random ellipse per slice
//   (semi-axes 6–12 % of the image, clipped to the brain), darkened the same way; the summary says so.
// Split: by lesion mask, 80/20 (seeded): a held-out lesion is never seen in training, and each
// positive's matched negative goes to the same side. (Synthetic lesions: pairs split 80/20.)
// Model: a conv VAE (Gaussian likelihood, σ² = 0.01; β = 1; Adam 1e-3) trained without
// labels on the training images; then a LatentClassifier (one hidden layer of 32 on the frozen
// encoder's μ, standardised with training-set statistics) trained on the training labels. Reported on the held-out images: ROC-AUC,
// sensitivity and specificity at probability 0.5. Written: ROC curve SVG, reconstruction-error
// maps |x − x̂| PNG, loss curve SVG, the saved classifier (with its VAE).
//
//   npx tsx examples/vae-diagnosis.ts [--data DIR_OF_LESION_MASKS] [--epochs N] [--quick]
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Generator, LatentClassifier, VAE, compose, datasetToArray, imageGrid, lineChartSvg, loadColin27Slices, niftiSliceDataset,
  overlayMasks, readNiftiFile, resize, rocCurve, sliceVolume, spatialPad, toDisplayImage, ArrayDataset,
  type ImageArray, type ImageData2D, type NiftiVolume, type Sample,
} from '../src/index.js';
import { savePng, saveSummary, setup } from './common.js';

const TEMPLATE = '/usr/share/mricron/templates/ch2.nii.gz';
const BRAIN = '/usr/share/mricron/templates/ch2bet.nii.gz';
const LESIONS = '/usr/share/doc/mricron/examples/dataset';
const LESION_FACTOR = 0.4;
const NOISE_STD = 0.02;
const MIN_LESION_VOXELS = 200;
const S = 64;

const args = await setup('vae-diagnosis');
const started = Date.now();
const gen = new Generator(args.seed);

// ---- anatomy: axial slices with their voxel index and brain mask --------------------------------
interface Slice {
  z: number;
  image: Float32Array;
  brain: Uint8Array;
}

const shrink = resize({ spatialSize: [S, S] });
let anatomySource: string;
let slices: Slice[];
if (existsSync(TEMPLATE) && existsSync(BRAIN)) {
  anatomySource = `${TEMPLATE} (brain mask ${BRAIN}), axial slices with ≥ 1 % brain`;
  const ds = await niftiSliceDataset({ image: TEMPLATE, mask: BRAIN, axis: 'axial', size: S, normalize: 'none' });
  slices = (await datasetToArray(ds)).map((s, i) => ({
    z: ds.slices[i].index,
    image: Float32Array.from(s.image.data, (v) => Math.min(1, Math.max(0, v / 255))),
    brain: Uint8Array.from(s.mask?.data ?? []),
  }));
} else {
  anatomySource = 'embedded Colin27 axial slices (data/colin27-slices; ch2.nii.gz not found)';
  const ds = await loadColin27Slices({ axes: ['axial'] });
  slices = (await datasetToArray(ds)).map((s, i) => {
    const small = shrink(s);
    return { z: ds.slices[i].index, image: Float32Array.from(small.image.data), brain: Uint8Array.from(small.mask?.data ?? []) };
  });
}

// ---- lesions ------------------------------------------------------------------------------------
interface Item {
  image: Float32Array;
  lesion: Uint8Array | null;
  label: 0 | 1;
  group: number;
  z: number;
}

/** Cuts an axial slice of a lesion volume onto the anatomy's S×S grid (flip, pad to square, nearest resize). */
function lesionSlice(vol: NiftiVolume, z: number): { mask: Uint8Array; voxels: number } {
  const cut = sliceVolume(vol, 'axial', z, { flipRows: true });
  let voxels = 0;
  const m = new Uint8Array(cut.data.length);
  for (let i = 0; i < m.length; i++) if (cut.data[i] > 0) { m[i] = 1; voxels++; }
  const side = Math.max(cut.width, cut.height);
  const toGrid = compose([spatialPad({ spatialSize: [side, side] }), shrink]);
  const out = toGrid({ image: { data: new Float32Array(m.length), shape: [cut.height, cut.width, 1] }, mask: { data: m, shape: [cut.height, cut.width, 1] } });
  return { mask: Uint8Array.from((out.mask as ImageArray).data), voxels };
}

/** The slice with lesion pixels inside the brain darkened, then noise added (a fresh copy). */
function render(slice: Slice, lesion: Uint8Array | null): Float32Array {
  const noise = gen.normalArray(S * S, 0, NOISE_STD);
  return Float32Array.from(slice.image, (v, i) => {
    const dark = lesion !== null && lesion[i] > 0 && slice.brain[i] > 0 ? v * LESION_FACTOR : v;
    return Math.min(1, Math.max(0, dark + noise[i]));
  });
}

async function lesionFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir)).filter((f) => /\.(voi|nii|nii\.gz)$/.test(f));
  return names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).map((f) => join(dir, f));
}

const lesionDir = args.data ?? LESIONS;
const files = await lesionFiles(lesionDir);
const items: Item[] = [];
let lesionSource: string;
const byZ = new Map(slices.map((s) => [s.z, s]));
if (files.length > 0) {
  lesionSource = `${files.length} lesion masks from ${lesionDir}`;
  for (const [k, file] of files.entries()) {
    const vol = await readNiftiFile(file);
    if (vol.dims[0] !== 181 || vol.dims[1] !== 217 || vol.dims[2] !== 181) {
      throw new Error(`${file}: grid [${vol.dims.slice(0, 3).join(', ')}] is not the ch2 grid [181, 217, 181].`);
    }
    let zs = slices.map((s) => s.z);
    // Quick mode: every 4th slice per lesion.
    if (args.quick) zs = zs.filter((z) => z % 4 === k % 4);
    for (const z of zs) {
      const { mask, voxels } = lesionSlice(vol, z);
      if (voxels < MIN_LESION_VOXELS) continue;
      const slice = byZ.get(z) as Slice;
      items.push({ image: render(slice, mask), lesion: mask, label: 1, group: k, z });
      items.push({ image: render(slice, null), lesion: null, label: 0, group: k, z });
    }
  }
} else {
  lesionSource = `synthetic ellipse lesions (no lesion masks found in ${lesionDir}; install Debian's mricron-doc for the real ones)`;
  const usable = slices.filter((s) => s.brain.reduce((a, b) => a + b, 0) > 0.15 * S * S);
  const repeats = args.quick ? 2 : 6;
  let group = 0;
  for (let r = 0; r < repeats; r++) {
    for (const slice of usable) {
      const brainIdx = [...slice.brain.keys()].filter((i) => slice.brain[i] > 0);
      const c = brainIdx[gen.randint(0, brainIdx.length)];
      const [cy, cx] = [Math.floor(c / S), c % S];
      const [ay, ax] = [S * (0.06 + 0.06 * gen.random()), S * (0.06 + 0.06 * gen.random())];
      const th = Math.PI * gen.random();
      const mask = new Uint8Array(S * S);
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const u = (x - cx) * Math.cos(th) + (y - cy) * Math.sin(th);
          const v = -(x - cx) * Math.sin(th) + (y - cy) * Math.cos(th);
          if ((u / ax) ** 2 + (v / ay) ** 2 <= 1 && slice.brain[y * S + x] > 0) mask[y * S + x] = 1;
        }
      }
      items.push({ image: render(slice, mask), lesion: mask, label: 1, group, z: slice.z });
      items.push({ image: render(slice, null), lesion: null, label: 0, group, z: slice.z });
      group++;
    }
  }
}

// ---- split by lesion (group), 80/20 -------------------------------------------------------------
const groups = [...new Set(items.map((it) => it.group))];
const perm = gen.permutation(groups.length);
const nTrainGroups = Math.round(0.8 * groups.length);
const trainGroups = new Set(Array.from(perm.subarray(0, nTrainGroups), (i) => groups[i]));
const trainItems = items.filter((it) => trainGroups.has(it.group));
const testItems = items.filter((it) => !trainGroups.has(it.group));
const toSample = (it: Item): Sample => ({ image: { data: it.image, shape: [S, S, 1] }, label: it.label });
const train = new ArrayDataset(trainItems.map(toSample));
const test = new ArrayDataset(testItems.map(toSample));
const count = (list: Item[], label: number): number => list.filter((it) => it.label === label).length;
console.log(
  `${items.length} images (${S}×${S}): train ${trainItems.length} (${count(trainItems, 1)} lesion) from ${trainGroups.size} lesions, ` +
    `held out ${testItems.length} (${count(testItems, 1)} lesion) from ${groups.length - trainGroups.size} other lesions`,
);

// ---- VAE (unsupervised), then a latent classifier on the frozen encoder ----------------------------
const channels = args.quick ? [16, 32, 64] : [32, 64, 128];
const latentDim = args.quick ? 32 : 64;
// Gaussian decoder with σ² = 0.01: a 0.1-intensity error costs 0.5 nats per pixel, so a lesion is
// worth encoding in z. (A Bernoulli likelihood on grey values charges a dark lesion only ~0.3 nats
// per pixel and the latent code ignores it.)
const GAUSSIAN_VARIANCE = 0.01;
const vae = new VAE({ inChannels: 1, imageSize: [S, S], latentDim, channels, likelihood: 'gaussian', gaussianVariance: GAUSSIAN_VARIANCE, seed: args.seed });
const vaeEpochs = args.epochs ?? (args.quick ? 10 : 30);
const batchSize = args.quick ? 16 : 32;
console.log(`VAE: ${vae.numParameters()} parameters, conv channels [${channels.join(', ')}], latent ${latentDim}, ${vaeEpochs} epochs (labels unused)`);
const vaeRun = await vae.fit(train, { epochs: vaeEpochs, batchSize, lr: 1e-3, beta: 1, seed: args.seed });

// The head sees standardised features (μ − mean) / std, statistics from the training images: the
// lesion signal lives in low-variance latent directions that a head on raw μ learns far slower.
const classifier = new LatentClassifier(vae, { hiddenDims: [32], freezeEncoder: true, standardize: true, seed: args.seed });
const clsEpochs = args.epochs ?? (args.quick ? 40 : 100);
console.log(`LatentClassifier on the frozen encoder's μ: ${clsEpochs} epochs`);
const clsRun = await classifier.fit(train, { epochs: clsEpochs, batchSize: 32, lr: 1e-3, seed: args.seed, onProgress: 'none' });
const heldOut = await classifier.evaluate(test);
const trainMetrics = await classifier.evaluate(train);
console.log('held-out:', heldOut, 'training set:', trainMetrics);

// ---- ROC curve ---------------------------------------------------------------------------------
const xTest = tf.tensor4d(Float32Array.from(testItems.flatMap((it) => Array.from(it.image))), [testItems.length, S, S, 1]);
const scores = classifier.predictProba(xTest);
const roc = rocCurve(Array.from(scores.dataSync()), testItems.map((it) => it.label));
scores.dispose();
await writeFile(join(args.out, 'roc.svg'), lineChartSvg([{ name: `held-out ROC (AUC ${heldOut.rocAuc.toFixed(3)})`, x: roc.fpr, y: roc.tpr }], {
  title: 'Lesion vs normal from VAE latent features', xLabel: 'false positive rate (1 − specificity)', yLabel: 'true positive rate (sensitivity)',
  xRange: [0, 1], yRange: [0, 1], diagonal: true, width: 520, height: 480,
}));

// ---- reconstruction-error maps: 4 held-out lesion slices and their normal pairs -----------------
// Test items come in (lesion, normal) pairs of the same slice: show 4 pairs spread over the set.
const pairs = Math.floor(testItems.length / 2);
const shown = [...new Set([0, 1, 2, 3].map((k) => Math.floor((k * pairs) / 4)))].flatMap((p) => [2 * p, 2 * p + 1]);
const recon = vae.reconstruct(xTest);
const err = tf.abs(tf.sub(xTest, recon));
const errMax = Math.max(1e-6, ...shown.map((i) => tf.tidy(() => tf.max(tf.slice(err, [i, 0, 0, 0], [1, -1, -1, -1])).dataSync()[0])));
const tiles: ImageData2D[] = [];
for (const i of shown) {
  const pick = (t: tf.Tensor4D): tf.Tensor4D => tf.slice(t, [i, 0, 0, 0], [1, -1, -1, -1]);
  const [xi, ri, ei] = [pick(xTest), pick(recon), pick(err as tf.Tensor4D)];
  const grey = toDisplayImage(xi, { min: 0, max: 1 });
  const outline = testItems[i].lesion;
  tiles.push(
    overlayMasks(grey, outline, null),
    overlayMasks(toDisplayImage(ri, { min: 0, max: 1 }), null, null),
    overlayMasks(toDisplayImage(ei, { min: 0, max: errMax }), outline, null),
  );
  tf.dispose([xi, ri, ei]);
}
await savePng(args.out, 'reconstruction-error.png', imageGrid(tiles, { columns: 6 }));
tf.dispose([xTest, recon, err]);

await writeFile(join(args.out, 'loss.svg'), lineChartSvg([
  { name: 'VAE training loss (nats per image)', x: vaeRun.history.map((r) => r.epoch + 1), y: vaeRun.history.map((r) => r.train.loss) },
], { title: 'VAE on lesion / normal slices (labels unused)', xLabel: 'epoch', yLabel: 'negative ELBO (nats)' }));
await classifier.save(join(args.out, 'model'));

await saveSummary(args.out, {
  example: 'vae-diagnosis',
  backend: args.backend,
  quick: args.quick,
  anatomy: anatomySource,
  lesions: lesionSource,
  syntheticLesions: files.length === 0,
  construction:
    `positives: an axial slice with a lesion covering ≥ ${MIN_LESION_VOXELS} voxels of the 1-mm slice, lesion pixels inside the brain set to ` +
    `${LESION_FACTOR} × their intensity; negatives: the same slice without the lesion; every image + N(0, ${NOISE_STD}²) noise, clipped to [0, 1]` +
    (args.quick ? '; quick mode keeps every 4th slice per lesion' : ''),
  imageSize: S,
  split: {
    by: files.length > 0 ? 'lesion mask (80/20 of the masks; each negative follows its positive)' : 'lesion/normal pair (80/20)',
    note: 'all slices come from one brain, so held-out normal slices are fresh-noise copies of anatomy seen in training; what is held out is the lesions (their shapes and places)',
    seed: args.seed,
    train: { images: trainItems.length, lesion: count(trainItems, 1), groups: trainGroups.size },
    heldOut: { images: testItems.length, lesion: count(testItems, 1), groups: groups.length - trainGroups.size },
  },
  vae: { latentDim, channels, likelihood: 'gaussian', gaussianVariance: GAUSSIAN_VARIANCE, beta: 1, epochs: vaeEpochs, batchSize, optimizer: 'Adam, lr 1e-3', parameters: vae.numParameters() },
  classifier: { hiddenDims: [32], freezeEncoder: true, standardize: true, epochs: clsEpochs, batchSize: 32, optimizer: 'Adam, lr 1e-3', threshold: 0.5 },
  vaeHistory: vaeRun.history.map((r) => ({ epoch: r.epoch + 1, loss: r.train.loss, seconds: r.seconds })),
  classifierLoss: { first: clsRun.history[0]?.train.loss, last: clsRun.history[clsRun.history.length - 1]?.train.loss },
  heldOut,
  training: trainMetrics,
  seconds: (Date.now() - started) / 1000,
  files: ['roc.svg', 'reconstruction-error.png', 'loss.svg', 'model/model.json'],
});
classifier.dispose();
