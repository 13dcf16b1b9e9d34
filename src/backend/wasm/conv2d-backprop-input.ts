import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, cropNegativePads, pair, Scratch, type KernelArgs } from './kernel-utils.js';

/** Attributes tfjs passes to `Conv2DBackpropInput` (tfjs-core's `Conv2DBackpropInputAttrs`). */
interface BackpropInputAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/**
 * Rearranges a filter [kh, kw, in, out] into the filter of the "sub-pixel" convolution below:
 * [mh, mw, out, sh·sw·in], where output channel (rh·sw + rw)·in + c holds the taps
 * w[rh + sh·k, rw + sw·l, c, ·] in reverse order (k = mh−1−m), and zeros where the tap lies
 * beyond the kernel. Filters are small, so plain JS is fast enough and exact.
 */
function phaseFilter(w: Float32Array, kh: number, kw: number, cin: number, cout: number, sh: number, sw: number, mh: number, mw: number): Float32Array {
  const phases = sh * sw;
  const out = new Float32Array(mh * mw * cout * phases * cin);
  let at = 0;
  for (let m = 0; m < mh; m++) {
    for (let l = 0; l < mw; l++) {
      for (let o = 0; o < cout; o++) {
        for (let rh = 0; rh < sh; rh++) {
          const i = rh + sh * (mh - 1 - m);
          for (let rw = 0; rw < sw; rw++) {
            const j = rw + sw * (mw - 1 - l);
            if (i >= kh || j >= kw) {
              at += cin;
              continue;
            }
            const base = (i * kw + j) * cin * cout + o;
            for (let c = 0; c < cin; c++) out[at++] = w[base + c * cout];
          }
        }
      }
    }
  }
  return out;
}

/**
 * Input gradient of a 2-D convolution (also the forward pass of a transposed convolution),
 * computed as one forward convolution plus a pixel shuffle, with no multiplications by inserted
 * zeros.
 *
 * For stride s and top padding p, dX[i] = Σ_{y·s + k = i + p} dY[y] · W[k] (per axis). Split the
 * rows i by their phase r = (i + p) mod s: a row of phase r only meets taps k ≡ r (mod s), so with
 * i + p = q·s + r it is Σ_m dY[q − m] · W[r + m·s], a stride-1 correlation of dY with the
 * reversed sub-filter W[r::s]. All s_h·s_w phases are computed at once by one stride-1 convolution
 * of dY with a filter of ⌈k/s⌉ taps per axis and s_h·s_w·C_in output channels (sub-filters padded
 * with zeros to equal length); a reshape–transpose–reshape interleaves the phases into rows and
 * columns, and a crop removes the p mod s leading rows (and any excess at the end) when the grid
 * does not line up with the input. Any stride, any padding ('same' with tfjs's larger bottom/right
 * half, 'valid', numbers, explicit pairs) and any `inputShape` are handled exactly, including
 * shapes where (in + pads − k) is not a multiple of the stride.
 */
export function conv2DBackpropInputWasm(args: KernelArgs): TensorInfo {
  const backend = asWasmBackend(args.backend, 'Conv2DBackpropInput');
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as BackpropInputAttrs;
  const channelsLast = dataFormat !== 'NCHW';
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], pair(strides), 1, pad, dimRoundingMode, false,
    channelsLast ? 'channelsLast' : 'channelsFirst',
  );
  const { batchSize: n, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w, inChannels: cin, outChannels: cout } = info;
  const [oh, ow] = channelsLast ? [dy.shape[1], dy.shape[2]] : [dy.shape[2], dy.shape[3]];
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  // Taps per phase, first phase index, and number of phase rows/columns that cover the input.
  const mh = Math.ceil(kh / sh);
  const mw = Math.ceil(kw / sw);
  const q0h = Math.floor(pt / sh);
  const q0w = Math.floor(pl / sw);
  const qh = Math.ceil((h + pt) / sh) - q0h;
  const qw = Math.ceil((w + pl) / sw) - q0w;

  const scratch = new Scratch(backend);
  try {
    const dyNhwc = channelsLast ? dy : scratch.transpose(dy, [0, 2, 3, 1]);
    const { x: dyIn, pads } = cropNegativePads(scratch, dyNhwc, [mh - 1 - q0h, qh - oh + q0h, mw - 1 - q0w, qw - ow + q0w]);
    const weights = phaseFilter(backend.readSync(filter.dataId) as Float32Array, kh, kw, cin, cout, sh, sw, mh, mw);
    const phases = scratch.conv2d(dyIn, scratch.fromValues([mh, mw, cout, sh * sw * cin], weights), pads);
    let grid = phases;
    if (sh * sw > 1) {
      const split = scratch.reshape(phases, [n * qh, qw, sh, sw * cin]);
      grid = scratch.reshape(scratch.transpose(split, [0, 2, 1, 3]), [n, qh * sh, qw * sw, cin]);
    }
    const dx = scratch.slice(grid, [0, pt - q0h * sh, pl - q0w * sw, 0], [n, h, w, cin]);
    return scratch.release(channelsLast ? dx : scratch.transpose(dx, [0, 3, 1, 2]));
  } finally {
    scratch.dispose();
  }
}

/** Kernel config of {@link conv2DBackpropInputWasm}, replacing tfjs-backend-wasm's naive loop. @internal */
export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInputWasm as unknown as KernelConfig['kernelFunc'],
};
