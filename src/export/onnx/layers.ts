// ONNX forms of medvae's basic layers. Every value in the exported graph is channels-first (NCHW,
// or NCDHW for volumes) as ONNX operators require; `ctx.spatialDims` says how many spatial axes an
// image value has, so per-channel parameters can be shaped [C, 1, ..., 1] for broadcasting.
import type * as tf from '@tensorflow/tfjs-core';
import type { AnyModule } from '../../core/module.js';
import { GELU, LeakyReLU, PReLU, ReLU, Sigmoid, SiLU, Softplus, Tanh } from '../../layers/activations.js';
import { AvgPool2d } from '../../layers/avg-pool2d.js';
import { AvgPool3d } from '../../layers/avg-pool3d.js';
import { BatchNormNd } from '../../layers/batchnorm.js';
import { ConvTranspose2d } from '../../layers/conv-transpose2d.js';
import { ConvTranspose3d } from '../../layers/conv-transpose3d.js';
import { Conv2d } from '../../layers/conv2d.js';
import { Conv3d } from '../../layers/conv3d.js';
import { Dropout } from '../../layers/dropout.js';
import { GroupNorm } from '../../layers/groupnorm.js';
import { Identity } from '../../layers/identity.js';
import { InstanceNormNd } from '../../layers/instancenorm.js';
import { Linear } from '../../layers/linear.js';
import { MaxPool2d } from '../../layers/max-pool2d.js';
import { MaxPool3d } from '../../layers/max-pool3d.js';
import { Sequential } from '../../layers/sequential.js';
import { Upsample } from '../../layers/upsample.js';
import { OnnxExportError } from './errors.js';
import type { OnnxAttribute, OnnxGraph } from './graph.js';

/** What an emitter needs besides the graph: the number of spatial axes of image values. */
export interface EmitContext {
  /** 2 for images (NCHW), 3 for volumes (NCDHW). */
  spatialDims: number;
}

/**
 * Adds the ONNX nodes computing `module.forward(x)` in evaluation mode (dropout off, BatchNorm on
 * its running statistics) and returns the output's name; null when the module is not a basic
 * layer known here (the caller then tries composite blocks).
 */
export function emitLayer(g: OnnxGraph, m: AnyModule, x: string, ctx: EmitContext): string | null {
  if (m instanceof Conv2d || m instanceof Conv3d) return emitConv(g, m, x);
  if (m instanceof ConvTranspose2d || m instanceof ConvTranspose3d) return emitConvTranspose(g, m, x);
  if (m instanceof BatchNormNd) return emitBatchNorm(g, m, x, m.constructor.name);
  if (m instanceof InstanceNormNd) return emitInstanceNorm(g, m, x);
  if (m instanceof GroupNorm) return emitGroupNorm(g, m, x, ctx);
  if (m instanceof Linear) return emitLinear(g, m, x);
  if (m instanceof MaxPool2d || m instanceof MaxPool3d) return emitPool(g, 'MaxPool', m.kernelSize, m.stride, m.padding, x);
  if (m instanceof AvgPool2d || m instanceof AvgPool3d) return emitPool(g, 'AveragePool', m.kernelSize, m.stride, m.padding, x, m.countIncludePad);
  if (m instanceof Upsample) return emitUpsample(g, m, x, ctx);
  if (m instanceof Dropout || m instanceof Identity) return x;
  if (m instanceof Sequential) {
    let h = x;
    for (const child of m.children()) h = emit(g, child, h, ctx);
    return h;
  }
  return emitActivation(g, m, x, ctx);
}

/** Composite emitters registered by blocks.ts (kept apart so this file holds only basic layers). */
type CompositeEmitter = (g: OnnxGraph, m: AnyModule, x: string, ctx: EmitContext) => string | null;
const composites: CompositeEmitter[] = [];

/** Registers an emitter for composite modules, tried after the basic layers (once per emitter). */
export function registerCompositeEmitter(e: CompositeEmitter): void {
  if (!composites.includes(e)) composites.push(e);
}

/** Emits any supported module, or throws {@link OnnxExportError} naming the module. */
export function emit(g: OnnxGraph, m: AnyModule, x: string, ctx: EmitContext): string {
  const y = emitLayer(g, m, x, ctx);
  if (y !== null) return y;
  for (const c of composites) {
    const z = c(g, m, x, ctx);
    if (z !== null) return z;
  }
  throw new OnnxExportError(
    `ONNX export has no form for ${m.constructor.name}. Supported: convolutions, norms, activations, pools, ` +
      'Upsample, Linear, Dropout, Sequential and the blocks of UNet, UNetSegmenter and DiffusionUNet.',
  );
}

/** [C, 1, ..., 1]: a per-channel vector shaped to broadcast over a channels-first image value. */
export function channelShape(c: number, ctx: EmitContext): number[] {
  return [c, ...new Array<number>(ctx.spatialDims).fill(1)];
}

// Conv2d's `padding` as ONNX pads [begin..., end...]; 'same' splits the total as the layer does
// (the smaller half first), which is also PyTorch's rule.
function convPads(kernel: readonly number[], dilation: readonly number[], padding: readonly number[] | 'same' | 'valid'): number[] {
  if (padding === 'valid') return new Array<number>(2 * kernel.length).fill(0);
  if (padding === 'same') {
    const total = kernel.map((k, i) => dilation[i] * (k - 1));
    return [...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))];
  }
  return [...padding, ...padding];
}

interface ConvLike {
  weight: tf.Variable;
  bias: tf.Variable | null;
  kernelSize: readonly number[];
  stride: readonly number[];
  dilation: readonly number[];
  torchLayout(name: string): readonly number[] | null;
}

/** A convolution of any spatial rank (the weight goes to ONNX's [out, in, k...] through torchLayout). */
export function emitConv(g: OnnxGraph, m: ConvLike & { padding: readonly number[] | 'same' | 'valid' }, x: string): string {
  const inputs = [x, g.weight(m.weight, m.torchLayout('weight'))];
  if (m.bias) inputs.push(g.weight(m.bias));
  return g.op('Conv', inputs, {
    kernel_shape: { ints: m.kernelSize },
    strides: { ints: m.stride },
    dilations: { ints: m.dilation },
    pads: { ints: convPads(m.kernelSize, m.dilation, m.padding) },
    group: { int: 1 },
  });
}

/** A transposed convolution of any spatial rank; ONNX computes PyTorch's output size from the same attributes. */
export function emitConvTranspose(g: OnnxGraph, m: ConvLike & { padding: readonly number[]; outputPadding: readonly number[] }, x: string): string {
  const inputs = [x, g.weight(m.weight, m.torchLayout('weight'))];
  if (m.bias) inputs.push(g.weight(m.bias));
  return g.op('ConvTranspose', inputs, {
    kernel_shape: { ints: m.kernelSize },
    strides: { ints: m.stride },
    dilations: { ints: m.dilation },
    pads: { ints: [...m.padding, ...m.padding] },
    output_padding: { ints: m.outputPadding },
    group: { int: 1 },
  });
}

interface NormStats {
  numFeatures: number;
  eps: number;
  weight: tf.Variable | null;
  bias: tf.Variable | null;
  runningMean: tf.Variable | null;
  runningVar: tf.Variable | null;
}

function scaleAndShift(g: OnnxGraph, m: { weight: tf.Variable | null; bias: tf.Variable | null }, c: number, shape?: number[]): [string, string] {
  const dims = shape ?? [c];
  return [
    m.weight ? g.weight(m.weight, null, shape) : g.constant(new Float32Array(c).fill(1), dims, 'ones'),
    m.bias ? g.weight(m.bias, null, shape) : g.constant(new Float32Array(c), dims, 'zeros'),
  ];
}

/** BatchNorm in evaluation mode: normalisation by the running statistics. */
export function emitBatchNorm(g: OnnxGraph, m: NormStats, x: string, what: string): string {
  if (m.runningMean === null || m.runningVar === null) {
    throw new OnnxExportError(
      `${what} was built with trackRunningStats: false, so in evaluation mode it normalises by the statistics of each batch, ` +
        'which an ONNX inference graph does not express. Export a model whose BatchNorm tracks running statistics.',
    );
  }
  const [scale, shift] = scaleAndShift(g, m, m.numFeatures);
  return g.op('BatchNormalization', [x, scale, shift, g.weight(m.runningMean), g.weight(m.runningVar)], { epsilon: { float: m.eps } });
}

function emitInstanceNorm(g: OnnxGraph, m: InstanceNormNd, x: string): string {
  // With running statistics, evaluation mode uses them exactly as BatchNorm does.
  if (m.runningMean !== null) return emitBatchNorm(g, m, x, m.constructor.name);
  const [scale, shift] = scaleAndShift(g, m, m.numFeatures);
  return g.op('InstanceNormalization', [x, scale, shift], { epsilon: { float: m.eps } });
}

/**
 * GroupNorm as InstanceNormalization over [N, groups, rest] (opset 17 has no per-channel
 * GroupNormalization), then the per-channel affine transform.
 */
export function emitGroupNorm(g: OnnxGraph, m: GroupNorm, x: string, ctx: EmitContext): string {
  const groups = m.numGroups;
  const grouped = g.op('Reshape', [x, g.int64([0, groups, -1], [3], 'group_shape')]);
  const ones = g.constant(new Float32Array(groups).fill(1), [groups], 'ones');
  const zeros = g.constant(new Float32Array(groups), [groups], 'zeros');
  const normed = g.op('InstanceNormalization', [grouped, ones, zeros], { epsilon: { float: m.eps } });
  let y = g.op('Reshape', [normed, g.op('Shape', [x])]);
  if (m.weight) y = g.op('Mul', [y, g.weight(m.weight, null, channelShape(m.numChannels, ctx))]);
  if (m.bias) y = g.op('Add', [y, g.weight(m.bias, null, channelShape(m.numChannels, ctx))]);
  return y;
}

/** Linear on the last axis: MatMul by medvae's [in, out] weight (no transpose needed), plus bias. */
export function emitLinear(g: OnnxGraph, m: Linear, x: string): string {
  const y = g.op('MatMul', [x, g.weight(m.weight)]);
  return m.bias ? g.op('Add', [y, g.weight(m.bias)]) : y;
}

function emitPool(g: OnnxGraph, type: 'MaxPool' | 'AveragePool', kernel: readonly number[], stride: readonly number[], padding: readonly number[], x: string, countIncludePad?: boolean): string {
  // MaxPool's padding is ignored by the max, as the −∞ padding medvae uses; AveragePool's
  // count_include_pad matches the layer's (PyTorch's) option.
  const attrs: Record<string, OnnxAttribute> = {
    kernel_shape: { ints: kernel },
    strides: { ints: stride },
    pads: { ints: [...padding, ...padding] },
  };
  if (countIncludePad !== undefined) attrs.count_include_pad = { int: countIncludePad ? 1 : 0 };
  return g.op(type, [x], attrs);
}

/** Upsample as Resize with the coordinate rules of PyTorch's `interpolate` (nearest: floor of dst/scale). */
export function emitUpsample(g: OnnxGraph, m: Upsample, x: string, ctx: EmitContext): string {
  const attrs: Record<string, OnnxAttribute> = m.mode === 'nearest'
    ? { mode: { string: 'nearest' }, coordinate_transformation_mode: { string: 'asymmetric' }, nearest_mode: { string: 'floor' } }
    : { mode: { string: 'linear' }, coordinate_transformation_mode: { string: m.alignCorners ? 'align_corners' : 'pytorch_half_pixel' } };
  if (m.scaleFactor) {
    const factors = perAxis(m.scaleFactor, ctx, 'scaleFactor');
    const scales = g.constant([1, 1, ...factors], [2 + factors.length], 'scales');
    return g.op('Resize', [x, '', scales], attrs);
  }
  const size = perAxis(m.size as readonly number[], ctx, 'size');
  // Resize needs every output dimension: batch and channels are taken from the input at run time.
  const batchAndChannels = g.op('Slice', [g.op('Shape', [x]), g.int64([0]), g.int64([2])]);
  const sizes = g.op('Concat', [batchAndChannels, g.int64([...size])], { axis: { int: 0 } });
  return g.op('Resize', [x, '', '', sizes], attrs);
}

// A layer given one number keeps it per axis for images; volumes repeat it on the third axis.
function perAxis(values: readonly number[], ctx: EmitContext, what: string): readonly number[] {
  if (values.length === ctx.spatialDims) return values;
  if (values.every((v) => v === values[0])) return new Array<number>(ctx.spatialDims).fill(values[0]);
  throw new OnnxExportError(`Upsample ${what} [${values.join(', ')}] has ${values.length} axes but the exported values have ${ctx.spatialDims} spatial axes.`);
}

function emitActivation(g: OnnxGraph, m: AnyModule, x: string, ctx: EmitContext): string | null {
  if (m instanceof ReLU) return g.op('Relu', [x]);
  if (m instanceof LeakyReLU) return g.op('LeakyRelu', [x], { alpha: { float: m.negativeSlope } });
  if (m instanceof SiLU) return silu(g, x);
  if (m instanceof Tanh) return g.op('Tanh', [x]);
  if (m instanceof Sigmoid) return g.op('Sigmoid', [x]);
  if (m instanceof GELU) {
    // 0.5·x·(1 + inner); opset 17 has no Gelu operator.
    const inner = m.approximate === 'none'
      ? g.op('Erf', [g.op('Mul', [x, g.constant([Math.SQRT1_2], [], 'inv_sqrt2')])])
      : g.op('Tanh', [g.op('Mul', [
        g.op('Add', [x, g.op('Mul', [g.op('Mul', [g.op('Mul', [x, x]), x]), g.constant([0.044715], [], 'gelu_c')])]),
        g.constant([Math.sqrt(2 / Math.PI)], [], 'sqrt_2_over_pi'),
      ])]);
    const half = g.op('Mul', [x, g.constant([0.5], [], 'half')]);
    return g.op('Mul', [half, g.op('Add', [inner, g.constant([1], [], 'one')])]);
  }
  if (m instanceof PReLU) {
    // One slope, or one per channel (on axis 1 here, as PyTorch's PReLU on NCHW).
    const slope = m.numSlopes === 1 ? g.weight(m.weight) : g.weight(m.weight, null, channelShape(m.numSlopes, ctx));
    return g.op('PRelu', [x, slope]);
  }
  if (m instanceof Softplus) {
    // softplus(β·x)/β, and x itself where β·x exceeds the threshold, as the layer computes.
    const bx = m.beta === 1 ? x : g.op('Mul', [x, g.constant([m.beta], [], 'beta')]);
    let smooth = g.op('Softplus', [bx]);
    if (m.beta !== 1) smooth = g.op('Div', [smooth, g.constant([m.beta], [], 'beta')]);
    return g.op('Where', [g.op('Greater', [bx, g.constant([m.threshold], [], 'threshold')]), x, smooth]);
  }
  return null;
}

/** x·σ(x). */
export function silu(g: OnnxGraph, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [x])]);
}
