// Plumbing shared by the native 2-D and 3-D kernels (kernels.ts, kernels3d.ts): the replaced
// kernel each falls back on, views of the wasm heap, and outputs freed when the addon throws.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelArgs, WasmBackendLike } from '../wasm/kernel-utils.js';

/** The kernel the native one replaced; it answers every call the native kernel declines. */
export type Fallback = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** The replaced kernel `previous` as a {@link Fallback}, or one that says there is none. */
export function fallbackOf(name: string, previous: KernelConfig | undefined): Fallback {
  if (previous !== undefined) return previous.kernelFunc as unknown as Fallback;
  return () => {
    throw new Error(`The wasm backend has no '${name}' kernel to fall back on for a call medvae's native kernel does not handle.`);
  };
}

export const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** A float32 view of a tensor on the wasm heap. Take views only after the last allocation. */
export function view(backend: WasmBackendLike, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Runs `body` on a fresh output, freeing the output when the addon throws. */
export function withOutput(backend: WasmBackendLike, shape: number[], body: (out: TensorInfo) => void): TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  try {
    body(out);
  } catch (err) {
    backend.disposeData(out.dataId);
    throw err;
  }
  return out;
}
