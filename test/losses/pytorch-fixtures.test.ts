// Values and gradients of every loss against PyTorch 1.13 (MONAI's formulas re-implemented in
// torch): test/fixtures/losses/gen_losses.py writes test/fixtures/losses/losses.json.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bceWithLogits, bernoulliNLL, binaryCrossEntropy, crossEntropy, diceCELoss, diceFocalLoss, diceLoss, discriminatorLoss,
  focalLoss, gaussianKL, gaussianKLBetween, gaussianNLL, generalizedDiceLoss, generatorLoss, huber, l1, mse, smoothL1,
  tverskyLoss, type LossFn,
} from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend } from '../helpers/tf.js';

interface Arr { shape: number[]; data: number[]; dtype?: string }
interface Case {
  loss: string; name: string; options: Record<string, unknown>;
  input?: Arr; target?: Arr; args?: Arr[]; value: Arr; grad?: Arr; grad2?: Arr; grads?: Arr[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/losses/losses.json', import.meta.url), 'utf8')) as { cases: Case[] };

const toTensor = (a: Arr): tf.Tensor => tf.tensor(a.data, a.shape, a.dtype === 'int32' ? 'int32' : 'float32');
const isArr = (v: unknown): v is Arr => typeof v === 'object' && v !== null && 'shape' in v && 'data' in v;
function options(c: Case): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c.options).map(([k, v]) => [k, isArr(v) ? toTensor(v) : v]));
}

// Every two-tensor loss, called through its curried form (so that form is what is checked).
const binary: Record<string, (o: Record<string, unknown>) => LossFn> = {
  diceLoss: (o) => diceLoss(o), generalizedDiceLoss: (o) => generalizedDiceLoss(o), tverskyLoss: (o) => tverskyLoss(o),
  focalLoss: (o) => focalLoss(o), diceCELoss: (o) => diceCELoss(o), diceFocalLoss: (o) => diceFocalLoss(o),
  crossEntropy: (o) => crossEntropy(o), binaryCrossEntropy: (o) => binaryCrossEntropy(o), bceWithLogits: (o) => bceWithLogits(o),
  mse: (o) => mse(o), l1: (o) => l1(o), smoothL1: (o) => smoothL1(o), huber: (o) => huber(o),
  gaussianKL: (o) => gaussianKL(o), bernoulliNLL: (o) => bernoulliNLL(o), gaussianNLL: (o) => gaussianNLL(o),
  discriminatorLoss: (o) => discriminatorLoss(o),
};

beforeAll(() => setupBackend('cpu'));

const RTOL = 1e-5;
const ATOL = 1e-6;

function compare(t: tf.Tensor, want: Arr, what: string, atol = ATOL): void {
  expect(t.shape, `${what}: shape`).toEqual(want.shape);
  expectClose(t.dataSync(), want.data, RTOL, atol, what);
}

const byLoss = new Map<string, Case[]>();
for (const c of fixture.cases) byLoss.set(c.loss, [...(byLoss.get(c.loss) ?? []), c]);

describe.each([...byLoss.keys()])('%s matches PyTorch', (loss) => {
  it.each(byLoss.get(loss)!.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const opts = options(c);
    if (c.loss === 'gaussianKLBetween') {
      const args = c.args!.map(toTensor);
      const f = (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor, e: tf.Tensor) => tf.sum(gaussianKLBetween(a, b, d, e, opts));
      compare(gaussianKLBetween(args[0], args[1], args[2], args[3], opts), c.value, 'value');
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor, e: tf.Tensor) => f(a, b, d, e))(args);
      grads.forEach((g, i) => compare(g, c.grads![i], `grad ${i}`));
      return;
    }
    const x = toTensor(c.input!);
    if (c.loss === 'generatorLoss') {
      compare(generatorLoss(x, opts), c.value, 'value');
      compare(tf.grad((v: tf.Tensor) => generatorLoss(v, opts))(x), c.grad!, 'grad');
      return;
    }
    const y = toTensor(c.target!);
    const fn = binary[c.loss](opts);
    compare(fn(x, y), c.value, 'value');
    // BCE at p = 0 / 1 has gradients of order 1e12: compare those relative only.
    const gradAtol = c.loss === 'binaryCrossEntropy' ? 0 : ATOL;
    compare(tf.grad((v: tf.Tensor) => tf.sum(fn(v, y)))(x), c.grad!, 'grad w.r.t. input', gradAtol);
    if (c.grad2) compare(tf.grad((v: tf.Tensor) => tf.sum(fn(x, v)))(y), c.grad2, 'grad w.r.t. second argument');
  });
});

describe('loss calls leave no tensors behind', () => {
  it.each(fixture.cases.filter((c) => c.loss in binary).map((c) => [c.loss, c.name, c] as const))('%s: %s', async (_l, _n, c) => {
    const opts = options(c);
    const x = toTensor(c.input!);
    const y = toTensor(c.target!);
    const fn = binary[c.loss](opts);
    await expectNoLeak(() => {
      fn(x, y).dispose();
      tf.grad((v: tf.Tensor) => tf.sum(fn(v, y)))(x).dispose();
    });
  });

  it.each(fixture.cases.filter((c) => c.loss === 'generatorLoss').map((c) => [c.name, c] as const))('generatorLoss: %s', async (_n, c) => {
    const x = toTensor(c.input!);
    const fn = generatorLoss(options(c));
    await expectNoLeak(() => {
      fn(x).dispose();
      tf.grad((v: tf.Tensor) => fn(v))(x).dispose();
    });
  });
});
