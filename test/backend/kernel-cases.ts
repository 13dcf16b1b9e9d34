// Shared inputs of the kernel tests (wasm-kernels.test.ts, cpu-kernels.test.ts): convolution and
// max-pool cases that cover every stride/padding/shape path of medvae's kernels, and seeded data.
import * as tf from '@tensorflow/tfjs-core';
import { Generator } from '../../src/index.js';

export type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

export interface ConvCase {
  x: number[];
  w: number[];
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Strides 1/2/3 and mixed, 'same'/'valid'/numeric/explicit padding, 1×1 to 5×5, odd sizes, batch > 1, NCHW. */
export const convCases: ConvCase[] = [
  { x: [2, 5, 6, 3], w: [1, 1, 3, 4], strides: 1, pad: 'valid' },
  { x: [2, 7, 6, 3], w: [1, 1, 3, 4], strides: 2, pad: 'valid' },
  { x: [2, 8, 6, 3], w: [2, 2, 3, 5], strides: 2, pad: 'valid' },
  { x: [1, 7, 9, 2], w: [2, 2, 2, 3], strides: 2, pad: 'valid' },
  { x: [2, 7, 9, 3], w: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 8, 10, 3], w: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { x: [3, 7, 9, 2], w: [3, 3, 2, 4], strides: 2, pad: 'same' },
  { x: [2, 8, 9, 3], w: [3, 3, 3, 2], strides: 2, pad: 'valid' },
  { x: [2, 9, 7, 2], w: [5, 5, 2, 3], strides: 1, pad: 'same' },
  { x: [2, 11, 10, 2], w: [5, 5, 2, 3], strides: 2, pad: 'valid' },
  { x: [2, 10, 9, 3], w: [3, 3, 3, 2], strides: [2, 3], pad: 'same' },
  { x: [2, 9, 10, 3], w: [3, 2, 3, 2], strides: 3, pad: 'valid' },
  { x: [2, 7, 9, 3], w: [3, 3, 3, 4], strides: 2, pad: [[0, 0], [1, 2], [0, 3], [0, 0]] },
  { x: [2, 7, 9, 3], w: [3, 3, 3, 4], strides: 1, pad: [[0, 0], [4, 0], [2, 5], [0, 0]] },
  { x: [2, 8, 9, 3], w: [4, 4, 3, 4], strides: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  { x: [2, 8, 8, 3], w: [3, 3, 3, 2], strides: 2, pad: 1, dimRoundingMode: 'ceil' },
  { x: [1, 8, 8, 1], w: [3, 3, 1, 4], strides: 1, pad: 'same' },
  { x: [2, 3, 7, 9], w: [3, 3, 3, 4], strides: 2, pad: 'same', dataFormat: 'NCHW' },
  { x: [2, 3, 8, 6], w: [2, 2, 3, 5], strides: 2, pad: [[0, 0], [0, 0], [1, 0], [0, 2]], dataFormat: 'NCHW' },
];

export function describeConvCase(c: ConvCase): string {
  return `x ${c.x.join('×')} w ${c.w.join('×')} strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)}${c.dataFormat ? ` ${c.dataFormat}` : ''}${c.dimRoundingMode ? ` ${c.dimRoundingMode}` : ''}`;
}

/** Output shape of the forward convolution of a case (computed by tfjs's own shape logic). */
export function convOutShape(c: ConvCase): number[] {
  const info = tf.backend_util.computeConv2DInfo(
    c.x as [number, number, number, number], c.w as [number, number, number, number], c.strides, 1, c.pad, c.dimRoundingMode, false,
    c.dataFormat === 'NCHW' ? 'channelsFirst' : 'channelsLast',
  );
  return info.outShape;
}

/** Runs the Conv2DBackpropFilter kernel of the active backend on plain data (the input tensors are disposed). */
export function convFilterGrad(c: ConvCase, x: Data, dy: Data): tf.Tensor {
  const attrs = { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat ?? 'NHWC', dimRoundingMode: c.dimRoundingMode, filterShape: c.w };
  return tf.tidy(() => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: t(x), dy: t(dy) }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor);
}

/** Runs the Conv2DBackpropInput kernel of the active backend on plain data (the input tensors are disposed). */
export function convInputGrad(c: ConvCase, dy: Data, w: Data): tf.Tensor {
  const attrs = { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat ?? 'NHWC', dimRoundingMode: c.dimRoundingMode, inputShape: c.x };
  return tf.tidy(() => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: t(dy), filter: t(w) }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor);
}

/** What the pool's input values look like: where the max-pool gradient kernels differ. */
export type PoolData = 'normal' | 'negative' | 'ties';

export interface PoolCase {
  x: number[];
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  data: PoolData;
}

/**
 * Windows with negative maxima, ties (small integers, many equal values per window), strides
 * smaller, equal to and larger than the window, 'same'/'valid'/numeric/explicit padding, batch > 1
 * and several channels.
 */
export const poolCases: PoolCase[] = [
  { x: [2, 8, 10, 3], filterSize: 2, strides: 2, pad: 'valid', data: 'negative' },
  { x: [2, 8, 10, 3], filterSize: 2, strides: 2, pad: 'valid', data: 'ties' },
  { x: [2, 9, 7, 4], filterSize: 2, strides: 2, pad: 'valid', data: 'normal' },
  { x: [2, 9, 8, 2], filterSize: 3, strides: 1, pad: 'same', data: 'negative' },
  { x: [2, 9, 8, 2], filterSize: 3, strides: 1, pad: 'same', data: 'ties' },
  { x: [3, 7, 9, 3], filterSize: 3, strides: 2, pad: 'same', data: 'negative' },
  { x: [2, 8, 8, 3], filterSize: 3, strides: 2, pad: 'same', data: 'ties' },
  { x: [2, 8, 8, 5], filterSize: 2, strides: 1, pad: 'valid', data: 'ties' },
  { x: [1, 9, 7, 3], filterSize: [3, 2], strides: [2, 3], pad: 'valid', data: 'negative' },
  { x: [2, 10, 11, 2], filterSize: 2, strides: 3, pad: 'valid', data: 'normal' },
  { x: [2, 7, 7, 2], filterSize: 3, strides: 2, pad: 1, data: 'negative' },
  { x: [2, 8, 8, 2], filterSize: 3, strides: 2, pad: 1, dimRoundingMode: 'ceil', data: 'ties' },
  { x: [2, 7, 8, 3], filterSize: 3, strides: 2, pad: [[0, 0], [1, 0], [0, 1], [0, 0]], data: 'negative' },
  { x: [2, 7, 8, 3], filterSize: [2, 3], strides: [1, 2], pad: [[0, 0], [1, 1], [2, 0], [0, 0]], data: 'ties' },
  { x: [1, 6, 6, 1], filterSize: 2, strides: 2, pad: 'valid', data: 'ties' },
];

export function describePoolCase(c: PoolCase): string {
  return `x ${c.x.join('×')} window ${JSON.stringify(c.filterSize)} strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)}${c.dimRoundingMode ? ` ${c.dimRoundingMode}` : ''}, ${c.data} data`;
}

/** Output shape of the pooling of a case. */
export function poolOutShape(c: PoolCase): number[] {
  return tf.backend_util.computePool2DInfo(c.x as [number, number, number, number], c.filterSize, c.strides, 1, c.pad, c.dimRoundingMode).outShape;
}

/** Runs the active backend's MaxPool and then its MaxPoolGrad kernel on plain data. */
export function maxPoolGrad(c: PoolCase, x: Data, dy: Data): tf.Tensor {
  return tf.tidy(() => {
    const input = t(x) as tf.Tensor4D;
    const output = tf.maxPool(input, c.filterSize, c.strides, c.pad, c.dimRoundingMode);
    const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad, dimRoundingMode: c.dimRoundingMode };
    return tf.engine().runKernel(tf.MaxPoolGrad, { dy: t(dy), input, output }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  });
}

/** Plain data: the same numbers feed every backend. */
export interface Data {
  values: Float32Array;
  shape: number[];
}

const gen = new Generator(1234);

/** Seeded standard-normal data. */
export function data(shape: number[]): Data {
  return { values: gen.normalArray(tf.util.sizeFromShape(shape)), shape };
}

/** Seeded pool input of the given kind: normal, all negative (normal − 4), or integers −2…1 (many ties). */
export function poolData(shape: number[], kind: PoolData): Data {
  const d = data(shape);
  if (kind === 'negative') d.values = d.values.map((v) => v - 4);
  if (kind === 'ties') d.values = d.values.map((v) => Math.max(-2, Math.min(1, Math.round(v))));
  return d;
}

/** A tensor of plain data on the active backend. */
export function t(d: Data): tf.Tensor {
  return tf.tensor(d.values, d.shape);
}
