import * as tf from '@tensorflow/tfjs-core';
import type { BackendValues, DataId, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendError } from '../../core/errors.js';

/**
 * The part of tfjs-backend-wasm's `BackendWasm` that medvae's kernels use. The class itself is not
 * exported in a typed way by the package, so the kernels describe what they rely on.
 * @internal
 */
export interface WasmBackendLike {
  /** Drops one reference to a tensor's data; frees it when none is left. */
  disposeData(dataId: DataId, force?: boolean): boolean;
  /** Adds one reference to a tensor's data (reshape results share their input's data). */
  incRef(dataId: DataId): void;
  /** Copies a tensor's data out of the wasm heap. */
  readSync(dataId: DataId): BackendValues;
  /** Allocates a tensor on the wasm heap, optionally filled with `values`. */
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: BackendValues): TensorInfo;
  /** A live view of a tensor's data on the wasm heap (invalid after the heap grows). */
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** The arguments tfjs passes to a kernel function. @internal */
export interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: NamedAttrMap;
}

/** Narrows the `backend` a kernel receives, failing clearly when it is not the wasm backend. @internal */
export function asWasmBackend(backend: unknown, kernelName: string): WasmBackendLike {
  const b = backend as Partial<WasmBackendLike> | null;
  if (b == null || typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function' || typeof b.disposeData !== 'function') {
    throw new BackendError(`medvae's ${kernelName} kernel runs only on the tfjs wasm backend, but was called with another backend.`);
  }
  return b as WasmBackendLike;
}

/**
 * Runs the wasm kernel currently registered under `name` directly on tensor infos: no engine
 * bookkeeping, no tape, no profile entry. The caller owns the result.
 * @internal
 */
export function runWasmKernel(name: string, backend: WasmBackendLike, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) {
    throw new BackendError(`medvae's wasm training kernels need the wasm kernel '${name}', which is not registered. Check that @tensorflow/tfjs-backend-wasm matches @tensorflow/tfjs-core (npm ls @tensorflow/tfjs-core).`);
  }
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new BackendError(`wasm kernel '${name}' returned ${out.length} outputs where one was expected.`);
  return out;
}

/**
 * Intermediate tensor infos of one kernel call. Every info made through it is released by
 * `dispose()`, which the kernels call in a `finally`, so an exception never leaks wasm memory.
 * @internal
 */
export class Scratch {
  private readonly infos: TensorInfo[] = [];

  constructor(readonly backend: WasmBackendLike) {}

  /** Takes ownership of `info` (released by {@link Scratch.dispose}) and returns it. */
  own(info: TensorInfo): TensorInfo {
    this.infos.push(info);
    return info;
  }

  /** Gives up ownership of `info` (the kernel's result, which the engine takes over) and returns it. */
  release(info: TensorInfo): TensorInfo {
    const i = this.infos.lastIndexOf(info);
    if (i >= 0) this.infos.splice(i, 1);
    return info;
  }

  /** Releases every owned info (reshape views only drop their reference). */
  dispose(): void {
    for (const info of this.infos) this.backend.disposeData(info.dataId);
    this.infos.length = 0;
  }

  /** A view of `x` with another shape; shares the data (one more reference). */
  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    this.backend.incRef(x.dataId);
    return this.own({ dataId: x.dataId, shape, dtype: x.dtype });
  }

  /**
   * Permutes axes. When the permutation only moves size-1 axes the data order is unchanged, so a
   * reshape view is returned instead of a copy.
   */
  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    const outShape = perm.map((p) => x.shape[p]);
    const moved = perm.filter((p) => x.shape[p] !== 1);
    if (moved.every((p, i) => i === 0 || moved[i - 1] < p)) return this.reshape(x, outShape);
    return this.own(runWasmKernel('Transpose', this.backend, { x }, { perm }));
  }

  /** Copies the box `begin … begin+size` out of `x`. */
  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return this.reshape(x, x.shape);
    return this.own(runWasmKernel('Slice', this.backend, { x }, { begin, size }));
  }

  /** NHWC 2-D convolution with explicit, non-negative padding `[top, bottom, left, right]`. */
  conv2d(x: TensorInfo, filter: TensorInfo, pads: [number, number, number, number], dilations: [number, number] = [1, 1]): TensorInfo {
    const [top, bottom, left, right] = pads;
    const pad = top === 0 && bottom === 0 && left === 0 && right === 0 ? 'valid' : [[0, 0], [top, bottom], [left, right], [0, 0]];
    return this.own(runWasmKernel('Conv2D', this.backend, { x, filter }, {
      strides: [1, 1], pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined,
    } as unknown as NamedAttrMap));
  }

  /** A new float32 tensor holding `values` (copied onto the wasm heap). */
  fromValues(shape: number[], values: Float32Array): TensorInfo {
    return this.own(this.backend.makeOutput(shape, 'float32', undefined, values));
  }
}

/** Reads tfjs's `strides` attribute (a number or a pair) as a pair. @internal */
export function pair(v: number | number[]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/**
 * Crops `x` (NHWC) where a requested padding is negative and returns the remaining non-negative
 * padding, so that a convolution can apply it. @internal
 */
export function cropNegativePads(scratch: Scratch, x: TensorInfo, pads: [number, number, number, number]): { x: TensorInfo; pads: [number, number, number, number] } {
  const [top, bottom, left, right] = pads;
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) return { x, pads };
  const [n, h, w, c] = x.shape;
  const t = Math.max(0, -top);
  const l = Math.max(0, -left);
  const hh = h - t - Math.max(0, -bottom);
  const ww = w - l - Math.max(0, -right);
  const cropped = scratch.slice(x, [0, t, l, 0], [n, hh, ww, c]);
  return { x: cropped, pads: [Math.max(0, top), Math.max(0, bottom), Math.max(0, left), Math.max(0, right)] };
}
