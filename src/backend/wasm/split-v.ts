import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { copyRuns } from './copy-runs.js';
import { asWasmBackend, type KernelArgs } from './kernel-utils.js';

/**
 * Builds medvae's wasm `SplitV` around the stock config `stock`. `SplitV` is the gradient of
 * `Concat`, so every U-Net skip connection runs it in the backward pass. tfjs-backend-wasm splits
 * with one `Slice` per piece, and its `Slice` first reads the whole input off the heap (a full copy
 * per piece) before copying runs with a view per run. This kernel reads the heap in place and
 * copies the [outer, inner]-row runs as `Concat` does (see `copyRuns`), on any axis, bit for bit.
 * String tensors go to the stock kernel.
 * @internal
 */
export function makeSplitVKernel(stock: KernelFunc): KernelFunc {
  const kernel = (args: KernelArgs): TensorInfo[] => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string' || x.dtype === 'complex64') return stock(args as Parameters<KernelFunc>[0]) as TensorInfo[];
    const { numOrSizeSplits, axis } = (args.attrs ?? {}) as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, ax);
    const backend = asWasmBackend(args.backend, 'SplitV');
    const outs = sizes.map((s) => {
      const shape = x.shape.slice();
      shape[ax] = s;
      return backend.makeOutput(shape, x.dtype);
    });
    if (tf.util.sizeFromShape(x.shape) === 0) return outs;
    const outer = tf.util.sizeFromShape(x.shape.slice(0, ax));
    const unit = tf.util.sizeFromShape(x.shape.slice(ax + 1));
    const rowLength = x.shape[ax] * unit;
    // Views are taken after all allocations: growing the wasm heap detaches older views.
    const src = backend.typedArrayFromHeap(x);
    let offset = 0;
    outs.forEach((out, i) => {
      const run = sizes[i] * unit;
      copyRuns(src, offset, rowLength, backend.typedArrayFromHeap(out), 0, run, run, outer);
      offset += run;
    });
    return outs;
  };
  return kernel as unknown as KernelFunc;
}

/** Kernel config of medvae's wasm `SplitV`, wrapping the stock config `stock`. @internal */
export function splitVConfig(stock: KernelConfig): KernelConfig {
  return { kernelName: tf.SplitV, backendName: 'wasm', kernelFunc: makeSplitVKernel(stock.kernelFunc), setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc };
}
