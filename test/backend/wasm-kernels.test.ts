// medvae's wasm training kernels (src/backend/wasm/) against tfjs's cpu backend, the reference:
// every case runs the same kernel on both backends with the same inputs.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conv2d, Generator, useBackend } from '../../src/index.js';
import { BATCHED_FAST_PATH_MIN_MACS, BATCHED_FAST_PATH_MIN_ROWS } from '../../src/backend/wasm/batch-mat-mul.js';
import {
  isMedvaeKernel,
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
  wasmTrainingKernelsRegistered,
} from '../../src/backend/wasm/register.js';
import { expectClose } from '../helpers/tf.js';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

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

/** Asserts that `f` gives the same result on wasm as on cpu: 1e-5 relative, atol 1e-6·max|ref|. */
async function expectWasmMatchesCpu(f: () => tf.Tensor, what: string): Promise<void> {
  const ref = await runOn('cpu', f);
  const got = await runOn('wasm', f);
  expect(got.shape, `${what}: shape`).toEqual(ref.shape);
  const scale = ref.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expectClose(got.values, ref.values, 1e-5, 1e-6 * scale, what);
}

const gen = new Generator(1234);
/** Seeded normal data (as a plain array, so the same numbers feed both backends). */
function data(shape: number[]): { values: Float32Array; shape: number[] } {
  return { values: gen.normalArray(tf.util.sizeFromShape(shape)), shape };
}
const t = (d: { values: Float32Array; shape: number[] }): tf.Tensor => tf.tensor(d.values, d.shape);

interface ConvCase {
  x: number[];
  w: number[];
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const convCases: ConvCase[] = [
  { x: [2, 5, 6, 3], w: [1, 1, 3, 4], strides: 1, pad: 'valid' },
  { x: [2, 7, 6, 3], w: [1, 1, 3, 4], strides: 2, pad: 'valid' },
  { x: [2, 8, 6, 3], w: [2, 2, 3, 5], strides: 2, pad: 'valid' },
  { x: [1, 7, 9, 2], w: [2, 2, 2, 3], strides: 2, pad: 'valid' },
  { x: [2, 7, 9, 3], w: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 8, 10, 3], w: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { x: [3, 7, 9, 2], w: [3, 3, 2, 4], strides: 2, pad: 'same' },
  { x: [2, 8, 9, 3], w: [3, 3, 3, 2], strides: 2, pad: 'valid' },
  { x: [2, 9, 7, 2], w: [5, 5, 2, 3], strides: 1, pad: 'same' },
  { x: [2, 11, 10, 2], w: [5, 5, 2, 3], strides: 2, pad: 'valid' },
  { x: [2, 10, 9, 3], w: [3, 3, 3, 2], strides: [2, 3], pad: 'same' },
  { x: [2, 9, 10, 3], w: [3, 2, 3, 2], strides: 3, pad: 'valid' },
  { x: [2, 7, 9, 3], w: [3, 3, 3, 4], strides: 2, pad: [[0, 0], [1, 2], [0, 3], [0, 0]] },
  { x: [2, 7, 9, 3], w: [3, 3, 3, 4], strides: 1, pad: [[0, 0], [4, 0], [2, 5], [0, 0]] },
  { x: [2, 8, 9, 3], w: [4, 4, 3, 4], strides: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  { x: [2, 8, 8, 3], w: [3, 3, 3, 2], strides: 2, pad: 1, dimRoundingMode: 'ceil' },
  { x: [1, 8, 8, 1], w: [3, 3, 1, 4], strides: 1, pad: 'same' },
  { x: [2, 3, 7, 9], w: [3, 3, 3, 4], strides: 2, pad: 'same', dataFormat: 'NCHW' },
  { x: [2, 3, 8, 6], w: [2, 2, 3, 5], strides: 2, pad: [[0, 0], [0, 0], [1, 0], [0, 2]], dataFormat: 'NCHW' },
];

function describeCase(c: ConvCase): string {
  return `x ${c.x.join('×')} w ${c.w.join('×')} strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)}${c.dataFormat ? ` ${c.dataFormat}` : ''}${c.dimRoundingMode ? ` ${c.dimRoundingMode}` : ''}`;
}

/** Output shape of the forward convolution of a case (computed by tfjs's own shape logic). */
function outShape(c: ConvCase): number[] {
  const info = tf.backend_util.computeConv2DInfo(
    c.x as [number, number, number, number], c.w as [number, number, number, number], c.strides, 1, c.pad, c.dimRoundingMode, false,
    c.dataFormat === 'NCHW' ? 'channelsFirst' : 'channelsLast',
  );
  return info.outShape;
}

beforeAll(async () => {
  await useBackend('cpu');
  await useBackend('wasm');
  // Makes the engine check, after every kernel, that the backend holds no data beyond the outputs.
  tf.env().set('IS_TEST', true);
});

afterAll(() => {
  tf.env().set('IS_TEST', false);
  registerWasmTrainingKernels();
});

describe('registration', () => {
  it('useBackend("wasm") installs all three kernels; unregister restores stock tfjs', async () => {
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    for (const name of WASM_TRAINING_KERNELS) expect(isMedvaeKernel(name, 'wasm')).toBe(true);
    unregisterWasmTrainingKernels();
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBeUndefined();
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')).toBeDefined();
    expect(isMedvaeKernel(tf.Conv2DBackpropInput, 'wasm')).toBe(false);
    expect(isMedvaeKernel(tf.BatchMatMul, 'wasm')).toBe(false);
    // The stock kernels put back still work.
    await expectWasmMatchesCpu(() => tf.matMul(tf.ones([3, 4]), tf.ones([5, 4]), false, true), 'stock BatchMatMul');
    registerWasmTrainingKernels();
    registerWasmTrainingKernels(); // idempotent
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    await useBackend('wasm'); // re-initialising keeps them
    expect(wasmTrainingKernelsRegistered()).toBe(true);
  });
});

describe('Conv2DBackpropFilter and Conv2DBackpropInput on wasm match cpu', () => {
  for (const c of convCases) {
    it(describeCase(c), async () => {
      const x = data(c.x);
      const w = data(c.w);
      const dy = data(outShape(c));
      const common = { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat ?? 'NHWC', dimRoundingMode: c.dimRoundingMode };
      await expectWasmMatchesCpu(
        () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: t(x), dy: t(dy) }, { ...common, filterShape: c.w } as unknown as tf.NamedAttrMap) as tf.Tensor,
        'filter gradient',
      );
      await expectWasmMatchesCpu(
        () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: t(dy), filter: t(w) }, { ...common, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor,
        'input gradient',
      );
    });
  }

  it('keep no wasm memory: same tensors and data ids after repeated calls', async () => {
    await tf.setBackend('wasm');
    const c = convCases[6];
    const x = t(data(c.x));
    const w = t(data(c.w));
    const dy = t(data(outShape(c)));
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
