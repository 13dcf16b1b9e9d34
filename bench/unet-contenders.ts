// The benchmark U-Net training step (depth 3: 16/32/64, bottleneck 128, ReLU, max-pool,
// 2×2 stride-2 transposed conv, skip concat, 1×1 head; MSE + Adam), written three ways on tfjs:
// medvae's UNet + Adam, raw tfjs-core ops + tf.train.adam, and @tensorflow/tfjs-layers. All three
// start from the same weights and batch, so their first losses agree and they do the same work.
// Used by bench/unet-step.ts and bench/scaling.ts. Not part of the library.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Adam, mse, UNet, variableGrads, type Conv2d, type ConvNormAct, type ConvTranspose2d, type DoubleConv } from '../src/index.js';

/** The channels of the benchmarked U-Net (481,745 parameters with 1 input and 1 output channel). */
export const UNET_CHANNELS = [16, 32, 64, 128];

/** One training step set-up: `step` trains once and returns the loss; `dispose` frees everything. */
export interface StepSetup {
  step: () => Promise<number>;
  dispose: () => void;
}

/** The random batch every tfjs contender trains on: input and target `[batch, size, size, 1]`. */
export interface UNetBatch {
  x: tf.Tensor4D;
  y: tf.Tensor4D;
}

/** A fixed random batch (tfjs's seeded uniform; only shapes matter for speed). */
export function makeBatch(batch: number, size: number): UNetBatch {
  return {
    x: tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor4D,
    y: tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 2) as tf.Tensor4D,
  };
}

/** medvae's UNet (norm 'none', the benchmark network) with a fixed seed. */
export function makeMedvaeUNet(): UNet {
  return new UNet({ inChannels: 1, outChannels: 1, channels: UNET_CHANNELS, norm: 'none', seed: 0 });
}

/** (a) medvae: `UNet.forward`, medvae's `mse` and `Adam`, gradients from medvae's `variableGrads` (what its models train with). */
export function medvaeStep(net: UNet, { x, y }: UNetBatch): StepSetup {
  const params = net.trainableParameters();
  const adam = new Adam(params, { lr: 1e-3 });
  return {
    step: async () => {
      const { value, grads } = variableGrads(() => mse(net.forward(x), y) as tf.Scalar, params);
      adam.step(grads);
      tf.dispose(grads);
      const loss = value.dataSync()[0];
      value.dispose();
      return loss;
    },
    dispose: () => adam.dispose(),
  };
}

interface ConvWeights {
  w: tf.Variable;
  b: tf.Variable;
}

/** Weights of a medvae UNet in forward order: per level two convs; per decoder level up + two convs; head. */
interface UNetWeights {
  encoders: ConvWeights[][];
  ups: ConvWeights[];
  decoders: ConvWeights[][];
  head: ConvWeights;
}

function weightsOf(net: UNet, copy: (t: tf.Tensor) => tf.Variable): UNetWeights {
  const pair = (m: Conv2d | ConvTranspose2d): ConvWeights => ({ w: copy(m.weight), b: copy(m.bias as tf.Variable) });
  const double = (block: DoubleConv): ConvWeights[] => [0, 1].map((j) => pair((block.body.at(j) as ConvNormAct).conv as Conv2d));
  return {
    encoders: Array.from({ length: net.encoders.length }, (_, i) => double(net.encoders.at(i) as DoubleConv)),
    ups: Array.from({ length: net.ups.length }, (_, i) => pair(net.ups.at(i) as ConvTranspose2d)),
    decoders: Array.from({ length: net.decoders.length }, (_, i) => double(net.decoders.at(i) as DoubleConv)),
    head: pair(net.head as Conv2d),
  };
}

/**
 * (b) The same network as plain tfjs-core ops (`conv2d` with 'same' padding, `relu`, `maxPool`,
 * `conv2dTranspose`, `concat`) on copies of `net`'s weights, trained with `tf.train.adam`.
 */
export function rawStep(net: UNet, { x, y }: UNetBatch): StepSetup {
  const W = weightsOf(net, (t) => tf.variable(t.clone()));
  const vars = [...W.encoders.flat(), ...W.ups, ...W.decoders.flat(), W.head].flatMap((c) => [c.w, c.b]);
  const convRelu = (h: tf.Tensor4D, c: ConvWeights): tf.Tensor4D => tf.relu(tf.add(tf.conv2d(h, c.w as tf.Tensor4D, 1, 'same'), c.b)) as tf.Tensor4D;
  const forward = (input: tf.Tensor4D): tf.Tensor4D => {
    const skips: tf.Tensor4D[] = [];
    let h = input;
    W.encoders.forEach((level, i) => {
      if (i > 0) h = tf.maxPool(h, 2, 2, 'valid');
      h = convRelu(convRelu(h, level[0]), level[1]);
      if (i < W.encoders.length - 1) skips.push(h);
    });
    W.decoders.forEach((level, j) => {
      const up = W.ups[j];
      const [n, hh, ww] = h.shape;
      const outC = up.w.shape[2] as number;
      const u = tf.add(tf.conv2dTranspose(h, up.w as tf.Tensor4D, [n, 2 * hh, 2 * ww, outC], 2, 'valid'), up.b) as tf.Tensor4D;
      h = convRelu(convRelu(tf.concat([skips[skips.length - 1 - j], u], 3), level[0]), level[1]);
    });
    return tf.add(tf.conv2d(h, W.head.w as tf.Tensor4D, 1, 'valid'), W.head.b);
  };
  const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  return {
    step: async () => {
      const cost = optimizer.minimize(() => tf.mean(tf.squaredDifference(forward(x), y)) as tf.Scalar, true, vars) as tf.Scalar;
      const loss = cost.dataSync()[0];
      cost.dispose();
      return loss;
    },
    dispose: () => {
      optimizer.dispose();
      tf.dispose(vars);
    },
  };
}

/**
 * (c) The same network with @tensorflow/tfjs-layers' functional API (Conv2D with ReLU activation,
 * MaxPooling2D, Conv2DTranspose, Concatenate), `net`'s weights copied in, compiled with
 * `tf.train.adam` and 'meanSquaredError', trained with `model.trainOnBatch`.
 */
export function layersStep(net: UNet, { x, y }: UNetBatch): StepSetup {
  const W = weightsOf(net, (t) => tf.variable(t.clone()));
  const size = x.shape[1];
  const input = tfl.input({ shape: [size, size, 1] });
  const assignments: Array<[tfl.layers.Layer, ConvWeights]> = [];
  const conv = (filters: number, kernelSize: number, c: ConvWeights, activation: 'relu' | 'linear'): tfl.layers.Layer => {
    const layer = tfl.layers.conv2d({ filters, kernelSize, padding: 'same', activation });
    assignments.push([layer, c]);
    return layer;
  };
  const skips: tfl.SymbolicTensor[] = [];
  let h: tfl.SymbolicTensor = input;
  W.encoders.forEach((level, i) => {
    if (i > 0) h = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(h) as tfl.SymbolicTensor;
    const c = UNET_CHANNELS[i];
    h = conv(c, 3, level[0], 'relu').apply(h) as tfl.SymbolicTensor;
    h = conv(c, 3, level[1], 'relu').apply(h) as tfl.SymbolicTensor;
    if (i < W.encoders.length - 1) skips.push(h);
  });
  W.decoders.forEach((level, j) => {
    const c = UNET_CHANNELS[UNET_CHANNELS.length - 2 - j];
    const upLayer = tfl.layers.conv2dTranspose({ filters: c, kernelSize: 2, strides: 2, padding: 'valid' });
    assignments.push([upLayer, W.ups[j]]);
    const u = upLayer.apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.concatenate({ axis: -1 }).apply([skips[skips.length - 1 - j], u]) as tfl.SymbolicTensor;
    h = conv(c, 3, level[0], 'relu').apply(h) as tfl.SymbolicTensor;
    h = conv(c, 3, level[1], 'relu').apply(h) as tfl.SymbolicTensor;
  });
  const out = conv(1, 1, W.head, 'linear').apply(h) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  for (const [layer, c] of assignments) layer.setWeights([c.w, c.b]);
  tf.dispose([...W.encoders.flat(), ...W.ups, ...W.decoders.flat(), W.head].flatMap((c) => [c.w, c.b]));
  const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  model.compile({ optimizer, loss: 'meanSquaredError' });
  return {
    step: async () => (await model.trainOnBatch(x, y)) as number,
    dispose: () => {
      model.dispose();
      optimizer.dispose();
    },
  };
}

/** Number of trainable parameters of a layers model or a list of variables. */
export function countParams(vars: readonly tf.Variable[]): number {
  return vars.reduce((s, v) => s + v.size, 0);
}
