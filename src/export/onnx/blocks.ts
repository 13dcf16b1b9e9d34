// ONNX forms of medvae's composite blocks and networks. Each mirrors the block's `forward` in
// evaluation mode, on channels-first values (concatenations therefore join axis 1).
import type { AnyModule } from '../../core/module.js';
import { ConvNormAct } from '../../layers/conv-norm-act.js';
import { ResidualBlock } from '../../layers/residual-block.js';
import { SelfAttention2d } from '../../layers/self-attention.js';
import { SinusoidalTimeEmbedding } from '../../layers/time-embedding.js';
import {
  DiffusionClassEmbedding,
  DiffusionDownsample,
  DiffusionLevel,
  DiffusionMidBlock,
  DiffusionTimestepEmbedding,
  DiffusionUpsample,
} from '../../models/ddpm/blocks.js';
import type { DiffusionUNet } from '../../models/ddpm/diffusion-unet.js';
import { UNet, type DoubleConv } from '../../models/unet.js';
import { UNetSegmenter } from '../../models/unet-segmenter.js';
import type { OnnxGraph } from './graph.js';
import { emit, emitConv, emitGroupNorm, emitLinear, silu, type EmitContext } from './layers.js';

/**
 * Emits a composite block or network (null for anything else). Registered with the dispatcher by
 * {@link exportOnnx} itself rather than on import, so no bundler can drop it as an unused import.
 */
export function emitBlock(g: OnnxGraph, m: AnyModule, x: string, ctx: EmitContext): string | null {
  if (m instanceof ConvNormAct) {
    const y = emit(g, m.conv, x, ctx);
    const h = emit(g, m.act, emit(g, m.norm, y, ctx), ctx);
    return m.drop ? emit(g, m.drop, h, ctx) : h;
  }
  if (m instanceof UNetSegmenter) return emitUNet(g, m.net, x, ctx);
  if (m instanceof UNet) return emitUNet(g, m, x, ctx);
  if (m instanceof SelfAttention2d) return emitSelfAttention(g, m, x, ctx);
  if (m instanceof ResidualBlock && m.timeEmbProj === null) return emitResidualBlock(g, m, x, null, ctx);
  if (m instanceof DiffusionTimestepEmbedding) return emitLinear(g, m.linear2, silu(g, emitLinear(g, m.linear1, x)));
  if (m instanceof DiffusionDownsample) return emitConv(g, m.conv, x);
  if (m instanceof DiffusionUpsample) return emitConv(g, m.conv, nearest2x(g, x, ctx));
  return null;
}

// The double-conv block; `residual` comes from the network's config (the block keeps it private).
function emitDoubleConv(g: OnnxGraph, m: DoubleConv, x: string, residual: boolean, ctx: EmitContext): string {
  const h = emit(g, m.body, x, ctx);
  if (!residual) return h;
  return g.op('Add', [h, m.skip ? emit(g, m.skip, x, ctx) : x]);
}

/** The U-Net: encoder with 2×2 max-pooling, decoder concatenating [skip, upsampled], 1×1 head. */
export function emitUNet(g: OnnxGraph, net: UNet, x: string, ctx: EmitContext): string {
  const residual = net.config.residual;
  const window = new Array<number>(ctx.spatialDims).fill(2);
  const skips: string[] = [];
  let h = x;
  const levels = net.encoders.length;
  for (let i = 0; i < levels; i++) {
    if (i > 0) h = g.op('MaxPool', [h], { kernel_shape: { ints: window }, strides: { ints: window } });
    h = emitDoubleConv(g, net.encoders.at(i) as DoubleConv, h, residual, ctx);
    if (i < levels - 1) skips.push(h);
  }
  for (let j = 0; j < net.decoders.length; j++) {
    const up = emit(g, net.ups.at(j), h, ctx);
    const joined = g.op('Concat', [skips[skips.length - 1 - j], up], { axis: { int: 1 } });
    h = emitDoubleConv(g, net.decoders.at(j) as DoubleConv, joined, residual, ctx);
  }
  return emit(g, net.head, h, ctx);
}

/**
 * Multi-head self-attention over positions. Channel c belongs to head ⌊c/d⌋ (d = C/heads), as
 * medvae splits C into (heads, d); the positions are flattened with a reshape that copies N and
 * infers H·W, so the graph works for any image size.
 */
function emitSelfAttention(g: OnnxGraph, m: SelfAttention2d, x: string, ctx: EmitContext): string {
  const heads = m.numHeads;
  const d = m.channels / heads;
  const h = emitGroupNorm(g, m.norm, x, ctx);
  const byHead = g.int64([0, heads, d, -1], [4], 'heads_shape');
  const q = g.op('Transpose', [g.op('Reshape', [emitConv(g, m.q, h), byHead])], { perm: { ints: [0, 1, 3, 2] } }); // [N, heads, L, d]
  const kT = g.op('Reshape', [emitConv(g, m.k, h), byHead]); // [N, heads, d, L]
  const v = g.op('Transpose', [g.op('Reshape', [emitConv(g, m.v, h), byHead])], { perm: { ints: [0, 1, 3, 2] } });
  const scores = g.op('Mul', [g.op('MatMul', [q, kT]), g.constant([1 / Math.sqrt(d)], [], 'attn_scale')]);
  const attn = g.op('Softmax', [scores], { axis: { int: -1 } });
  const out = g.op('Transpose', [g.op('MatMul', [attn, v])], { perm: { ints: [0, 1, 3, 2] } }); // [N, heads, d, L]
  const merged = g.op('Reshape', [out, g.op('Shape', [x])]);
  return g.op('Add', [x, emitConv(g, m.projOut, merged)]);
}

/** The residual block; `temb` is the time embedding [N, D] for time-conditioned blocks. */
function emitResidualBlock(g: OnnxGraph, m: ResidualBlock, x: string, temb: string | null, ctx: EmitContext): string {
  let h = emitConv(g, m.conv1, x);
  if (temb !== null && m.timeEmbProj !== null) {
    const t = emitLinear(g, m.timeEmbProj, emit(g, m.act, temb, ctx));
    const axes = g.int64(Array.from({ length: ctx.spatialDims }, (_, i) => 2 + i), [ctx.spatialDims], 'spatial_axes');
    h = g.op('Add', [h, g.op('Unsqueeze', [t, axes])]);
  }
  if (m.norm1) h = emit(g, m.norm1, h, ctx);
  h = emit(g, m.act, h, ctx);
  h = emitConv(g, m.conv2, h);
  if (m.norm2) h = emit(g, m.norm2, h, ctx);
  const skip = m.convShortcut ? emitConv(g, m.convShortcut, x) : x;
  return emit(g, m.act, g.op('Add', [h, skip]), ctx);
}

function nearest2x(g: OnnxGraph, x: string, ctx: EmitContext): string {
  const scales = g.constant([1, 1, ...new Array<number>(ctx.spatialDims).fill(2)], [2 + ctx.spatialDims], 'scales');
  return g.op('Resize', [x, '', scales], {
    mode: { string: 'nearest' }, coordinate_transformation_mode: { string: 'asymmetric' }, nearest_mode: { string: 'floor' },
  });
}

/** Sinusoidal embedding of float timesteps [N] → [N, dim], with the layer's float32 frequencies. */
function emitTimeProjection(g: OnnxGraph, m: SinusoidalTimeEmbedding, t: string): string {
  const half = Math.floor(m.embeddingDim / 2);
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = Math.exp((-Math.log(m.maxPeriod) * i) / (half - m.downscaleFreqShift));
  let args = g.op('Mul', [g.op('Unsqueeze', [t, g.int64([1])]), g.constant(freqs, [1, half], 'time_frequencies')]);
  if (m.scale !== 1) args = g.op('Mul', [args, g.constant([m.scale], [], 'time_scale')]);
  const sin = g.op('Sin', [args]);
  const cos = g.op('Cos', [args]);
  const parts = m.flipSinToCos ? [cos, sin] : [sin, cos];
  if (m.embeddingDim % 2 === 1) {
    const shape = g.op('Concat', [g.op('Shape', [t]), g.int64([1])], { axis: { int: 0 } });
    parts.push(g.op('Expand', [g.constant([0], [1, 1], 'zero'), shape]));
  }
  return g.op('Concat', parts, { axis: { int: 1 } });
}

/** Class embedding by one-hot rows times the table, so a label −1 gives a zero row as in medvae. */
function emitClassEmbedding(g: OnnxGraph, m: DiffusionClassEmbedding, labels: string): string {
  const classes = g.int64(Array.from({ length: m.numClasses }, (_, i) => i), [1, m.numClasses], 'class_ids');
  const oneHot = g.op('Cast', [g.op('Equal', [g.op('Unsqueeze', [labels, g.int64([1])]), classes])], { to: { int: 1 } });
  return g.op('MatMul', [oneHot, g.weight(m.weight)]);
}

function emitLevel(g: OnnxGraph, level: DiffusionLevel | DiffusionMidBlock, x: string, temb: string, skips: string[] | null, ctx: EmitContext): { output: string; states: string[] } {
  const states: string[] = [];
  let h = x;
  if (level instanceof DiffusionMidBlock) {
    h = emitResidualBlock(g, level.resnetList[0], h, temb, ctx);
    if (level.attention) h = emitSelfAttention(g, level.attention, h, ctx);
    return { output: emitResidualBlock(g, level.resnetList[1], h, temb, ctx), states };
  }
  level.resnetList.forEach((block, i) => {
    if (skips) h = g.op('Concat', [h, skips[i]], { axis: { int: 1 } });
    h = emitResidualBlock(g, block, h, temb, ctx);
    if (level.attentionList.length > 0) h = emitSelfAttention(g, level.attentionList[i], h, ctx);
    states.push(h);
  });
  if (level.resampler) {
    h = emit(g, level.resampler, h, ctx);
    if (level.resampler instanceof DiffusionDownsample) states.push(h);
  }
  return { output: h, states };
}

/** The diffusion U-Net on `sample` [N, C, H, W], float `timestep` [N] and, when conditional, int64 `labels` [N]. */
export function emitDiffusionUNet(g: OnnxGraph, net: DiffusionUNet, sample: string, timestep: string, labels: string | null, ctx: EmitContext): string {
  let temb = emit(g, net.timeEmbedding, emitTimeProjection(g, net.timeProj, timestep), ctx);
  if (net.classEmbedding && labels !== null) temb = g.op('Add', [temb, emitClassEmbedding(g, net.classEmbedding, labels)]);
  let h = emitConv(g, net.convIn, sample);
  const skips: string[] = [h];
  for (const level of net.downBlocks) {
    const { output, states } = emitLevel(g, level, h, temb, null, ctx);
    skips.push(...states);
    h = output;
  }
  h = emitLevel(g, net.midBlock, h, temb, null, ctx).output;
  for (const level of net.upBlocks) {
    const n = level.resnetList.length;
    const own = skips.splice(skips.length - n, n).reverse();
    h = emitLevel(g, level, h, temb, own, ctx).output;
  }
  return emitConv(g, net.convOut, silu(g, emitGroupNorm(g, net.convNormOut, h, ctx)));
}
