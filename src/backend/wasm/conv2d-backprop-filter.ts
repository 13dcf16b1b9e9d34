import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { backpropFilterKernel } from '../kernels/conv-gradients.js';
import { asWasmBackend, wasmHost } from './kernel-utils.js';

/**
 * Filter gradient of a 2-D convolution on wasm: one XNNPACK forward convolution of transposed
 * tensors (see `conv2DBackpropFilterViaConv` in ../kernels/conv-gradients.ts for the mapping). @internal
 */
export const conv2DBackpropFilterWasm = backpropFilterKernel((backend) => wasmHost(asWasmBackend(backend, 'Conv2DBackpropFilter')));

/** Kernel config of {@link conv2DBackpropFilterWasm} (tfjs-backend-wasm 4.x has none). @internal */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm as unknown as KernelConfig['kernelFunc'],
};
