/** The typed arrays tensors live in on the wasm heap (float32, int32 and bool data). @internal */
export type HeapArray = Float32Array | Int32Array | Uint8Array;

/**
 * Runs at most this long are copied element by element; longer ones with `TypedArray.set`. A
 * `subarray` + `set` pair allocates a view object per run, which costs more than a short loop:
 * the U-Net's skip connections move 16- to 64-channel runs, where the loop is several times faster.
 */
export const SHORT_RUN = 64;

/**
 * Copies `count` runs of `run` elements from `src` to `dst`: run `i` starts at
 * `srcStart + i·srcStride` in `src` and lands at `dstStart + i·dstStride` in `dst`. This is
 * concatenation and splitting along any axis once a tensor is seen as [outer, inner] rows.
 * Both arrays must have the same element type (no conversion happens). @internal
 */
export function copyRuns(
  src: HeapArray,
  srcStart: number,
  srcStride: number,
  dst: HeapArray,
  dstStart: number,
  dstStride: number,
  run: number,
  count: number,
): void {
  if (run === 0 || count === 0) return;
  if (run === srcStride && run === dstStride) {
    // Contiguous on both sides: one block.
    dst.set(src.subarray(srcStart, srcStart + run * count), dstStart);
    return;
  }
  if (run > SHORT_RUN) {
    for (let i = 0; i < count; i++) {
      const s = srcStart + i * srcStride;
      dst.set(src.subarray(s, s + run), dstStart + i * dstStride);
    }
    return;
  }
  let s = srcStart;
  let d = dstStart;
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < run; j++) dst[d + j] = src[s + j];
    s += srcStride;
    d += dstStride;
  }
}
