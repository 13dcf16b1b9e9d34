// The part of tfjs-backend-webgpu's WebGPUBackend that medvae's webgpu kernels use, typed here so
// that medvae does not import the optional package (it is present only when the app installs it).
import type { DataType, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendError } from '../../core/errors.js';

/**
 * A compute program as tfjs-backend-webgpu runs it: the backend writes the WGSL header (bindings,
 * `uniforms` with every input's shape and strides, `getCoordsFromIndex`, `getIndexFromCoordsND`,
 * `setOutputAtIndex`/`setOutputAtIndexI32`) and appends `getUserCode()`. @internal
 */
export interface WebGpuProgram {
  /** Names of the input arrays in WGSL, one per input. */
  variableNames: string[];
  /** Shape of the output tensor. */
  outputShape: number[];
  /** Cache key of the compiled pipeline: must tell apart every different `getUserCode()`. */
  shaderKey: string;
  /** Which output dimensions map onto the dispatch's x (all of them for a flat dispatch). */
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  /** Number of workgroups per dimension. */
  dispatch: [number, number, number];
  /** Threads per workgroup. */
  workgroupSize: [number, number, number];
  /** Whether the header passes the flat output index to `main` and adds `uniforms.size`. */
  size?: boolean;
  /** The program's WGSL body (`fn main(index : i32) { … }` for a flat program). */
  getUserCode(): string;
}

/** The WebGPUBackend members medvae's kernels call. @internal */
export interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGpuProgram, inputs: TensorInfo[], outputDtype: DataType): TensorInfo;
  shouldExecuteOnCPU(inputs: TensorInfo[]): boolean;
  disposeData(dataId: object): boolean;
  /** Per data id, the dtype of the GPU buffer, which may differ from the tensor's (see {@link bufferDtype}). */
  tensorMap: { get(dataId: object): { dtype: DataType } | undefined };
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
}

/** Arguments a kernel function receives. @internal */
export type KernelArgs = Parameters<KernelFunc>[0];

/** `backend` as a WebGPU backend, or a {@link BackendError} saying which kernel met another one. @internal */
export function asWebGpuBackend(backend: unknown, kernel: string): WebGpuBackendLike {
  const b = backend as Partial<WebGpuBackendLike> | null;
  if (b === null || typeof b !== 'object' || typeof b.runWebGPUProgram !== 'function' || b.device === undefined) {
    throw new BackendError(`medvae's webgpu '${kernel}' kernel ran on a backend that is not tfjs-backend-webgpu's WebGPUBackend.`);
  }
  return b as WebGpuBackendLike;
}

/** Threads per workgroup of medvae's flat (one thread per output element) programs. */
export const FLAT_WORKGROUP = 64;

/** Dispatch of a flat program over `outputShape` (the backend splits it when it exceeds the device limit). @internal */
export function flatDispatch(outputShape: readonly number[]): Pick<WebGpuProgram, 'dispatchLayout' | 'dispatch' | 'workgroupSize' | 'size'> {
  const size = outputShape.reduce((a, b) => a * b, 1);
  return {
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size / FLAT_WORKGROUP), 1, 1],
    workgroupSize: [FLAT_WORKGROUP, 1, 1],
    size: true,
  };
}

/**
 * The dtype of the GPU buffer that holds `x`. tfjs-backend-webgpu casts int32 and bool to float32
 * without converting: the float32 tensor shares the int32/bool tensor's i32 buffer, and programs
 * declare each input array by its buffer's dtype. @internal
 */
export function bufferDtype(backend: WebGpuBackendLike, x: TensorInfo): DataType {
  return backend.tensorMap.get(x.dataId)?.dtype ?? x.dtype;
}

/** True when `x`'s GPU buffer is an array of i32 (int32 and bool tensors, and float32 ones cast from them). @internal */
export function inI32Buffer(backend: WebGpuBackendLike, x: TensorInfo): boolean {
  const d = bufferDtype(backend, x);
  return d === 'int32' || d === 'bool';
}
