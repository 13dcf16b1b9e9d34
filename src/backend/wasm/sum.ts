import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, type KernelArgs } from './kernel-utils.js';

/**
 * The number of leading axes `axes` reduces when they are exactly 0, 1, …, k − 1, in that order,
 * with k below the rank (a reduction of [rows, columns] over rows), otherwise 0. The order
 * matters: the stock kernel adds in the order the axes are given, and this kernel must add in
 * the same order to give the same floats.
 */
function leadingAxes(axes: number[], rank: number): number {
  if (axes.length === 0 || axes.length >= rank) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

/**
 * Fewer columns than this stay on the stock kernel: its transpose is then nearly a plain copy, and
 * strided single-column loops in JS are no faster.
 */
const MIN_COLUMNS = 8;

/** Up to this many columns, {@link sumColumnBlocks} (register accumulators) beats {@link sumRows}. */
const WIDE_ROWS = 64;

/** Adds each row into `acc` in turn (rows of many columns: streams through memory once). */
function sumRows(src: Float32Array, acc: Float32Array, rows: number, cols: number): void {
  acc.set(src.subarray(0, cols));
  for (let r = 1; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) acc[c] += src[base + c];
  }
}

/**
 * Sums blocks of 8 columns in local variables, rounding to float32 after every addition
 * (`Math.fround`) as a float32 accumulator would; leftover columns one at a time. Same order of
 * additions as {@link sumRows}, about twice as fast on rows of 16–64 columns.
 */
function sumColumnBlocks(src: Float32Array, acc: Float32Array, rows: number, cols: number): void {
  const end = rows * cols;
  let c0 = 0;
  for (; c0 + 8 <= cols; c0 += 8) {
    let s0 = src[c0], s1 = src[c0 + 1], s2 = src[c0 + 2], s3 = src[c0 + 3];
    let s4 = src[c0 + 4], s5 = src[c0 + 5], s6 = src[c0 + 6], s7 = src[c0 + 7];
    for (let i = cols + c0; i < end; i += cols) {
      s0 = Math.fround(s0 + src[i]);
      s1 = Math.fround(s1 + src[i + 1]);
      s2 = Math.fround(s2 + src[i + 2]);
      s3 = Math.fround(s3 + src[i + 3]);
      s4 = Math.fround(s4 + src[i + 4]);
      s5 = Math.fround(s5 + src[i + 5]);
      s6 = Math.fround(s6 + src[i + 6]);
      s7 = Math.fround(s7 + src[i + 7]);
    }
    acc[c0] = s0; acc[c0 + 1] = s1; acc[c0 + 2] = s2; acc[c0 + 3] = s3;
    acc[c0 + 4] = s4; acc[c0 + 5] = s5; acc[c0 + 6] = s6; acc[c0 + 7] = s7;
  }
  for (let c = c0; c < cols; c++) {
    let s = src[c];
    for (let i = cols + c; i < end; i += cols) s = Math.fround(s + src[i]);
    acc[c] = s;
  }
}

/**
 * Builds medvae's wasm `Sum` around the stock config `stock`. The gradient of a bias added to an
 * NHWC activation is a sum over axes [0, 1, 2]; tfjs-backend-wasm reduces only innermost axes,
 * so it first transposes the whole tensor to put the channels in front (a strided copy as large
 * as the activation). This kernel sums float32 tensors over leading axes directly: the tensor is
 * [rows, columns] and the rows are added up column by column, in row order, with float32
 * rounding at every step — the same additions in the same order as the stock kernel after its
 * transpose. Other axis sets and dtypes go to the stock kernel.
 * @internal
 */
export function makeSumKernel(stock: KernelFunc): KernelFunc {
  const kernel = (args: KernelArgs): TensorInfo => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = (args.attrs ?? {}) as { axis: number | number[]; keepDims?: boolean };
    const viaStock = (): TensorInfo => stock(args as Parameters<KernelFunc>[0]) as TensorInfo;
    if (x.dtype !== 'float32') return viaStock();
    const k = leadingAxes(tf.util.parseAxisParam(axis, x.shape), x.shape.length);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, k));
    const cols = tf.util.sizeFromShape(x.shape.slice(k));
    if (k === 0 || rows === 0 || cols < MIN_COLUMNS) return viaStock();
    const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...x.shape.slice(k)] : x.shape.slice(k);
    const backend = asWasmBackend(args.backend, 'Sum');
    const out = backend.makeOutput(outShape, 'float32');
    // Views are taken after the allocation: growing the wasm heap detaches older views.
    const src = backend.typedArrayFromHeap(x) as Float32Array;
    const acc = backend.typedArrayFromHeap(out) as Float32Array;
    if (cols <= WIDE_ROWS) sumColumnBlocks(src, acc, rows, cols);
    else sumRows(src, acc, rows, cols);
    return out;
  };
  return kernel as unknown as KernelFunc;
}

/** Kernel config of medvae's wasm `Sum`, wrapping the stock config `stock` (and its set-up). @internal */
export function sumConfig(stock: KernelConfig): KernelConfig {
  return { kernelName: tf.Sum, backendName: 'wasm', kernelFunc: makeSumKernel(stock.kernelFunc), setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc };
}
