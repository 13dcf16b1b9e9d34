import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, Scratch, wasmHost, type KernelArgs } from './kernel-utils.js';
import { activateKeepingNaN, hasNonFinite } from '../kernels/non-finite.js';
import { weightsForPackedProduct } from './packed-weights.js';

/**
 * medvae's wasm `_FusedMatMul`: the stock kernel, except that a right-hand matrix whose storage
 * XNNPACK already packed with another shape is copied first (see packed-weights.ts), so that a
 * reshaped view of weights is never multiplied with the old layout, and that a ReLU / ReLU6 over
 * data holding NaN or ±Infinity is applied after the product, keeping NaN (XNNPACK's clamp turns
 * it into 0). Values are otherwise the stock kernel's.
 * @internal
 */
export function fusedMatMulConfig(stock: KernelConfig): KernelConfig {
  const kernel = (args: KernelArgs): TensorInfo => {
    const { a, b, bias } = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo };
    const { transposeA, transposeB, activation, leakyreluAlpha } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean; activation?: string; leakyreluAlpha?: number };
    if (activation === 'relu' || activation === 'relu6') {
      const backend = asWasmBackend(args.backend, '_FusedMatMul');
      const bad = [a, b, bias].some((t) => t != null && t.dtype === 'float32' && hasNonFinite(backend.typedArrayFromHeap(t)));
      if (bad) {
        const out = kernel({ ...args, attrs: { ...args.attrs, activation: 'linear' } });
        activateKeepingNaN(backend.typedArrayFromHeap(out) as Float32Array, activation, leakyreluAlpha ?? 0);
        return out;
      }
    }
    const viaStock = (): TensorInfo => stock.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
    // Only the untransposed single-matrix product reaches XNNPACK's cached operator.
    const single = (t: TensorInfo): boolean => tf.util.sizeFromShape(t.shape.slice(0, -2)) === 1;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || transposeA || transposeB || !single(a) || !single(b)) return viaStock();
    const backend = asWasmBackend(args.backend, '_FusedMatMul');
    const scratch = new Scratch(wasmHost(backend));
    try {
      const weights = weightsForPackedProduct(backend, scratch, b);
      if (weights === b) return viaStock();
      return stock.kernelFunc({ ...args, inputs: { ...args.inputs, b: weights } } as Parameters<KernelFunc>[0]) as TensorInfo;
    } finally {
      scratch.dispose();
    }
  };
  return { kernelName: tf._FusedMatMul, backendName: 'wasm', kernelFunc: kernel as unknown as KernelFunc, setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc };
}
