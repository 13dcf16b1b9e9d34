import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { backpropInputKernel } from '../kernels/conv-gradients.js';
import { asWasmBackend, wasmHost } from './kernel-utils.js';

/**
 * Input gradient of a 2-D convolution on wasm (also the forward pass of a transposed convolution):
 * one XNNPACK forward convolution plus a pixel shuffle (see `conv2DBackpropInputViaConv` in ../kernels/conv-gradients.ts),
 * in place of tfjs-backend-wasm's naive loop. @internal
 */
export const conv2DBackpropInputWasm = backpropInputKernel((backend) => wasmHost(asWasmBackend(backend, 'Conv2DBackpropInput')));

/** Kernel config of {@link conv2DBackpropInputWasm}, replacing tfjs-backend-wasm's naive loop. @internal */
export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInputWasm as unknown as KernelConfig['kernelFunc'],
};
