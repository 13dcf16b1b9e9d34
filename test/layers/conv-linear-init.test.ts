import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AvgPool2d,
  Conv2d,
  ConvTranspose2d,
  DTypeError,
  Generator,
  Linear,
  MaxPool2d,
  ShapeError,
  Upsample,
  ValueError,
  manualSeed,
  type Module,
} from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

/** Sample mean and standard deviation. */
function stats(v: number[]): { mean: number; std: number; maxAbs: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { mean, std, maxAbs: v.reduce((m, b) => Math.max(m, Math.abs(b)), 0) };
}

/**
 * U(−b, b) has standard deviation b/√3. The relative standard error of a sample std of a uniform
 * is √(0.2/n) (kurtosis 1.8), so `relTol` is set to about 5 of those.
 */
function expectUniform(v: number[], bound: number, what: string): void {
  const { mean, std, maxAbs } = stats(v);
  const sigma = bound / Math.sqrt(3);
  expect(maxAbs, `${what}: max |value|`).toBeLessThanOrEqual(bound);
  // With n draws the largest |value| is within ~b/n·few of the bound: it distinguishes fan choices.
  expect(maxAbs, `${what}: max |value| reaches the bound`).toBeGreaterThan(bound * (1 - 20 / v.length));
  expect(Math.abs(mean), `${what}: mean`).toBeLessThan((5 * sigma) / Math.sqrt(v.length));
  expect(Math.abs(std / sigma - 1), `${what}: std / (b/√3) − 1`).toBeLessThan(5 * Math.sqrt(0.2 / v.length));
}

describe('default initialisation (PyTorch: kaiming_uniform a=√5, bias U(±1/√fanIn))', () => {
  it('Linear: fanIn = inFeatures', () => {
    const fc = new Linear(512, 256, { seed: 1 });
    expect(fc.weight.shape).toEqual([512, 256]);
    expectUniform(values(fc.weight), 1 / Math.sqrt(512), 'Linear weight');
    const bias = values(fc.bias!);
    expect(Math.max(...bias.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(512));
    expect(stats(bias).std).toBeGreaterThan(0.5 / Math.sqrt(3 * 512));
    fc.dispose();
  });

  it('Conv2d: fanIn = inChannels·kh·kw', () => {
    const conv = new Conv2d(16, 64, 3, { seed: 2 });
    expect(conv.weight.shape).toEqual([3, 3, 16, 64]);
    expectUniform(values(conv.weight), 1 / Math.sqrt(16 * 9), 'Conv2d weight');
    expect(Math.max(...values(conv.bias!).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(16 * 9));
    conv.dispose();
  });

  it('ConvTranspose2d: fanIn = outChannels·kh·kw (PyTorch reads weight dim 1)', () => {
    // in·kh·kw would be 128 (bound 0.088); PyTorch uses out·kh·kw = 512 (bound 0.044).
    const up = new ConvTranspose2d(8, 32, 4, { seed: 3 });
    expect(up.weight.shape).toEqual([4, 4, 32, 8]);
    expectUniform(values(up.weight), 1 / Math.sqrt(32 * 16), 'ConvTranspose2d weight');
    expect(Math.max(...values(up.bias!).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(32 * 16));
    up.dispose();
  });

  it('bias: false registers no bias parameter', () => {
    const conv = new Conv2d(2, 3, 3, { bias: false, seed: 0 });
    expect(conv.namedParameters().map(([n]) => n)).toEqual(['weight']);
    expect(conv.bias).toBeNull();
    conv.dispose();
  });

  it('same seed gives the same weights; another seed different ones', () => {
    const a = new Conv2d(3, 4, 3, { seed: 7 });
    const b = new Conv2d(3, 4, 3, { seed: 7 });
    const c = new Conv2d(3, 4, 3, { seed: 8 });
    expect(values(a.weight)).toEqual(values(b.weight));
    expect(values(a.bias!)).toEqual(values(b.bias!));
    expect(values(a.weight)).not.toEqual(values(c.weight));
    const g1 = new Generator(5);
    const g2 = new Generator(5);
    const l1 = [new Linear(4, 3, { seed: g1 }), new Linear(4, 3, { seed: g1 })];
    const l2 = [new Linear(4, 3, { seed: g2 }), new Linear(4, 3, { seed: g2 })];
    expect(values(l1[1].weight)).toEqual(values(l2[1].weight));
    expect(values(l1[0].weight)).not.toEqual(values(l1[1].weight)); // a shared generator advances
    manualSeed(11);
    const d1 = new ConvTranspose2d(2, 2, 2);
    manualSeed(11);
    const d2 = new ConvTranspose2d(2, 2, 2);
    expect(values(d1.weight)).toEqual(values(d2.weight));
    [a, b, c, ...l1, ...l2, d1, d2].forEach((m) => m.dispose());
  });
});

describe('shapes and descriptions', () => {
  it('follows PyTorch output-size rules', () => {
    const x = tf.zeros([2, 9, 8, 3]);
    const cases: [Module<tf.Tensor, tf.Tensor>, number[]][] = [
      [new Conv2d(3, 5, 3, { padding: 'same', seed: 0 }), [2, 9, 8, 5]],
      [new Conv2d(3, 5, [3, 2], { stride: 2, padding: [1, 0], seed: 0 }), [2, 5, 4, 5]],
      [new Conv2d(3, 5, 3, { dilation: 3, seed: 0 }), [2, 3, 2, 5]],
      [new ConvTranspose2d(3, 5, 4, { stride: 2, padding: 1, seed: 0 }), [2, 18, 16, 5]],
      [new ConvTranspose2d(3, 5, 3, { stride: 2, padding: 1, outputPadding: 1, seed: 0 }), [2, 18, 16, 5]],
      [new MaxPool2d(2), [2, 4, 4, 3]],
      [new AvgPool2d(3, { stride: 2, padding: 1 }), [2, 5, 4, 3]],
      [new Upsample({ scaleFactor: 2 }), [2, 18, 16, 3]],
      [new Upsample({ size: [4, 12], mode: 'bilinear' }), [2, 4, 12, 3]],
    ];
    for (const [layer, shape] of cases) {
      const y = layer.forward(x);
      expect(y.shape, layer.toString()).toEqual(shape);
      y.dispose();
      layer.dispose();
    }
    expect(new ConvTranspose2d(3, 5, 3, { stride: 2, padding: 1 }).outputSize(9, 8)).toEqual([17, 15]);
    x.dispose();
  });

  it('Linear keeps leading axes, including none', () => {
    const fc = new Linear(4, 2, { seed: 0 });
    const x = tf.randomUniform([2, 3, 5, 4], -1, 1, 'float32', 1);
    const y = fc.forward(x);
    expect(y.shape).toEqual([2, 3, 5, 2]);
    const row = tf.reshape(tf.slice(x, [1, 2, 3, 0], [1, 1, 1, 4]), [4]);
    const yRow = fc.forward(row);
    expect(yRow.shape).toEqual([2]);
    const expected = tf.slice(y, [1, 2, 3, 0], [1, 1, 1, 2]);
    expectClose(values(yRow), values(expected), 1e-6, 1e-7, 'rank-1 input');
    tf.dispose([x, y, row, yRow, expected]);
    fc.dispose();
  });

  it('describes its configuration like PyTorch', () => {
    expect(new Conv2d(1, 16, 3, { padding: 'same', seed: 0 }).toString()).toBe(
      'Conv2d(1, 16, kernelSize=[3,3], stride=[1,1], padding=same)',
    );
    expect(new Conv2d(2, 4, [3, 1], { stride: 2, padding: [1, 0], dilation: 2, bias: false, seed: 0 }).extraRepr()).toBe(
      '2, 4, kernelSize=[3,1], stride=[2,2], padding=[1,0], dilation=[2,2], bias=false',
    );
    expect(new ConvTranspose2d(64, 32, 3, { stride: 2, padding: 1, outputPadding: 1, seed: 0 }).extraRepr()).toBe(
      '64, 32, kernelSize=[3,3], stride=[2,2], padding=[1,1], outputPadding=[1,1]',
    );
    expect(new Linear(784, 128, { seed: 0 }).toString()).toBe('Linear(inFeatures=784, outFeatures=128, bias=true)');
    expect(new MaxPool2d(2).extraRepr()).toBe('kernelSize=[2,2], stride=[2,2], padding=[0,0]');
    expect(new AvgPool2d(3, { stride: 1, padding: 1, countIncludePad: false }).extraRepr()).toBe(
      'kernelSize=[3,3], stride=[1,1], padding=[1,1], countIncludePad=false',
    );
    expect(new Upsample({ scaleFactor: 2 }).toString()).toBe('Upsample(scaleFactor=2, mode=nearest)');
    expect(new Upsample({ size: [7, 5], mode: 'bilinear', alignCorners: true }).extraRepr()).toBe(
      'size=[7,5], mode=bilinear, alignCorners=true',
    );
  });
});

describe('errors name the problem', () => {
  it('rejects a wrong channel count, rank or dtype with ShapeError / DTypeError', () => {
    const conv = new Conv2d(3, 4, 3, { seed: 0 });
    const wrongChannels = tf.zeros([1, 8, 8, 2]);
    expect(() => conv.forward(wrongChannels)).toThrow(ShapeError);
    expect(() => conv.forward(wrongChannels)).toThrow(/channels \(axis 3\) must be 3, but got 2/);
    const nchw = tf.zeros([1, 3, 8, 8]);
    expect(() => conv.forward(nchw)).toThrow(/NCHW/);
    const rank3 = tf.zeros([8, 8, 3]);
    expect(() => conv.forward(rank3)).toThrow(ShapeError);
    expect(() => conv.forward(rank3)).toThrow(/rank 4/);
    const ints = tf.zeros([1, 8, 8, 3], 'int32');
    expect(() => conv.forward(ints)).toThrow(DTypeError);
    const tiny = tf.zeros([1, 2, 8, 3]);
    expect(() => conv.forward(tiny)).toThrow(/smaller than the kernel/);
    const up = new ConvTranspose2d(4, 2, 2, { stride: 2, seed: 0 });
    expect(() => up.forward(wrongChannels)).toThrow(/channels \(axis 3\) must be 4/);
    const fc = new Linear(5, 2, { seed: 0 });
    expect(() => fc.forward(tf.zeros([3, 4]))).toThrow(ShapeError);
    expect(() => fc.forward(tf.zeros([3, 4]))).toThrow(/features \(last axis\) must be 5/);
    expect(() => new MaxPool2d(3).forward(rank3)).toThrow(ShapeError);
    expect(() => new AvgPool2d(3).forward(tiny)).toThrow(/smaller than the 3×3 window/);
    expect(() => new Upsample({ scaleFactor: 2 }).forward(rank3)).toThrow(ShapeError);
    tf.dispose([wrongChannels, nchw, rank3, ints, tiny]);
    [conv, up, fc].forEach((m) => m.dispose());
  });

  it('rejects invalid options with ValueError', () => {
    expect(() => new Conv2d(3, 4, 3, { stride: 2, padding: 'same' })).toThrow(ValueError);
    expect(() => new Conv2d(3, 4, 0)).toThrow(/kernelSize must be an integer ≥ 1/);
    expect(() => new Conv2d(3, 4, [3, 3, 3] as unknown as [number, number])).toThrow(ValueError);
    expect(() => new Conv2d(0, 4, 3)).toThrow(/inChannels must be a positive integer/);
    expect(() => new Conv2d(3, 4, 3, { padding: -1 })).toThrow(ValueError);
    expect(() => new ConvTranspose2d(3, 4, 3, { stride: 2, outputPadding: 2 })).toThrow(/outputPadding must be smaller/);
    expect(() => new Linear(3, 2.5)).toThrow(ValueError);
    expect(() => new MaxPool2d(2, { padding: 2 })).toThrow(/at most half the kernel size/);
    expect(() => new AvgPool2d(3, { padding: 2 })).toThrow(ValueError);
    expect(() => new Upsample({})).toThrow(/exactly one of scaleFactor and size, but got neither/);
    expect(() => new Upsample({ scaleFactor: 2, size: 4 })).toThrow(/but got both/);
    expect(() => new Upsample({ scaleFactor: 2, alignCorners: true })).toThrow(/alignCorners can only be set with mode 'bilinear'/);
    expect(() => new Upsample({ scaleFactor: -1 })).toThrow(ValueError);
    expect(() => new Upsample({ size: 2, mode: 'bicubic' as 'nearest' })).toThrow(ValueError);
  });
});

describe('no tensor leaks over repeated forward + backward', () => {
  const layers: [string, () => Module<tf.Tensor, tf.Tensor>, number[]][] = [
    ['Conv2d', () => new Conv2d(2, 3, 3, { padding: 1, seed: 0 }), [2, 6, 6, 2]],
    ['Conv2d dilated', () => new Conv2d(2, 3, 3, { dilation: 2, stride: 2, padding: 'valid', seed: 0 }), [2, 7, 7, 2]],
    ['ConvTranspose2d', () => new ConvTranspose2d(2, 3, 3, { stride: 2, padding: 1, outputPadding: 1, seed: 0 }), [2, 4, 4, 2]],
    ['ConvTranspose2d dilated', () => new ConvTranspose2d(2, 3, 3, { dilation: 2, outputPadding: 1, seed: 0 }), [2, 4, 4, 2]],
    ['Linear', () => new Linear(4, 3, { seed: 0 }), [2, 5, 4]],
    ['MaxPool2d', () => new MaxPool2d(3, { stride: 2, padding: 1 }), [2, 6, 6, 2]],
    ['AvgPool2d', () => new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }), [2, 6, 6, 2]],
    ['Upsample nearest', () => new Upsample({ scaleFactor: 2 }), [2, 3, 3, 2]],
    ['Upsample nearest 1.5', () => new Upsample({ scaleFactor: 1.5 }), [2, 4, 4, 2]],
    ['Upsample bilinear', () => new Upsample({ scaleFactor: 2, mode: 'bilinear' }), [2, 3, 3, 2]],
  ];
  it.each(layers)('%s', async (_name, make, shape) => {
    const layer = make();
    const x = tf.randomNormal(shape, 0, 1, 'float32', 3);
    await expectNoLeak(() => {
      const loss = (input: tf.Tensor): tf.Scalar => tf.sum(tf.square(layer.forward(input)));
      const gx = tf.grad(loss)(x);
      gx.dispose();
      const params = layer.parameters();
      if (params.length > 0) {
        const { value, grads } = tf.variableGrads(() => loss(x), params);
        value.dispose();
        Object.values(grads).forEach((g) => g.dispose());
      }
      layer.forward(x).dispose();
    });
    x.dispose();
    layer.dispose();
  });
});
