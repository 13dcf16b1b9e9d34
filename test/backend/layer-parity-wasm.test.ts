// The PyTorch parity checks of conv, linear, pooling and upsampling layers
// (test/layers/conv-linear-pool.test.ts), run on the wasm backend with medvae's kernels: forward
// outputs and all gradients (Conv2DBackpropFilter/Input, BatchMatMul, MaxPoolGrad, ...) must match
// PyTorch there as on cpu. That file picks its backend from MEDVAE_TEST_BACKEND when its beforeAll
// hook runs, so setting it before importing the file registers the same cases for wasm.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, it } from 'vitest';
import { wasmTrainingKernelsRegistered } from '../../src/index.js';

const previous = process.env.MEDVAE_TEST_BACKEND;
process.env.MEDVAE_TEST_BACKEND = 'wasm';
await import('../layers/conv-linear-pool.test.js');

afterAll(() => {
  if (previous === undefined) delete process.env.MEDVAE_TEST_BACKEND;
  else process.env.MEDVAE_TEST_BACKEND = previous;
});

it("ran the cases above on wasm with medvae's kernels", () => {
  expect(tf.getBackend()).toBe('wasm');
  expect(wasmTrainingKernelsRegistered()).toBe(true);
});
