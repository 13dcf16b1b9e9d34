import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm, ShapeError, ValueError, DTypeError, type Module,
} from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';
import { forwardWithGrads, loadFixture, type PassResult } from './grad-harness.js';

interface Pass { x: number[]; g: number[]; y: number[]; dx: number[]; d_weight?: number[]; d_bias?: number[] }
interface BnCase {
  shape: number[];
  options: { momentum?: number | null; affine?: boolean; eps?: number; trackRunningStats?: boolean };
  weight?: number[];
  bias?: number[];
  train: Pass[];
  eval: Pass;
  running_mean?: number[];
  running_var?: number[];
  num_batches_tracked?: number;
}
interface GnCase extends Pass { shape: number[]; groups: number; weight?: number[]; bias?: number[] }
interface InTrackCase { shape: number[]; weight: number[]; bias: number[]; train: Pass[]; eval: Pass; running_mean: number[]; running_var: number[] }
interface LnCase extends Pass { shape: number[]; normalizedShape: number[]; weight?: number[]; bias?: number[] }
interface Fixture {
  bn: BnCase; bn_cma: BnCase; bn_noaffine: BnCase; bn_notrack: BnCase;
  gn1: GnCase; gn2: GnCase; gn4: GnCase; gn_2d: GnCase;
  in_default: GnCase; in_track: InTrackCase;
  ln_c: LnCase; ln_hwc: LnCase; ln_noaffine: LnCase;
}

const fx = loadFixture<Fixture>('norm_act.json');
// float32 computation against a float64 reference.
const RTOL = 1e-5;
const ATOL = 1e-6;

function setAffine(m: { weight: tf.Variable | null; bias: tf.Variable | null }, w?: number[], b?: number[]): void {
  if (w && m.weight) m.weight.assign(tf.tensor(w, m.weight.shape));
  if (b && m.bias) m.bias.assign(tf.tensor(b, m.bias.shape));
}

function affineParams(m: { weight: tf.Variable | null; bias: tf.Variable | null }): tf.Variable[] {
  return [m.weight, m.bias].filter((v): v is tf.Variable => v !== null);
}

function checkPass(got: PassResult, want: Pass, what: string, hasAffine: boolean): void {
  expectClose(got.y, want.y, RTOL, ATOL, `${what} y`);
  expectClose(got.dx, want.dx, RTOL, ATOL, `${what} dx`);
  if (hasAffine) {
    expectClose(got.dParams[0], want.d_weight as number[], RTOL, ATOL, `${what} dweight`);
    expectClose(got.dParams[1], want.d_bias as number[], RTOL, ATOL, `${what} dbias`);
  }
}

function runPass(m: Module<tf.Tensor, tf.Tensor> & { weight: tf.Variable | null; bias: tf.Variable | null }, p: Pass, shape: number[]): PassResult {
  return forwardWithGrads((x) => m.forward(x), p.x, shape, p.g, affineParams(m));
}

beforeAll(() => setupBackend('cpu'));

describe('BatchNorm2d', () => {
  for (const key of ['bn', 'bn_cma', 'bn_noaffine', 'bn_notrack'] as const) {
    it(`matches PyTorch in train (2 steps), running stats and eval: ${key}`, () => {
      const c = fx[key];
      const bn = new BatchNorm2d(c.shape[3], c.options);
      setAffine(bn, c.weight, c.bias);
      c.train.forEach((p, i) => checkPass(runPass(bn, p, c.shape), p, `${key} train step ${i + 1}`, bn.affine));
      if (c.running_mean) {
        expectClose(values(bn.runningMean as tf.Tensor), c.running_mean, RTOL, ATOL, `${key} running_mean`);
        expectClose(values(bn.runningVar as tf.Tensor), c.running_var as number[], RTOL, ATOL, `${key} running_var`);
        expect(bn.numBatchesTracked?.dtype).toBe('int32');
        expect(values(bn.numBatchesTracked as tf.Tensor)).toEqual([c.num_batches_tracked]);
      } else {
        expect(bn.namedBuffers()).toEqual([]);
      }
      bn.eval();
      checkPass(runPass(bn, c.eval, c.shape), c.eval, `${key} eval`, bn.affine);
      bn.dispose();
    });
  }

  it('names parameters and buffers as PyTorch', () => {
    const bn = new BatchNorm2d(3);
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(bn.trainableParameters().length).toBe(2);
    expect(new BatchNorm2d(3, { affine: false, trackRunningStats: false }).numParameters()).toBe(0);
    bn.dispose();
  });

  it('leaves eval mode untouched and never updates running stats in eval', () => {
    const bn = new BatchNorm2d(2).eval();
    const x = tf.randomNormal([2, 2, 2, 2], 0, 1, 'float32', 1);
    tf.dispose(bn.forward(x));
    expect(values(bn.runningMean as tf.Tensor)).toEqual([0, 0]);
    expect(values(bn.numBatchesTracked as tf.Tensor)).toEqual([0]);
    x.dispose();
    bn.dispose();
  });

  it('does not leak in training or eval, with or without gradients', async () => {
    const bn = new BatchNorm2d(3);
    const x = tf.randomNormal([2, 3, 3, 3], 0, 1, 'float32', 2);
    await expectNoLeak(() => tf.dispose(bn.forward(x)));
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(bn.forward(x))) as tf.Scalar);
      value.dispose();
      tf.dispose(grads);
    });
    bn.eval();
    await expectNoLeak(() => tf.dispose(bn.forward(x)));
    x.dispose();
    bn.dispose();
  });

  it('gives the same gradients whether or not it tracks running stats', () => {
    const x = tf.randomNormal([2, 3, 3, 3], 0, 2, 'float32', 3);
    const grad = (bn: BatchNorm2d) => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.sin(bn.forward(x))) as tf.Scalar, [bn.weight as tf.Variable]);
      const out = values(grads[(bn.weight as tf.Variable).name]);
      value.dispose();
      tf.dispose(grads);
      return out;
    };
    const a = new BatchNorm2d(3);
    const b = new BatchNorm2d(3, { trackRunningStats: false });
    expectClose(grad(a), grad(b), 0, 0, 'dweight');
    x.dispose();
    a.dispose();
    b.dispose();
  });

  it('rejects wrong shapes, dtypes, options and single-value batches', () => {
    const bn = new BatchNorm2d(4);
    const wrongC = tf.zeros([2, 3, 3, 5]);
    const rank3 = tf.zeros([3, 3, 4]);
    const ints = tf.zeros([2, 3, 3, 4], 'int32');
    const single = tf.zeros([1, 1, 1, 4]);
    expect(() => bn.forward(wrongC)).toThrow(ShapeError);
    expect(() => bn.forward(wrongC)).toThrow(/channels \(axis 3\) must be 4, but got 5/);
    expect(() => bn.forward(rank3)).toThrow(ShapeError);
    expect(() => bn.forward(ints)).toThrow(DTypeError);
    expect(() => bn.forward(single)).toThrow(/more than one value per channel/);
    bn.eval();
    expect(() => tf.dispose(bn.forward(single))).not.toThrow();
    expect(() => new BatchNorm2d(0)).toThrow(ValueError);
    expect(() => new BatchNorm2d(3, { momentum: 1.5 })).toThrow(ValueError);
    tf.dispose([wrongC, rank3, ints, single]);
    bn.dispose();
  });
});

describe('GroupNorm', () => {
  for (const key of ['gn1', 'gn2', 'gn4', 'gn_2d'] as const) {
    it(`matches PyTorch: ${key}`, () => {
      const c = fx[key];
      const channels = c.shape[c.shape.length - 1];
      const gn = key === 'gn_2d' ? new GroupNorm(c.groups, channels, { eps: 1e-3, affine: false }) : new GroupNorm(c.groups, channels);
      setAffine(gn, c.weight, c.bias);
      checkPass(runPass(gn, c, c.shape), c, key, gn.affine);
      gn.dispose();
    });
  }

  it('behaves the same in train and eval and does not leak', async () => {
    const gn = new GroupNorm(2, 4);
    const x = tf.randomNormal([1, 3, 3, 4], 0, 1, 'float32', 4);
    const a = gn.forward(x);
    const b = gn.eval().forward(x);
    expectClose(values(a), values(b), 0, 0, 'train vs eval');
    await expectNoLeak(() => tf.dispose(gn.forward(x)));
    tf.dispose([a, b, x]);
    gn.dispose();
  });

  it('rejects non-dividing groups and wrong channel counts', () => {
    expect(() => new GroupNorm(3, 4)).toThrow(/divisible by numGroups/);
    const gn = new GroupNorm(2, 4);
    const x = tf.zeros([1, 2, 2, 6]);
    expect(() => gn.forward(x)).toThrow(ShapeError);
    expect(() => gn.forward(x)).toThrow(/\[N, \.\.\., 4\]/);
    x.dispose();
    gn.dispose();
  });
});

describe('InstanceNorm2d', () => {
  it('matches PyTorch with the defaults (no affine, no running stats)', () => {
    const c = fx.in_default;
    const inorm = new InstanceNorm2d(c.shape[3]);
    expect(inorm.numParameters()).toBe(0);
    expect(inorm.namedBuffers()).toEqual([]);
    checkPass(runPass(inorm, c, c.shape), c, 'instance norm', false);
    inorm.eval();
    checkPass(runPass(inorm, c, c.shape), c, 'instance norm (eval, no running stats)', false);
    inorm.dispose();
  });

  it('matches PyTorch with affine and running stats over 2 steps and eval', () => {
    const c = fx.in_track;
    const inorm = new InstanceNorm2d(c.shape[3], { affine: true, trackRunningStats: true, momentum: 0.2 });
    expect(Object.keys(inorm.stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    setAffine(inorm, c.weight, c.bias);
    c.train.forEach((p, i) => checkPass(runPass(inorm, p, c.shape), p, `train step ${i + 1}`, true));
    expectClose(values(inorm.runningMean as tf.Tensor), c.running_mean, RTOL, ATOL, 'running_mean');
    expectClose(values(inorm.runningVar as tf.Tensor), c.running_var, RTOL, ATOL, 'running_var');
    inorm.eval();
    checkPass(runPass(inorm, c.eval, c.shape), c.eval, 'eval', true);
    inorm.dispose();
  });

  it('does not leak and rejects wrong shapes', async () => {
    const inorm = new InstanceNorm2d(2, { trackRunningStats: true, affine: true });
    const x = tf.randomNormal([2, 3, 3, 2], 0, 1, 'float32', 5);
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(inorm.forward(x))) as tf.Scalar);
      value.dispose();
      tf.dispose(grads);
    });
    const bad = tf.zeros([2, 3, 3, 3]);
    const onePixel = tf.zeros([2, 1, 1, 2]);
    expect(() => inorm.forward(bad)).toThrow(ShapeError);
    expect(() => inorm.forward(onePixel)).toThrow(/more than one spatial position/);
    tf.dispose([x, bad, onePixel]);
    inorm.dispose();
  });
});

describe('LayerNorm', () => {
  it('matches PyTorch over the channel axis and over [H, W, C]', () => {
    for (const key of ['ln_c', 'ln_hwc'] as const) {
      const c = fx[key];
      const ln = new LayerNorm(c.normalizedShape);
      setAffine(ln, c.weight, c.bias);
      checkPass(runPass(ln, c, c.shape), c, key, true);
      ln.dispose();
    }
  });

  it('matches PyTorch without affine and with another eps', () => {
    const c = fx.ln_noaffine;
    const ln = new LayerNorm(5, { eps: 1e-3, elementwiseAffine: false });
    expect(ln.numParameters()).toBe(0);
    checkPass(runPass(ln, c, c.shape), c, 'ln_noaffine', false);
    ln.dispose();
  });

  it('does not leak and names the expected trailing shape in errors', async () => {
    const ln = new LayerNorm([3, 4]);
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 6);
    await expectNoLeak(() => tf.dispose(ln.forward(x)));
    const bad = tf.zeros([2, 4, 3]);
    const short = tf.zeros([4]);
    expect(() => ln.forward(bad)).toThrow(/must end with dimensions \[3, 4\], but got shape \[2, 4, 3\]/);
    expect(() => ln.forward(short)).toThrow(ShapeError);
    tf.dispose([x, bad, short]);
    ln.dispose();
    expect(() => new LayerNorm([])).toThrow(ShapeError);
  });
});
