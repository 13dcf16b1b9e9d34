import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, type KernelArgs } from './kernel-utils.js';

/**
 * Builds medvae's wasm `Cast` around the stock config `stock`. A cast to the dtype the tensor
 * already has changes nothing, yet the stock kernel copies the data; tfjs-core's gradient of
 * `tf.clone` is such a cast (float32 to float32). Here a same-dtype cast shares the input's data
 * (one more reference, as `Reshape` does); real conversions go to the stock kernel.
 * @internal
 */
export function makeCastKernel(stock: KernelFunc): KernelFunc {
  const kernel = (args: KernelArgs): TensorInfo => {
    const { x } = args.inputs as { x: TensorInfo };
    const { dtype } = (args.attrs ?? {}) as { dtype?: tf.DataType };
    if (dtype !== x.dtype || x.dtype === 'string' || x.dtype === 'complex64') return stock(args as Parameters<KernelFunc>[0]) as TensorInfo;
    asWasmBackend(args.backend, 'Cast').incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
  return kernel as unknown as KernelFunc;
}

/** Kernel config of medvae's wasm `Cast`, wrapping the stock config `stock`. @internal */
export function castConfig(stock: KernelConfig): KernelConfig {
  return { kernelName: tf.Cast, backendName: 'wasm', kernelFunc: makeCastKernel(stock.kernelFunc), setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc };
}
