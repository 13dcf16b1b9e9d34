import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, Module, StateDictError, manualSeed, toGenerator } from '../../src/index.js';
import { setupBackend } from '../helpers/tf.js';

class Affine extends Module<tf.Tensor, tf.Tensor> {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  constructor(inF: number, outF: number, seed = 0) {
    super();
    const g = new Generator(seed);
    this.weight = this.registerParameter('weight', g.normal([inF, outF]));
    this.bias = this.registerParameter('bias', tf.zeros([outF]));
    this.runningMean = this.registerBuffer('running_mean', tf.zeros([outF]));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.add(tf.matMul(x as tf.Tensor2D, this.weight as tf.Tensor2D), this.bias));
  }
  override extraRepr(): string {
    return `${this.weight.shape[0]}, ${this.weight.shape[1]}`;
  }
}

class Net extends Module<tf.Tensor, tf.Tensor> {
  readonly encoder = this.registerModule('encoder', new Affine(3, 4, 1));
  readonly head = this.registerModule('head', new Affine(4, 2, 2));
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.head.forward(tf.relu(this.encoder.forward(x))));
  }
}

beforeAll(() => setupBackend('cpu'));

describe('Module', () => {
  it('names parameters with stable dotted paths in registration order', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual(['encoder.weight', 'encoder.bias', 'head.weight', 'head.bias']);
    expect(Object.keys(net.stateDict())).toEqual([
      'encoder.weight', 'encoder.bias', 'encoder.running_mean', 'head.weight', 'head.bias', 'head.running_mean',
    ]);
    expect(net.namedModules().map(([n]) => n)).toEqual(['', 'encoder', 'head']);
    expect(net.numParameters()).toBe(3 * 4 + 4 + 4 * 2 + 2);
    net.dispose();
  });

  it('switches train/eval recursively', () => {
    const net = new Net();
    expect(net.training).toBe(true);
    net.eval();
    expect(net.encoder.training).toBe(false);
    expect(net.head.training).toBe(false);
    net.train();
    expect(net.head.training).toBe(true);
    net.dispose();
  });

  it('round-trips a state dict and keeps outputs identical', () => {
    const a = new Net();
    const b = new Net();
    tf.tidy(() => b.encoder.weight.assign(tf.onesLike(b.encoder.weight)));
    const x = tf.tensor2d([[1, 2, 3]]);
    b.loadStateDict(a.stateDict());
    expect(Array.from(b.forward(x).dataSync())).toEqual(Array.from(a.forward(x).dataSync()));
    a.dispose();
    b.dispose();
    x.dispose();
  });

  it('lists missing and unexpected keys, and shape mismatches, without changing anything', () => {
    const net = new Net();
    const before = Array.from(net.encoder.weight.dataSync());
    const bad = { 'encoder.weight': tf.zeros([3, 4]), 'encoder.extra': tf.zeros([1]), 'head.weight': tf.zeros([5, 2]) };
    let err: unknown;
    try {
      net.loadStateDict(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDictError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/missing keys: encoder\.bias, encoder\.running_mean, head\.bias, head\.running_mean/);
    expect(msg).toMatch(/unexpected keys: encoder\.extra/);
    expect(msg).toMatch(/head\.weight: shape \[5, 2\] in the state dict, \[4, 2\] in the module/);
    expect(Array.from(net.encoder.weight.dataSync())).toEqual(before);
    const result = net.loadStateDict({ 'encoder.weight': bad['encoder.weight'] }, { strict: false });
    expect(result.missingKeys).toContain('head.weight');
    expect(Array.from(net.encoder.weight.dataSync())).toEqual(new Array(12).fill(0));
    Object.values(bad).forEach((t) => t.dispose());
    net.dispose();
  });

  it('frees every variable on dispose', () => {
    const before = tf.memory().numTensors;
    const net = new Net();
    expect(tf.memory().numTensors).toBe(before + 6);
    net.dispose();
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('freezes parameters with requiresGrad(false)', () => {
    const net = new Net();
    net.encoder.requiresGrad(false);
    expect(net.trainableParameters()).toHaveLength(2);
    expect(net.numParameters(true)).toBe(4 * 2 + 2);
    net.dispose();
  });

  it('prints a summary with totals and a PyTorch-like repr', () => {
    const net = new Net();
    const s = net.summary();
    expect(s).toMatch(/encoder\s+Affine\(3, 4\)\s+weight \[3,4\] bias \[4\]\s+16/);
    expect(s).toMatch(/Total parameters: 26 \(trainable 26\); buffers: 6/);
    expect(net.toString()).toBe('Net(\n  (encoder): Affine(3, 4)\n  (head): Affine(4, 2)\n)');
    net.dispose();
  });

  it('rejects duplicate and dotted names', () => {
    class Bad extends Module<tf.Tensor, tf.Tensor> {
      constructor(name: string) {
        super();
        this.registerParameter('w', tf.zeros([1]));
        this.registerParameter(name, tf.zeros([1]));
      }
      forward(x: tf.Tensor): tf.Tensor {
        return x;
      }
    }
    expect(() => new Bad('w')).toThrow(StateDictError);
    expect(() => new Bad('a.b')).toThrow(/contain no '\.'/);
  });
});

describe('Generator', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Generator(7).uniformArray(5);
    const b = new Generator(7).uniformArray(5);
    const c = new Generator(8).uniformArray(5);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('restores its state exactly', () => {
    const g = new Generator(3);
    g.random();
    const state = g.getState();
    const next = [g.random(), g.random()];
    g.setState(state);
    expect([g.random(), g.random()]).toEqual(next);
  });

  it('draws normals with mean 0 and variance 1 (closed form, 200k samples)', () => {
    const x = new Generator(1).normalArray(200_000);
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.01);
  });

  it('draws uniforms with mean 1/2 and variance 1/12', () => {
    const x = new Generator(2).uniformArray(200_000);
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
    expect(x.reduce((m, v) => Math.min(m, v), 1)).toBeGreaterThanOrEqual(0);
    expect(x.reduce((m, v) => Math.max(m, v), 0)).toBeLessThan(1);
  });

  it('makes permutations of 0..n-1', () => {
    const p = Array.from(new Generator(5).permutation(100));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('uses the global generator when no seed is given', () => {
    manualSeed(11);
    const a = toGenerator(undefined).random();
    manualSeed(11);
    expect(toGenerator(undefined).random()).toBe(a);
  });
});
