import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackendError,
  backendReport,
  Conv2d,
  formatBackendReport,
  Linear,
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  useBackend,
} from '../../src/index.js';

let conv1: Conv2d;
let conv2: Conv2d;
let fc: Linear;
let x: tf.Tensor;

/** A two-conv + dense loss: its backward pass needs both conv gradients and transposed matMuls. */
const loss = (): tf.Tensor => {
  const h = tf.relu(conv2.forward(tf.relu(conv1.forward(x))));
  return tf.mean(tf.square(fc.forward(tf.reshape(h, [2, -1]))));
};
const params = (): tf.Variable[] => [...conv1.trainableParameters(), ...conv2.trainableParameters(), ...fc.trainableParameters()];

beforeAll(async () => {
  await useBackend('cpu');
  await useBackend('wasm');
  conv1 = new Conv2d(1, 4, 3, { padding: 1, seed: 1 });
  conv2 = new Conv2d(4, 4, 3, { stride: 2, padding: 1, seed: 2 });
  fc = new Linear(4 * 4 * 4, 2, { seed: 3 });
  x = tf.ones([2, 8, 8, 1]);
});

afterAll(() => {
  registerWasmTrainingKernels();
  tf.dispose(x);
  [conv1, conv2, fc].forEach((m) => m.dispose());
});

describe('backendReport', () => {
  it("finds nothing missing on wasm with medvae's kernels, and names them", async () => {
    const tensors = tf.memory().numTensors;
    const report = await backendReport({ fn: loss, parameters: params() });
    expect(report.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm'); // the probe ran on cpu and switched back
    expect(tf.memory().numTensors).toBe(tensors);
    expect(report.required).toEqual(expect.arrayContaining(['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', 'Relu']));
    expect([...report.required]).toEqual([...report.required].sort());
    expect(report.missing).toEqual([]);
    expect(report.ok).toBe(true);
    // Native kernels (Conv2D, …), when the addon is installed, join this list; the wasm ones are always there.
    expect(report.replacedByMedvae).toEqual(expect.arrayContaining(['BatchMatMul', 'Cast', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Identity', 'Sum']));
    expect(String(report)).toMatch(/^Backend 'wasm': all \d+ kernels of forward \+ backward are available\./);
    expect(String(report)).toMatch(/medvae's own kernels: BatchMatMul, Cast, (Conv2D, )?Conv2DBackpropFilter, Conv2DBackpropInput, Identity, Sum\./);
    // The model still computes on wasm after its variables visited the cpu backend.
    expect(tf.getBackend()).toBe('wasm');
    expect(Number.isFinite(loss().dataSync()[0])).toBe(true);
  });

  it('on stock wasm, reports Conv2DBackpropFilter as missing and says what to do', async () => {
    unregisterWasmTrainingKernels();
    try {
      const report = await backendReport({ fn: loss, parameters: { trainableParameters: params } });
      expect(report.missing).toEqual(['Conv2DBackpropFilter']);
      expect(report.ok).toBe(false);
      expect(report.replacedByMedvae).toEqual([]);
      const text = formatBackendReport(report);
      expect(text).toMatch(/1 of \d+ kernels of forward \+ backward are missing: Conv2DBackpropFilter\./);
      expect(text).toContain("useBackend('wasm')");
      // And the report is right: training there does fail on that kernel.
      expect(() => tf.variableGrads(() => loss() as tf.Scalar, params())).toThrow(/Conv2DBackpropFilter/);
    } finally {
      registerWasmTrainingKernels();
    }
  });

  it("names medvae's cpu kernels, and lists only the kernels the engine dispatches", async () => {
    // medvae's cpu Conv2DBackpropFilter runs Transpose, Conv2D and Slice inside itself; a report
    // must not count those nested calls as kernels the model needs.
    const report = await backendReport({ fn: loss, parameters: params(), backend: 'cpu' });
    expect(report.replacedByMedvae).toEqual(['Conv2DBackpropFilter']);
    expect(report.required).not.toContain('Transpose');
    expect(report.required).not.toContain('Slice');
    const pooled = await backendReport({ fn: () => tf.sum(tf.maxPool(conv1.forward(x) as tf.Tensor4D, 2, 2, 'valid')), parameters: conv1, backend: 'wasm' });
    expect(pooled.replacedByMedvae).toEqual(expect.arrayContaining(['Conv2DBackpropFilter', 'Identity', 'MaxPoolGrad', 'Sum']));
  });

  it('checks the forward pass only with backward: false, and given kernel names directly', async () => {
    const forward = await backendReport({ fn: loss, backward: false });
    expect(forward.required).toContain('Conv2D');
    expect(forward.required).not.toContain('Conv2DBackpropFilter');
    expect(String(forward)).toContain('kernels of the forward pass');
    const given = await backendReport({ kernels: ['Conv2D', 'NoSuchKernel', 'Conv2D'], backend: 'cpu' });
    expect(given).toMatchObject({ backend: 'cpu', probedOn: 'given', required: ['Conv2D', 'NoSuchKernel'], missing: ['NoSuchKernel'], ok: false });
  });

  it('throws BackendError for unknown backends, missing input, and a failing function', async () => {
    await expect(backendReport({ kernels: ['Add'], backend: 'webgl' })).rejects.toThrow(BackendError);
    await expect(backendReport({ kernels: ['Add'], backend: 'webgl' })).rejects.toThrow(/useBackend\('webgl'\)/);
    await expect(backendReport({})).rejects.toThrow(/either `fn`.*or `kernels`/);
    const bad = (): tf.Tensor => tf.add(tf.ones([2]), tf.ones([3]));
    await expect(backendReport({ fn: bad, backward: false })).rejects.toThrow(/running the function on the 'cpu' backend failed/);
    expect(tf.getBackend()).toBe('wasm');
  });
});
