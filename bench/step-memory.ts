// Peak tensor memory of a training step against an estimate, for the U-Net step of bench/unet-step.ts
// and the DDPM step of bench/models.ts (issue 7's target: peak ≤ 2× the estimate).
//   estimate = resident state before the step (parameters, Adam moments, EMA weights, batch)
//            + forward activations (the bytes every forward kernel newly allocates, from tf.profile of
//              the forward pass alone; aliases such as Reshape or medvae's Identity add nothing)
//            + parameter gradients.
//   peak     = tf.profile(step).peakBytes (absolute: it includes the resident state).
// Each step runs twice in the same process: with tf.variableGrads, whose backward pass (tfjs-core's
// tape.ts) keeps the gradient of every intermediate tensor and every saved forward tensor until it
// ends (peak ≈ resident + 2 × activations + gradients, printed beside it), and with medvae's
// variableGrads, which frees each of them once the backward pass is past it (what every medvae model
// trains with).
// It also times the two interleaved (paired ratio), since freeing early must not cost time.
// Run: npx tsx bench/step-memory.ts [--native false] [--rounds 8]
import * as tf from '@tensorflow/tfjs-core';
import { Adam, mse, useBackend, variableGrads } from '../src/index.js';
import { makeDdpmBenchStep, nonNullGrads, type GradsFn } from './ddpm-step.js';
import { measureBuffers } from './buffer-meter.js';
import { fmtMs, interleave, kernelsLine, loadAverage, machineLine, median } from './common.js';
import { makeBatch, makeMedvaeUNet } from './unet-contenders.js';

const MiB = 1024 * 1024;
const f = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;
const ROUNDS = process.argv.indexOf('--rounds') >= 0 ? Number(process.argv[process.argv.indexOf('--rounds') + 1]) : 8;
const NATIVE = process.argv.indexOf('--native') >= 0 && process.argv[process.argv.indexOf('--native') + 1] === 'false' ? false : 'auto';

interface Work {
  name: string;
  paramBytes: number;
  /** Forward pass only (returns the loss), run under tf.tidy for the activation count. */
  forward: () => tf.Scalar;
  step: (grads: GradsFn) => void;
}

const CONTENDERS: Array<[string, GradsFn]> = [
  ['tf.variableGrads', tf.variableGrads],
  ['medvae variableGrads', variableGrads],
];

async function measure(w: Work): Promise<void> {
  for (let i = 0; i < 2; i++) w.step(variableGrads);
  const resident = tf.memory().numBytes;
  // Forward activations = everything the forward kernels output, counted both ways: tfjs's count
  // (every output tensor, aliases such as Reshape included) and distinct new buffers (aliases
  // excluded). The modules' own tidies free much of it during an inference forward; a training
  // forward keeps what the backward pass needs, up to all of it.
  const fwd = await measureBuffers(() => tf.profile(() => tf.tidy(() => w.forward())));
  (fwd.result.result as tf.Tensor).dispose();
  const kernels = fwd.result.kernels.length;
  const activations = fwd.result.kernels.reduce((s, k) => s + Math.max(0, k.bytesAdded), 0);
  const activationBuffers = fwd.allocated;
  const estimate = resident + activations + w.paramBytes;
  const estimateBuffers = resident + activationBuffers + w.paramBytes;
  console.log(`\n## ${w.name}`);
  console.log(`resident before the step (parameters ${f(w.paramBytes)}, optimizer/EMA state, batch): ${f(resident)}`);
  console.log(`forward: ${kernels} kernels; activations ${f(activations)} as tfjs counts them (every output tensor), ${f(activationBuffers)} in distinct buffers`);
  console.log(`estimate = resident + activations + parameter gradients = ${f(resident)} + ${f(activations)} + ${f(w.paramBytes)} = ${f(estimate)} (buffers: ${f(estimateBuffers)})`);
  console.log(`tfjs-core's pattern (saved activations + every intermediate gradient kept to the end): resident + 2 × activations + parameter gradients = ${f(resident + 2 * activations + w.paramBytes)}`);
  console.log('| gradients | peak, tfjs count (tf.profile peakBytes) | / estimate | peak, distinct buffers | / estimate (buffers) | resident after |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [name, grads] of CONTENDERS) {
    const buffers = await measureBuffers(() =>
      tf.profile(() => {
        w.step(grads);
        return [];
      }),
    );
    const peak = buffers.result.peakBytes;
    const bufferPeak = resident + buffers.peak;
    const after = tf.memory().numBytes;
    console.log(`| ${name} | ${f(peak)} | ${(peak / estimate).toFixed(2)} | ${f(bufferPeak)} | ${(bufferPeak / estimateBuffers).toFixed(2)} | ${f(after)} |`);
  }
  // Freeing early must not cost time: interleaved steps, order swapped every round, paired ratio.
  const [a, b] = CONTENDERS.map(([name, grads]) => ({ name, step: () => w.step(grads) }));
  const times = await interleave([a, b], { rounds: ROUNDS, order: (r) => (r % 2 === 0 ? [a, b] : [b, a]) });
  const ta = times.get(a.name) ?? [];
  const tb = times.get(b.name) ?? [];
  const paired = median(tb.map((t, i) => t / ta[i]));
  console.log(`step time over ${ta.length} interleaved rounds: ${a.name} ${fmtMs(median(ta))} ms, ${b.name} ${fmtMs(median(tb))} ms; paired ratio ${b.name} / ${a.name} = ${paired.toFixed(3)}`);
}

async function main(): Promise<void> {
  await useBackend('wasm', { native: NATIVE });
  console.log(`peak tensor bytes of a training step vs resident + activations + gradients; ${machineLine()}`);
  console.log(kernelsLine());

  // U-Net step of bench/unet-step.ts.
  const net = makeMedvaeUNet();
  const batch = makeBatch(16, 64);
  const params = net.trainableParameters();
  const adam = new Adam(params, { lr: 1e-3 });
  const pb = params.reduce((s, p) => s + 4 * p.size, 0);
  await measure({
    name: 'U-Net step (batch 16, 1×64×64, 16/32/64/128, MSE + Adam)',
    paramBytes: pb,
    forward: () => mse(net.forward(batch.x), batch.y) as tf.Scalar,
    step: (gradsFn) => {
      const { value, grads: g } = gradsFn(() => mse(net.forward(batch.x), batch.y) as tf.Scalar, params);
      const grads = nonNullGrads(g);
      adam.step(grads);
      tf.dispose(grads);
      value.dataSync();
      value.dispose();
    },
  });
  adam.dispose();
  net.dispose();
  tf.dispose([batch.x, batch.y]);

  // DDPM step of bench/models.ts.
  const ddpmBench = makeDdpmBenchStep();
  await measure({
    name: 'DDPM step (DiffusionUNet 32/64/128 + attention, batch 16×32×32×1, ε-MSE, clip 1, Adam, EMA)',
    paramBytes: ddpmBench.params.reduce((s, p) => s + 4 * p.size, 0),
    forward: ddpmBench.forward,
    step: ddpmBench.step,
  });
  ddpmBench.dispose();
  console.log(`\nload average at end ${loadAverage()}`);
}

await main();
