import type * as tf from '@tensorflow/tfjs-core';

// Reference arithmetic for the rare calls whose data holds NaN or ±Infinity. XNNPACK (the wasm
// backend's convolutions and pools) clamps every output to its activation range with min/max
// instructions that turn NaN into the range's lower end: NaN becomes −Infinity after a plain
// convolution or pool and 0 after a fused ReLU, so a poisoned batch trains on with finite-looking
// numbers. medvae's kernels detect such calls with one pass over the data and recompute them here
// with the cpu backend's rules and order of operations.

/**
 * True when any of `values` is NaN or ±Infinity: `v × 0` is 0 for finite `v` and NaN otherwise,
 * so the sums stay 0 exactly when all are finite. Four independent sums without a branch per
 * element run about twice as fast in V8 as a test per element (~3 ms per million values on a
 * loaded 2-core machine), which keeps the scan small beside the kernels it guards.
 */
export function hasNonFinite(values: ArrayLike<number>): boolean {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = values.length - (values.length % 4);
  for (let i = 0; i < n; i += 4) {
    s0 += values[i] * 0;
    s1 += values[i + 1] * 0;
    s2 += values[i + 2] * 0;
    s3 += values[i + 3] * 0;
  }
  for (let i = n; i < values.length; i++) s0 += values[i] * 0;
  return s0 + s1 + s2 + s3 !== 0;
}

/**
 * Recomputes, in place, every element of the NHWC convolution output `out` that is not finite,
 * as the cpu backend computes it: products summed over filter rows, filter columns and input
 * channels in that order, rounded to float32 after each addition, then `bias` added. Finite
 * elements are left as they are; an element the exact sum makes finite again gets that value.
 */
export function fixConvNonFinite(x: ArrayLike<number>, w: ArrayLike<number>, out: Float32Array, info: tf.backend_util.Conv2DInfo, bias?: ArrayLike<number>): void {
  const { inHeight: h, inWidth: wd, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: fh, filterWidth: fw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  for (let o = 0; o < out.length; o++) {
    const v = out[o];
    if (v - v === 0) continue;
    const c = o % co;
    const pixel = (o - c) / co;
    const xc = pixel % ow;
    const yr = ((pixel - xc) / ow) % oh;
    const b = Math.floor(pixel / (ow * oh));
    let acc = 0;
    for (let r = 0; r < fh; r++) {
      const row = yr * sh - top + r * dh;
      if (row < 0 || row >= h) continue;
      for (let s = 0; s < fw; s++) {
        const col = xc * sw - left + s * dw;
        if (col < 0 || col >= wd) continue;
        const xBase = ((b * h + row) * wd + col) * ci;
        const wBase = (r * fw + s) * ci * co + c;
        for (let d = 0; d < ci; d++) acc = Math.fround(acc + x[xBase + d] * w[wBase + d * co]);
      }
    }
    out[o] = bias === undefined ? acc : Math.fround(acc + bias[bias.length === 1 ? 0 : c]);
  }
}

/**
 * A 2-D pool (NHWC) by the cpu backend's rules: `max` keeps the first element strictly greater
 * than all before it starting from −Infinity (so NaN never wins, and a window of NaN gives
 * −Infinity); `avg` sums the window's elements inside the input in double precision and divides
 * by their count (NaN and ±Infinity propagate as in any sum).
 */
export function poolReference(x: ArrayLike<number>, out: Float32Array, info: tf.backend_util.Conv2DInfo, kind: 'max' | 'avg'): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: kh, effectiveFilterWidth: kw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let yr = 0; yr < oh; yr++) {
      const r0 = yr * sh - top;
      for (let yc = 0; yc < ow; yc++) {
        const c0 = yc * sw - left;
        for (let d = 0; d < c; d++, o++) {
          let best = -Infinity;
          let sum = 0;
          let count = 0;
          for (let r = Math.max(0, r0); r < Math.min(h, r0 + kh); r += dh) {
            for (let col = Math.max(0, c0); col < Math.min(w, c0 + kw); col += dw) {
              const v = x[((b * h + r) * w + col) * c + d];
              if (v > best) best = v;
              sum += v;
              count++;
            }
          }
          out[o] = kind === 'max' ? best : sum / count;
        }
      }
    }
  }
}

/** Activations a fused kernel may apply after its product, applied so that NaN stays NaN. */
export function activateKeepingNaN(out: Float32Array, activation: string, leakyreluAlpha: number): void {
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    switch (activation) {
      case 'relu':
        out[i] = v < 0 ? 0 : v;
        break;
      case 'relu6':
        out[i] = v < 0 ? 0 : v > 6 ? 6 : v;
        break;
      case 'leakyrelu':
        out[i] = v < 0 ? leakyreluAlpha * v : v;
        break;
      case 'elu':
        out[i] = v < 0 ? Math.expm1(v) : v;
        break;
      case 'sigmoid':
        out[i] = 1 / (1 + Math.exp(-v));
        break;
      default:
        break;
    }
  }
}
