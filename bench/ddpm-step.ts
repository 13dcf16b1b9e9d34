// The DDPM training step the benchmarks measure (bench/models.ts for time, bench/step-memory.ts for
// memory): 16 MNIST-sized images padded to 32×32, DiffusionUNet 32/64/128 with attention at 8×8 and
// in the bottleneck; one step as DDPM.fit does it (random t and ε, MSE on ε, clip 1, Adam, EMA).
// Not part of the library.
import * as tf from '@tensorflow/tfjs-core';
import { Adam, clipGradNorm, DDPM, toDiffusionRange, variableGrads } from '../src/index.js';

/** A gradient function with tf.variableGrads' signature (medvae's `variableGrads` fits it too). */
export type GradsFn = (f: () => tf.Scalar, vars: tf.Variable[]) => { value: tf.Scalar; grads: Record<string, tf.Tensor | null> };

/** The gradients a {@link GradsFn} produced, without the null entries tf.variableGrads gives frozen variables. */
export const nonNullGrads = (grads: Record<string, tf.Tensor | null>): Record<string, tf.Tensor> =>
  Object.fromEntries(Object.entries(grads).filter((e): e is [string, tf.Tensor] => e[1] !== null));

/** The benchmark's DDPM, its optimizer state and batch, and its training step. */
export interface DdpmBenchStep {
  ddpm: DDPM;
  params: tf.Variable[];
  /** The training loss alone (no gradients), on a fresh noise draw. */
  forward: () => tf.Scalar;
  /** One training step; gradients from `grads` (default medvae's `variableGrads`). */
  step: (grads?: GradsFn) => void;
  dispose: () => void;
}

/** Builds the model, Adam (lr 1e-4), EMA (0.999) and the batch; every step draws new t and ε. */
export function makeDdpmBenchStep(): DdpmBenchStep {
  const ddpm = new DDPM({ inChannels: 1, channels: [32, 64, 128], attentionLevels: [2], sampleSize: 32, seed: 0 });
  const params = ddpm.unet.trainableParameters();
  const adam = new Adam(params, { lr: 1e-4 });
  const ema = ddpm.enableEma({ decay: 0.999 });
  const x01 = tf.randomUniform([16, 32, 32, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
  let seed = 0;
  return {
    ddpm,
    params,
    forward: () => {
      const x0 = toDiffusionRange(x01);
      const loss = ddpm.trainingLoss(x0, { seed: seed++ });
      x0.dispose();
      return loss;
    },
    step: (grads: GradsFn = variableGrads) => {
      const x0 = toDiffusionRange(x01);
      const { value, grads: g } = grads(() => ddpm.trainingLoss(x0, { seed: seed++ }), params);
      x0.dispose();
      const clipped = clipGradNorm(nonNullGrads(g), 1).grads;
      adam.step(clipped);
      tf.dispose(clipped);
      ema.update();
      value.dataSync();
      value.dispose();
    },
    dispose: () => {
      x01.dispose();
      adam.dispose();
      ddpm.dispose();
    },
  };
}
