import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { maxPoolGradInfo, maxPoolGradInto, type MaxPoolGradAttrs } from '../kernels/max-pool-grad.js';
import { asWasmBackend, type KernelArgs } from './kernel-utils.js';

/**
 * Gradient of a 2-D max pool on wasm. tfjs-backend-wasm 4.22's own kernel is wrong where a
 * window's maximum is negative (after a norm layer without activation, or on raw inputs): the
 * gradient lands on the window's first element instead of its maximum (2×2 pool of −4, −3, −2, −1
 * gives 1, 0, 0, 0 instead of 0, 0, 0, 1), so training silently goes wrong. This one follows the cpu backend's rule exactly (see
 * `maxPoolGradInto`), reading and writing the wasm heap in place.
 * @internal
 */
export function maxPoolGradWasm(args: KernelArgs): TensorInfo {
  const backend = asWasmBackend(args.backend, 'MaxPoolGrad');
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const info = maxPoolGradInfo(input.shape, args.attrs as unknown as MaxPoolGradAttrs);
  const dx = backend.makeOutput(input.shape, 'float32');
  // Views are taken after the allocation: growing the wasm heap detaches older views.
  const out = backend.typedArrayFromHeap(dx) as Float32Array;
  out.fill(0);
  maxPoolGradInto(backend.typedArrayFromHeap(input), backend.typedArrayFromHeap(dy), out, info);
  return dx;
}

/** Kernel config of {@link maxPoolGradWasm}, replacing tfjs-backend-wasm's kernel. @internal */
export const maxPoolGradConfig: KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGradWasm as unknown as KernelConfig['kernelFunc'],
};
