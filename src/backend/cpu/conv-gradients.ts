import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { backpropFilterKernel } from '../kernels/conv-gradients.js';
import { asCpuBackend, cpuHost } from './kernel-utils.js';

/**
 * Filter gradient of a 2-D convolution on cpu, computed by the cpu backend's own forward Conv2D on
 * transposed tensors (the mapping of `conv2DBackpropFilterViaConv` in ../kernels/conv-gradients.ts,
 * shared with wasm). The stock kernel reads every element through `TensorBuffer.get` in a loop
 * order that strides across memory and runs ~75× slower than the forward convolution. @internal
 */
export const conv2DBackpropFilterCpu = backpropFilterKernel((backend) => cpuHost(asCpuBackend(backend, 'Conv2DBackpropFilter')));

/** Kernel config of {@link conv2DBackpropFilterCpu}. @internal */
export const conv2DBackpropFilterCpuConfig: KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'cpu',
  kernelFunc: conv2DBackpropFilterCpu as unknown as KernelConfig['kernelFunc'],
};
