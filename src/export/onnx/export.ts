import type * as tf from '@tensorflow/tfjs-core';
import type { AnyModule, Module } from '../../core/module.js';
import { DDPM } from '../../models/ddpm/ddpm.js';
import { DiffusionUNet } from '../../models/ddpm/diffusion-unet.js';
import { UNet } from '../../models/unet.js';
import { UNetSegmenter } from '../../models/unet-segmenter.js';
import { writeFileAtomic } from '../../io/node-fs.js';
import { emitBlock, emitDiffusionUNet } from './blocks.js';
import { OnnxExportError } from './errors.js';
import { OnnxGraph, type OnnxDim } from './graph.js';
import { emit, registerCompositeEmitter, type EmitContext } from './layers.js';

/**
 * Axis order of the exported graph's image inputs and outputs. `'nchw'` (the default) is ONNX's
 * own convention and what ONNX tools and PyTorch users expect; `'nhwc'` adds a Transpose after
 * each image input and before each image output, so the file takes medvae's (and tfjs's) layout.
 * Inside, the graph is always channels-first, since ONNX's Conv and pooling operators are.
 */
export type OnnxLayout = 'nchw' | 'nhwc';

/** Options of {@link exportOnnx}. */
export interface OnnxExportOptions {
  /** Layout of image inputs and outputs. Default `'nchw'` (see {@link OnnxLayout}). */
  layout?: OnnxLayout;
  /**
   * For {@link UNetSegmenter}: output the logits (default, output `logits`) or the class
   * probabilities (softmax over classes, or sigmoid for a binary model; output `probabilities`).
   */
  output?: 'logits' | 'probabilities';
  /**
   * For {@link DDPM}: export the EMA weights when the model has them (default true, as
   * {@link DDPM.sample} uses them), or the trained weights.
   */
  useEma?: boolean;
  /** For any other module (a Sequential of supported layers...): channels of its image input. */
  inChannels?: number;
  /** For any other module: 2 for images (default), 3 for volumes. */
  spatialDims?: 2 | 3;
  /** Extra `metadata_props` entries stored in the file. */
  metadata?: Record<string, string>;
}

/** What {@link exportOnnx} accepts. */
export type OnnxExportable = UNetSegmenter | UNet | DiffusionUNet | DDPM | Module<tf.Tensor, tf.Tensor>;

/**
 * Writes the inference graph of a medvae model as an ONNX model (opset 17, IR version 8), ready
 * for onnxruntime (`onnxruntime-node`, `onnxruntime-web`) or any ONNX tool.
 *
 * The graph is the model's evaluation-mode forward pass (dropout off, BatchNorm on its running
 * statistics), built by walking the module tree; the weights are stored as initializers named
 * after the model's parameters and laid out as ONNX (= PyTorch) expects. Height and width (and the
 * batch) are free dimensions, so one file serves any image size the network accepts.
 *
 * Inputs and outputs, with the default `layout: 'nchw'`:
 * - {@link UNetSegmenter} / {@link UNet}: `image` `[batch, inChannels, height, width]` (float32) →
 *   `logits` (or `probabilities`) `[batch, classes, height, width]`; a volumetric network
 *   (`spatialDims: 3`) takes and gives `[batch, channels, depth, height, width]`. The spatial sizes
 *   must be divisible by the network's `sizeDivisor`, as for `forward`.
 * - {@link DiffusionUNet} / {@link DDPM}: `sample` `[batch, inChannels, height, width]` (float32),
 *   `timestep` `[batch]` (float32) and, for a class-conditional network, `class_labels` `[batch]`
 *   (int64, −1 for unconditional) → `out_sample` `[batch, outChannels, height, width]`.
 *   A DDPM's file also stores, in `metadata_props`, its `prediction_type` and its scheduler as
 *   diffusers' `scheduler_config.json` (`scheduler_config`), so a runtime can sample with it.
 * - any other module made of supported layers: `input` → `output`, with `inChannels` (and
 *   `spatialDims: 3` for volumes) given.
 *
 * @throws {@link OnnxExportError} when the model holds a module without an ONNX form (the message
 *   names it) or a BatchNorm without running statistics.
 *
 * @example
 * ```ts
 * const bytes = exportOnnx(segmenter, { output: 'probabilities' });
 * // Node: await saveOnnx(segmenter, 'brain-unet.onnx');
 * const session = await ort.InferenceSession.create(bytes);
 * const { probabilities } = await session.run({ image: new ort.Tensor('float32', pixels, [1, 1, 128, 128]) });
 * ```
 */
export function exportOnnx(model: OnnxExportable, options: OnnxExportOptions = {}): Uint8Array {
  registerCompositeEmitter(emitBlock);
  const layout = options.layout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') {
    throw new OnnxExportError(`exportOnnx layout must be 'nchw' or 'nhwc', but got '${String(layout)}'.`);
  }
  if (options.output !== undefined && !(model instanceof UNetSegmenter)) {
    throw new OnnxExportError(`exportOnnx's output option applies to UNetSegmenter only, but the model is ${model.constructor.name}.`);
  }
  if (model instanceof DDPM) {
    const ema = (options.useEma ?? true) ? model.ema : null;
    // The sampler's settings travel with the network, in the form diffusers reads.
    const extra = { predictionType: model.config.predictionType, schedulerConfig: JSON.stringify(model.scheduler.toDiffusersConfig()) };
    if (!ema) return exportDiffusion(model.unet, model, options, extra);
    ema.store();
    ema.copyTo();
    try {
      return exportDiffusion(model.unet, model, options, extra);
    } finally {
      ema.restore();
    }
  }
  if (model instanceof DiffusionUNet) return exportDiffusion(model, model, options, {});
  return exportImageModel(model, options);
}

/** {@link exportOnnx}, written to `file` (atomically; Node only). */
export async function saveOnnx(model: OnnxExportable, file: string, options: OnnxExportOptions = {}): Promise<void> {
  await writeFileAtomic(file, exportOnnx(model, options));
}

function graphFor(owner: AnyModule): OnnxGraph {
  const names = new Map<tf.Tensor, string>();
  for (const [name, t] of [...owner.namedParameters(), ...owner.namedBuffers()]) names.set(t, name);
  return new OnnxGraph(names);
}

// Image dims in the chosen layout: [batch, channels, (depth,) height, width] or channels last.
function imageDims(channels: OnnxDim, layout: OnnxLayout, ctx: EmitContext, suffix = ''): OnnxDim[] {
  const spatial = (ctx.spatialDims === 3 ? ['depth', 'height', 'width'] : ['height', 'width']).map((d) => d + suffix);
  return layout === 'nchw' ? ['batch', channels, ...spatial] : ['batch', ...spatial, channels];
}

// Transpose permutations between channels-last and channels-first for 2 or 3 spatial axes.
function toFirst(ctx: EmitContext): number[] {
  return [0, ctx.spatialDims + 1, ...Array.from({ length: ctx.spatialDims }, (_, i) => i + 1)];
}
function toLast(ctx: EmitContext): number[] {
  return [0, ...Array.from({ length: ctx.spatialDims }, (_, i) => i + 2), 1];
}

function imageInput(g: OnnxGraph, name: string, channels: number, layout: OnnxLayout, ctx: EmitContext): string {
  const x = g.addInput(name, 'float32', imageDims(channels, layout, ctx));
  return layout === 'nchw' ? x : g.op('Transpose', [x], { perm: { ints: toFirst(ctx) } }, `${name}_channels_first`);
}

function imageOutput(g: OnnxGraph, value: string, name: string, channels: OnnxDim, layout: OnnxLayout, ctx: EmitContext, suffix = ''): void {
  const y = layout === 'nchw' ? value : g.op('Transpose', [value], { perm: { ints: toLast(ctx) } }, `${name}_channels_last`);
  g.addOutput(y, name, 'float32', imageDims(channels, layout, ctx, suffix));
}

// The U-Net's spatial rank: 3 for a volumetric network, when the network has that option.
function unetSpatialDims(net: UNet): 2 | 3 {
  const config = net.config;
  return 'spatialDims' in config && config.spatialDims === 3 ? 3 : 2;
}

function exportImageModel(model: UNetSegmenter | UNet | Module<tf.Tensor, tf.Tensor>, options: OnnxExportOptions): Uint8Array {
  const layout = options.layout ?? 'nchw';
  const g = graphFor(model);
  let inChannels: number;
  let outChannels: number | string;
  let outName = 'output';
  let className = model.constructor.name;
  const metadata: Record<string, string> = {};
  const ctx: EmitContext = { spatialDims: options.spatialDims ?? 2 };
  if (options.spatialDims !== undefined && options.spatialDims !== 2 && options.spatialDims !== 3) {
    throw new OnnxExportError(`exportOnnx spatialDims must be 2 or 3, but got ${String(options.spatialDims)}.`);
  }
  if (model instanceof UNetSegmenter || model instanceof UNet) {
    const net = model instanceof UNetSegmenter ? model.net : model;
    ctx.spatialDims = unetSpatialDims(net);
    inChannels = net.config.inChannels;
    outChannels = net.config.outChannels;
    metadata.size_divisor = String(net.sizeDivisor);
    metadata.config = JSON.stringify(model.config);
    className = model instanceof UNetSegmenter ? 'UNetSegmenter' : 'UNet';
    outName = options.output === 'probabilities' ? 'probabilities' : 'logits';
  } else {
    if (options.inChannels === undefined || !Number.isInteger(options.inChannels) || options.inChannels < 1) {
      throw new OnnxExportError(
        `exportOnnx needs inChannels (a positive integer) to declare the image input of a ${model.constructor.name}; ` +
          `pass { inChannels }.`,
      );
    }
    inChannels = options.inChannels;
    outChannels = 'channels_out';
  }
  const x = imageInput(g, model instanceof UNetSegmenter || model instanceof UNet ? 'image' : 'input', inChannels, layout, ctx);
  let y = emit(g, model, x, ctx);
  if (options.output === 'probabilities' && model instanceof UNetSegmenter) {
    y = model.numClasses === 1 ? g.op('Sigmoid', [y]) : g.op('Softmax', [y], { axis: { int: 1 } });
  }
  // A generic module's output size is not known here: its dims get their own names.
  imageOutput(g, y, outName, outChannels, layout, ctx, typeof outChannels === 'number' ? '' : '_out');
  return g.toBinary(className, {
    docString: `medvae ${className}, evaluation-mode forward pass; image layout ${layout.toUpperCase()}.`,
    metadata: { medvae_class: className, layout, ...metadata, ...options.metadata },
  });
}

function exportDiffusion(net: DiffusionUNet, owner: AnyModule, options: OnnxExportOptions, extra: Record<string, string>): Uint8Array {
  const layout = options.layout ?? 'nchw';
  const g = graphFor(owner);
  const ctx: EmitContext = { spatialDims: 2 };
  const sample = imageInput(g, 'sample', net.config.inChannels, layout, ctx);
  const timestep = g.addInput('timestep', 'float32', ['batch']);
  const labels = net.classEmbedding ? g.addInput('class_labels', 'int64', ['batch']) : null;
  const y = emitDiffusionUNet(g, net, sample, timestep, labels, ctx);
  imageOutput(g, y, 'out_sample', net.config.outChannels, layout, ctx);
  const className = owner instanceof DDPM ? 'DDPM' : 'DiffusionUNet';
  return g.toBinary(className, {
    docString: `medvae ${className} denoising network, evaluation-mode forward pass; image layout ${layout.toUpperCase()}.`,
    metadata: {
      medvae_class: className, layout, size_divisor: String(net.sizeDivisor), config: JSON.stringify(net.config),
      ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v])),
      ...options.metadata,
    },
  });
}
