// Peak tensor memory of a training step against an estimate, for the U-Net step of bench/unet-step.ts
// and the DDPM step of bench/models.ts (issue 7's target: peak ≤ 2× the estimate).
//   estimate = resident state before the step (parameters, Adam moments, EMA weights, batch)
//            + forward activations (the bytes every forward kernel newly allocates, from tf.profile of
//              the forward pass alone; aliases such as Reshape or medvae's Identity add nothing)
//            + parameter gradients.
//   peak     = tf.profile(step).peakBytes (absolute: it includes the resident state).
// tfjs-core's backward pass (tape.ts backpropagateGradients) keeps the gradient of every intermediate
// tensor until the pass ends, and the engine frees the saved forward tensors only then, so the peak
// is about resident + 2 × activations + gradients: the script prints that model beside the measurement.
// Run: npx tsx bench/step-memory.ts [--native false]
import * as tf from '@tensorflow/tfjs-core';
import { Adam, clipGradNorm, DDPM, mse, toDiffusionRange, useBackend } from '../src/index.js';
import { kernelsLine, loadAverage, machineLine } from './common.js';
import { makeBatch, makeMedvaeUNet } from './unet-contenders.js';

const MiB = 1024 * 1024;
const f = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;
const NATIVE = process.argv.indexOf('--native') >= 0 && process.argv[process.argv.indexOf('--native') + 1] === 'false' ? false : 'auto';

interface Work {
  name: string;
  paramBytes: number;
  /** Forward pass only (returns the loss), run under tf.tidy for the activation count. */
  forward: () => tf.Scalar;
  step: () => void;
}

async function measure(w: Work): Promise<void> {
  for (let i = 0; i < 2; i++) w.step();
  const resident = tf.memory().numBytes;
  // Forward activations: every forward kernel's newly allocated output bytes (aliases add 0).
  const fwd = await tf.profile(() => tf.tidy(() => w.forward()));
  (fwd.result as tf.Tensor).dispose();
  let activations = 0;
  let kernels = 0;
  let outputBytes = 0;
  for (const k of fwd.kernels) {
    kernels++;
    activations += Math.max(0, k.bytesAdded);
    outputBytes += k.outputShapes.reduce((s, sh) => s + 4 * sh.reduce((a, b) => a * b, 1), 0);
  }
  const step = await tf.profile(() => {
    w.step();
    return [];
  });
  const after = tf.memory().numBytes;
  const estimate = resident + activations + w.paramBytes;
  console.log(`\n## ${w.name}`);
  console.log(`resident before the step (parameters ${f(w.paramBytes)}, optimizer/EMA state, batch): ${f(resident)}; after: ${f(after)}`);
  console.log(`forward: ${kernels} kernels, new output bytes ${f(activations)} (sum of all output sizes incl. aliases ${f(outputBytes)})`);
  console.log(`estimate = resident + activations + parameter gradients = ${f(resident)} + ${f(activations)} + ${f(w.paramBytes)} = ${f(estimate)}`);
  console.log(`peak tensor bytes of the step (tf.profile peakBytes, absolute): ${f(step.peakBytes)}; peak / estimate = ${(step.peakBytes / estimate).toFixed(2)}`);
  console.log(`above resident: peak - resident = ${f(step.peakBytes - resident)} = ${((step.peakBytes - resident) / activations).toFixed(2)} × activations`);
  console.log(`tfjs-core's pattern (saved activations + every intermediate gradient kept to the end): resident + 2 × activations + parameter gradients = ${f(resident + 2 * activations + w.paramBytes)}`);
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
    step: () => {
      const { value, grads } = tf.variableGrads(() => mse(net.forward(batch.x), batch.y) as tf.Scalar, params);
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
  const ddpm = new DDPM({ inChannels: 1, channels: [32, 64, 128], attentionLevels: [2], sampleSize: 32, seed: 0 });
  const dp = ddpm.unet.trainableParameters();
  const dadam = new Adam(dp, { lr: 1e-4 });
  const ema = ddpm.enableEma({ decay: 0.999 });
  const x01 = tf.randomUniform([16, 32, 32, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
  let seed = 0;
  await measure({
    name: 'DDPM step (DiffusionUNet 32/64/128 + attention, batch 16×32×32×1, ε-MSE, clip 1, Adam, EMA)',
    paramBytes: dp.reduce((s, p) => s + 4 * p.size, 0),
    forward: () => {
      const x0 = toDiffusionRange(x01);
      return ddpm.trainingLoss(x0, { generator: seed++ });
    },
    step: () => {
      const x0 = toDiffusionRange(x01);
      const { value, grads } = tf.variableGrads(() => ddpm.trainingLoss(x0, { generator: seed++ }), dp);
      x0.dispose();
      const clipped = clipGradNorm(grads, 1).grads;
      dadam.step(clipped);
      tf.dispose(clipped);
      ema.update();
      value.dataSync();
      value.dispose();
    },
  });
  console.log(`\nload average at end ${loadAverage()}`);
}

await main();
