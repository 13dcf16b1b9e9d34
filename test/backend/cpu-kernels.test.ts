// medvae's cpu training kernels (src/backend/cpu/) against the stock tfjs-backend-cpu kernels they
// replace: every case runs the same kernel with and without medvae's, on the same inputs.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CPU_TRAINING_KERNELS,
  cpuTrainingKernelsRegistered,
  isMedvaeKernel,
  MaxPool2d,
  registerCpuTrainingKernels,
  unregisterCpuTrainingKernels,
  useBackend,
} from '../../src/index.js';
import { expectClose } from '../helpers/tf.js';
import {
  convCases,
  convFilterGrad,
  convOutShape,
  data,
  describeConvCase,
  describePoolCase,
  maxPoolGrad,
  poolCases,
  poolData,
  poolOutShape,
  t,
} from './kernel-cases.js';

/** Runs `f` and returns its output as plain data (the tensor is disposed). */
function run(f: () => tf.Tensor): { shape: number[]; values: Float32Array } {
  const out = f();
  const result = { shape: out.shape, values: out.dataSync() as Float32Array };
  out.dispose();
  return result;
}

/** Asserts that `f` gives the same result with medvae's cpu kernels as with the stock ones: 1e-5 relative, atol 1e-6·max|ref|. */
function expectMatchesStock(f: () => tf.Tensor, what: string): void {
  unregisterCpuTrainingKernels();
  let ref: ReturnType<typeof run>;
  try {
    ref = run(f);
  } finally {
    registerCpuTrainingKernels();
  }
  expect(cpuTrainingKernelsRegistered()).toBe(true);
  const got = run(f);
  expect(got.shape, `${what}: shape`).toEqual(ref.shape);
  const scale = ref.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expectClose(got.values, ref.values, 1e-5, 1e-6 * scale, what);
}

beforeAll(async () => {
  await useBackend('cpu');
  // Makes the engine check, after every kernel, that the backend holds no data beyond the outputs.
  tf.env().set('IS_TEST', true);
});

afterAll(() => {
  tf.env().set('IS_TEST', false);
  registerCpuTrainingKernels();
});

describe('registration', () => {
  it('useBackend("cpu") installs the kernels; unregister restores stock tfjs', async () => {
    expect(cpuTrainingKernelsRegistered()).toBe(true);
    expect([...CPU_TRAINING_KERNELS].sort()).toEqual([tf.Conv2DBackpropFilter, tf.MaxPoolGrad]);
    unregisterCpuTrainingKernels();
    for (const name of CPU_TRAINING_KERNELS) {
      expect(tf.getKernel(name, 'cpu')).toBeDefined();
      expect(isMedvaeKernel(name, 'cpu')).toBe(false);
    }
    registerCpuTrainingKernels();
    registerCpuTrainingKernels(); // idempotent
    expect(cpuTrainingKernelsRegistered()).toBe(true);
    await useBackend('cpu'); // re-activating keeps them
    expect(cpuTrainingKernelsRegistered()).toBe(true);
  });
});

describe('Conv2DBackpropFilter on cpu matches the stock kernel', () => {
  for (const c of convCases) {
    it(describeConvCase(c), () => {
      const x = data(c.x);
      const dy = data(convOutShape(c));
      expectMatchesStock(() => convFilterGrad(c, x, dy), 'filter gradient');
    });
  }

});

describe('MaxPoolGrad on cpu matches the stock kernel', () => {
  for (const c of poolCases) {
    it(describePoolCase(c), () => {
      const x = poolData(c.x, c.data);
      const dy = data(poolOutShape(c));
      expectMatchesStock(() => maxPoolGrad(c, x, dy), 'max-pool gradient');
    });
  }

  it('through MaxPool2d with padding (−∞ cells) on negative inputs', () => {
    const pool = new MaxPool2d(3, { stride: 2, padding: 1 });
    const x = poolData([2, 7, 8, 3], 'negative');
    const r = data([2, 4, 4, 3]);
    expectMatchesStock(() => tf.tidy(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(pool.forward(xx), t(r))))(t(x))), 'MaxPool2d input gradient');
  });
});

it('the kernels keep no cpu memory', () => {
  const c = convCases[6];
  const p = poolCases[5];
  const x = data(c.x);
  const dy = data(convOutShape(c));
  const px = poolData(p.x, p.data);
  const pdy = data(poolOutShape(p));
  const step = (): void => {
    convFilterGrad(c, x, dy).dispose();
    maxPoolGrad(p, px, pdy).dispose();
  };
  step();
  const tensors = tf.memory().numTensors;
  const dataIds = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) step();
  expect(tf.memory().numTensors).toBe(tensors);
  expect(tf.engine().backend.numDataIds()).toBe(dataIds);
});
