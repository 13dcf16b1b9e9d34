import * as tf from '@tensorflow/tfjs-core';
import type { BackendValues, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendError } from '../../core/errors.js';
import type { KernelBackendLike, KernelHost } from '../kernels/scratch.js';

export { Scratch, pair, cropNegativePads, type KernelArgs } from '../kernels/scratch.js';

/**
 * The part of tfjs-backend-wasm's `BackendWasm` that medvae's kernels use. The class itself is not
 * exported in a typed way by the package, so the kernels describe what they rely on.
 * @internal
 */
export interface WasmBackendLike extends KernelBackendLike {
  /** Allocates a tensor on the wasm heap, optionally filled with `values`. */
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: BackendValues): TensorInfo;
  /** A live view of a tensor's data on the wasm heap (invalid after the heap grows). */
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Narrows the `backend` a kernel receives, failing clearly when it is not the wasm backend. @internal */
export function asWasmBackend(backend: unknown, kernelName: string): WasmBackendLike {
  const b = backend as Partial<WasmBackendLike> | null;
  if (b == null || typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function' || typeof b.disposeData !== 'function') {
    throw new BackendError(`medvae's ${kernelName} kernel runs only on the tfjs wasm backend, but was called with another backend.`);
  }
  return b as WasmBackendLike;
}

/** The {@link KernelHost} of the wasm backend: nested kernels are the wasm ones. @internal */
export function wasmHost(backend: WasmBackendLike): KernelHost {
  return {
    backendName: 'wasm',
    backend,
    fromValues: (shape, values) => backend.makeOutput(shape, 'float32', undefined, values),
  };
}
