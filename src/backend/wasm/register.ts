import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { BackendError } from '../../core/errors.js';
import { batchMatMulConfig } from './batch-mat-mul.js';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';

/**
 * The wasm kernels medvae provides, by tfjs kernel name:
 * - `Conv2DBackpropFilter`: missing from tfjs-backend-wasm 4.x, so no convolution could be trained
 *   on wasm; medvae computes it as a forward convolution of transposed tensors.
 * - `Conv2DBackpropInput`: the stock kernel is a naive loop (~1.4 GFLOP/s); medvae's runs one
 *   XNNPACK convolution plus a pixel shuffle (~15 GFLOP/s). It is also the forward pass of
 *   transposed convolutions.
 * - `BatchMatMul`: the stock kernel is fast only for one untransposed pair of matrices; medvae's
 *   transposes explicitly and splits batches so that dense-layer gradients take the fast path.
 */
export const WASM_TRAINING_KERNELS: readonly string[] = [tf.Conv2DBackpropFilter, tf.Conv2DBackpropInput, tf.BatchMatMul];

/** Kernel functions that medvae registered, to tell them from stock or third-party ones. */
const medvaeKernelFuncs = new WeakSet<KernelFunc>();
/** What was registered under each name before medvae replaced it (undefined: nothing). */
const replaced = new Map<string, KernelConfig | undefined>();

function registered(name: string): KernelConfig | undefined {
  return tf.getKernel(name, 'wasm') as KernelConfig | undefined;
}

/**
 * True when the kernel registered for `kernelName` on `backendName` is one of medvae's own
 * (see {@link WASM_TRAINING_KERNELS}).
 */
export function isMedvaeKernel(kernelName: string, backendName: string): boolean {
  const config = tf.getKernel(kernelName, backendName) as KernelConfig | undefined;
  return config !== undefined && medvaeKernelFuncs.has(config.kernelFunc);
}

/** True when all of medvae's wasm training kernels are registered. */
export function wasmTrainingKernelsRegistered(): boolean {
  return WASM_TRAINING_KERNELS.every((name) => isMedvaeKernel(name, 'wasm'));
}

/**
 * Registers medvae's wasm kernels ({@link WASM_TRAINING_KERNELS}) in place of the stock ones, which
 * makes convolutional networks trainable on the wasm backend and their training about ten times
 * faster.
 *
 * {@link useBackend}('wasm') calls it, so most users never need to. Call it yourself when you
 * activate the backend through tfjs directly (`tf.setBackend('wasm')`); it needs
 * `@tensorflow/tfjs-backend-wasm` to be imported first, and calling it again does nothing.
 * The kernels run nested wasm kernels (Transpose, Conv2D, Slice) on tensor data directly, outside
 * the engine, so they add nothing to the gradient tape and leave no tensors behind.
 *
 * @throws {@link BackendError} when the wasm backend's kernels are not registered yet.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * import * as tf from '@tensorflow/tfjs-core';
 * import { registerWasmTrainingKernels } from 'medvae';
 * await tf.setBackend('wasm');
 * registerWasmTrainingKernels();
 * ```
 */
export function registerWasmTrainingKernels(): void {
  const stockMatMul = registered(tf.BatchMatMul);
  if (registered(tf.Conv2D) === undefined || stockMatMul === undefined) {
    throw new BackendError(
      "registerWasmTrainingKernels() found no wasm kernels to build on. Import '@tensorflow/tfjs-backend-wasm' first, or call await useBackend('wasm'), which does both.",
    );
  }
  const makeConfig: Record<string, (stock: KernelConfig | undefined) => KernelConfig> = {
    [tf.Conv2DBackpropFilter]: () => conv2DBackpropFilterConfig,
    // The stock set-up of a replaced kernel still runs on backend initialisation, so that
    // unregisterWasmTrainingKernels() can hand back a working stock kernel.
    [tf.Conv2DBackpropInput]: (stock) => ({ ...conv2DBackpropInputConfig, setupFunc: stock?.setupFunc, disposeFunc: stock?.disposeFunc }),
    [tf.BatchMatMul]: (stock) => batchMatMulConfig(stock as KernelConfig),
  };
  for (const name of WASM_TRAINING_KERNELS) {
    if (isMedvaeKernel(name, 'wasm')) continue;
    const stock = registered(name);
    const config = makeConfig[name](stock);
    if (stock !== undefined) tf.unregisterKernel(name, 'wasm');
    replaced.set(name, stock);
    medvaeKernelFuncs.add(config.kernelFunc);
    tf.registerKernel(config);
  }
}

/**
 * Puts back the kernels that {@link registerWasmTrainingKernels} replaced (and removes
 * `Conv2DBackpropFilter`, which stock tfjs-backend-wasm lacks). Meant for benchmarks and tests
 * that compare against stock tfjs; a later `useBackend('wasm')` registers medvae's kernels again.
 */
export function unregisterWasmTrainingKernels(): void {
  for (const name of WASM_TRAINING_KERNELS) {
    if (!isMedvaeKernel(name, 'wasm')) continue;
    tf.unregisterKernel(name, 'wasm');
    const stock = replaced.get(name);
    if (stock !== undefined) tf.registerKernel(stock);
    replaced.delete(name);
  }
}
