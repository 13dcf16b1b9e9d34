import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ResidualBlock, SelfAttention2d, ShapeError, ValueError, type ResidualBlockOptions,
} from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';
import { loadFixture } from './grad-harness.js';

interface BlockCase {
  x: number[]; xShape: number[]; g: number[]; y: number[]; dx: number[];
  params: Record<string, { shape: number[]; value: number[] }>;
  grads: Record<string, number[]>;
  temb?: number[]; tembShape?: number[]; dtemb?: number[];
  inChannels?: number; outChannels?: number; options?: ResidualBlockOptions;
  buffers?: Record<string, number[]>; evalX?: number[]; evalY?: number[];
  channels?: number; numHeads?: number; groups?: number;
}
const fx = loadFixture<Record<string, BlockCase>>('blocks.json');
// float32 against a float64 reference. Conv-weight gradients are sums of many products with
// cancellation; PyTorch's own float32 result misses atol 1e-6 on one element of
// res_group_silu_temb's conv2.weight gradient (by 1.3e-6), so atol is 2e-6 here.
const RTOL = 1e-5;
const ATOL = 2e-6;

beforeAll(() => setupBackend('cpu'));

type Block = ResidualBlock | SelfAttention2d;

function loadParams(m: Block, c: BlockCase): void {
  const state = m.stateDict();
  const names = m.namedParameters().map(([n]) => n).sort();
  expect(names).toEqual(Object.keys(c.params).sort());
  for (const [name, p] of Object.entries(c.params)) (state[name] as tf.Variable).assign(tf.tensor(p.value, p.shape));
}

/** One forward/backward pass; checks y, dx, d(temb) and every parameter gradient against PyTorch. */
function checkAgainstTorch(m: Block, c: BlockCase, what: string): void {
  const xVar = tf.variable(tf.tensor(c.x, c.xShape));
  const tVar = c.temb ? tf.variable(tf.tensor(c.temb, c.tembShape)) : null;
  const g = tf.tensor(c.g, c.xShape.slice(0, 3).concat([c.y.length / (c.xShape[0] * c.xShape[1] * c.xShape[2])]));
  const named = m.namedParameters();
  let y: tf.Tensor | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const out = tVar ? (m as ResidualBlock).forwardWithTime(xVar, tVar) : m.forward(xVar);
    y = tf.keep(out);
    return tf.sum(tf.mul(out, g)) as tf.Scalar;
  }, [xVar, ...(tVar ? [tVar] : []), ...named.map(([, v]) => v)]);
  expectClose(values(y as unknown as tf.Tensor), c.y, RTOL, ATOL, `${what} y`);
  expectClose(values(grads[xVar.name]), c.dx, RTOL, ATOL, `${what} dx`);
  if (tVar) expectClose(values(grads[tVar.name]), c.dtemb as number[], RTOL, ATOL, `${what} dtemb`);
  for (const [name, v] of named) expectClose(values(grads[v.name]), c.grads[name], RTOL, ATOL, `${what} d${name}`);
  tf.dispose([xVar, g, value, y as unknown as tf.Tensor, ...(tVar ? [tVar] : [])]);
  tf.dispose(grads);
}

describe('ResidualBlock', () => {
  for (const key of ['res_batch_relu_skip', 'res_group_silu_temb', 'res_instance_leaky_skip', 'res_none_relu']) {
    it(`matches a PyTorch block of the same structure: ${key}`, () => {
      const c = fx[key];
      const block = new ResidualBlock(c.inChannels as number, c.outChannels as number, { ...c.options, seed: 0 });
      loadParams(block, c);
      checkAgainstTorch(block, c, key);
      if (c.buffers) {
        const state = block.stateDict();
        for (const [name, want] of Object.entries(c.buffers)) expectClose(values(state[name]), want, RTOL, ATOL, name);
        block.eval();
        const x2 = tf.tensor(c.evalX as number[], c.xShape);
        const y2 = block.forward(x2);
        expectClose(values(y2), c.evalY as number[], RTOL, ATOL, `${key} eval y`);
        tf.dispose([x2, y2]);
      }
      block.dispose();
    });
  }

  it('has a 1×1 shortcut only when channels differ, and the documented children', () => {
    const same = new ResidualBlock(4, 4, { seed: 0 });
    const diff = new ResidualBlock(2, 4, { seed: 0, norm: 'group', groups: 2, timeEmbeddingDim: 8, dropout: 0.1 });
    expect(same.convShortcut).toBeNull();
    expect(same.namedChildren().map(([n]) => n)).toEqual(['conv1', 'norm1', 'conv2', 'norm2', 'act']);
    expect(diff.namedChildren().map(([n]) => n)).toEqual(['conv1', 'norm1', 'conv2', 'norm2', 'time_emb_proj', 'conv_shortcut', 'act', 'dropout']);
    expect(diff.convShortcut?.weight.shape).toEqual([1, 1, 2, 4]);
    same.dispose();
    diff.dispose();
  });

  it('uses dropout only in training; in eval it equals the same block without dropout', () => {
    const a = new ResidualBlock(3, 3, { norm: 'none', dropout: 0.5, seed: 1 });
    const b = new ResidualBlock(3, 3, { norm: 'none', seed: 1 });
    b.loadStateDict(a.stateDict());
    const x = tf.randomNormal([1, 4, 4, 3], 0, 1, 'float32', 9);
    const ya = a.forward(x);
    const yb = b.forward(x);
    expect(values(ya)).not.toEqual(values(yb));
    a.eval();
    b.eval();
    const ya2 = a.forward(x);
    const yb2 = b.forward(x);
    expectClose(values(ya2), values(yb2), 0, 0, 'eval');
    tf.dispose([x, ya, yb, ya2, yb2]);
    a.dispose();
    b.dispose();
  });

  it('accepts { x, timeEmbedding } in forward, same as forwardWithTime', () => {
    const block = new ResidualBlock(2, 4, { norm: 'group', groups: 2, activation: 'silu', timeEmbeddingDim: 5, seed: 3 });
    const x = tf.randomNormal([2, 3, 3, 2], 0, 1, 'float32', 10);
    const t = tf.randomNormal([2, 5], 0, 1, 'float32', 11);
    const a = block.forward({ x, timeEmbedding: t });
    const b = block.forwardWithTime(x, t);
    expect(values(a)).toEqual(values(b));
    tf.dispose([x, t, a, b]);
    block.dispose();
  });

  it('does not leak in a training step (BatchNorm, dropout, time embedding)', async () => {
    const block = new ResidualBlock(2, 4, { dropout: 0.2, timeEmbeddingDim: 3, seed: 4 });
    const x = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 12);
    const t = tf.randomNormal([2, 3], 0, 1, 'float32', 13);
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(block.forwardWithTime(x, t))) as tf.Scalar);
      value.dispose();
      tf.dispose(grads);
    });
    block.eval();
    await expectNoLeak(() => tf.dispose(block.forwardWithTime(x, t)));
    tf.dispose([x, t]);
    block.dispose();
  });

  it('gives clear errors for wrong inputs and options', () => {
    const plain = new ResidualBlock(3, 4, { seed: 0 });
    const timed = new ResidualBlock(3, 4, { timeEmbeddingDim: 6, seed: 0 });
    const x = tf.zeros([2, 4, 4, 3]);
    const nchw = tf.zeros([2, 3, 4, 4]);
    const t = tf.zeros([2, 6]);
    const tBad = tf.zeros([3, 6]);
    expect(() => plain.forward(nchw)).toThrow(/looks like an NCHW/);
    expect(() => timed.forward(x)).toThrow(/needs a time embedding/);
    expect(() => plain.forwardWithTime(x, t)).toThrow(/has no time embedding/);
    expect(() => timed.forwardWithTime(x, tBad)).toThrow(ShapeError);
    expect(() => timed.forwardWithTime(x, tBad)).toThrow(/batch \(axis 0\) must be 2, but got 3/);
    expect(() => new ResidualBlock(3, 6, { norm: 'group', groups: 4 })).toThrow(/dividing outChannels/);
    expect(() => new ResidualBlock(3, 6, { norm: 'layer' as 'batch' })).toThrow(ValueError);
    tf.dispose([x, nchw, t, tBad]);
    plain.dispose();
    timed.dispose();
  });
});

describe('SelfAttention2d', () => {
  it('matches PyTorch with one head (normGroups 32 clamped to 4)', () => {
    const c = fx.attn_c4_h1;
    const attn = new SelfAttention2d(4, { seed: 0 });
    expect(attn.norm.numGroups).toBe(4);
    loadParams(attn, c);
    checkAgainstTorch(attn, c, 'attn_c4_h1');
    attn.dispose();
  });

  it('matches PyTorch with two heads (normGroups 4 clamped to 3)', () => {
    const c = fx.attn_c6_h2;
    const attn = new SelfAttention2d(6, { numHeads: 2, normGroups: 4, seed: 0 });
    expect(attn.norm.numGroups).toBe(3);
    expect(Object.keys(attn.stateDict())).toEqual([
      'norm.weight', 'norm.bias', 'q.weight', 'q.bias', 'k.weight', 'k.bias', 'v.weight', 'v.bias', 'proj_out.weight', 'proj_out.bias',
    ]);
    loadParams(attn, c);
    checkAgainstTorch(attn, c, 'attn_c6_h2');
    attn.dispose();
  });

  it('does not leak and rejects bad heads and shapes', async () => {
    const attn = new SelfAttention2d(4, { numHeads: 2, seed: 1 });
    const x = tf.randomNormal([1, 3, 3, 4], 0, 1, 'float32', 14);
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(attn.forward(x)) as tf.Scalar);
      value.dispose();
      tf.dispose(grads);
    });
    const bad = tf.zeros([1, 3, 3, 5]);
    expect(() => attn.forward(bad)).toThrow(ShapeError);
    expect(() => new SelfAttention2d(6, { numHeads: 4 })).toThrow(/numHeads \(4\) must be a positive integer dividing channels \(6\)/);
    tf.dispose([x, bad]);
    attn.dispose();
  });
});
