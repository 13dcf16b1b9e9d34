import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, UNet, UNetSegmenter, type BackendName, type StateDict } from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';

/** unet3d.json, written by gen_unet3d.py (PyTorch 1.13, float64), in medvae layouts. */
interface Fixture {
  channels: number[];
  inputShape: number[];
  input: number[];
  state: Record<string, { shape: number[]; values: number[]; dtype: 'float32' | 'int32' }>;
  outputTrain: number[];
  R: number[];
  gradInput: number[];
  grads: Record<string, number[]>;
  outputEval: number[];
}

const fx = JSON.parse(readFileSync(new URL('../fixtures/models/unet3d.json', import.meta.url), 'utf8')) as Fixture;
const atol = (v: number[]): number => 2e-6 * Math.max(1, ...v.map(Math.abs));

describe.each(['cpu', 'wasm'] as BackendName[])('3-D UNet on %s', (backend) => {
  beforeAll(() => setupBackend(backend));
  afterAll(() => setupBackend('cpu'));

  it('matches the same network in PyTorch 1.13: training output, all gradients, eval output', () => {
    const net = new UNet({ inChannels: 1, outChannels: 2, channels: fx.channels, spatialDims: 3, seed: 0 });
    const state: StateDict = {};
    for (const [k, s] of Object.entries(fx.state)) state[k] = tf.tensor(s.values, s.shape, s.dtype);
    net.loadStateDict(state);
    tf.dispose(Object.values(state));
    const x = tf.tensor(fx.input, fx.inputShape);
    const r = tf.tensor(fx.R, [...fx.inputShape.slice(0, 4), 2]);
    const named = net.namedParameters();
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(net.forward(x), r)) as tf.Scalar, named.map(([, v]) => v));
    for (const [k, v] of named) expectClose(values(grads[v.name]), fx.grads[k], 1e-4, atol(fx.grads[k]), `grad ${k}`);
    const gx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(net.forward(input), r)))(x);
    expectClose(values(gx), fx.gradInput, 1e-4, atol(fx.gradInput), 'grad input');
    tf.dispose([value, gx, ...Object.values(grads)]);
    // The gradient passes moved the running statistics: reload, then the training-mode output and
    // the eval-mode output after exactly one training forward, as recorded.
    const fresh: StateDict = {};
    for (const [k, s] of Object.entries(fx.state)) fresh[k] = tf.tensor(s.values, s.shape, s.dtype);
    net.loadStateDict(fresh);
    tf.dispose(Object.values(fresh));
    const yTrain = net.forward(x);
    expectClose(values(yTrain), fx.outputTrain, 1e-4, atol(fx.outputTrain), 'training output');
    net.eval();
    const yEval2 = net.forward(x);
    expectClose(values(yEval2), fx.outputEval, 1e-4, atol(fx.outputEval), 'eval output');
    tf.dispose([x, r, yTrain, yEval2]);
    net.dispose();
  });
});

describe('3-D UNet and UNetSegmenter', () => {
  beforeAll(() => setupBackend('cpu'));

  it('has the 2-D network state-dict keys, with 5-D kernels', () => {
    const opts = { inChannels: 1, outChannels: 3, channels: [4, 8], residual: true, seed: 0 };
    const a = new UNet(opts);
    const b = new UNet({ ...opts, spatialDims: 3 });
    expect(b.namedParameters().map(([k]) => k)).toEqual(a.namedParameters().map(([k]) => k));
    expect(b.head.weight.shape).toEqual([1, 1, 1, 4, 3]);
    for (const up of ['nearest', 'bilinear'] as const) {
      const n = new UNet({ ...opts, upsample: up, spatialDims: 3 });
      const y = n.forward(tf.zeros([1, 4, 6, 2, 1]));
      expect(y.shape).toEqual([1, 4, 6, 2, 3]);
      y.dispose();
      n.dispose();
    }
    expect(() => b.forward(tf.zeros([1, 4, 5, 4, 1]))).toThrow(ShapeError);
    expect(() => b.forward(tf.zeros([1, 4, 4, 1]))).toThrow(/NDHWC/);
    a.dispose();
    b.dispose();
  });

  it('predicts label volumes of any size (padded to the divisor), without leaks', async () => {
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [2, 4, 8], spatialDims: 3, seed: 1 });
    const x = tf.randomNormal([2, 5, 6, 7, 1], 0, 1, 'float32', 2);
    const labels = model.predict(x);
    expect(labels.shape).toEqual([2, 5, 6, 7]);
    expect(labels.dtype).toBe('int32');
    const p = model.predictProba(x, { flipTTA: true, batchSize: 1 });
    expect(p.shape).toEqual([2, 5, 6, 7, 2]);
    // Each voxel's probabilities sum to one.
    expectClose(values(tf.sum(p, -1)), new Array(2 * 5 * 6 * 7).fill(1), 1e-5, 1e-5, 'softmax sums');
    const windows = model.predictProba(x, { slidingWindow: { roiSize: [4, 4, 4], overlap: 0.5, mode: 'gaussian' } });
    expect(windows.shape).toEqual([2, 5, 6, 7, 2]);
    tf.dispose([labels, p, windows]);
    await expectNoLeak(() => tf.dispose(model.predict(x, { slidingWindow: { roiSize: [4, 4, 4] } })));
    expect(() => model.predict(tf.zeros([1, 8, 8, 1]) as tf.Tensor)).toThrow(/NDHWC/);
    x.dispose();
    model.dispose();
  });
});
