import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { cropNegativePads, pair, type KernelArgs, type KernelHost, withScratch } from './scratch.js';

/** Padding as tfjs's convolution attributes give it. @internal */
export type ConvPad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** Attributes tfjs passes to `Conv2DBackpropFilter` (tfjs-core's `Conv2DBackpropFilterAttrs`). @internal */
export interface BackpropFilterAttrs {
  strides: number | [number, number];
  pad: ConvPad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** Attributes tfjs passes to `Conv2DBackpropInput` (tfjs-core's `Conv2DBackpropInputAttrs`). @internal */
export interface BackpropInputAttrs {
  strides: number | [number, number];
  pad: ConvPad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/**
 * Filter gradient of a 2-D convolution, computed as one forward convolution of the host backend
 * (XNNPACK on wasm, the plain-JS loop on cpu — both far faster than their filter-gradient kernels).
 *
 * For a convolution with stride s and top/left padding p,
 *   dW[i, j, c, o] = Σ_{n, y, x} X[n, y·s + i − p, x·s + j − p, c] · dY[n, y, x, o].
 * Read with c as the batch, n as the input channel, (i, j) as the output position and dY as the
 * filter, that sum is a stride-1 convolution of X transposed to [C_in, H, W, N] with dY transposed
 * to [OH, OW, N, C_out], whose filter taps are spread s apart: the original stride becomes the
 * dilation. Its top padding is p; the bottom padding is whatever makes the output exactly kh rows
 * (negative when the forward convolution ignored trailing input rows: those rows are then left
 * out by computing a few extra output rows and cropping them). The result [C_in, kh, kw, C_out]
 * is transposed to tfjs's filter layout [kh, kw, C_in, C_out].
 * @internal
 */
export function conv2DBackpropFilterViaConv(host: KernelHost, x: TensorInfo, dy: TensorInfo, attrs: BackpropFilterAttrs): TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const channelsLast = dataFormat !== 'NCHW';
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, pair(strides), 1, pad, dimRoundingMode, false,
    channelsLast ? 'channelsLast' : 'channelsFirst',
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w, inChannels, outChannels } = info;
  const [oh, ow] = channelsLast ? [dy.shape[1], dy.shape[2]] : [dy.shape[2], dy.shape[3]];
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const bottom = kh + (oh - 1) * sh - h - top;
  const right = kw + (ow - 1) * sw - w - left;

  return withScratch(host, (scratch) => {
    const xt = scratch.transpose(x, channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0]);
    const dyt = scratch.transpose(dy, channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1]);
    const grad = scratch.conv2d(xt, dyt, [top, Math.max(0, bottom), left, Math.max(0, right)], [sh, sw]);
    const cropped = scratch.slice(grad, [0, 0, 0, 0], [inChannels, kh, kw, outChannels]);
    return scratch.release(scratch.transpose(cropped, [1, 2, 0, 3]));
  });
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
 * computed as one forward convolution of the host backend plus a pixel shuffle, with no
 * multiplications by inserted zeros.
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
 * @internal
 */
export function conv2DBackpropInputViaConv(host: KernelHost, dy: TensorInfo, filter: TensorInfo, attrs: BackpropInputAttrs): TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
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

  return withScratch(host, (scratch) => {
    const dyNhwc = channelsLast ? dy : scratch.transpose(dy, [0, 2, 3, 1]);
    const { x: dyIn, pads } = cropNegativePads(scratch, dyNhwc, [mh - 1 - q0h, qh - oh + q0h, mw - 1 - q0w, qw - ow + q0w]);
    const weights = phaseFilter(scratch.read(filter), kh, kw, cin, cout, sh, sw, mh, mw);
    const phases = scratch.conv2d(dyIn, scratch.fromValues([mh, mw, cout, sh * sw * cin], weights), pads);
    let grid = phases;
    if (sh * sw > 1) {
      const split = scratch.reshape(phases, [n * qh, qw, sh, sw * cin]);
      grid = scratch.reshape(scratch.transpose(split, [0, 2, 1, 3]), [n, qh * sh, qw * sw, cin]);
    }
    const dx = scratch.slice(grid, [0, pt - q0h * sh, pl - q0w * sw, 0], [n, h, w, cin]);
    return scratch.release(channelsLast ? dx : scratch.transpose(dx, [0, 3, 1, 2]));
  });
}

/**
 * Wraps {@link conv2DBackpropFilterViaConv} as a tfjs kernel function for the backend whose host
 * `toHost` builds from the backend tfjs passes in. @internal
 */
export function backpropFilterKernel(toHost: (backend: unknown) => KernelHost): (args: KernelArgs) => TensorInfo {
  return (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    return conv2DBackpropFilterViaConv(toHost(args.backend), x, dy, args.attrs as unknown as BackpropFilterAttrs);
  };
}

/** Wraps {@link conv2DBackpropInputViaConv} as a tfjs kernel function (see {@link backpropFilterKernel}). @internal */
export function backpropInputKernel(toHost: (backend: unknown) => KernelHost): (args: KernelArgs) => TensorInfo {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    return conv2DBackpropInputViaConv(toHost(args.backend), dy, filter, args.attrs as unknown as BackpropInputAttrs);
  };
}
