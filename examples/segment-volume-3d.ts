// The 3-D example (`npm run example:3d`): a 3-D UNetSegmenter learns the brain mask of the Colin27
// T1 template (Debian's mricron-data: ch2.nii.gz, ch2bet.nii.gz) from patches of ONE hemisphere
// and is scored (Dice, HD95) on the OTHER by sliding-window inference through segmentVolume:
// Colin27 is the only subject available, so space is held out instead of subjects. The same
// held-out half is segmented by a 2-D U-Net trained on the training half's axial slices and
// applied slice-wise. Then the MONAI-style synthetic test: seeded random ellipsoids in noise,
// with held-out volumes. Writes overlays of three orthogonal planes and summary.json (timings).
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import {
  ArrayDataset, Generator, MapDataset, NiftiVolume, randomFlip, UNetSegmenter, applyIntensity, computeDice, cosineLR, hausdorffDistance95, imageGrid,
  overlayMasks, readNiftiFile, resolveSliceAxis, segmentVolume, type Batch, type Sample,
} from '../src/index.js';
import { savePng, saveSummary, setup } from './common.js';
import { ellipsoidVolumes } from './synthetic-ellipsoids.js';
import { blockAffine, blockMean, centralPlanes, cropX, greyImage, squareTile, type Grid } from './volume-grid.js';

const CH2 = '/usr/share/mricron/templates/ch2.nii.gz';
const CH2BET = '/usr/share/mricron/templates/ch2bet.nii.gz';

const args = await setup('segment-volume-3d', process.argv.slice(2), {
  spacing: { type: 'string', help: '--spacing MM  grid of the brain volume, an integer number of mm (default 3; quick 4)' },
});
const started = Date.now();
const quick = args.quick;
const factor = Number(args.extra.spacing ?? (quick ? 4 : 3));
if (!Number.isInteger(factor) || factor < 1) throw new Error(`--spacing takes a whole number of millimetres (Colin27 is on a 1 mm grid), got ${String(args.extra.spacing)}.`);
// Network and schedule. Full: a 3-level 3-D U-Net, 24³ patches; quick: just enough to see learning.
const channels3d = quick ? [4, 8] : [8, 16, 32];
const patch = quick ? 16 : 24;
const batch3d = 2;
const epochs3d = args.epochs ?? (quick ? 6 : 16);
const stepsPerEpoch = quick ? 4 : 16;
const roi = quick ? 16 : 32;
const seconds = (t: number): number => Math.round((Date.now() - t) / 100) / 10;
/** The Dice of predicting foreground everywhere: the floor a model has to beat. */
const allForegroundDice = (truth: ArrayLike<number>): number => {
  let t = 0;
  for (let i = 0; i < truth.length; i++) t += truth[i] > 0 ? 1 : 0;
  return (2 * t) / (t + truth.length);
};

/** A batch of 5-D tensors: the fit loop passes it to the step untouched, and the 3-D model's forward takes NDHWC. */
function volumeBatch(image: tf.Tensor5D, mask: tf.Tensor5D): Batch {
  // Batch's fields are typed NHWC for the 2-D datasets; a 3-D batch carries NDHWC tensors in them.
  return { image: image as unknown as tf.Tensor4D, mask: mask as unknown as tf.Tensor4D };
}

/** One epoch of `steps` batches of random `size³` patches from `[1, D, H, W, 1]` image/mask tensors, seeded per epoch. */
function patchBatches(image: tf.Tensor5D, mask: tf.Tensor5D, size: number, divisor: number, batch: number, steps: number, seed: number) {
  const [, d, h, w] = image.shape;
  // A patch wider than the half is cut to the half, rounded down to what the network can halve.
  const sz = [d, h, w].map((n) => Math.floor(Math.min(size, n) / divisor) * divisor);
  return function* epoch(e: number): Iterable<Batch> {
    const g = new Generator(seed * 1000 + e);
    for (let s = 0; s < steps; s++) {
      const b = tf.tidy(() => {
        const ims: tf.Tensor[] = [];
        const ms: tf.Tensor[] = [];
        for (let i = 0; i < batch; i++) {
          const at = [0, g.randint(0, d - sz[0] + 1), g.randint(0, h - sz[1] + 1), g.randint(0, w - sz[2] + 1), 0];
          // Left–right flips (MONAI's RandFlip on the x axis, p 0.5): the held-out hemisphere is
          // roughly the mirror image of the training one, its midline on the other side.
          const flipX = g.random() < 0.5;
          const im = tf.slice(image, at, [1, ...sz, 1]);
          const mk = tf.slice(mask, at, [1, ...sz, 1]);
          ims.push(flipX ? tf.reverse(im, 3) : im);
          ms.push(flipX ? tf.reverse(mk, 3) : mk);
        }
        return [tf.concat(ims, 0) as tf.Tensor5D, tf.concat(ms, 0) as tf.Tensor5D] as const;
      });
      yield volumeBatch(b[0], b[1]);
      // The loop has run the step on this batch when it asks for the next one.
      tf.dispose([...b]);
    }
  };
}

/** Dice and HD95 (mm) of a 0/1 prediction against a 0/1 truth on a `[nx, ny, nz]` grid of `spacing` mm. */
function scores(pred: ArrayLike<number>, truth: ArrayLike<number>, dims: [number, number, number], spacing: number): { dice: number; hd95: number } {
  const [nx, ny, nz] = dims;
  return tf.tidy(() => {
    const p = tf.tensor5d(Int32Array.from(pred), [1, nz, ny, nx, 1], 'int32');
    const t = tf.tensor5d(Int32Array.from(truth), [1, nz, ny, nx, 1], 'int32');
    const opts = { numClasses: 2, includeBackground: false } as const;
    return {
      dice: computeDice(p, t, { ...opts, reduction: 'mean' }),
      hd95: hausdorffDistance95(p, t, { ...opts, spacing: [spacing, spacing, spacing] }),
    };
  });
}

/** Three orthogonal planes (truth outlined green, prediction red) of each prediction, one row per prediction. */
function planeTiles(image: Grid, truth: ArrayLike<number>, preds: ArrayLike<number>[], zoom: number) {
  const side = Math.max(...image.dims);
  const at = image.dims.map((n) => Math.floor(n / 2)) as [number, number, number];
  const tiles = [];
  const img = centralPlanes(image.data, image.dims, at);
  const tru = centralPlanes(truth, image.dims, at);
  for (const pred of preds) {
    const pr = centralPlanes(pred, image.dims, at);
    for (let k = 0; k < 3; k++) {
      tiles.push(overlayMasks(greyImage(squareTile(img[k], side, zoom), side * zoom), squareTile(tru[k], side, zoom), squareTile(pr[k], side, zoom)));
    }
  }
  return imageGrid(tiles, { columns: 3, padding: 2 });
}

const summary: Record<string, unknown> = {
  example: 'segment-volume-3d',
  backend: args.backend,
  quick,
};

// ---- Part 1: Colin27, one hemisphere for training, the other held out -------------------------
if (!existsSync(CH2) || !existsSync(CH2BET)) {
  console.warn(`${CH2} / ${CH2BET} absent (Debian package mricron-data): the Colin27 part is skipped; only the synthetic volumes run.`);
  summary.brain = { skipped: `${CH2} or ${CH2BET} absent (install Debian's mricron-data)` };
} else {
  const t0 = Date.now();
  const [t1, bet] = [await readNiftiFile(CH2), await readNiftiFile(CH2BET)];
  if (resolveSliceAxis(t1.affine, 'sagittal') !== 0) throw new Error('expected ch2.nii.gz stored with x (voxel axis 0) running left–right');
  const dims1 = t1.dims.slice(0, 3) as [number, number, number];
  const brain1 = Float32Array.from(bet.toFloat32(), (v) => (v > 0 ? 1 : 0));
  const image = blockMean({ data: t1.toFloat32(), dims: dims1 }, factor);
  // Per-image percentile scaling to [0, 1] (0.5th…99.5th), the same for both halves.
  applyIntensity(image.data, 'percentile');
  const brainFrac = blockMean({ data: brain1, dims: dims1 }, factor);
  const mask: Grid = { data: Float32Array.from(brainFrac.data, (v) => (v >= 0.5 ? 1 : 0)), dims: brainFrac.dims };
  const affine = blockAffine(t1.affine, factor);
  const [nx, ny, nz] = image.dims;
  const half = Math.floor(nx / 2);
  // RAS+ world: x grows to the right, so low voxel x is the left hemisphere when affine[0][0] > 0.
  const lowSide = affine[0][0] > 0 ? 'left' : 'right';
  const highSide = lowSide === 'left' ? 'right' : 'left';
  const trainImg = cropX(image, 0, half);
  const trainMask = cropX(mask, 0, half);
  const testImg = cropX(image, half, nx);
  const testMask = cropX(mask, half, nx);
  console.log(`Colin27 at ${factor} mm: ${nx}×${ny}×${nz} voxels; training on the ${lowSide} half (x < ${half}), holding out the ${highSide} half (x ≥ ${half}) [${seconds(t0)} s to load and resample]`);

  // 3-D U-Net on random patches of the training half.
  const ti = tf.tensor5d(trainImg.data, [1, nz, ny, half, 1]);
  const tm = tf.tensor5d(trainMask.data, [1, nz, ny, half, 1]);
  const model3d = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: channels3d, spatialDims: 3, norm: 'batch', seed: args.seed });
  const t3 = Date.now();
  const fit3d = await model3d.fit(patchBatches(ti, tm, patch, model3d.net.sizeDivisor, batch3d, stepsPerEpoch, args.seed), {
    epochs: epochs3d,
    batchSize: batch3d,
    lrSchedule: cosineLR({ lr: 3e-3, totalSteps: epochs3d * stepsPerEpoch }),
    seed: args.seed,
  });
  const train3dSeconds = seconds(t3);
  tf.dispose([ti, tm]);

  // Held-out half as its own volume (its affine shifted by `half` voxels along x), segmented by sliding window.
  const shifted = affine.map((row) => [...row]);
  for (let r = 0; r < 3; r++) shifted[r][3] += half * affine[r][0];
  const testVolume = new NiftiVolume({ dims: [...testImg.dims], data: testImg.data, spacing: [factor, factor, factor], affine: shifted });
  const i3 = Date.now();
  const labels3d = await segmentVolume(testVolume, model3d, {
    slidingWindow: { roiSize: [roi, roi, roi], overlap: 0.25, mode: 'gaussian', swBatchSize: 2 },
  });
  const infer3dSeconds = seconds(i3);
  const heldOut3d = scores(labels3d.data as Uint8Array, testMask.data, testImg.dims, factor);
  console.log(`3-D U-Net, held-out ${highSide} half: Dice ${heldOut3d.dice.toFixed(4)}, HD95 ${heldOut3d.hd95.toFixed(2)} mm (train ${train3dSeconds} s, sliding-window inference ${infer3dSeconds} s)`);

  // 2-D U-Net on the training half's axial slices (width padded to the size divisor), applied slice-wise.
  const w2 = Math.ceil(half / 4) * 4;
  const slices: Sample[] = [];
  for (let z = 0; z < nz; z++) {
    const im = new Float32Array(ny * w2);
    const mk = new Uint8Array(ny * w2);
    for (let y = 0; y < ny; y++) {
      im.set(trainImg.data.subarray((z * ny + y) * half, (z * ny + y + 1) * half), y * w2);
      mk.set(trainMask.data.subarray((z * ny + y) * half, (z * ny + y + 1) * half), y * w2);
    }
    slices.push({ image: { data: im, shape: [ny, w2, 1] }, mask: { data: mk, shape: [ny, w2, 1] } });
  }
  const model2d = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: quick ? [4, 8] : [8, 16, 32], norm: 'batch', seed: args.seed });
  const epochs2d = quick ? 3 : 15;
  const t2 = Date.now();
  // The same left–right flips for the 2-D model (slice columns run along x).
  const flipLR = randomFlip({ prob: 0.5, spatialAxis: 1, seed: args.seed + 5 });
  const fit2d = await model2d.fit(new MapDataset(new ArrayDataset(slices), (s) => flipLR(s)), {
    epochs: epochs2d,
    batchSize: 8,
    lrSchedule: cosineLR({ lr: 3e-3, totalSteps: epochs2d * Math.ceil(nz / 8) }),
    seed: args.seed,
  });
  const train2dSeconds = seconds(t2);
  const i2 = Date.now();
  const labels2d = await tf.tidy(() => model2d.predict(tf.tensor4d(testImg.data, [nz, ny, nx - half, 1]))).data();
  const infer2dSeconds = seconds(i2);
  const heldOut2d = scores(labels2d, testMask.data, testImg.dims, factor);
  console.log(`2-D U-Net slice-wise (axial), same half: Dice ${heldOut2d.dice.toFixed(4)}, HD95 ${heldOut2d.hd95.toFixed(2)} mm (train ${train2dSeconds} s, inference ${infer2dSeconds} s)`);

  await savePng(args.out, 'brain-planes.png', planeTiles(testImg, testMask.data, [labels3d.data as Uint8Array, labels2d], quick ? 2 : 3));
  summary.brain = {
    data: `${CH2} (T1) and ${CH2BET} > 0 (brain), block-averaged to ${factor} mm (mask: block fraction ≥ 0.5)`,
    grid: [nx, ny, nz],
    spacingMm: factor,
    trainHalf: `${lowSide} (voxel x < ${half})`,
    heldOutHalf: `${highSide} (voxel x ≥ ${half})`,
    allForegroundDice: allForegroundDice(testMask.data),
    unet3d: {
      channels: channels3d, patch, batchSize: batch3d, epochs: epochs3d, stepsPerEpoch, parameters: model3d.numParameters(),
      slidingWindow: { roiSize: roi, overlap: 0.25, mode: 'gaussian' },
      lossFirstEpoch: fit3d.history[0].train.loss, lossLastEpoch: fit3d.history[fit3d.history.length - 1].train.loss,
      heldOut: heldOut3d, trainSeconds: train3dSeconds, inferenceSeconds: infer3dSeconds,
    },
    unet2dSliceWise: {
      channels: quick ? [4, 8] : [8, 16, 32], axis: 'axial', slices: nz, epochs: epochs2d, parameters: model2d.numParameters(),
      lossFirstEpoch: fit2d.history[0].train.loss, lossLastEpoch: fit2d.history[fit2d.history.length - 1].train.loss,
      heldOut: heldOut2d, trainSeconds: train2dSeconds, inferenceSeconds: infer2dSeconds,
    },
  };
  model3d.dispose();
  model2d.dispose();
}

// ---- Part 2: synthetic ellipsoids (MONAI's create_test_image_3d, in spirit) ---------------------
{
  const size = quick ? 16 : 24;
  const nTrain = quick ? 8 : 24;
  const nTest = quick ? 4 : 8;
  const train = ellipsoidVolumes(nTrain, args.seed + 1, { size });
  const test = ellipsoidVolumes(nTest, args.seed + 2, { size });
  const stack = (arrays: ArrayLike<number>[]): tf.Tensor5D => {
    const buf = new Float32Array(arrays.length * size ** 3);
    arrays.forEach((a, i) => buf.set(a, i * size ** 3));
    return tf.tensor5d(buf, [arrays.length, size, size, size, 1]);
  };
  const xs = stack(train.images);
  const ys = stack(train.labels);
  const batch = 4;
  const epochs = quick ? 8 : 8;
  const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: quick ? [4, 8] : [8, 16, 32], spatialDims: 3, norm: 'batch', seed: args.seed });
  const t = Date.now();
  const fit = await model.fit((e: number) => {
    const order = new Generator(args.seed * 7919 + e);
    const perm = Array.from({ length: nTrain }, (_, i) => i);
    for (let i = nTrain - 1; i > 0; i--) {
      const j = order.randint(0, i + 1);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    return (function* (): Iterable<Batch> {
      for (let s = 0; s + batch <= nTrain; s += batch) {
        const b = tf.tidy(() => {
          const idx = tf.tensor1d(perm.slice(s, s + batch), 'int32');
          return [tf.gather(xs, idx) as tf.Tensor5D, tf.gather(ys, idx) as tf.Tensor5D] as const;
        });
        yield volumeBatch(b[0], b[1]);
        tf.dispose([...b]);
      }
    })();
  }, { epochs, batchSize: batch, lrSchedule: cosineLR({ lr: 1e-2, totalSteps: epochs * Math.floor(nTrain / batch) }), seed: args.seed });
  const trainSeconds = seconds(t);
  tf.dispose([xs, ys]);
  const xt = stack(test.images);
  const yt = stack(test.labels);
  const i0 = Date.now();
  const pred = model.predict(xt, { batchSize: 2 });
  const inferSeconds = seconds(i0);
  const perVolume = computeDice(tf.expandDims(pred, -1), yt, { numClasses: 2, includeBackground: false }).map((row) => row[0]);
  const dice = perVolume.reduce((a, b) => a + b, 0) / perVolume.length;
  console.log(`synthetic ellipsoids (${size}³, ${nTrain} training / ${nTest} held-out volumes): held-out Dice ${dice.toFixed(4)} (train ${trainSeconds} s)`);
  const first: Grid = { data: test.images[0].map((v) => Math.min(1, Math.max(0, v))), dims: [size, size, size] };
  const predFirst = (await tf.tidy(() => tf.slice(pred, [0, 0, 0, 0], [1, -1, -1, -1])).data()) as Int32Array;
  await savePng(args.out, 'ellipsoid-planes.png', planeTiles(first, test.labels[0], [predFirst], quick ? 4 : 3));
  summary.ellipsoids = {
    data: `seeded random ellipsoids (1–4 per volume, semi-axes 8–25 % of the edge, brightness 0.6–1) + Gaussian noise σ 0.25, ${size}³`,
    train: nTrain, heldOut: nTest, epochs, channels: quick ? [4, 8] : [8, 16, 32],
    lossFirstEpoch: fit.history[0].train.loss, lossLastEpoch: fit.history[fit.history.length - 1].train.loss,
    heldOutDice: dice, heldOutDicePerVolume: perVolume, allForegroundDice: allForegroundDice(test.labels.flatMap((l) => Array.from(l))), trainSeconds, inferenceSeconds: inferSeconds,
  };
  tf.dispose([xt, yt, pred]);
  model.dispose();
}

summary.seconds = seconds(started);
summary.files = ['brain-planes.png', 'ellipsoid-planes.png', 'summary.json'].filter((f) => f !== 'brain-planes.png' || existsSync(`${args.out}/brain-planes.png`));
await saveSummary(args.out, summary);
