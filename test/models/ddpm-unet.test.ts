import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DiffusionUNet, Generator, GroupNorm, ShapeError, ValueError } from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

interface UNetFixture {
  config: { inChannels: number; channels: number[]; layersPerBlock: number; attentionLevels: number[]; numClassEmbeds: number; normNumGroups: number; timeEmbeddingDim: number };
  params: { name: string; shape: number[] }[];
  x: number[];
  xShape: number[];
  timesteps: number[];
  labels: number[];
  y: number[];
}

/** The weight formula of test/fixtures/models/gen_ddpm_unet.py: 0.5·sin(0.37·j + s(name)). */
function fill(name: string, size: number): Float32Array {
  let code = 0;
  for (let i = 0; i < name.length; i++) code += (i + 1) * name.charCodeAt(i);
  const s = (code % 1000) / 100;
  return Float32Array.from({ length: size }, (_, j) => 0.5 * Math.sin(0.37 * j + s));
}

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('DiffusionUNet', () => {
  it('predicts a tensor shaped like its input, for several layouts', () => {
    const configs = [
      { inChannels: 1, channels: [8, 16], layersPerBlock: 1 },
      { inChannels: 3, channels: [8, 16, 16], layersPerBlock: 2, attentionLevels: [1, 2], attentionHeads: 2 },
      { inChannels: 2, channels: [8], layersPerBlock: 1, midBlockAttention: false, dropout: 0.1 },
      { inChannels: 1, outChannels: 2, channels: [4, 8], layersPerBlock: 1, numClassEmbeds: 3, timeEmbeddingDim: 12 },
    ];
    for (const cfg of configs) {
      const net = new DiffusionUNet({ ...cfg, seed: 0 });
      const x = new Generator(1).normal([2, 8, 12, cfg.inChannels]);
      const y = net.forward({ x, timesteps: [3, 7] });
      expect(y.shape).toEqual([2, 8, 12, cfg.outChannels ?? cfg.inChannels]);
      expect(values(y).every(Number.isFinite)).toBe(true);
      tf.dispose([x, y]);
      net.dispose();
    }
  });

  it('matches an independent PyTorch rebuild: parameter names, shapes and outputs (fixture)', () => {
    const fx = JSON.parse(readFileSync(new URL('../fixtures/models/ddpm_unet.json', import.meta.url), 'utf8')) as UNetFixture;
    const net = new DiffusionUNet({ ...fx.config, seed: 0 });
    const own = net.namedParameters();
    expect(own.map(([n, p]) => `${n} [${p.shape.join(',')}]`).sort()).toEqual(fx.params.map((p) => `${p.name} [${p.shape.join(',')}]`).sort());
    for (const [name, p] of own) p.assign(tf.tensor(fill(name, p.size), p.shape));
    const x = tf.tensor(fx.x, fx.xShape);
    const y = net.forward({ x, timesteps: fx.timesteps, classLabels: fx.labels });
    expectClose(values(y), fx.y, 1e-5, 2e-6, 'DiffusionUNet output');
    tf.dispose([x, y]);
    net.dispose();
  });

  it('lays out skips as diffusers: each up block consumes the encoder features in reverse (closed form)', () => {
    // channels [8, 16], one block per level. Encoder features: conv_in (8), down0.resnet (8), down0.downsample (8),
    // down1.resnet (16). Up level 1 (width 16): 16+16, 16+8; up level 0 (width 8): 16+8, 8+8.
    const net = new DiffusionUNet({ inChannels: 1, channels: [8, 16], layersPerBlock: 1, seed: 0 });
    const sd = net.stateDict();
    const inOf = (k: string) => sd[`${k}.conv1.weight`].shape[2];
    expect([inOf('up_blocks.0.resnets.0'), inOf('up_blocks.0.resnets.1'), inOf('up_blocks.1.resnets.0'), inOf('up_blocks.1.resnets.1')]).toEqual([32, 24, 24, 16]);
    expect(sd['time_embedding.linear_1.weight'].shape).toEqual([8, 32]); // sinusoid width channels[0], embedding 4·channels[0]
    expect(sd['down_blocks.0.downsamplers.0.conv.weight'].shape).toEqual([3, 3, 8, 8]);
    expect(sd['up_blocks.0.upsamplers.0.conv.weight'].shape).toEqual([3, 3, 16, 16]);
    expect(Object.keys(sd).some((k) => k.startsWith('up_blocks.1.upsamplers'))).toBe(false);
    expect(sd['mid_block.attentions.0.q.weight'].shape).toEqual([1, 1, 16, 16]);
    expect(sd['conv_out.weight'].shape).toEqual([3, 3, 8, 1]);
    net.dispose();
  });

  it('keeps at least two channels per GroupNorm group, and diffusers\' 32 groups at width ≥ 64', () => {
    const groupsOf = (net: DiffusionUNet) => [net.downBlocks[0].resnetList[0].norm1, net.convNormOut].map((n) => (n as GroupNorm).numGroups);
    const small = new DiffusionUNet({ inChannels: 1, channels: [8], layersPerBlock: 1, midBlockAttention: false, seed: 0 });
    expect(groupsOf(small)).toEqual([4, 4]);
    const wide = new DiffusionUNet({ inChannels: 1, channels: [64], layersPerBlock: 1, midBlockAttention: false, seed: 0 });
    expect(groupsOf(wide)).toEqual([32, 32]);
    small.dispose();
    wide.dispose();
  });

  it('depends on the timestep, and accepts it as a number, an array or a tensor', () => {
    const net = new DiffusionUNet({ inChannels: 1, channels: [8, 16], layersPerBlock: 1, seed: 2 });
    const x = new Generator(3).normal([2, 8, 8, 1]);
    const a = net.forward({ x, timesteps: 5 });
    const b = net.forward({ x, timesteps: [5, 5] });
    const tt = tf.tensor1d([5, 5], 'int32');
    const c = net.forward({ x, timesteps: tt });
    const d = net.forward({ x, timesteps: 40 });
    expect(values(b)).toEqual(values(a));
    expect(values(c)).toEqual(values(a));
    expect(maxAbsDiff(a, d)).toBeGreaterThan(1e-3);
    tf.dispose([x, a, b, c, d, tt]);
    net.dispose();
  });

  it('processes each sample independently of the rest of the batch', () => {
    const net = new DiffusionUNet({ inChannels: 1, channels: [8, 16], layersPerBlock: 1, attentionLevels: [1], numClassEmbeds: 2, seed: 4 });
    const x = new Generator(5).normal([3, 8, 8, 1]);
    const all = net.forward({ x, timesteps: [1, 20, 30], classLabels: [0, 1, -1] });
    const x1 = tf.slice(x, [1, 0, 0, 0], [1, -1, -1, -1]);
    const one = net.forward({ x: x1, timesteps: [20], classLabels: [1] });
    const row = tf.slice(all, [1, 0, 0, 0], [1, -1, -1, -1]);
    expectClose(values(one), values(row), 1e-4, 1e-5, 'sample 1 alone vs in the batch');
    tf.dispose([x, all, x1, one, row]);
    net.dispose();
  });

  it('depends on the class label; −1 is the same as no label', () => {
    const net = new DiffusionUNet({ inChannels: 1, channels: [8, 16], layersPerBlock: 1, numClassEmbeds: 3, seed: 6 });
    const x = new Generator(7).normal([2, 8, 8, 1]);
    const c0 = net.forward({ x, timesteps: 10, classLabels: 0 });
    const c2 = net.forward({ x, timesteps: 10, classLabels: [2, 2] });
    const none = net.forward({ x, timesteps: 10, classLabels: -1 });
    const omitted = net.forward({ x, timesteps: 10 });
    expect(maxAbsDiff(c0, c2)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(c0, none)).toBeGreaterThan(1e-3);
    expect(values(none)).toEqual(values(omitted));
    tf.dispose([x, c0, c2, none, omitted]);
    net.dispose();
  });

  it('sends a gradient to every parameter (no dead branch)', () => {
    const net = new DiffusionUNet({ inChannels: 1, channels: [8, 16], layersPerBlock: 2, attentionLevels: [0, 1], numClassEmbeds: 2, seed: 8 });
    const x = new Generator(9).normal([2, 8, 8, 1]);
    const { value, grads } = tf.variableGrads(
      () => tf.mean(tf.square(net.forward({ x, timesteps: [3, 9], classLabels: [0, 1] }))) as tf.Scalar,
      net.trainableParameters(),
    );
    const dead = net.namedParameters().filter(([, p]) => {
      const g = grads[p.name];
      return g === undefined || tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]) === 0;
    });
    expect(dead.map(([n]) => n)).toEqual([]);
    tf.dispose([x, value, grads]);
    net.dispose();
  });

  it('names wrong inputs and options', () => {
    const net = new DiffusionUNet({ inChannels: 1, channels: [8, 16], layersPerBlock: 1, seed: 0 });
    const x = tf.zeros([2, 8, 8, 1]);
    const odd = tf.zeros([1, 7, 8, 1]);
    const rgb = tf.zeros([1, 8, 8, 3]);
    expect(() => net.forward({ x: odd, timesteps: 1 })).toThrow(/divisible by 2 .* 7×8/);
    expect(() => net.forward({ x: rgb, timesteps: 1 })).toThrow(ShapeError);
    expect(() => net.forward({ x, timesteps: [1, 2, 3] })).toThrow(/3 timesteps for a batch of 2/);
    expect(() => net.forward({ x, timesteps: 1, classLabels: 0 })).toThrow(/unconditional/);
    const cond = new DiffusionUNet({ inChannels: 1, channels: [8, 16], layersPerBlock: 1, numClassEmbeds: 2, seed: 0 });
    expect(() => cond.forward({ x, timesteps: 1, classLabels: [0, 2] })).toThrow(/\[-1, 1\]/);
    expect(() => new DiffusionUNet({ inChannels: 1, channels: [8, 16], attentionLevels: [2] })).toThrow(ValueError);
    expect(() => new DiffusionUNet({ inChannels: 1, channels: [8, 12], attentionHeads: 5 })).toThrow(/attentionHeads/);
    expect(() => new DiffusionUNet({ inChannels: 0 })).toThrow(ValueError);
    tf.dispose([x, odd, rgb]);
    net.dispose();
    cond.dispose();
  });

  it('leaks no tensors in the forward pass', async () => {
    const net = new DiffusionUNet({ inChannels: 1, channels: [8, 16], layersPerBlock: 2, attentionLevels: [1], numClassEmbeds: 2, seed: 0 });
    const x = tf.zeros([2, 8, 8, 1]);
    await expectNoLeak(() => tf.dispose(net.forward({ x, timesteps: [1, 2], classLabels: [1, -1] })));
    x.dispose();
    net.dispose();
  });
});
