import type { BackendValues, DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendError } from '../../core/errors.js';
import type { KernelBackendLike, KernelHost } from '../kernels/scratch.js';

/**
 * The part of tfjs-backend-cpu's `MathBackendCPU` that medvae's kernels use (the package does not
 * export the class in a form medvae can import without depending on its internals).
 * @internal
 */
export interface CpuBackendLike extends KernelBackendLike {
  /** Stores `values` (taken over, not copied) as a new tensor. */
  makeTensorInfo(shape: number[], dtype: DataType, values?: BackendValues): TensorInfo;
}

/** Narrows the `backend` a kernel receives, failing clearly when it is not a cpu-like backend. @internal */
export function asCpuBackend(backend: unknown, kernelName: string): CpuBackendLike {
  const b = backend as Partial<CpuBackendLike> | null;
  if (b == null || typeof b.makeTensorInfo !== 'function' || typeof b.readSync !== 'function' || typeof b.incRef !== 'function' || typeof b.disposeData !== 'function') {
    throw new BackendError(`medvae's ${kernelName} kernel runs only on the tfjs cpu backend, but was called with another backend.`);
  }
  return b as CpuBackendLike;
}

/** The {@link KernelHost} of the cpu backend: nested kernels are the cpu ones. @internal */
export function cpuHost(backend: CpuBackendLike): KernelHost {
  return {
    backendName: 'cpu',
    backend,
    fromValues: (shape, values) => backend.makeTensorInfo(shape, 'float32', values.slice()),
  };
}
