import * as tf from '@tensorflow/tfjs-core';
import { pair } from './scratch.js';

/** Attributes tfjs passes to `MaxPoolGrad` (tfjs-core's `MaxPoolGradAttrs`). @internal */
export interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** tfjs's geometry of the pooling a `MaxPoolGrad` call differentiates. @internal */
export function maxPoolGradInfo(xShape: number[], attrs: MaxPoolGradAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number], pair(attrs.filterSize), pair(attrs.strides), 1, attrs.pad, attrs.dimRoundingMode,
  );
}

/**
 * Gradient of a 2-D max pool (NHWC): adds each `dy` value to the input element that won its
 * window, into `dx` (which must hold zeros, and have `x`'s size).
 *
 * The winner is the first element of the window, in row-major order, that is strictly greater
 * than all before it, starting from −∞: the rule of tfjs's cpu backend (and of TensorFlow and
 * PyTorch), so ties go to the first maximal element, NaN and −∞ never win, and a window with no
 * element that wins (only padding, −∞ or NaN) passes no gradient. Each window's element offsets
 * are listed once; then, channel by channel, a scan over them finds the winner in registers and
 * one add scatters its gradient: about one comparison per input element and window covering it,
 * with reads that run along the contiguous channels.
 * @internal
 */
export function maxPoolGradInto(
  x: ArrayLike<number>, dy: ArrayLike<number>, dx: Float32Array, info: tf.backend_util.Conv2DInfo,
): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: kh, effectiveFilterWidth: kw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const rowStride = w * c;
  // Offsets of the current window's elements (channel 0), in row-major order.
  const window = new Int32Array(kh * kw);
  let dyAt = 0;
  for (let b = 0; b < n; b++) {
    const batchBase = b * h * rowStride;
    for (let yr = 0; yr < oh; yr++) {
      const r0 = Math.max(0, yr * sh - top);
      const r1 = Math.min(h, yr * sh - top + kh);
      for (let yc = 0; yc < ow; yc++, dyAt += c) {
        const c0 = Math.max(0, yc * sw - left);
        const c1 = Math.min(w, yc * sw - left + kw);
        let size = 0;
        for (let r = r0; r < r1; r++) {
          for (let col = c0; col < c1; col++) window[size++] = batchBase + r * rowStride + col * c;
        }
        for (let d = 0; d < c; d++) {
          let best = -Infinity;
          let at = -1;
          for (let k = 0; k < size; k++) {
            const i = window[k] + d;
            const v = x[i];
            if (v > best) {
              best = v;
              at = i;
            }
          }
          if (at >= 0) dx[at] += dy[dyAt + d];
        }
      }
    }
  }
}
