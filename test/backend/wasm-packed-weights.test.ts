// Pure-wasm parity (medvae's kernels, medvae-native off) against the cpu backend for the dense
// and convolution layers of the VAE-GAN discriminator and the LatentClassifier head, forward and
// gradients, on their shapes. The dense layers with one output (`[k, 1]` weights) are the case
// that broke: XNNPACK caches a packed weight matrix by storage id, and medvae's BatchMatMul fed
// it the same storage viewed as `[1, k]` for the input gradient, which was multiplied with the
// forward pass's layout (garbage, often NaN: VAE-GAN's discriminator died, the classifier's AUC
// was 0.5). Also the same trap reached through user code (a reshaped weight) and `_FusedMatMul`.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { nativeKernelsStatus } from '../../src/backend/native/native-kernels.js';
import { isMedvaeKernel } from '../../src/backend/wasm/register.js';
import { expectClose } from '../helpers/tf.js';
import { filled } from './wasm-parity.js';

beforeAll(async () => {
  await useBackend('cpu');
  await useBackend('wasm', { native: false });
});
afterAll(async () => {
  // Later files in the same worker get the default set-up back (native kernels when they load).
  await useBackend('wasm');
});

/** Runs `f` on cpu and on pure wasm; every output as plain numbers. */
async function onBoth(f: () => tf.Tensor[]): Promise<{ cpu: number[][]; wasm: number[][] }> {
  const run = (): number[][] => {
    const outs = tf.tidy(f);
    const values = outs.map((t) => Array.from(t.dataSync()));
    tf.dispose(outs);
    return values;
  };
  await tf.setBackend('cpu');
  const cpu = run();
  await tf.setBackend('wasm');
  expect(nativeKernelsStatus().active, 'native kernels must be off in this file').toBe(false);
  const wasm = run();
  return { cpu, wasm };
}

function expectSame(r: { cpu: number[][]; wasm: number[][] }, names: string[], what: string, rtol = 1e-4, atol = 1e-5): void {
  expect(r.wasm.length).toBe(r.cpu.length);
  r.cpu.forEach((c, i) => {
    expect(r.wasm[i].every(Number.isFinite), `${what}: ${names[i]} has non-finite values on wasm`).toBe(true);
    expectClose(r.wasm[i], c, rtol, atol, `${what}: ${names[i]}`);
  });
}

/**
 * A dense layer y = x·W + b with a loss weighting every output, and its three gradients, as
 * Linear's forward and tfjs's MatMul gradient compute them (forward first, so that the weights
 * are packed as `[k, n]` before the gradient uses them).
 */
function dense(batch: number, k: number, n: number, seed: number): () => tf.Tensor[] {
  return () => {
    const x = filled([batch, k], 'float32', seed);
    const w = tf.mul(filled([k, n], 'float32', seed + 1), 1 / Math.sqrt(k));
    const b = filled([n], 'float32', seed + 2);
    const r = filled([batch, n], 'float32', seed + 3);
    const f = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor): tf.Tensor => tf.sum(tf.mul(tf.add(tf.matMul(xi, wi), bi), r));
    const y = tf.add(tf.matMul(x, w), b);
    return [y, ...tf.grads(f)([x, w, b])];
  };
}

describe('dense layers of the LatentClassifier head and the VAE-GAN discriminator, pure wasm vs cpu', () => {
  it("medvae's BatchMatMul and _FusedMatMul are registered (native kernels off)", () => {
    expect(isMedvaeKernel(tf.BatchMatMul, 'wasm')).toBe(true);
    expect(isMedvaeKernel(tf._FusedMatMul, 'wasm')).toBe(true);
  });

  const cases: Array<[string, number, number, number]> = [
    ['classifier hidden Linear(32, 32), batch 32', 32, 32, 32],
    ['classifier output Linear(32, 1), batch 32', 32, 32, 1],
    ['classifier output Linear(32, 1), last batch of 5', 5, 32, 1],
    ['classifier output Linear(32, 2)', 16, 32, 2],
    ['discriminator head Linear(32·7·7, 1), batch 128 (--quick)', 128, 1568, 1],
    ['discriminator head Linear(64·7·7, 1), batch 64', 64, 3136, 1],
    ['a [1, k] weight: Linear(1, 32)', 16, 1, 32],
  ];
  for (const [what, batch, k, n] of cases) {
    it(`${what}: output and gradients of x, W, b`, async () => {
      expectSame(await onBoth(dense(batch, k, n, 7)), ['y', 'dx', 'dW', 'db'], what);
    });
  }

  it('ten Adam steps of a two-layer head (32 → 32 → 1) give the losses of cpu', async () => {
    const losses = async (backend: 'cpu' | 'wasm'): Promise<number[]> => {
      await tf.setBackend(backend);
      const x = filled([32, 32], 'float32', 3);
      const y = tf.cast(tf.greater(filled([32, 1], 'float32', 4), 0), 'float32');
      const w1 = tf.variable(tf.mul(filled([32, 32], 'float32', 5), 0.2));
      const w2 = tf.variable(tf.mul(filled([32, 1], 'float32', 6), 0.2));
      const opt = tf.train.adam(1e-2);
      const out: number[] = [];
      for (let i = 0; i < 10; i++) {
        const loss = opt.minimize(() => tf.losses.sigmoidCrossEntropy(y, tf.matMul(tf.relu(tf.matMul(x, w1)), w2)) as tf.Scalar, true, [w1, w2]);
        out.push((loss as tf.Scalar).dataSync()[0]);
        loss?.dispose();
      }
      tf.dispose([x, y, w1, w2]);
      opt.dispose();
      return out;
    };
    const cpu = await losses('cpu');
    const wasm = await losses('wasm');
    expectClose(wasm, cpu, 1e-4, 1e-6, 'loss per step');
  });
});

describe('a weight matrix reused with another shape (the trap through any route)', () => {
  it('matMul with W [32, 1], then with the same data reshaped to [1, 32]', async () => {
    const r = await onBoth(() => {
      const w = filled([32, 1], 'float32', 2);
      return [tf.matMul(filled([4, 32], 'float32', 1), w), tf.matMul(filled([4, 1], 'float32', 5), tf.reshape(w, [1, 32]))];
    });
    expectSame(r, ['x·W', 'x·reshape(W)'], 'reshaped weights');
  });

  it('fused matMul (bias + relu) with W [8, 4], then with the same data as [4, 8]', async () => {
    const r = await onBoth(() => {
      const w = filled([8, 4], 'float32', 2);
      const first = tf.fused.matMul({ a: filled([3, 8], 'float32', 1), b: w as tf.Tensor2D, bias: filled([4], 'float32', 3), activation: 'relu' });
      const second = tf.fused.matMul({ a: filled([3, 4], 'float32', 4), b: tf.reshape(w, [4, 8]) as tf.Tensor2D, bias: filled([8], 'float32', 5), activation: 'relu' });
      return [first, second, tf.matMul(filled([3, 4], 'float32', 6), tf.reshape(w, [4, 8]))];
    });
    expectSame(r, ['fused x·W', 'fused x·reshape(W)', 'x·reshape(W)'], 'fused reshaped weights');
  });

  it('leaves no tensor and no data behind', async () => {
    await tf.setBackend('wasm');
    const f = dense(8, 16, 1, 9);
    tf.dispose(tf.tidy(f));
    const tensors = tf.memory().numTensors;
    const ids = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) tf.dispose(tf.tidy(f));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(ids);
  });
});

describe('convolution blocks of the VAE-GAN discriminator (3×3, stride 2, padding 1, LeakyReLU 0.2), pure wasm vs cpu', () => {
  const convCases: Array<[string, [number, number, number, number], number]> = [
    ['first block 28×28×1 → 14×14×16', [8, 28, 28, 1], 16],
    ['second block 14×14×16 → 7×7×32', [8, 14, 14, 16], 32],
  ];
  for (const [what, shape, cout] of convCases) {
    it(`${what}: output and gradients of x, filter, bias`, async () => {
      const r = await onBoth(() => {
        const x = filled(shape, 'float32', 1);
        const w = tf.mul(filled([3, 3, shape[3], cout], 'float32', 2), 1 / Math.sqrt(9 * shape[3]));
        const b = filled([cout], 'float32', 3);
        const pads = [[0, 0], [1, 1], [1, 1], [0, 0]] as Array<[number, number]>;
        const block = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor): tf.Tensor =>
          tf.leakyRelu(tf.add(tf.conv2d(tf.pad(xi, pads) as tf.Tensor4D, wi as tf.Tensor4D, 2, 'valid'), bi), 0.2);
        const rw = filled([shape[0], Math.ceil(shape[1] / 2), Math.ceil(shape[2] / 2), cout], 'float32', 4);
        return [block(x, w, b), ...tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(block(xi, wi, bi), rw)))([x, w, b])];
      });
      expectSame(r, ['y', 'dx', 'dFilter', 'dBias'], what, 1e-4, 1e-4);
    });
  }
});
