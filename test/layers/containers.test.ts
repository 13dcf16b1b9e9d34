import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv2d, Flatten, Identity, Linear, MaxPool2d, Reshape, Sequential, ShapeError, ValueError } from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

describe('Flatten', () => {
  it('merges h, w, c in NHWC memory order (channel fastest) by default', () => {
    const x = tf.tensor4d([...Array(12).keys()], [1, 2, 2, 3]);
    const y = new Flatten().forward(x);
    expect(y.shape).toEqual([1, 12]);
    // Element (h=0, w=1, c=0) is 3: in NHWC order it comes right after the 3 channels of (0, 0).
    expect(values(y)).toEqual([...Array(12).keys()]);
    tf.dispose([x, y]);
  });

  it('honours startDim / endDim, negative ones included', () => {
    const x = tf.zeros([2, 3, 4, 5]);
    const shape = (o: { startDim?: number; endDim?: number }): number[] => {
      const y = new Flatten(o).forward(x);
      const s = y.shape;
      y.dispose();
      return s;
    };
    expect(shape({ startDim: 0 })).toEqual([120]);
    expect(shape({ startDim: 1, endDim: 2 })).toEqual([2, 12, 5]);
    expect(shape({ startDim: -2 })).toEqual([2, 3, 20]);
    expect(shape({ startDim: 2, endDim: 2 })).toEqual([2, 3, 4, 5]);
    expect(() => new Flatten({ startDim: 3, endDim: 1 }).forward(x)).toThrow(ValueError);
    expect(() => new Flatten({ startDim: 4 }).forward(x)).toThrow(ShapeError);
    expect(new Flatten().toString()).toBe('Flatten(startDim=1, endDim=-1)');
    x.dispose();
  });
});

describe('Reshape', () => {
  it('keeps the batch axis and infers one −1', () => {
    const x = tf.zeros([4, 12]);
    const a = new Reshape([2, 2, 3]).forward(x);
    const b = new Reshape([-1, 3]).forward(x);
    expect(a.shape).toEqual([4, 2, 2, 3]);
    expect(b.shape).toEqual([4, 4, 3]);
    expect(() => new Reshape([5, -1]).forward(x)).toThrow(ShapeError);
    expect(() => new Reshape([2, 2, 2]).forward(x)).toThrow(/12 elements/);
    expect(() => new Reshape([-1, -1])).toThrow(ValueError);
    expect(new Reshape([7, 7, 64]).extraRepr()).toBe('shape=[7,7,64]');
    tf.dispose([x, a, b]);
  });
});

describe('Identity', () => {
  it('returns a new handle on the same values that the caller may dispose', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const y = new Identity().forward(x);
    expect(y).not.toBe(x);
    y.dispose();
    expect(values(x)).toEqual([1, 2, 3]);
    x.dispose();
  });
});

describe('Sequential', () => {
  const make = (): Sequential =>
    new Sequential(new Conv2d(1, 2, 3, { padding: 1, seed: 0 }), new MaxPool2d(2), new Flatten(), new Linear(2 * 2 * 2, 3, { seed: 1 }));

  it('names children 0, 1, ... as PyTorch and exposes length, at, append and iteration', () => {
    const net = make();
    expect(net.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '3.weight', '3.bias']);
    expect(net.length).toBe(4);
    expect(net.at(0)).toBeInstanceOf(Conv2d);
    expect(net.at(-1)).toBeInstanceOf(Linear);
    expect(() => net.at(4)).toThrow(ValueError);
    expect([...net].map((m) => m.constructor.name)).toEqual(['Conv2d', 'MaxPool2d', 'Flatten', 'Linear']);
    expect(net.append(new Identity())).toBe(net);
    expect(net.length).toBe(5);
    expect(net.namedChildren().map(([n]) => n)).toEqual(['0', '1', '2', '3', '4']);
    expect(net.toString()).toBe(
      [
        'Sequential(',
        '  (0): Conv2d(1, 2, kernelSize=[3,3], stride=[1,1], padding=[1,1])',
        '  (1): MaxPool2d(kernelSize=[2,2], stride=[2,2], padding=[0,0])',
        '  (2): Flatten(startDim=1, endDim=-1)',
        '  (3): Linear(inFeatures=8, outFeatures=3, bias=true)',
        '  (4): Identity()',
        ')',
      ].join('\n'),
    );
    net.dispose();
  });

  it('applies the modules in order, and round-trips its state dict', () => {
    const net = make();
    const x = tf.randomNormal([2, 4, 4, 1], 0, 1, 'float32', 2);
    const y = net.forward(x);
    const manual = tf.tidy(() => [...net].reduce((h, m) => m.forward(h), x as tf.Tensor));
    expect(y.shape).toEqual([2, 3]);
    expectClose(values(y), values(manual), 0, 0, 'Sequential vs manual chain');
    const other = make();
    tf.tidy(() => other.at(0).parameters()[0].assign(tf.zerosLike(other.at(0).parameters()[0])));
    other.loadStateDict(net.stateDict());
    const y2 = other.forward(x);
    expectClose(values(y2), values(y), 0, 0, 'after loadStateDict');
    tf.dispose([x, y, manual, y2]);
    net.dispose();
    other.dispose();
  });

  it('an empty Sequential returns a new handle on its input', () => {
    const x = tf.scalar(1);
    const y = new Sequential().forward(x);
    expect(y).not.toBe(x);
    tf.dispose([x, y]);
  });

  it('leaks no tensor over repeated forward + backward', async () => {
    const net = make();
    const x = tf.randomNormal([2, 4, 4, 1], 0, 1, 'float32', 4);
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(net.forward(x))), net.parameters());
      value.dispose();
      Object.values(grads).forEach((g) => g.dispose());
    });
    x.dispose();
    net.dispose();
  });
});
