import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, Scratch, wasmHost, type KernelArgs, type WasmBackendLike } from './kernel-utils.js';
import { weightsForPackedProduct } from './packed-weights.js';

/**
 * Below this many multiply–adds per matrix of a batch (m·k·n), a batched product stays on the stock
 * kernel: its generic loop is slow (~2 GFLOP/s) but has no per-matrix set-up cost, which the
 * XNNPACK path pays once per matrix (measured break-even near 16·32·32 on a 2-core Xeon).
 */
export const BATCHED_FAST_PATH_MIN_MACS = 16_384;

/**
 * Fewest rows per left-hand matrix for the split batch path: XNNPACK packs every right-hand
 * matrix (k·n work) before multiplying, which only pays off when enough rows reuse it (a batch of
 * 64 products 1×256 · 256×256 ran 3× slower split than on the stock loop).
 */
export const BATCHED_FAST_PATH_MIN_ROWS = 8;

/** Copies matrix `index` of a [batch, rows, cols] tensor into a new [1, rows, cols] tensor. */
function copyMatrix(backend: WasmBackendLike, x: TensorInfo, index: number): TensorInfo {
  const size = x.shape[1] * x.shape[2];
  const out = backend.makeOutput([1, x.shape[1], x.shape[2]], 'float32');
  // Views are taken after the allocation: growing the wasm heap detaches older views.
  const src = backend.typedArrayFromHeap(x);
  backend.typedArrayFromHeap(out).set(src.subarray(index * size, (index + 1) * size));
  return out;
}

/**
 * Builds medvae's `BatchMatMul` for wasm around the stock kernel `stock`.
 *
 * tfjs-backend-wasm 4.22 sends a product to XNNPACK's fast fully-connected path only when there is
 * one matrix per operand and neither is transposed; everything else runs a generic loop at about
 * 1–2 GFLOP/s, ten to twenty times slower. The kernel built here transposes explicitly (a cheap
 * copy), folds a batch that multiplies one shared right-hand matrix into the rows of a single
 * product, and splits other batches into one fast product per matrix. The numbers are those of
 * the stock kernel: only the order of operations around the same XNNPACK routine changes, except
 * where the stock kernel is wrong: it would reuse a right-hand matrix packed under another shape
 * (see packed-weights.ts), which medvae's kernel gives a fresh copy instead.
 */
export function makeBatchMatMulKernel(stock: KernelFunc): KernelFunc {
  const kernel = (args: KernelArgs): TensorInfo => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const viaStock = (): TensorInfo => stock(args as Parameters<KernelFunc>[0]) as TensorInfo;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return viaStock();
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const batch = Math.max(batchA, batchB);
    // Mismatched shapes, broadcasts the stock kernel handles its own way, and products where the
    // stock kernel already is fast or the split would not pay: the stock kernel answers (and
    // raises its own errors).
    if (k !== kb || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return viaStock();
    if (batchB > 1 && (m < BATCHED_FAST_PATH_MIN_ROWS || m * k * n < BATCHED_FAST_PATH_MIN_MACS)) return viaStock();
    const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];

    const backend = asWasmBackend(args.backend, 'BatchMatMul');
    const host = wasmHost(backend);
    const scratch = new Scratch(host);
    const plain = { transposeA: false, transposeB: false } as unknown as NamedAttrMap;
    // Every product here takes XNNPACK's cached path, so its right-hand matrix goes through the
    // packing guard (see packed-weights.ts): a view of weights packed with another layout would
    // otherwise be multiplied as that layout.
    const product = (x: TensorInfo, y: TensorInfo): TensorInfo =>
      stock({ inputs: { a: x, b: weightsForPackedProduct(backend, scratch, y) }, backend, attrs: plain }) as TensorInfo;
    try {
      if (batch === 1 && !transposeA && !transposeB) {
        // The stock kernel's own fast case; only the right-hand matrix may need a fresh copy.
        return product(a, b);
      }
      const a3 = scratch.reshape(a, transposeA ? [batchA, k, m] : [batchA, m, k]);
      const b3 = scratch.reshape(b, transposeB ? [batchB, n, k] : [batchB, k, n]);
      const an = transposeA ? scratch.transpose(a3, [0, 2, 1]) : a3;
      const bn = transposeB ? scratch.transpose(b3, [0, 2, 1]) : b3;
      if (batchB === 1) {
        // One right-hand matrix: the batch of left-hand matrices is just more rows.
        const rows = scratch.own(product(scratch.reshape(an, [1, batchA * m, k]), bn));
        return scratch.release(scratch.reshape(rows, outShape));
      }
      const out = scratch.own(backend.makeOutput([batch, m, n], 'float32'));
      for (let i = 0; i < batch; i++) {
        const step = new Scratch(host);
        try {
          const ai = batchA === 1 ? an : step.own(copyMatrix(backend, an, i));
          // A fresh right-hand tensor for every matrix: XNNPACK caches packed weights by tensor id.
          const bi = step.own(copyMatrix(backend, bn, i));
          const ri = step.own(product(ai, bi));
          backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(ri), i * m * n);
        } finally {
          step.dispose();
        }
      }
      return scratch.release(scratch.reshape(out, outShape));
    } finally {
      scratch.dispose();
    }
  };
  return kernel as unknown as KernelFunc;
}

/** Kernel config of medvae's wasm `BatchMatMul`, wrapping the stock config `stock`. @internal */
export function batchMatMulConfig(stock: KernelConfig): KernelConfig {
  return {
    kernelName: tf.BatchMatMul,
    backendName: 'wasm',
    kernelFunc: makeBatchMatMulKernel(stock.kernelFunc),
    // The stock kernel function needs its own set-up (it binds the wasm export) whenever the
    // backend is initialised, so that set-up travels with the replacement.
    setupFunc: stock.setupFunc,
    disposeFunc: stock.disposeFunc,
  };
}
