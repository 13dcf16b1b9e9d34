import type { DataId, TensorInfo } from '@tensorflow/tfjs-core';
import type { Scratch, WasmBackendLike } from './kernel-utils.js';

// tfjs-backend-wasm 4.x runs an untransposed single-matrix product (`BatchMatMul`, `_FusedMatMul`)
// through an XNNPACK fully-connected operator, which packs the right-hand matrix once and caches
// the packed operator under the right-hand tensor's storage id, its bias id and its activation —
// not under its shape. Reshapes share storage ids, so the same data used again as a matrix of
// another shape (weights `[k, 1]` in the forward pass, the same data viewed as `[1, k]` for the
// input gradient) silently reuses the first packing: the product reads the wrong layout and
// returns garbage, often NaN. medvae's kernels route every product that takes that path through
// {@link weightsForPackedProduct}.

/** The `k×n` layout each storage was first packed with; keyed by tfjs's data id, so it goes with the data. */
const packedAs = new WeakMap<DataId, string>();

/**
 * The right-hand matrix `b` (shape `[1, k, n]`) to give to the stock XNNPACK product: `b` itself
 * when its storage was never packed or was packed as `k×n`, otherwise a fresh copy owned by
 * `scratch` (a new storage id gets its own packing, which is freed with it).
 */
export function weightsForPackedProduct(backend: WasmBackendLike, scratch: Scratch, b: TensorInfo): TensorInfo {
  const layout = `${b.shape[b.shape.length - 2]}x${b.shape[b.shape.length - 1]}`;
  const first = packedAs.get(b.dataId);
  if (first === undefined) {
    packedAs.set(b.dataId, layout);
    return b;
  }
  if (first === layout) return b;
  const copy = scratch.own(backend.makeOutput([...b.shape], 'float32'));
  // Views are taken after the allocation: growing the wasm heap detaches older views.
  backend.typedArrayFromHeap(copy).set(backend.typedArrayFromHeap(b));
  packedAs.set(copy.dataId, layout);
  return copy;
}
