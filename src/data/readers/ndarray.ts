import * as tf from '@tensorflow/tfjs-core';
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import { DTypeError, ShapeError } from '../../core/errors.js';

/** Data arrays {@link toNdarray} produces (float32, int32 and bool tensors respectively). */
export type TensorNdarrayData = Float32Array | Int32Array | Uint8Array;

/** Options of {@link fromNdarray}. */
export interface FromNdarrayOptions {
  /**
   * Tensor dtype. Default: `'float32'` for float and plain-array data, `'int32'` for integer
   * typed arrays (tfjs has no 8- or 16-bit dtypes).
   */
  dtype?: 'float32' | 'int32' | 'bool';
  /** Always copy, even when the memory could be shared. Default false. */
  copy?: boolean;
}

const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array];

function defaultDtype(data: unknown): 'float32' | 'int32' {
  return INTEGER_ARRAYS.some((c) => data instanceof c) ? 'int32' : 'float32';
}

/** True when the strides are the row-major (C-order) strides of the shape, ignoring size-1 axes. */
function isRowMajor(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/**
 * Makes a tensor from an `ndarray` (scijs). When the array is row-major contiguous (any offset)
 * and its data is already a `Float32Array` for float32 (or `Int32Array` for int32), the tensor is
 * made from a `subarray` view of the same memory, with no copy by medvae; the cpu backend then
 * keeps that memory as the tensor's storage, so **do not modify the ndarray afterwards** (pass
 * `{ copy: true }` if you must). Other layouts (transposed, stepped, negative strides), other
 * element types and plain/generic arrays are copied element by element. Backends with their own
 * memory (wasm, webgl, webgpu) always copy on upload.
 *
 * The caller owns the returned tensor (dispose it, or create it inside `tf.tidy`).
 */
export function fromNdarray(nd: NdArray, options: FromNdarrayOptions = {}): tf.Tensor {
  const shape = nd.shape.slice();
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new ShapeError(`fromNdarray: invalid shape [${shape.join(', ')}].`);
  const dtype = options.dtype ?? defaultDtype(nd.data);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = nd.data as unknown;
  if (!options.copy && isRowMajor(shape, nd.stride) && ((dtype === 'float32' && data instanceof Float32Array) || (dtype === 'int32' && data instanceof Int32Array))) {
    const view = (data as Float32Array | Int32Array).subarray(nd.offset, nd.offset + size);
    if (view.length === size) return tf.tensor(view, shape, dtype);
  }
  const out = dtype === 'float32' ? new Float32Array(size) : dtype === 'int32' ? new Int32Array(size) : new Uint8Array(size);
  const rank = shape.length;
  const get: (i: number) => number = Array.isArray(data)
    ? (i) => (data as number[])[i]
    : ArrayBuffer.isView(data)
      ? (i) => (data as Float64Array)[i]
      : (i) => (data as { get(i: number): number }).get(i);
  if (size > 0) {
    const idx = new Array<number>(rank).fill(0);
    let ptr = nd.offset;
    for (let o = 0; o < size; o++) {
      const v = get(ptr);
      out[o] = dtype === 'bool' ? (v ? 1 : 0) : v;
      // Odometer increment over the last axis first.
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]++;
        ptr += nd.stride[d];
        if (idx[d] < shape[d]) break;
        ptr -= nd.stride[d] * shape[d];
        idx[d] = 0;
      }
    }
  }
  return tf.tensor(out, shape, dtype);
}

/** Options of {@link toNdarray}. */
export interface ToNdarrayOptions {
  /** Return a private copy of the values instead of the backend's buffer. Default false. */
  copy?: boolean;
}

function wrap(t: tf.Tensor, values: tf.TypedArray, copy: boolean): NdArray<TensorNdarrayData> {
  const data = (copy ? values.slice() : values) as TensorNdarrayData;
  return ndarray(data, t.shape.slice());
}

function checkDtype(t: tf.Tensor, fn: string): void {
  if (t.dtype === 'string' || t.dtype === 'complex64') {
    throw new DTypeError(`${fn}: ${t.dtype} tensors have no numeric ndarray form; cast to float32 or int32 first.`);
  }
}

/**
 * Reads a tensor into a row-major `ndarray` of its shape (`Float32Array` for float32, `Int32Array`
 * for int32, `Uint8Array` for bool). On the cpu backend the data is the tensor's own storage (no
 * copy), so treat the result as read-only while the tensor lives, or pass `{ copy: true }`; other
 * backends download a copy. Synchronous: it blocks on GPU backends, where
 * {@link toNdarrayAsync} is better. The tensor is not disposed.
 */
export function toNdarray(t: tf.Tensor, options: ToNdarrayOptions = {}): NdArray<TensorNdarrayData> {
  checkDtype(t, 'toNdarray');
  return wrap(t, t.dataSync() as tf.TypedArray, options.copy ?? false);
}

/** {@link toNdarray} without blocking: awaits `tensor.data()`. */
export async function toNdarrayAsync(t: tf.Tensor, options: ToNdarrayOptions = {}): Promise<NdArray<TensorNdarrayData>> {
  checkDtype(t, 'toNdarrayAsync');
  return wrap(t, (await t.data()) as tf.TypedArray, options.copy ?? false);
}
