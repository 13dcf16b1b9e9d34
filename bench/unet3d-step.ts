// One training step of the 3-D U-Net the 3-D benchmark times (bench/unet3d.ts) and profiles
// (bench/unet3d-profile.ts): medvae's UNet with spatialDims 3, BatchNorm, ReLU, 2×2×2 max-pooling and
// stride-2 transposed convolutions, MONAI's DiceCE loss (softmax, one-hot targets) and Adam, gradients
// through medvae's variableGrads — the same computation bench/unet3d.py runs in PyTorch.
import * as tf from '@tensorflow/tfjs-core';
import { Adam, Generator, UNet, diceCELoss, variableGrads } from '../src/index.js';

/** Shape of one benchmark problem. */
export interface Unet3dProblem {
  batch: number;
  size: number;
  channels: readonly number[];
  classes: number;
}

/** A built model with its optimizer and a fixed batch. */
export interface Unet3dStep {
  /** Number of trainable values in the network. */
  params: number;
  /** Runs one step and returns the loss (read back, so the step has finished). */
  step: () => number;
  dispose: () => void;
}

/** Random volumes and a thresholded mask (timing only: the values do not matter), seeded. */
export function unet3dBatch(p: Unet3dProblem, seed: number): { x: Float32Array; y: Int32Array } {
  const g = new Generator(seed);
  const n = p.batch * p.size ** 3;
  const x = Float32Array.from({ length: n }, () => g.random());
  const y = Int32Array.from(x, (v) => (v < 0.4 ? 1 : 0));
  return { x, y };
}

/** Builds the network, loss and Adam for `p` on the active backend. */
export function makeUnet3dStep(p: Unet3dProblem, seed = 0): Unet3dStep {
  const net = new UNet({ inChannels: 1, outChannels: p.classes, channels: [...p.channels], norm: 'batch', spatialDims: 3, seed });
  const params = net.trainableParameters();
  const adam = new Adam(params, { lr: 1e-3 });
  const data = unet3dBatch(p, seed + 1);
  const s = p.size;
  const x = tf.tensor5d(data.x, [p.batch, s, s, s, 1]);
  const y = tf.tensor5d(data.y, [p.batch, s, s, s, 1], 'int32');
  const loss = diceCELoss({ softmax: true, toOneHot: true });
  return {
    params: params.reduce((n, v) => n + v.size, 0),
    step: () => {
      const { value, grads } = variableGrads(() => loss(net.forward(x), y) as tf.Scalar, params);
      adam.step(grads);
      tf.dispose(grads);
      const v = value.dataSync()[0];
      value.dispose();
      return v;
    },
    dispose: () => {
      adam.dispose();
      net.dispose();
      tf.dispose([x, y]);
    },
  };
}
