import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { copyRuns } from './copy-runs.js';
import { asWasmBackend, type KernelArgs } from './kernel-utils.js';

/**
 * Builds medvae's wasm `Concat` around the stock config `stock`. Seen as [outer, inner] rows,
 * every input contributes one run of `inner` elements to each output row. tfjs-backend-wasm copies
 * each run with a `subarray` + `set` pair, which allocates a view per run: a U-Net skip
 * connection (concatenation on the channel axis of NHWC tensors, runs of 16–64 values) makes
 * 2·N·H·W of them. This kernel copies short runs with a plain loop on the heap (see `copyRuns`) and
 * handles every axis the same way; the values are copied bit for bit, as before. String tensors and
 * mixed dtypes go to the stock kernel.
 * @internal
 */
export function makeConcatKernel(stock: KernelFunc): KernelFunc {
  const kernel = (args: KernelArgs): TensorInfo => {
    const inputs = Object.values(args.inputs) as TensorInfo[];
    const viaStock = (): TensorInfo => stock(args as Parameters<KernelFunc>[0]) as TensorInfo;
    if (inputs.length === 0) return viaStock();
    const dtype = inputs[0].dtype;
    if (dtype === 'string' || dtype === 'complex64' || inputs.some((t) => t.dtype !== dtype)) return viaStock();
    const { axis: axisAttr } = (args.attrs ?? {}) as { axis?: number | number[] };
    const axis = tf.util.parseAxisParam(axisAttr ?? 0, inputs[0].shape)[0];
    const shapes = inputs.map((t) => t.shape);
    tf.backend_util.assertParamsConsistent(shapes, axis);
    const outShape = tf.backend_util.computeOutShape(shapes, axis);
    const nonEmpty = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
    const backend = asWasmBackend(args.backend, 'Concat');
    if (nonEmpty.length === 1) {
      // Only one input holds values: the result is that input (one more reference, no copy).
      backend.incRef(nonEmpty[0].dataId);
      return { dataId: nonEmpty[0].dataId, shape: outShape, dtype };
    }
    const out = backend.makeOutput(outShape, dtype);
    if (nonEmpty.length === 0) return out;
    const outer = tf.util.sizeFromShape(outShape.slice(0, axis));
    const rowLength = tf.util.sizeFromShape(outShape.slice(axis));
    // Views are taken after the allocation: growing the wasm heap detaches older views.
    const dst = backend.typedArrayFromHeap(out);
    let offset = 0;
    for (const t of nonEmpty) {
      const run = tf.util.sizeFromShape(t.shape.slice(axis));
      copyRuns(backend.typedArrayFromHeap(t), 0, run, dst, offset, rowLength, run, outer);
      offset += run;
    }
    return out;
  };
  return kernel as unknown as KernelFunc;
}

/** Kernel config of medvae's wasm `Concat`, wrapping the stock config `stock`. @internal */
export function concatConfig(stock: KernelConfig): KernelConfig {
  return { kernelName: tf.Concat, backendName: 'wasm', kernelFunc: makeConcatKernel(stock.kernelFunc), setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc };
}
