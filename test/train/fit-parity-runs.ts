// The short fits whose results test/train/fit-parity.test.ts compares with the fixture written by
// test/fixtures/train/gen_fit_parity.ts (same runs, before the shared training engine).
import * as tf from '@tensorflow/tfjs-core';
import {
  AdversarialSegmenter, ArrayDataset, DCGAN, DDPM, Generator, LatentClassifier, UNetSegmenter, VAE, VAEGAN, imageArray,
  useBackend, type AnyModule, type EpochRecord, type Sample,
} from '../../src/index.js';
import { discs } from '../helpers/discs.js';

/** One model's result: per-epoch train/val logs and sum / sum of squares of every state tensor. */
export interface ParityRun {
  history: Array<{ train: Record<string, number>; val: Record<string, number> }>;
  weights: Record<string, [number, number]>;
}

function fingerprint(m: AnyModule): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const [k, v] of Object.entries(m.stateDict())) {
    const d = v.dataSync();
    let s = 0;
    let q = 0;
    for (const x of d) {
      s += x;
      q += x * x;
    }
    out[k] = [s, q];
  }
  return out;
}

const strip = (h: EpochRecord[]) => h.map((r) => ({ train: r.train, val: r.val }));

function blobs(n: number, seed: number, size = 8): Sample[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, (_, i) => {
    const img = Float32Array.from({ length: size * size }, () => (g.random() < 0.4 ? 1 : 0));
    return { image: imageArray(img, [size, size]), label: i % 2 };
  });
}

/** Runs every model's short fit (cpu backend) and returns the results by model name. */
export async function fitParityRuns(): Promise<Record<string, ParityRun>> {
  await useBackend('cpu');
  const out: Record<string, ParityRun> = {};
  const seg = new ArrayDataset(discs(6, 16, 3));
  const segVal = new ArrayDataset(discs(3, 16, 4));
  const bin = new ArrayDataset(blobs(6, 1));
  const quiet = { onProgress: 'none' as const };

  const unet = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 0 });
  let r = await unet.fit(seg, { epochs: 2, batchSize: 3, lr: 1e-2, clipGradNorm: 0.5, lrSchedule: (s) => 1e-2 / (1 + s), validation: segVal, validationMetrics: ['dice', 'hd95'], ...quiet });
  out.UNetSegmenter = { history: strip(r.history), weights: fingerprint(unet) };
  unet.dispose();

  const adv = new AdversarialSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], discriminatorChannels: [4, 8], seed: 1 });
  r = await adv.fit(seg, { epochs: 2, batchSize: 3, lr: 1e-2, warmupEpochs: 1, realMaskEncoding: 'scaling', validation: segVal, ...quiet });
  out.AdversarialSegmenter = { history: strip(r.history), weights: fingerprint(adv) };
  adv.dispose();

  const vae = new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 3, channels: [4, 8], seed: 2 });
  r = await vae.fit(bin, { epochs: 2, batchSize: 3, lr: 1e-2, clipGradNorm: 5, validation: bin, ...quiet });
  out.VAE = { history: strip(r.history), weights: fingerprint(vae) };

  const clf = new LatentClassifier(vae, { numClasses: 2, standardize: true, seed: 3 });
  r = await clf.fit(bin, { epochs: 2, batchSize: 3, lr: 1e-2, validation: bin, ...quiet });
  out.LatentClassifier = { history: strip(r.history), weights: fingerprint(clf) };
  clf.dispose();

  const vg = new VAEGAN({ inChannels: 1, imageSize: [8, 8], latentDim: 3, channels: [4, 8], discriminatorChannels: [4, 8], seed: 4 });
  r = await vg.fit(bin, { epochs: 2, batchSize: 3, lr: 1e-2, balance: true, validation: bin, ...quiet });
  out.VAEGAN = { history: strip(r.history), weights: fingerprint(vg) };
  vg.dispose();

  const gan = new DCGAN({ latentDim: 4, imageSize: 8, imageChannels: 1, generatorChannels: [8, 4], discriminatorChannels: [4, 8], seed: 5 });
  r = await gan.fit(bin, { epochs: 2, batchSize: 3, lr: 1e-3, ...quiet });
  out.DCGAN = { history: strip(r.history), weights: fingerprint(gan) };
  gan.dispose();

  const ddpm = new DDPM({ inChannels: 1, channels: [4, 8], layersPerBlock: 1, numTrainTimesteps: 20, sampleSize: 8, normNumGroups: 4, seed: 6 });
  r = await ddpm.fit(bin, { epochs: 2, batchSize: 3, lr: 1e-3, emaDecay: 0.9, ...quiet });
  out.DDPM = { history: strip(r.history), weights: fingerprint(ddpm) };
  ddpm.dispose();
  tf.disposeVariables();
  return out;
}
