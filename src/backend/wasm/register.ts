import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { BackendError } from '../../core/errors.js';
import { installMedvaeKernels, isMedvaeKernel, uninstallMedvaeKernels, withStockSetup, type KernelMaker } from '../kernels/registry.js';
import { batchMatMulConfig } from './batch-mat-mul.js';
import { castConfig } from './cast.js';
import { concatConfig } from './concat.js';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { fusedMatMulConfig } from './fused-mat-mul.js';
import { identityConfig } from './identity.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { clampNanSafeConfig, conv2DNanSafeConfig, fusedConv2DNanSafeConfig, poolNanSafeConfig } from './nan-safe.js';
import { removeWasmGlueProcessHandlers } from './node-handlers.js';
import { splitVConfig } from './split-v.js';
import { sumConfig } from './sum.js';

export { isMedvaeKernel };
export { removeWasmGlueProcessHandlers };

/**
 * The wasm kernels medvae provides, by tfjs kernel name:
 * - `Conv2DBackpropFilter`: missing from tfjs-backend-wasm 4.x, so no convolution could be trained
 *   on wasm; medvae computes it as a forward convolution of transposed tensors.
 * - `Conv2DBackpropInput`: the stock kernel is a naive loop (~1.4 GFLOP/s); medvae's runs one
 *   XNNPACK convolution plus a pixel shuffle (~15 GFLOP/s). It is also the forward pass of
 *   transposed convolutions.
 * - `BatchMatMul`: the stock kernel is fast only for one untransposed pair of matrices; medvae's
 *   transposes explicitly and splits batches so that dense-layer gradients take the fast path.
 *   XNNPACK caches a packed right-hand matrix by storage, not by shape, so a reshaped view of
 *   packed weights (a `[k, 1]` weight seen as `[1, k]` in its input gradient) would be multiplied
 *   with the old layout: medvae's kernel copies such a matrix first.
 * - `_FusedMatMul`: the stock kernel, with the same guard against a stale packed layout.
 * - `MaxPoolGrad`: the stock kernel sends the gradient of a window whose maximum is negative to
 *   the window's first element; medvae's picks the maximum, as the cpu backend does, and is faster.
 * - `Identity`: tfjs-core's engine clones (runs `Identity` on) every tensor a kernel saves for its
 *   gradient, about a hundred per U-Net training step, and the stock kernel copies the data;
 *   medvae's returns a second handle on the same data (one more reference, as wasm's `Reshape`
 *   does), so disposing the input or the output in either order is safe.
 * - `Cast`: a cast to the dtype a tensor already has (the gradient of `tf.clone`) shares the data
 *   the same way instead of copying it; real conversions run the stock kernel.
 * - `Concat` and `SplitV` (a skip connection and its gradient): the stock kernels copy every run of
 *   a channel-axis concatenation through a new array view (and `SplitV` first copies its whole input
 *   once per piece); medvae's copy short runs with plain loops on the heap, on every axis, bit for bit.
 * - `Sum`: the stock kernel transposes the whole tensor before reducing over leading axes (a bias
 *   gradient sums an NHWC tensor over axes 0–2); medvae's adds the rows in place, in the stock
 *   order and float32 rounding, and leaves other reductions to the stock kernel.
 * - `Conv2D`, `FusedConv2D`, `MaxPool`, `AvgPool`, `ClipByValue`, `Relu6`: the stock XNNPACK
 *   kernels clamp their outputs with instructions that turn NaN into the clamp's lower end
 *   (−Infinity, or 0 after a ReLU), so a NaN or Infinity in a batch vanished on wasm while the cpu
 *   backend carried it to the loss. medvae's run the stock kernel and, where one pass over the
 *   data finds NaN or ±Infinity, recompute that call by the cpu backend's rules.
 *
 * The last five of the first list are speed-ups only: each falls back to the stock kernel outside the cases it
 * handles and gives the stock kernel's values.
 */
export const WASM_TRAINING_KERNELS: readonly string[] = [
  tf.Conv2DBackpropFilter,
  tf.Conv2DBackpropInput,
  tf.BatchMatMul,
  tf._FusedMatMul,
  tf.MaxPoolGrad,
  tf.Identity,
  tf.Cast,
  tf.Concat,
  tf.SplitV,
  tf.Sum,
  tf.Conv2D,
  tf.FusedConv2D,
  tf.MaxPool,
  tf.AvgPool,
  tf.ClipByValue,
  tf.Relu6,
];

/** The stock config a wrapping kernel falls back to; stock tfjs-backend-wasm always has these. */
function stockOf(name: string, stock: KernelConfig | undefined): KernelConfig {
  if (stock === undefined) throw new BackendError(`medvae's wasm '${name}' wraps tfjs-backend-wasm's own kernel, which is not registered. Check that @tensorflow/tfjs-backend-wasm is installed and imported.`);
  return stock;
}

const MAKERS: Readonly<Record<string, KernelMaker>> = {
  [tf.Conv2DBackpropFilter]: () => conv2DBackpropFilterConfig,
  [tf.Conv2DBackpropInput]: (stock) => withStockSetup(conv2DBackpropInputConfig, stock),
  [tf.BatchMatMul]: (stock) => batchMatMulConfig(stock as KernelConfig),
  [tf._FusedMatMul]: (stock) => fusedMatMulConfig(stockOf(tf._FusedMatMul, stock)),
  [tf.MaxPoolGrad]: (stock) => withStockSetup(maxPoolGradConfig, stock),
  [tf.Identity]: (stock) => identityConfig(stockOf(tf.Identity, stock)),
  [tf.Cast]: (stock) => castConfig(stockOf(tf.Cast, stock)),
  [tf.Concat]: (stock) => concatConfig(stockOf(tf.Concat, stock)),
  [tf.SplitV]: (stock) => splitVConfig(stockOf(tf.SplitV, stock)),
  [tf.Sum]: (stock) => sumConfig(stockOf(tf.Sum, stock)),
  [tf.Conv2D]: (stock) => conv2DNanSafeConfig(stockOf(tf.Conv2D, stock)),
  [tf.FusedConv2D]: (stock) => fusedConv2DNanSafeConfig(stockOf(tf.FusedConv2D, stock)),
  [tf.MaxPool]: (stock) => poolNanSafeConfig(tf.MaxPool, stockOf(tf.MaxPool, stock)),
  [tf.AvgPool]: (stock) => poolNanSafeConfig(tf.AvgPool, stockOf(tf.AvgPool, stock)),
  [tf.ClipByValue]: (stock) => clampNanSafeConfig(tf.ClipByValue, stockOf(tf.ClipByValue, stock)),
  [tf.Relu6]: (stock) => clampNanSafeConfig(tf.Relu6, stockOf(tf.Relu6, stock)),
};

/** True when all of medvae's wasm training kernels are registered. */
export function wasmTrainingKernelsRegistered(): boolean {
  return WASM_TRAINING_KERNELS.every((name) => isMedvaeKernel(name, 'wasm'));
}

/**
 * Registers medvae's wasm kernels ({@link WASM_TRAINING_KERNELS}) in place of the stock ones, which
 * makes convolutional networks trainable on the wasm backend, max-pooling networks train correctly,
 * and their training about ten times faster.
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
  if (tf.getKernel(tf.Conv2D, 'wasm') === undefined || tf.getKernel(tf.BatchMatMul, 'wasm') === undefined) {
    throw new BackendError(
      "registerWasmTrainingKernels() found no wasm kernels to build on. Import '@tensorflow/tfjs-backend-wasm' first, or call await useBackend('wasm'), which does both.",
    );
  }
  installMedvaeKernels('wasm', MAKERS);
  // In Node, give error reporting back to Node once the backend has started (see node-handlers.ts).
  removeWasmGlueProcessHandlers();
}

/**
 * Puts back the kernels that {@link registerWasmTrainingKernels} replaced (and removes
 * `Conv2DBackpropFilter`, which stock tfjs-backend-wasm lacks). Meant for benchmarks and tests
 * that compare against stock tfjs; a later `useBackend('wasm')` registers medvae's kernels again.
 */
export function unregisterWasmTrainingKernels(): void {
  uninstallMedvaeKernels('wasm', WASM_TRAINING_KERNELS);
}
