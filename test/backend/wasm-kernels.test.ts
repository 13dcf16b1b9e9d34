// medvae's wasm training kernels (src/backend/wasm/) against tfjs's cpu backend, the reference:
// every case runs the same kernel on both backends with the same inputs.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conv2d, MaxPool2d, registerCpuTrainingKernels, unregisterCpuTrainingKernels, useBackend } from '../../src/index.js';
import { BATCHED_FAST_PATH_MIN_MACS, BATCHED_FAST_PATH_MIN_ROWS } from '../../src/backend/wasm/batch-mat-mul.js';
import {
  isMedvaeKernel,
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
  wasmTrainingKernelsRegistered,
} from '../../src/backend/wasm/register.js';
import { expectClose } from '../helpers/tf.js';
import {
  convCases,
  convFilterGrad,
  convInputGrad,
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

interface Result {
  shape: number[];
  values: Float32Array;
}

/** Runs `f` on `backend` and returns its output as plain data (the tensor is disposed). */
async function runOn(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<Result> {
  await tf.setBackend(backend);
  const out = f();
  const result = { shape: out.shape, values: out.dataSync() as Float32Array };
  out.dispose();
  return result;
}

/**
 * Asserts that `f` gives the same result on wasm as on the cpu reference (stock tfjs-backend-cpu:
 * medvae's cpu kernels are unregistered in this file, so the reference stays independent):
 * 1e-5 relative, atol 1e-6·max|ref|.
 */
async function expectWasmMatchesCpu(f: () => tf.Tensor, what: string): Promise<void> {
  const ref = await runOn('cpu', f);
  const got = await runOn('wasm', f);
  expect(got.shape, `${what}: shape`).toEqual(ref.shape);
  const scale = ref.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expectClose(got.values, ref.values, 1e-5, 1e-6 * scale, what);
}

beforeAll(async () => {
  await useBackend('cpu');
  unregisterCpuTrainingKernels();
  // medvae's pure-wasm kernels are under test here (the native ones: native-kernels.test.ts).
  await useBackend('wasm', { native: false });
  // Makes the engine check, after every kernel, that the backend holds no data beyond the outputs.
  tf.env().set('IS_TEST', true);
});

afterAll(() => {
  tf.env().set('IS_TEST', false);
  registerWasmTrainingKernels();
  registerCpuTrainingKernels();
});

describe('registration', () => {
  it('useBackend("wasm") installs all four kernels; unregister restores stock tfjs', async () => {
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    for (const name of WASM_TRAINING_KERNELS) expect(isMedvaeKernel(name, 'wasm')).toBe(true);
    expect(WASM_TRAINING_KERNELS).toContain(tf.MaxPoolGrad);
    unregisterWasmTrainingKernels();
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBeUndefined();
    for (const name of [tf.Conv2DBackpropInput, tf.BatchMatMul, tf.MaxPoolGrad]) {
      expect(tf.getKernel(name, 'wasm')).toBeDefined();
      expect(isMedvaeKernel(name, 'wasm')).toBe(false);
    }
    // The stock kernels put back still work.
    await expectWasmMatchesCpu(() => tf.matMul(tf.ones([3, 4]), tf.ones([5, 4]), false, true), 'stock BatchMatMul');
    registerWasmTrainingKernels();
    registerWasmTrainingKernels(); // idempotent
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    await useBackend('wasm', { native: false }); // re-initialising keeps them
    expect(wasmTrainingKernelsRegistered()).toBe(true);
  });
});

describe('Conv2DBackpropFilter and Conv2DBackpropInput on wasm match cpu', () => {
  for (const c of convCases) {
    it(describeConvCase(c), async () => {
      const x = data(c.x);
      const w = data(c.w);
      const dy = data(convOutShape(c));
      await expectWasmMatchesCpu(() => convFilterGrad(c, x, dy), 'filter gradient');
      await expectWasmMatchesCpu(() => convInputGrad(c, dy, w), 'input gradient');
    });
  }

  it('keep no wasm memory: same tensors and data ids after repeated calls', async () => {
    await tf.setBackend('wasm');
    const c = convCases[6];
    const x = t(data(c.x));
    const w = t(data(c.w));
    const dy = t(data(convOutShape(c)));
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC' };
    const run = (): void => {
      tf.dispose([
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, filterShape: c.w } as unknown as tf.NamedAttrMap) as tf.Tensor,
        tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w }, { ...attrs, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor,
      ]);
    };
    run();
    const tensors = tf.memory().numTensors;
    const dataIds = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    tf.dispose([x, w, dy]);
  });
});

describe('MaxPoolGrad on wasm matches cpu', () => {
  it('sends the gradient of a window with a negative maximum to that maximum (stock wasm sends it to the first element)', async () => {
    const x = { values: Float32Array.from([-4, -3, -2, -1]), shape: [1, 2, 2, 1] };
    const dy = { values: Float32Array.from([1]), shape: [1, 1, 1, 1] };
    const attrs = { x: x.shape, filterSize: 2, strides: 2, pad: 'valid' as const, data: 'negative' as const };
    await tf.setBackend('wasm');
    const medvae = maxPoolGrad(attrs, x, dy);
    expect(Array.from(medvae.dataSync())).toEqual([0, 0, 0, 1]);
    medvae.dispose();
    unregisterWasmTrainingKernels();
    try {
      const stock = maxPoolGrad(attrs, x, dy);
      expect(Array.from(stock.dataSync())).toEqual([1, 0, 0, 0]); // the tfjs-backend-wasm 4.22 bug
      stock.dispose();
    } finally {
      registerWasmTrainingKernels();
    }
  });

  for (const c of poolCases) {
    it(describePoolCase(c), async () => {
      const x = poolData(c.x, c.data);
      const dy = data(poolOutShape(c));
      await expectWasmMatchesCpu(() => maxPoolGrad(c, x, dy), 'max-pool gradient');
    });
  }

  it('ties go to the first maximal element of the window in row-major order, as on cpu', async () => {
    // Windows: all equal; the maximum 5 three times; NaN beside −1 (NaN never wins); only −∞ (no gradient).
    const x = { values: Float32Array.from([2, 2, 1, 5, 2, 2, 5, 5, NaN, -1, -Infinity, -Infinity, NaN, -3, -Infinity, -Infinity]), shape: [1, 4, 4, 1] };
    const dy = { values: Float32Array.from([1, 2, 3, 4]), shape: [1, 2, 2, 1] };
    const c = { x: x.shape, filterSize: 2, strides: 2, pad: 'valid' as const, data: 'ties' as const };
    for (const backend of ['cpu', 'wasm'] as const) {
      const got = await runOn(backend, () => maxPoolGrad(c, x, dy));
      expect(Array.from(got.values), backend).toEqual([1, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0]);
    }
  });

  it('trains a MaxPool2d with padding (−∞ cells) on negative inputs like cpu', async () => {
    const pool = new MaxPool2d(3, { stride: 2, padding: 1 });
    const x = poolData([2, 7, 8, 3], 'negative');
    const r = data([2, 4, 4, 3]);
    await expectWasmMatchesCpu(() => tf.tidy(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(pool.forward(xx), t(r))))(t(x))), 'MaxPool2d input gradient');
  });

  it('keeps no wasm memory', async () => {
    await tf.setBackend('wasm');
    const c = poolCases[5];
    const x = poolData(c.x, c.data);
    const dy = data(poolOutShape(c));
    maxPoolGrad(c, x, dy).dispose();
    const tensors = tf.memory().numTensors;
    const dataIds = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) maxPoolGrad(c, x, dy).dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
  });
});

describe('BatchMatMul on wasm matches cpu', () => {
  // m·k·n above the split threshold, so batched products take medvae's per-matrix path.
  const big = { m: 24, k: 32, n: 24 };
  expect(big.m * big.k * big.n).toBeGreaterThanOrEqual(BATCHED_FAST_PATH_MIN_MACS);
  expect(big.m).toBeGreaterThanOrEqual(BATCHED_FAST_PATH_MIN_ROWS);
  const shapes: Array<{ name: string; a: number[]; b: number[] }> = [
    { name: '2-D', a: [5, 7], b: [7, 3] },
    { name: 'batch 1', a: [1, 33, 17], b: [1, 17, 9] },
    { name: 'batched, shared right matrix', a: [3, 11, 6], b: [6, 5] },
    { name: 'rank 4 with a 2-D right matrix', a: [2, 3, 9, 4], b: [4, 7] },
    { name: 'batched (small: stock path)', a: [3, 5, 6], b: [3, 6, 4] },
    { name: 'batched (split path)', a: [3, big.m, big.k], b: [3, big.k, big.n] },
    { name: 'rank 4 batched (split path)', a: [2, 2, big.m, big.k], b: [2, 2, big.k, big.n] },
    { name: 'broadcast left matrix (split path)', a: [1, big.m, big.k], b: [4, big.k, big.n] },
  ];
  for (const s of shapes) {
    for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      it(`${s.name}, transposeA ${ta}, transposeB ${tb}`, async () => {
        // Shapes are given untransposed; swap the last two axes of the transposed operands.
        const swap = (shape: number[], on: boolean): number[] => (on ? [...shape.slice(0, -2), shape[shape.length - 1], shape[shape.length - 2]] : shape);
        const a = data(swap(s.a, ta));
        const b = data(swap(s.b, tb));
        await expectWasmMatchesCpu(() => tf.matMul(t(a), t(b), ta, tb), 'matMul');
      });
    }
  }

  it('keeps no wasm memory on any path', async () => {
    await tf.setBackend('wasm');
    const operands = [
      [tf.ones([4, 6]), tf.ones([5, 6]), true],
      [tf.ones([3, big.m, big.k]), tf.ones([3, big.n, big.k]), true],
      [tf.ones([3, big.k, big.m]), tf.ones([big.k, big.n]), false],
    ] as const;
    const run = (): void => {
      for (const [a, b, tb] of operands) tf.matMul(a, b, a.rank === 3 && !tb, tb).dispose();
    };
    run();
    const tensors = tf.memory().numTensors;
    const dataIds = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    tf.dispose(operands.flatMap(([a, b]) => [a, b]));
  });
});

describe('end-to-end gradients of a conv network: wasm matches cpu', () => {
  it('tf.grads through conv (stride 1 and 2), max-pool, transposed conv and a dense layer', async () => {
    const x = data([2, 9, 8, 2]);
    const w1 = data([3, 3, 2, 4]);
    const w2 = data([3, 3, 4, 6]);
    const wt = data([2, 2, 3, 6]); // conv2dTranspose filter: [kh, kw, out, in]
    const wd = data([4 * 4 * 3, 5]);
    const loss = (...xs: tf.Tensor[]): tf.Scalar => {
      const [xx, a, b, c, d] = xs;
      const h1 = tf.relu(tf.conv2d(xx as tf.Tensor4D, a as tf.Tensor4D, 1, 'same'));
      const h2 = tf.maxPool(h1, 2, 2, 'valid'); // [2, 4, 4, 4]
      const h3 = tf.relu(tf.conv2d(h2, b as tf.Tensor4D, 2, 'same')); // [2, 2, 2, 6]
      const h4 = tf.conv2dTranspose(h3, c as tf.Tensor4D, [2, 4, 4, 3], 2, 'valid'); // [2, 4, 4, 3]
      const y = tf.matMul(tf.reshape(h4, [2, 48]), d as tf.Tensor2D);
      return tf.mean(tf.square(tf.sub(y, 0.5)));
    };
    for (let i = 0; i < 5; i++) {
      await expectWasmMatchesCpu(() => tf.tidy(() => tf.grads(loss)([x, w1, w2, wt, wd].map(t))[i]), `gradient of input ${i}`);
    }
  });

  it("medvae's Conv2d with dilation 2 and stride 2 trains the same on wasm", async () => {
    // tfjs has no gradient for dilated conv2d; medvae's Conv2d dilates the kernel itself, so the
    // gradient runs through the kernels tested here.
    for (const options of [{ dilation: 2, padding: 2 }, { stride: 2, padding: 1 }] as const) {
      await tf.setBackend('cpu');
      const conv = new Conv2d(3, 4, 3, { ...options, seed: 7 });
      const x = data([2, 9, 10, 3]);
      for (const i of [0, 1]) {
        await expectWasmMatchesCpu(
          () => tf.tidy(() => {
            const { grads } = tf.variableGrads(() => tf.sum(tf.square(conv.forward(t(x)))) as tf.Scalar, conv.trainableParameters());
            return grads[conv.trainableParameters()[i].name];
          }),
          `Conv2d(${JSON.stringify(options)}) gradient ${i}`,
        );
      }
      conv.dispose();
    }
  });
});
