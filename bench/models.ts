// Model-level benchmarks on wasm: UNetSegmenter.predict throughput and peak memory at 128×128 (vs a
// parameters + activations estimate), a VAE training step on an MNIST-shaped batch of 128, a DDPM
// training step and DDIM-50 sampling of 16 images.
// Run: npx tsx bench/models.ts [--rounds N]
import * as tf from '@tensorflow/tfjs-core';
import { Adam, UNetSegmenter, useBackend, VAE } from '../src/index.js';
import { makeDdpmBenchStep } from './ddpm-step.js';
import { vaeBenchStep } from './vae-step.js';
import { fmtMs, interleave, kernelsLine, loadAverage, machineLine, median, printTable } from './common.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROUNDS = arg('rounds', 6);
const MiB = 1024 * 1024;
const fmtMiB = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
/** Peak resident set size of this process so far (Node reports KiB). */
const maxRssBytes = (): number => process.resourceUsage().maxRSS * 1024;

/**
 * Activation elements per image (in units of H·W at full resolution) that `UNet.forward` keeps alive
 * until it returns: its one `tf.tidy` holds every block output (encoder double-convs, pools,
 * upsampling outputs, skip concatenations, decoder double-convs, head), while each block's own tidy
 * frees its internals. Level l has (H·W)/4^l pixels.
 */
function retainedPerPixel(channels: number[], numClasses: number): number {
  const L = channels.length;
  let s = 0;
  for (let l = 0; l < L; l++) s += channels[l] / 4 ** l; // encoder outputs
  for (let l = 1; l < L; l++) s += channels[l - 1] / 4 ** l; // max-pool outputs
  for (let l = 0; l < L - 1; l++) s += (channels[l] + 2 * channels[l] + channels[l]) / 4 ** l; // up, concat, decoder
  return s + numClasses; // head logits
}

/**
 * The transient peak inside the largest block (a top-level decoder double-conv in eval mode): its
 * input concat is counted above; its first conv unit's conv output, batch-norm output and ReLU
 * output, then the second unit's three: at most 2·3·c₀ per pixel while the block runs (an upper bound).
 */
const transientPerPixel = (channels: number[]): number => 6 * channels[0];

async function predictSection(): Promise<void> {
  const size = 128;
  const n = 32;
  const channels = [16, 32, 64, 128];
  const numClasses = 2;
  const model = new UNetSegmenter({ inChannels: 1, numClasses, channels, seed: 0 });
  const params = model.trainableParameters().reduce((s, p) => s + p.size, 0);
  const buffers = Object.values(model.stateDict()).reduce((s, t) => s + t.size, 0) - params;
  const images = tf.randomUniform([n, size, size, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const batchSizes = [1, 8, 32];
  const run = (b: number) => (): void => {
    model.predict(images, { batchSize: b }).dispose();
  };
  const rssBefore = maxRssBytes();
  const bytesBefore = tf.memory().numBytes;
  const times = await interleave(batchSizes.map((b) => ({ name: String(b), step: run(b) })), { rounds: ROUNDS, warmup: 1 });
  const peaks = new Map<number, number>();
  for (const b of batchSizes) {
    const info = await tf.profile(() => model.predict(images, { batchSize: b }));
    info.result instanceof tf.Tensor && info.result.dispose();
    peaks.set(b, info.peakBytes);
  }
  console.log(`\n## UNetSegmenter.predict: ${n} images 1×${size}×${size}, channels ${channels.join('/')}, batch norm, ${numClasses} classes, ${params.toLocaleString('en')} parameters (+${buffers} buffer values)`);
  console.log(`images/s from the median of ${ROUNDS} interleaved runs per predict batch size; peak tensor memory from tf.profile (peakBytes) of one more run`);
  console.log('estimate = 4 bytes × (P + buffers + n·H·W·(1 input + K probabilities) + n·H·W int32 labels + b·H·W·(S + T))');
  console.log(`  S = ${retainedPerPixel(channels, numClasses).toFixed(3)} (block outputs UNet.forward keeps until it returns: Σ_l c_l/4^l + Σ_l c_(l-1)/4^l + Σ_l 4c_l/4^l + K), T = 6·c0 = ${transientPerPixel(channels)} (transients inside the top decoder block)`);
  const hw = size * size;
  const rows = batchSizes.map((b) => {
    const med = median(times.get(String(b))!);
    const estimate = 4 * (params + buffers + n * hw * (1 + numClasses) + n * hw + Math.min(b, n) * hw * (retainedPerPixel(channels, numClasses) + transientPerPixel(channels)));
    const peak = peaks.get(b)!;
    return [String(b), fmtMs(med), (n / (med / 1000)).toFixed(1), fmtMiB(peak), fmtMiB(estimate), (peak / estimate).toFixed(2)];
  });
  printTable(['predict batchSize b', 'ms per 32 images', 'images/s', 'peak tensor bytes', 'estimate', 'peak / estimate'], rows);
  console.log(`tf.memory().numBytes: ${fmtMiB(bytesBefore)} before, ${fmtMiB(tf.memory().numBytes)} after (images and weights stay); process peak RSS ${fmtMiB(rssBefore)} before this section, ${fmtMiB(maxRssBytes())} after (the wasm heap grows to the largest working set and never shrinks)`);
  images.dispose();
  model.dispose();
}

async function trainingSection(): Promise<void> {
  // VAE on an MNIST-shaped batch: 128 binary 28×28 images, conv encoder/decoder (32/64), latent 128.
  const vae = new VAE({ inChannels: 1, imageSize: [28, 28], latentDim: 128, architecture: 'conv', seed: 0 });
  const vaeParams = vae.trainableParameters();
  const vaeAdam = new Adam(vaeParams, { lr: 1e-3 });
  const mnistLike = tf.tidy(() => tf.round(tf.randomUniform([128, 28, 28, 1], 0, 1, 'float32', 4))) as tf.Tensor4D;
  const vaeStep = vaeBenchStep(vae, vaeParams, vaeAdam, mnistLike);

  // DDPM: the training step of bench/ddpm-step.ts (as DDPM.fit does it).
  const ddpmBench = makeDdpmBenchStep();
  const { ddpm, params: ddpmParams } = ddpmBench;
  const ddpmStep = (): void => ddpmBench.step();

  const contenders = [
    { name: 'VAE step', step: vaeStep },
    { name: 'DDPM step', step: ddpmStep },
  ];
  let tensorsAfterFirst = 0;
  const times = await interleave(contenders, { rounds: ROUNDS, warmup: 2, onRound: (r) => { if (r === 0) tensorsAfterFirst = tf.memory().numTensors; } });
  const tensorsAfter = tf.memory().numTensors;
  const peaks = new Map<string, number>();
  for (const c of contenders) peaks.set(c.name, (await tf.profile(() => { c.step(); return []; })).peakBytes);

  // DDIM-50: one short warm-up run, then timed runs (each is 50 forward passes of 16 images).
  (await ddpm.sample(16, { sampler: 'ddim', numInferenceSteps: 2, seed: 0 })).dispose();
  const samplingRuns = 2;
  const sampling: number[] = [];
  let samplePeak = 0;
  for (let i = 0; i < samplingRuns; i++) {
    const t0 = performance.now();
    const info = await tf.profile(async () => ddpm.sample(16, { sampler: 'ddim', numInferenceSteps: 50, seed: i }));
    sampling.push(performance.now() - t0);
    (info.result as tf.Tensor).dispose();
    samplePeak = Math.max(samplePeak, info.peakBytes);
  }

  const count = (vs: tf.Variable[]): string => vs.reduce((s, v) => s + v.size, 0).toLocaleString('en');
  console.log(`\n## Training steps (median of ${ROUNDS} interleaved steps after 2 warm-up steps each) and DDIM sampling (${samplingRuns} runs, profiled)`);
  const vaeMs = median(times.get('VAE step')!);
  const ddpmMs = median(times.get('DDPM step')!);
  printTable(['workload', 'parameters', 'median ms', 'min ms', 'throughput', 'peak tensor bytes'], [
    ['VAE step: conv 32/64, latent 128, batch 128×28×28×1, Bernoulli ELBO + Adam', count(vaeParams), fmtMs(vaeMs), fmtMs(Math.min(...times.get('VAE step')!)), `${(128 / (vaeMs / 1000)).toFixed(0)} images/s`, fmtMiB(peaks.get('VAE step')!)],
    ['DDPM step: UNet 32/64/128 + attention, batch 16×32×32×1, ε-MSE, clip, Adam, EMA', count(ddpmParams), fmtMs(ddpmMs), fmtMs(Math.min(...times.get('DDPM step')!)), `${(16 / (ddpmMs / 1000)).toFixed(1)} images/s`, fmtMiB(peaks.get('DDPM step')!)],
    ['DDIM-50 sampling of 16 images 32×32 (50 network evaluations)', count(ddpmParams), fmtMs(median(sampling)), fmtMs(Math.min(...sampling)), `${(16 / (median(sampling) / 1000)).toFixed(2)} images/s, ${fmtMs(median(sampling) / 50)} ms/eval`, fmtMiB(samplePeak)],
  ]);
  console.log(`live tensors: ${tensorsAfterFirst} after the first timed round, ${tensorsAfter} after the last`);
  mnistLike.dispose();
  vaeAdam.dispose();
  vae.dispose();
  ddpmBench.dispose();
}

async function main(): Promise<void> {
  const started = performance.now();
  await useBackend('wasm');
  console.log(`medvae model benchmarks on wasm (1 thread); ${machineLine()}`);
  console.log(kernelsLine());
  // predict first, so that the process's peak RSS after it is that of inference alone.
  await predictSection();
  await trainingSection();
  console.log(`\nTotal time ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end ${loadAverage()}.`);
}

await main();
