// Training acceptance test for the wasm backend: with medvae's kernels, a small conv net built
// from medvae's layers trains on wasm exactly as on the cpu reference, without leaking tensors.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv2d, ConvTranspose2d, Generator, Linear, MaxPool2d, Module, useBackend } from '../../src/index.js';
import { expectClose, expectNoLeak } from '../helpers/tf.js';

/** conv → max-pool → strided conv → transposed conv → dense: every training kernel medvae adds. */
class TinyNet extends Module<tf.Tensor, tf.Tensor> {
  readonly conv1: Conv2d;
  readonly pool: MaxPool2d;
  readonly conv2: Conv2d;
  readonly up: ConvTranspose2d;
  readonly head: Linear;

  constructor(seed: number) {
    super();
    const gen = new Generator(seed);
    this.conv1 = this.registerModule('conv1', new Conv2d(1, 8, 3, { padding: 1, seed: gen }));
    this.pool = this.registerModule('pool', new MaxPool2d(2));
    this.conv2 = this.registerModule('conv2', new Conv2d(8, 16, 3, { stride: 2, padding: 1, seed: gen }));
    this.up = this.registerModule('up', new ConvTranspose2d(16, 8, 2, { stride: 2, seed: gen }));
    this.head = this.registerModule('head', new Linear(8 * 8 * 8, 3, { seed: gen }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h1 = this.pool.forward(tf.relu(this.conv1.forward(x))); // [n, 8, 8, 8]
      const h2 = tf.relu(this.conv2.forward(h1)); // [n, 4, 4, 16]
      const h3 = tf.relu(this.up.forward(h2)); // [n, 8, 8, 8]
      return this.head.forward(tf.reshape(h3, [x.shape[0], -1]));
    });
  }
}

const gen = new Generator(99);
const inputs = gen.normalArray(4 * 16 * 16);
const targets = gen.normalArray(4 * 3);

/** Builds the net and its data on `backend` and returns a function running one Adam step. */
async function trainer(backend: 'cpu' | 'wasm'): Promise<{ step: () => number; dispose: () => void }> {
  await tf.setBackend(backend);
  const net = new TinyNet(5);
  const x = tf.tensor4d(inputs, [4, 16, 16, 1]);
  const y = tf.tensor2d(targets, [4, 3]);
  const optimizer = tf.train.adam(1e-2);
  const step = (): number => {
    const loss = optimizer.minimize(() => tf.mean(tf.square(tf.sub(net.forward(x), y))) as tf.Scalar, true, net.trainableParameters());
    const value = (loss as tf.Scalar).dataSync()[0];
    loss?.dispose();
    return value;
  };
  const dispose = (): void => {
    tf.dispose([x, y]);
    net.dispose();
    optimizer.dispose();
  };
  return { step, dispose };
}

beforeAll(async () => {
  await useBackend('cpu');
  await useBackend('wasm');
});

describe('training on wasm with medvae kernels', () => {
  it('A small conv net trains for 20 steps on wasm and on cpu, same seed, losses equal to 1e-4', async () => {
    const losses: Record<'cpu' | 'wasm', number[]> = { cpu: [], wasm: [] };
    for (const backend of ['cpu', 'wasm'] as const) {
      const run = await trainer(backend);
      for (let i = 0; i < 20; i++) losses[backend].push(run.step());
      run.dispose();
    }
    expectClose(losses.wasm, losses.cpu, 1e-4, 1e-6, 'loss per step');
    // It does learn: the loss falls well below where it started.
    expect(losses.wasm[19]).toBeLessThan(0.5 * losses.wasm[0]);
  });

  it('`tf.memory().numTensors` is the same before and after 50 training steps', async () => {
    const run = await trainer('wasm');
    const dataIds = (): number => tf.engine().backend.numDataIds();
    run.step(); // the first step creates Adam's moment slots
    const before = dataIds();
    await expectNoLeak(() => run.step(), 50);
    expect(dataIds()).toBe(before);
    run.dispose();
  });
});
