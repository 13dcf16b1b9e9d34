// Shared plumbing of the example scripts: command-line options, output folder, PNG/JSON writers.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import {
  Adam, ArrayDataset, Generator, Linear, ReLU, Sequential, datasetToArray, loadColin27Slices, loadMnist, niftiSliceDataset, resize,
  nativeKernelsStatus, toDisplayImage, useBackend, writePng,
  type BackendName, type Dataset, type ImageData2D, type MnistDataset, type Sample,
} from '../src/index.js';

/** The options every example accepts. */
export interface ExampleArgs {
  backend: BackendName;
  epochs: number | undefined;
  data: string | undefined;
  out: string;
  seed: number;
  quick: boolean;
  /** Values of the example's own options (see {@link ExtraOption}), by name; absent ones are undefined. */
  extra: Record<string, string | boolean | undefined>;
}

/** An option one example adds to the common ones (e.g. `--latent 2`). */
export interface ExtraOption {
  type: 'string' | 'boolean';
  default?: string | boolean;
  /** Shown by --help, e.g. '--latent N  latent size (default 128)'. */
  help: string;
}

/** Parses `--backend --epochs --data --out --seed --quick` (plus the example's `extra` options) and activates the backend. */
export async function setup(name: string, argv = process.argv.slice(2), extra: Record<string, ExtraOption> = {}): Promise<ExampleArgs> {
  const { values } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string', default: 'wasm' },
      epochs: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string', default: join('runs', name) },
      seed: { type: 'string', default: '0' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      ...Object.fromEntries(Object.entries(extra).map(([k, o]) => [k, o.default === undefined ? { type: o.type } : { type: o.type, default: o.default }])),
    },
  });
  if (values.help) {
    console.log(`usage: npm run example:${name} -- [--backend wasm|cpu|tensorflow|webgpu] [--epochs N] [--data PATH] [--out DIR] [--seed N] [--quick]`);
    for (const o of Object.values(extra)) console.log(`  ${o.help}`);
    process.exit(0);
  }
  const args: ExampleArgs = {
    backend: values.backend as BackendName,
    epochs: values.epochs === undefined ? undefined : Number(values.epochs),
    data: values.data,
    out: values.out as string,
    seed: Number(values.seed),
    quick: values.quick as boolean,
    extra: Object.fromEntries(Object.keys(extra).map((k) => [k, (values as Record<string, string | boolean | undefined>)[k]])),
  };
  await useBackend(args.backend);
  await mkdir(args.out, { recursive: true });
  console.log(`[${name}] backend ${kernelsDescription(args.backend)}${args.quick ? ' (quick mode)' : ''}; writing to ${args.out}`);
  return args;
}

/**
 * The backend and, on wasm, whether medvae-native's OpenBLAS kernels ran: results and timings
 * differ between the two, so every summary.json records it.
 */
export function kernelsDescription(backend: BackendName): string {
  if (backend !== 'wasm') return backend;
  const native = nativeKernelsStatus();
  return native.active ? `wasm + medvae-native (OpenBLAS, ${native.threads ?? '?'} threads)` : 'wasm (pure; medvae-native not active)';
}

/** Writes an 8-bit image as PNG under the output folder. */
export async function savePng(out: string, file: string, image: ImageData2D): Promise<void> {
  await writeFile(join(out, file), writePng(image));
}

/** Writes `summary.json` under the output folder and prints it. */
export async function saveSummary(out: string, summary: Record<string, unknown>): Promise<void> {
  const backend = typeof summary.backend === 'string' ? summary.backend : undefined;
  const withKernels = backend === 'wasm' && summary.kernels === undefined ? { ...summary, kernels: kernelsDescription('wasm') } : summary;
  const text = JSON.stringify(withKernels, null, 2);
  await writeFile(join(out, 'summary.json'), `${text}\n`);
  console.log(text);
}

/**
 * One 8-bit display tile per image of a batch `[B, H, W, 1|3]`, mapping `[min, max]` (default
 * [0, 1]) to black…white: the input of imageGrid.
 */
export function batchTiles(batch: tf.Tensor4D, range: { min: number; max: number } = { min: 0, max: 1 }): ImageData2D[] {
  const tiles: ImageData2D[] = [];
  for (let i = 0; i < batch.shape[0]; i++) {
    const one = tf.slice(batch, [i, 0, 0, 0], [1, -1, -1, -1]);
    tiles.push(toDisplayImage(one, range));
    one.dispose();
  }
  return tiles;
}

/**
 * The brain slices the segmentation examples train on: the embedded Colin27 slices (128×128), or the
 * axial slices of `--data image.nii.gz,mask.nii.gz`; in quick mode 64 of them, evenly spread, at 64×64.
 */
export async function loadBrainSlices(args: ExampleArgs): Promise<{ data: Dataset<Sample>; size: number }> {
  let data: Dataset<Sample>;
  if (args.data === undefined) {
    data = await loadColin27Slices();
  } else {
    const [image, mask] = args.data.split(',');
    if (mask === undefined) throw new Error('--data takes "image.nii.gz,mask.nii.gz" (a brain image and its mask, > 0 = brain).');
    data = await niftiSliceDataset({ image, mask, axis: 'axial', size: 128 });
  }
  if (!args.quick) return { data, size: 128 };
  const all = await datasetToArray(data);
  const pick = all.filter((_, i) => i % Math.ceil(all.length / 64) === 0).slice(0, 64);
  const shrink = resize({ spatialSize: [64, 64] });
  return { data: new ArrayDataset(pick.map((sample) => shrink(sample))), size: 64 };
}

/** `n` images of an MNIST dataset, from `offset`, as `[n, 28, 28, 1]` (pixels as loaded: [0, 1], or {0, 1} when binarised). */
export function stackMnist(data: MnistDataset, n: number, offset = 0): tf.Tensor4D {
  const px = 28 * 28;
  const buf = new Float32Array(n * px);
  for (let i = 0; i < n; i++) buf.set(data.get(offset + i).image.data as Float32Array, i * px);
  return tf.tensor4d(buf, [n, 28, 28, 1]);
}

/** What the MNIST yardstick says about a set of images (see {@link mnistYardstick}). */
export interface MnistQuality {
  /** exp(E_x KL(p(y|x) ‖ p(y))): ≈ 1 for ambiguous or all-alike images, up to 10 for confident and diverse digits. */
  mnistScore: number;
  /** Mean of the classifier's top probability. */
  meanConfidence: number;
  /** Number of distinct predicted classes. */
  classesSeen: number;
  /** Mean L2 distance (pixels in [0, 1]) from each image to its nearest digit of a pool of 2,000 training digits. */
  nearestTrainingL2: number;
}

/** A sample-quality yardstick for MNIST generators, trained on real digits only. */
export interface MnistYardstick {
  /** One line describing the yardstick, for summary.json. */
  description: string;
  /** The classifier's accuracy on the first 1,000 test digits. */
  classifierTestAccuracy: number;
  /** The scores of those 1,000 real test digits: the ceiling. */
  realTestDigits: MnistQuality;
  /** Scores images `[n, 28, 28, 1]` in [0, 1] (the tensor is not disposed). */
  quality(images: tf.Tensor4D): MnistQuality;
  /** Frees the classifier and the nearest-neighbour pool. */
  dispose(): void;
}

/**
 * The "MNIST score" yardstick of the generative MNIST examples: the Inception score with a small
 * MLP (784-256-10, 400 Adam steps on 10,000 real training digits, fixed seeds) in place of
 * Inception, plus the classifier's confidence, the number of classes seen and the distance to the
 * nearest real training digit. A classifier score can be fooled by adversarial patterns, so look
 * at the pictures too.
 */
export async function mnistYardstick(mnistDir: { dir?: string } = {}): Promise<MnistYardstick> {
  const train = await loadMnist({ ...mnistDir, split: 'train', limit: 10_000 });
  const test = await loadMnist({ ...mnistDir, split: 'test', limit: 1000 });
  const classifier = new Sequential(new Linear(784, 256, { seed: 11 }), new ReLU(), new Linear(256, 10, { seed: 12 }));
  {
    const opt = new Adam(classifier.trainableParameters(), { lr: 1e-3 });
    const g = new Generator(13);
    const xs = stackMnist(train, train.length);
    const ys = tf.tensor1d(Int32Array.from(train.labels), 'int32');
    for (let step = 0; step < 400; step++) {
      const idx = tf.tensor1d(Int32Array.from({ length: 128 }, () => g.randint(0, train.length)), 'int32');
      const loss = opt.minimize(() => tf.tidy(() => {
        const x = tf.reshape(tf.gather(xs, idx), [128, 784]);
        const y = tf.oneHot(tf.gather(ys, idx), 10);
        return tf.losses.softmaxCrossEntropy(y, classifier.forward(x)) as tf.Scalar;
      }));
      tf.dispose([idx, loss]);
    }
    tf.dispose([xs, ys]);
    opt.dispose();
  }
  const reference = stackMnist(train, 2000); // nearest-neighbour pool
  const quality = (images: tf.Tensor4D): MnistQuality => tf.tidy(() => {
    const n = images.shape[0];
    const flat = tf.reshape(images, [n, 784]);
    const p = tf.softmax(classifier.forward(flat));
    const marginal = tf.mean(p, 0, true);
    const kl = tf.sum(tf.mul(p, tf.sub(tf.log(tf.add(p, 1e-12)), tf.log(tf.add(marginal, 1e-12)))), 1);
    const ref = tf.reshape(reference, [reference.shape[0], 784]);
    // ‖a − b‖² = ‖a‖² + ‖b‖² − 2a·b, nearest over the pool.
    const d2 = tf.add(tf.sub(tf.sum(tf.square(flat), 1, true), tf.mul(2, tf.matMul(flat, ref, false, true))), tf.reshape(tf.sum(tf.square(ref), 1), [1, -1]));
    const nearest = tf.sqrt(tf.relu(tf.min(d2, 1)));
    const labels = tf.argMax(p, 1).dataSync();
    return {
      mnistScore: Math.exp(tf.mean(kl).dataSync()[0]),
      meanConfidence: tf.mean(tf.max(p, 1)).dataSync()[0],
      classesSeen: new Set(labels).size,
      nearestTrainingL2: tf.mean(nearest).dataSync()[0],
    };
  });
  const testImages = stackMnist(test, test.length);
  const classifierTestAccuracy = tf.tidy(() => {
    const pred = tf.argMax(classifier.forward(tf.reshape(testImages, [test.length, 784])), 1);
    return tf.mean(tf.cast(tf.equal(pred, tf.tensor1d(Int32Array.from(test.labels), 'int32')), 'float32')).dataSync()[0];
  });
  const realTestDigits = quality(testImages);
  testImages.dispose();
  return {
    description: 'MLP 784-256-10 trained on 10,000 real training digits; MNIST score = exp(E KL(p(y|x) || p(y))) over the images scored; nearest-digit L2 over a pool of 2,000 training digits, pixels in [0, 1]',
    classifierTestAccuracy,
    realTestDigits,
    quality,
    dispose: () => {
      classifier.dispose();
      reference.dispose();
    },
  };
}
