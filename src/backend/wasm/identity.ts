import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, type KernelArgs } from './kernel-utils.js';

/**
 * Builds medvae's wasm `Identity` around the stock config `stock`. tfjs-core's engine runs
 * `Identity` for every `tf.clone`, and clones every tensor a kernel saves for its gradient, so a
 * training step runs it about a hundred times; the stock wasm kernel copies the data each time.
 * This one returns a new handle on the same data, adding a reference as wasm's own `Reshape` and
 * tfjs-backend-cpu's `Identity` do: tensors are immutable and the backend frees the data only when
 * the last handle goes, so the input and the output may be disposed in either order. String
 * tensors (which live outside the heap) go to the stock kernel.
 * @internal
 */
export function makeIdentityKernel(stock: KernelFunc): KernelFunc {
  const kernel = (args: KernelArgs): TensorInfo => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string' || x.dtype === 'complex64') return stock(args as Parameters<KernelFunc>[0]) as TensorInfo;
    asWasmBackend(args.backend, 'Identity').incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
  return kernel as unknown as KernelFunc;
}

/** Kernel config of medvae's wasm `Identity`, wrapping the stock config `stock`. @internal */
export function identityConfig(stock: KernelConfig): KernelConfig {
  return { kernelName: tf.Identity, backendName: 'wasm', kernelFunc: makeIdentityKernel(stock.kernelFunc), setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc };
}
