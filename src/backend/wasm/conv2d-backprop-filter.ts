import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, pair, Scratch, type KernelArgs } from './kernel-utils.js';

/** Attributes tfjs passes to `Conv2DBackpropFilter` (tfjs-core's `Conv2DBackpropFilterAttrs`). */
interface BackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * Filter gradient of a 2-D convolution, computed as one forward convolution that XNNPACK runs fast.
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
 */
export function conv2DBackpropFilterWasm(args: KernelArgs): TensorInfo {
  const backend = asWasmBackend(args.backend, 'Conv2DBackpropFilter');
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as BackpropFilterAttrs;
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

  const scratch = new Scratch(backend);
  try {
    const xt = scratch.transpose(x, channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0]);
    const dyt = scratch.transpose(dy, channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1]);
    const grad = scratch.conv2d(xt, dyt, [top, Math.max(0, bottom), left, Math.max(0, right)], [sh, sw]);
    const cropped = scratch.slice(grad, [0, 0, 0, 0], [inChannels, kh, kw, outChannels]);
    return scratch.release(scratch.transpose(cropped, [1, 2, 0, 3]));
  } finally {
    scratch.dispose();
  }
}

/** Kernel config of {@link conv2DBackpropFilterWasm} (tfjs-backend-wasm 4.x has none). @internal */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm as unknown as KernelConfig['kernelFunc'],
};
