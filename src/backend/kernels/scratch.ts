import * as tf from '@tensorflow/tfjs-core';
import type { BackendValues, DataId, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendError } from '../../core/errors.js';

/**
 * The data-management methods every tfjs kernel backend has (cpu and wasm alike) that medvae's
 * kernels use to manage intermediate tensors. @internal
 */
export interface KernelBackendLike {
  /** Drops one reference to a tensor's data; frees it when none is left. */
  disposeData(dataId: DataId, force?: boolean): boolean;
  /** Adds one reference to a tensor's data (reshape results share their input's data). */
  incRef(dataId: DataId): void;
  /** A tensor's values (a copy on wasm, the stored array on cpu: never write to it). */
  readSync(dataId: DataId): BackendValues;
}

/**
 * What a medvae kernel needs from the backend it runs on: the backend's name (to run that
 * backend's own kernels nested), its data methods, and a way to make a tensor from values, which
 * is the one thing the backends spell differently. Kernels written against it run unchanged on
 * cpu and wasm. @internal
 */
export interface KernelHost {
  /** The tfjs name of the backend (`'cpu'`, `'wasm'`). */
  readonly backendName: string;
  /** The backend instance tfjs passed to the kernel. */
  readonly backend: KernelBackendLike;
  /** A new float32 tensor on this backend holding a copy of `values`. */
  fromValues(shape: number[], values: Float32Array): TensorInfo;
}

/** The arguments tfjs passes to a kernel function. @internal */
export interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: NamedAttrMap;
}

/**
 * Runs the kernel currently registered under `name` for the host's backend directly on tensor
 * infos: no engine bookkeeping, no tape, no profile entry. The caller owns the result.
 * @internal
 */
export function runHostKernel(host: KernelHost, name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
  const kernel = tf.getKernel(name, host.backendName);
  if (kernel === undefined) {
    throw new BackendError(`medvae's ${host.backendName} kernels need the ${host.backendName} kernel '${name}', which is not registered. Check that the tfjs backend package matches @tensorflow/tfjs-core (npm ls @tensorflow/tfjs-core).`);
  }
  const out = kernel.kernelFunc({ inputs, backend: host.backend as unknown as tf.KernelBackend, attrs });
  if (Array.isArray(out)) throw new BackendError(`${host.backendName} kernel '${name}' returned ${out.length} outputs where one was expected.`);
  return out;
}

/**
 * Intermediate tensor infos of one kernel call, with the few tensor operations the kernels are
 * built from (each runs the host backend's own kernel). Every info made through it is released by
 * `dispose()`, which the kernels call in a `finally`, so an exception never leaks memory.
 * @internal
 */
export class Scratch {
  private readonly infos: TensorInfo[] = [];

  constructor(readonly host: KernelHost) {}

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
    for (const info of this.infos) this.host.backend.disposeData(info.dataId);
    this.infos.length = 0;
  }

  /** A view of `x` with another shape; shares the data (one more reference). */
  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    this.host.backend.incRef(x.dataId);
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
    return this.own(runHostKernel(this.host, 'Transpose', { x }, { perm }));
  }

  /** Copies the box `begin … begin+size` out of `x`. */
  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return this.reshape(x, x.shape);
    return this.own(runHostKernel(this.host, 'Slice', { x }, { begin, size }));
  }

  /** NHWC 2-D convolution with explicit, non-negative padding `[top, bottom, left, right]`. */
  conv2d(x: TensorInfo, filter: TensorInfo, pads: [number, number, number, number], dilations: [number, number] = [1, 1]): TensorInfo {
    const [top, bottom, left, right] = pads;
    const pad = top === 0 && bottom === 0 && left === 0 && right === 0 ? 'valid' : [[0, 0], [top, bottom], [left, right], [0, 0]];
    return this.own(runHostKernel(this.host, 'Conv2D', { x, filter }, {
      strides: [1, 1], pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined,
    } as unknown as NamedAttrMap));
  }

  /** A new float32 tensor holding `values` (copied into the backend's storage). */
  fromValues(shape: number[], values: Float32Array): TensorInfo {
    return this.own(this.host.fromValues(shape, values));
  }

  /** A tensor's values as float32 (see {@link KernelBackendLike.readSync}: do not write to them). */
  read(x: TensorInfo): Float32Array {
    const values = this.host.backend.readSync(x.dataId);
    return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  }
}

/**
 * Runs `body` with a fresh {@link Scratch} on `host`, releasing every intermediate afterwards
 * (also when `body` throws). `body` hands its result over with `scratch.release`. @internal
 */
export function withScratch(host: KernelHost, body: (scratch: Scratch) => TensorInfo): TensorInfo {
  const scratch = new Scratch(host);
  try {
    return body(scratch);
  } finally {
    scratch.dispose();
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
