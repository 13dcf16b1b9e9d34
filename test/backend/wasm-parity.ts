// Shared by the wasm-<kernel> tests: runs one op on the cpu backend (reference), on wasm with the
// stock tfjs-backend-wasm kernels, and on wasm with medvae's kernels, and compares the three.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { useBackend } from '../../src/index.js';
import { uninstallMedvaeKernels } from '../../src/backend/kernels/registry.js';
import { registerWasmTrainingKernels } from '../../src/backend/wasm/register.js';
import { expectClose } from '../helpers/tf.js';

/**
 * Registers the set-up every wasm-<kernel> test file shares: both backends initialised (wasm left
 * active with medvae's kernels), and tfjs's test mode on, in which the engine checks every kernel
 * for leaked data ids.
 */
export function useParityBackends(): void {
  beforeAll(async () => {
    await useBackend('cpu');
    await useBackend('wasm');
    tf.env().set('IS_TEST', true);
  });
  afterAll(() => {
    tf.env().set('IS_TEST', false);
  });
}

/** One output tensor as plain data. */
export interface Out {
  shape: number[];
  dtype: tf.DataType;
  values: number[];
}

function read(out: tf.Tensor | tf.Tensor[]): Out[] {
  const list = Array.isArray(out) ? out : [out];
  const result = list.map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync() as ArrayLike<number>) }));
  tf.dispose(list);
  return result;
}

/**
 * Runs `f` on cpu, on stock wasm (medvae's wasm kernels `names` unregistered) and on medvae's
 * wasm, leaving wasm active with medvae's kernels.
 */
export async function runThree(f: () => tf.Tensor | tf.Tensor[], names: readonly string[]): Promise<{ cpu: Out[]; stock: Out[]; medvae: Out[] }> {
  await tf.setBackend('cpu');
  const cpu = read(tf.tidy(f));
  await tf.setBackend('wasm');
  uninstallMedvaeKernels('wasm', names);
  let stock: Out[];
  try {
    stock = read(tf.tidy(f));
  } finally {
    registerWasmTrainingKernels();
  }
  const medvae = read(tf.tidy(f));
  return { cpu, stock, medvae };
}

/**
 * Asserts that medvae's wasm kernel gives exactly the stock wasm kernel's outputs (shapes, dtypes,
 * values bit for bit) and the cpu backend's within `rtol` (exact by default).
 */
export async function expectParity(f: () => tf.Tensor | tf.Tensor[], names: readonly string[], what: string, rtol = 0): Promise<void> {
  const { cpu, stock, medvae } = await runThree(f, names);
  expect(medvae.length, `${what}: number of outputs`).toBe(stock.length);
  medvae.forEach((m, i) => {
    expect(m.shape, `${what}: shape of output ${i} (stock wasm)`).toEqual(stock[i].shape);
    expect(m.dtype, `${what}: dtype of output ${i} (stock wasm)`).toBe(stock[i].dtype);
    expect(m.values, `${what}: values of output ${i} (stock wasm)`).toEqual(stock[i].values);
    expect(m.shape, `${what}: shape of output ${i} (cpu)`).toEqual(cpu[i].shape);
    if (rtol === 0) expect(m.values, `${what}: values of output ${i} (cpu)`).toEqual(cpu[i].values);
    else expectClose(m.values, cpu[i].values, rtol, rtol, `${what}: output ${i} vs cpu`);
  });
}

/** Deterministic values in [−1, 1) (or small integers for int32) of a shape. */
export function filled(shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32', seed = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  let s = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    v[i] = s / 1073741824 - 1;
  }
  if (dtype === 'float32') return tf.tensor(v, shape, 'float32');
  if (dtype === 'int32') return tf.tensor(Int32Array.from(v, (x) => Math.round(x * 1000)), shape, 'int32');
  return tf.tensor(Uint8Array.from(v, (x) => (x > 0 ? 1 : 0)), shape, 'bool');
}
