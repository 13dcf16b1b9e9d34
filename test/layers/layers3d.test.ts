import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AvgPool3d,
  BatchNorm3d,
  Conv3d,
  ConvTranspose3d,
  GroupNorm,
  InstanceNorm3d,
  MaxPool3d,
  ShapeError,
  Upsample,
  ValueError,
  type BackendName,
  type Module,
  type StateDict,
} from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';

/** One case of layers3d.json (written by gen_layers3d.py with PyTorch 1.13, in medvae layouts). */
interface Case {
  name: string;
  kind: 'Conv3d' | 'ConvTranspose3d' | 'MaxPool3d' | 'AvgPool3d' | 'Upsample' | 'BatchNorm3d' | 'InstanceNorm3d' | 'GroupNorm';
  args: (number | number[])[];
  opts: Record<string, unknown>;
  inputShape: number[];
  input: number[];
  outputShape: number[];
  output: number[];
  R: number[];
  gradInput: number[];
  state: Record<string, { shape: number[]; values: number[]; dtype: 'float32' | 'int32' }>;
  grads: Record<string, number[]>;
  stateAfter: Record<string, number[]>;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/layers/layers3d.json', import.meta.url), 'utf8')) as { cases: Case[] };

function build(c: Case): Module<tf.Tensor, tf.Tensor> {
  const [a, b, k] = c.args as [number, number, number];
  const o = c.opts as never;
  switch (c.kind) {
    case 'Conv3d':
      return new Conv3d(a, b, k, o);
    case 'ConvTranspose3d':
      return new ConvTranspose3d(a, b, k, o);
    case 'MaxPool3d':
      return new MaxPool3d(a, o);
    case 'AvgPool3d':
      return new AvgPool3d(a, o);
    case 'Upsample':
      return new Upsample(o);
    case 'BatchNorm3d':
      return new BatchNorm3d(a, o);
    case 'InstanceNorm3d':
      return new InstanceNorm3d(a, o);
    case 'GroupNorm':
      return new GroupNorm(a, b, o);
  }
}

const atolFor = (expected: number[]): number => 1e-6 * Math.max(1, ...expected.map(Math.abs));

// The same PyTorch parity on tfjs's cpu backend and on wasm (with medvae's kernels where it has them).
describe.each(['cpu', 'wasm'] as BackendName[])('3-D layers on %s', (backend) => {
  beforeAll(() => setupBackend(backend));
  afterAll(() => setupBackend('cpu'));

  it.each(fixture.cases.map((c) => [c.name, c] as const))('matches PyTorch 1.13: %s', (_name, c) => {
    const layer = build(c);
    const state: StateDict = {};
    for (const [key, s] of Object.entries(c.state)) state[key] = tf.tensor(s.values, s.shape, s.dtype);
    layer.loadStateDict(state);
    tf.dispose(Object.values(state));
    const x = tf.tensor(c.input, c.inputShape);
    const r = tf.tensor(c.R, c.outputShape);
    const loss = (input: tf.Tensor): tf.Scalar => tf.sum(tf.mul(layer.forward(input), r));

    // Forward (and the running-statistics update, done once as PyTorch did).
    const y = layer.forward(x);
    expect(y.shape).toEqual(c.outputShape);
    expectClose(values(y), c.output, 1e-5, atolFor(c.output), `${c.name}: output`);
    const buffers = Object.fromEntries(layer.namedBuffers());
    for (const [key, expected] of Object.entries(c.stateAfter)) {
      expectClose(values(buffers[key]), expected, 1e-5, 1e-6, `${c.name}: ${key} after the step`);
    }

    const gx = tf.grad(loss)(x);
    expect(gx.shape).toEqual(c.inputShape);
    expectClose(values(gx), c.gradInput, 1e-5, atolFor(c.gradInput), `${c.name}: grad input`);

    const named = layer.namedParameters();
    expect(named.map(([k]) => k).sort()).toEqual(Object.keys(c.grads).sort());
    if (named.length > 0) {
      const { value, grads } = tf.variableGrads(() => loss(x), named.map(([, v]) => v));
      for (const [key, v] of named) expectClose(values(grads[v.name]), c.grads[key], 1e-5, atolFor(c.grads[key]), `${c.name}: grad ${key}`);
      value.dispose();
      tf.dispose(Object.values(grads));
    }
    tf.dispose([x, r, y, gx]);
    layer.dispose();
  });

  it('forward and backward leave no tensors behind', async () => {
    const net = [new Conv3d(2, 3, 3, { padding: 1, seed: 0 }), new BatchNorm3d(3), new MaxPool3d(2), new ConvTranspose3d(3, 2, 2, { stride: 2, seed: 1 }), new Upsample({ scaleFactor: 2, mode: 'trilinear' })];
    const x = tf.randomNormal([1, 4, 4, 4, 2], 0, 1, 'float32', 3);
    const params = net.flatMap((m) => m.parameters());
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(net.reduce<tf.Tensor>((h, m) => m.forward(h), x)) as tf.Scalar, params);
      value.dispose();
      tf.dispose(Object.values(grads));
    });
    x.dispose();
    net.forEach((m) => m.dispose());
  });
});

describe('3-D layer argument checks', () => {
  beforeAll(() => setupBackend('cpu'));

  it('refuses NCDHW input with a hint, rank 4 input, and bad options', () => {
    const conv = new Conv3d(2, 4, 3, { seed: 0 });
    const ncdhw = tf.zeros([1, 2, 5, 5, 5]);
    expect(() => conv.forward(ncdhw)).toThrow(/NCDHW.*tf\.transpose\(x, \[0, 2, 3, 4, 1\]\)/);
    expect(() => conv.forward(tf.zeros([1, 5, 5, 2]))).toThrow(ShapeError);
    expect(() => new Conv3d(2, 4, 3, { stride: 2, padding: 'same' })).toThrow(ValueError);
    expect(() => new Conv3d(2, 4, [3, 3] as never)).toThrow(/triple/);
    expect(() => new MaxPool3d(2, { padding: 2 })).toThrow(/half the kernel/);
    expect(() => new ConvTranspose3d(2, 2, 3, { stride: 2, outputPadding: 2 })).toThrow(/outputPadding/);
    expect(() => new Upsample({ scaleFactor: 2, mode: 'trilinear' }).forward(tf.zeros([1, 4, 4, 1]))).toThrow(/rank 5/);
    expect(() => new Upsample({ scaleFactor: 2, mode: 'bilinear' }).forward(tf.zeros([1, 2, 4, 4, 1]))).toThrow(/trilinear/);
    expect(() => new Upsample({ scaleFactor: [2, 2] }).forward(tf.zeros([1, 2, 4, 4, 1]))).toThrow(/\[d, h, w\]/);
    expect(() => new BatchNorm3d(3).forward(tf.zeros([2, 4, 4, 3]))).toThrow(ShapeError);
    expect(() => new BatchNorm3d(3).forward(tf.zeros([1, 1, 1, 1, 3]))).toThrow(/more than one value/);
    tf.dispose(ncdhw);
    conv.dispose();
  });

  it('maps PyTorch state dicts through torchLayout', () => {
    expect(new Conv3d(2, 4, 3).torchLayout('weight')).toEqual([2, 3, 4, 1, 0]);
    expect(new ConvTranspose3d(2, 4, 3).torchLayout('weight')).toEqual([2, 3, 4, 1, 0]);
    expect(new Conv3d(2, 4, [1, 3, 5]).weight.shape).toEqual([1, 3, 5, 2, 4]);
    expect(new ConvTranspose3d(2, 4, 2, { stride: 2 }).outputSize(3, 4, 5)).toEqual([6, 8, 10]);
  });
});
