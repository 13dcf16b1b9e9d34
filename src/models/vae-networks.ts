// Builders of the VAE's encoder and decoder stacks (internal to src/models; not re-exported).
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../core/module.js';
import type { Generator } from '../core/random.js';
import { ConvNormAct } from '../layers/conv-norm-act.js';
import { ConvTranspose2d } from '../layers/conv-transpose2d.js';
import { createActivation, createNorm2d, type ActivationKind, type BatchNormSettings, type NormKind } from '../layers/factories.js';
import { Flatten } from '../layers/flatten.js';
import { Linear } from '../layers/linear.js';
import { Reshape } from '../layers/reshape.js';
import { Sequential } from '../layers/sequential.js';

/** What the builders need to know. */
export interface VAENetworkSpec {
  inChannels: number;
  outChannels: number;
  imageSize: [number, number];
  latentDim: number;
  channels: number[];
  hiddenDims: number[];
  norm: NormKind;
  activation: ActivationKind;
  batchNorm?: BatchNormSettings;
}

/**
 * Spatial sizes after each stride-2 convolution (kernel 3, padding 1): `s → ⌈s/2⌉`. Starts with
 * the input size, so entry i is the size at level i.
 */
export function convLevelSizes(size: number, levels: number): number[] {
  const out = [size];
  for (let i = 0; i < levels; i++) out.push(Math.ceil(out[i] / 2));
  return out;
}

/** Conv encoder: stride-2 ConvNormAct per width, then Flatten. Returns the stack and its feature count. */
export function buildConvEncoder(spec: VAENetworkSpec, gen: Generator): { net: Sequential; features: number } {
  const { channels } = spec;
  const layers: Module<tf.Tensor, tf.Tensor>[] = channels.map(
    (c, i) => new ConvNormAct(i === 0 ? spec.inChannels : channels[i - 1], c, { kernelSize: 3, stride: 2, padding: 1, norm: spec.norm, activation: spec.activation, seed: gen, batchNorm: spec.batchNorm }),
  );
  layers.push(new Flatten());
  const hs = convLevelSizes(spec.imageSize[0], channels.length);
  const ws = convLevelSizes(spec.imageSize[1], channels.length);
  return { net: new Sequential(...layers), features: hs[channels.length] * ws[channels.length] * channels[channels.length - 1] };
}

/**
 * Conv decoder mirroring {@link buildConvEncoder}: Linear to the deepest feature map, activation,
 * then one stride-2 transposed conv (+ norm + activation) per level back up, the last one bare and
 * producing `outChannels`. Each transposed conv's `outputPadding` (0 or 1) restores the exact size
 * of the matching encoder level, so odd sizes (28 → 14 → 7 → 4 and back) work.
 */
export function buildConvDecoder(spec: VAENetworkSpec, gen: Generator): Sequential {
  const { channels } = spec;
  const levels = channels.length;
  const hs = convLevelSizes(spec.imageSize[0], levels);
  const ws = convLevelSizes(spec.imageSize[1], levels);
  const deepest = channels[levels - 1];
  const layers: Module<tf.Tensor, tf.Tensor>[] = [
    new Linear(spec.latentDim, hs[levels] * ws[levels] * deepest, { seed: gen }),
    new Reshape([hs[levels], ws[levels], deepest]),
    createActivation(spec.activation),
  ];
  for (let i = levels - 1; i >= 0; i--) {
    const last = i === 0;
    const outC = last ? spec.outChannels : channels[i - 1];
    const outputPadding: [number, number] = [hs[i] - 2 * hs[i + 1] + 1, ws[i] - 2 * ws[i + 1] + 1];
    const up = new ConvTranspose2d(channels[i], outC, 3, {
      stride: 2,
      padding: 1,
      outputPadding,
      bias: last || spec.norm === 'none' || spec.norm === 'group',
      seed: gen,
    });
    layers.push(last ? up : new Sequential(up, createNorm2d(spec.norm, outC, { batchNorm: spec.batchNorm }), createActivation(spec.activation)));
  }
  return new Sequential(...layers);
}

/** MLP encoder: Flatten, then Linear + activation per hidden width. */
export function buildMlpEncoder(spec: VAENetworkSpec, gen: Generator): { net: Sequential; features: number } {
  const [h, w] = spec.imageSize;
  const layers: Module<tf.Tensor, tf.Tensor>[] = [new Flatten()];
  let prev = h * w * spec.inChannels;
  for (const d of spec.hiddenDims) {
    layers.push(new Linear(prev, d, { seed: gen }), createActivation(spec.activation));
    prev = d;
  }
  return { net: new Sequential(...layers), features: prev };
}

/** MLP decoder: Linear + activation per hidden width in reverse order, a Linear to every output pixel, and a Reshape to `[H, W, outChannels]`. */
export function buildMlpDecoder(spec: VAENetworkSpec, gen: Generator): Sequential {
  const [h, w] = spec.imageSize;
  const layers: Module<tf.Tensor, tf.Tensor>[] = [];
  let prev = spec.latentDim;
  for (const d of [...spec.hiddenDims].reverse()) {
    layers.push(new Linear(prev, d, { seed: gen }), createActivation(spec.activation));
    prev = d;
  }
  layers.push(new Linear(prev, h * w * spec.outChannels, { seed: gen }), new Reshape([h, w, spec.outChannels]));
  return new Sequential(...layers);
}
