import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AvgPool2d,
  Conv2d,
  ConvTranspose2d,
  Linear,
  MaxPool2d,
  ShapeError,
  Upsample,
  ValueError,
  type BackendName,
  type Module,
  type StateDict,
} from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';

/** One case of conv_linear_pool.json (written by gen_conv_linear_pool.py, in medvae layouts). */
interface Case {
  name: string;
  kind: 'Conv2d' | 'ConvTranspose2d' | 'Linear' | 'MaxPool2d' | 'AvgPool2d' | 'Upsample';
  args: (number | [number, number])[];
  opts: Record<string, unknown>;
  inputShape: number[];
  input: number[];
  outputShape: number[];
  output: number[];
  R: number[];
  gradInput: number[];
  weightShape?: number[];
  weight?: number[];
  gradWeight?: number[];
  bias?: number[];
  gradBias?: number[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/layers/conv_linear_pool.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

function build(c: Case): Module<tf.Tensor, tf.Tensor> {
  const [a, b, k] = c.args as [number, number, number];
  const o = c.opts as never;
  switch (c.kind) {
    case 'Conv2d':
      return new Conv2d(a, b, k, o);
    case 'ConvTranspose2d':
      return new ConvTranspose2d(a, b, k, o);
    case 'Linear':
      return new Linear(a, b, o);
    case 'MaxPool2d':
      return new MaxPool2d(c.args[0], o);
    case 'AvgPool2d':
      return new AvgPool2d(c.args[0], o);
    case 'Upsample':
      return new Upsample(o);
  }
}

/** Absolute tolerance for float32 results compared with float64 references: 1e-6 of the data's scale. */
function atolFor(expected: number[]): number {
  return 1e-6 * Math.max(1, ...expected.map(Math.abs));
}

// cpu by default; MEDVAE_TEST_BACKEND=wasm runs the same parity checks on another backend.
beforeAll(() => setupBackend((process.env.MEDVAE_TEST_BACKEND ?? 'cpu') as BackendName));

describe('parity with PyTorch 1.13 (forward and gradients)', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const layer = build(c);
    if (c.weight) {
      const state: StateDict = { weight: tf.tensor(c.weight, c.weightShape) };
      if (c.bias) state.bias = tf.tensor(c.bias);
      layer.loadStateDict(state);
      Object.values(state).forEach((t) => t.dispose());
    } else {
      expect(layer.parameters()).toHaveLength(0);
    }
    const x = tf.tensor(c.input, c.inputShape);
    const r = tf.tensor(c.R, c.outputShape);
    const loss = (input: tf.Tensor): tf.Scalar => tf.sum(tf.mul(layer.forward(input), r));

    const y = layer.forward(x);
    expect(y.shape).toEqual(c.outputShape);
    expectClose(values(y), c.output, 1e-5, atolFor(c.output), `${c.name}: output`);

    const gx = tf.grad(loss)(x);
    expect(gx.shape).toEqual(c.inputShape);
    expectClose(values(gx), c.gradInput, 1e-5, atolFor(c.gradInput), `${c.name}: grad input`);

    if (c.weight) {
      const params = layer.parameters();
      const { value, grads } = tf.variableGrads(() => loss(x), params);
      const [weight, bias] = params;
      expectClose(values(grads[weight.name]), c.gradWeight!, 1e-5, atolFor(c.gradWeight!), `${c.name}: grad weight`);
      if (c.bias) expectClose(values(grads[bias.name]), c.gradBias!, 1e-5, atolFor(c.gradBias!), `${c.name}: grad bias`);
      else expect(params).toHaveLength(1);
      value.dispose();
      Object.values(grads).forEach((g) => g.dispose());
    }
    tf.dispose([x, r, y, gx]);
    layer.dispose();
  });
});
