import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../../core/errors.js';
import { installMedvaeKernels, isMedvaeKernel, uninstallMedvaeKernels, type KernelMaker } from '../kernels/registry.js';
import { conv2DBackpropFilterCpuConfig } from './conv-gradients.js';
import { maxPoolGradCpuConfig } from './max-pool-grad.js';

/**
 * The cpu kernels medvae provides, by tfjs kernel name. Both give the stock kernels' results
 * (to float32 rounding) much faster, which is what makes training on the cpu backend — and the
 * training tests that use it as the reference — practical:
 * - `Conv2DBackpropFilter`: the stock kernel runs ~0.005 GFLOP/s, ~70× slower than its forward
 *   convolution; medvae's computes it with the cpu forward `Conv2D` on transposed tensors (the
 *   mapping medvae's wasm kernel uses), at the forward rate.
 * - `MaxPoolGrad`: the stock kernel rescans windows element by element; medvae's finds each
 *   window's maximum once and scatters (~10× faster, same tie rule).
 *
 * The stock `Conv2DBackpropInput` already runs at the forward rate on cpu, so it is kept.
 */
export const CPU_TRAINING_KERNELS: readonly string[] = [tf.Conv2DBackpropFilter, tf.MaxPoolGrad];

const MAKERS: Readonly<Record<string, KernelMaker>> = {
  [tf.Conv2DBackpropFilter]: () => conv2DBackpropFilterCpuConfig,
  [tf.MaxPoolGrad]: () => maxPoolGradCpuConfig,
};

/** True when all of medvae's cpu training kernels are registered. */
export function cpuTrainingKernelsRegistered(): boolean {
  return CPU_TRAINING_KERNELS.every((name) => isMedvaeKernel(name, 'cpu'));
}

/**
 * Registers medvae's cpu kernels ({@link CPU_TRAINING_KERNELS}) in place of the stock ones, which
 * makes convolutional training on the pure-JS cpu backend tens of times faster.
 *
 * {@link useBackend}('cpu') calls it. Call it yourself when you activate the backend through tfjs
 * directly (`tf.setBackend('cpu')`); it needs `@tensorflow/tfjs-backend-cpu` to be imported first,
 * and calling it again does nothing.
 *
 * @throws {@link BackendError} when the cpu backend's kernels are not registered yet.
 */
export function registerCpuTrainingKernels(): void {
  if (tf.getKernel(tf.Conv2D, 'cpu') === undefined || tf.getKernel(tf.Transpose, 'cpu') === undefined) {
    throw new BackendError(
      "registerCpuTrainingKernels() found no cpu kernels to build on. Import '@tensorflow/tfjs-backend-cpu' first, or call await useBackend('cpu'), which does both.",
    );
  }
  installMedvaeKernels('cpu', MAKERS);
}

/**
 * Puts back the stock cpu kernels that {@link registerCpuTrainingKernels} replaced. Meant for
 * benchmarks and tests that compare against stock tfjs (the cpu backend is their reference); a
 * later `useBackend('cpu')` registers medvae's kernels again.
 */
export function unregisterCpuTrainingKernels(): void {
  uninstallMedvaeKernels('cpu', CPU_TRAINING_KERNELS);
}
