// The non-finite training guard: its on-device flag, its report, and the acceptance case of the
// issue: the same poisoned batch (+Infinity, NaN or 1e30 pixel) raises the same NumericalError at
// the step it enters, on cpu, pure wasm and wasm with medvae-native (when the addon loads).
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchNorm2d, Conv2d, Generator, Linear, MaxPool2d, Module, NumericalError, assertFinite, assertFiniteAsync, findNonFinite,
  finiteFlag, nativeKernelsStatus, nonFiniteError, trainingStateTensors, useBackend, variableGrads,
} from '../../src/index.js';
import { expectNoLeak } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});
afterAll(async () => {
  await useBackend('cpu');
});

describe('finiteFlag', () => {
  it('is 1 for finite tensors (huge values included) and 0 when any value is NaN or ±Infinity', () => {
    const read = (ts: tf.Tensor[]): number => {
      const f = finiteFlag(ts);
      const v = f.dataSync()[0];
      f.dispose();
      return v;
    };
    const fine = [tf.tensor1d([1, -2, 3e38, -3e38]), tf.tensor2d([[1e30, 1e30], [1e30, 1e30]]), tf.tensor1d([1, 2], 'int32')];
    expect(read(fine)).toBe(1);
    expect(read([])).toBe(1);
    for (const bad of [NaN, Infinity, -Infinity]) {
      const t = tf.tensor1d([0, 1, bad, 2]);
      expect(read([...fine, t]), `flag with ${bad}`).toBe(0);
      t.dispose();
    }
    tf.dispose(fine);
  });

  it('leaves no tensor behind', async () => {
    const ts = [tf.ones([4, 4]), tf.tensor1d([NaN])];
    await expectNoLeak(() => finiteFlag(ts).dispose(), 5);
    await expectNoLeak(() => expect(() => assertFinite([['x', ts[1]]], 'test')).toThrow(NumericalError), 3);
    tf.dispose(ts);
  });
});

describe('findNonFinite / assertFinite', () => {
  it('names each non-finite tensor with its NaN and ±Infinity counts', async () => {
    const a = tf.tensor1d([NaN, NaN, 1]);
    const b = tf.tensor1d([Infinity, -Infinity, -Infinity]);
    const c = tf.tensor1d([1, 2, 3]);
    const found = findNonFinite({ a, b, c });
    expect(found).toEqual([
      { name: 'a', shape: [3], nan: 2, posInf: 0, negInf: 0 },
      { name: 'b', shape: [3], nan: 0, posInf: 1, negInf: 2 },
    ]);
    expect(() => assertFinite({ c }, 'step 1')).not.toThrow();
    expect(() => assertFinite([['a', a], ['c', c]], 'epoch 2, step 7')).toThrow(/epoch 2, step 7: a \[3\]: 2 NaN/);
    await expect(assertFiniteAsync({ b }, 'step 3')).rejects.toThrow(/b \[3\]: 1 \+Infinity, 2 −Infinity/);
    expect(() => nonFiniteError([], 'x')).toThrow(/at least one/);
    tf.dispose([a, b, c]);
  });
});

/** Conv → BatchNorm → ReLU → MaxPool → Linear: the layers whose kernels hid NaN on wasm. */
class Net extends Module<tf.Tensor, tf.Tensor> {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly pool: MaxPool2d;
  readonly head: Linear;
  constructor() {
    super();
    const gen = new Generator(3);
    this.conv = this.registerModule('conv', new Conv2d(1, 4, 3, { padding: 1, seed: gen }));
    this.bn = this.registerModule('bn', new BatchNorm2d(4));
    this.pool = this.registerModule('pool', new MaxPool2d(2));
    this.head = this.registerModule('head', new Linear(4 * 4 * 4, 1, { seed: gen }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = this.pool.forward(tf.relu(this.bn.forward(this.conv.forward(x))));
      return this.head.forward(tf.reshape(h, [x.shape[0], -1]));
    });
  }
}

type Poison = 'clean' | 'inf' | 'nan' | 'huge';

/** Three training steps (SGD) whose third batch carries `poison` at one pixel; returns the guard's verdict per step. */
function trainThree(poison: Poison): string[] {
  const net = new Net();
  const opt = tf.train.sgd(0.01);
  const gen = new Generator(11);
  const verdicts: string[] = [];
  try {
    for (let step = 1; step <= 3; step++) {
      const pixels = gen.normalArray(4 * 8 * 8);
      if (step === 3 && poison !== 'clean') pixels[77] = poison === 'inf' ? Infinity : poison === 'nan' ? NaN : 1e30;
      const x = tf.tensor4d(pixels, [4, 8, 8, 1]);
      const { value, grads } = variableGrads(() => tf.mean(tf.square(net.forward(x))), net.trainableParameters());
      try {
        assertFinite(trainingStateTensors(net, grads), `step ${step}`);
        opt.applyGradients(grads);
        verdicts.push('ok');
      } catch (err) {
        if (!(err instanceof NumericalError)) throw err;
        verdicts.push(err.message.includes(`step ${step}:`) ? 'NumericalError' : `wrong step: ${err.message}`);
        break;
      } finally {
        tf.dispose([x, value, ...Object.values(grads)]);
      }
    }
    // Parameters never took the poisoned update.
    expect(findNonFinite(net.namedParameters()).map((e) => e.name)).toEqual([]);
  } finally {
    net.dispose();
    opt.dispose();
  }
  return verdicts;
}

describe('the same poisoned batch raises the same error on every backend', () => {
  const setups: Array<[string, () => Promise<unknown>]> = [
    ['cpu', () => useBackend('cpu')],
    ['wasm (pure)', () => useBackend('wasm', { native: false })],
    ['wasm (+ medvae-native when it loads)', () => useBackend('wasm')],
  ];
  for (const [label, activate] of setups) {
    it(`${label}: clean steps pass; +Infinity, NaN and 1e30 pixels stop training at step 3`, async () => {
      await activate();
      if (label.includes('native')) console.log(`guard test on wasm, native kernels ${nativeKernelsStatus().active ? 'active' : `inactive (${nativeKernelsStatus().reason})`}`);
      const before = tf.memory().numTensors;
      expect(trainThree('clean')).toEqual(['ok', 'ok', 'ok']);
      for (const poison of ['inf', 'nan', 'huge'] as const) {
        expect(trainThree(poison), `${label}, ${poison}`).toEqual(['ok', 'ok', 'NumericalError']);
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }
  it('a 1e30 pixel makes BatchNorm running_var Infinity, which the guard names', async () => {
    await useBackend('cpu');
    const bn = new BatchNorm2d(1);
    const v = new Float32Array(2 * 4 * 4);
    v[3] = 1e30;
    const x = tf.tensor4d(v, [2, 4, 4, 1]);
    tf.dispose(bn.forward(x));
    expect(() => assertFinite(trainingStateTensors(bn), 'step 1')).toThrow(/buffer running_var \[1\]: 1 \+Infinity/);
    x.dispose();
    bn.dispose();
  });
});
