import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Conv2d,
  Conv3d,
  UNet,
  ShapeError,
  ValueError,
  computeImportanceMap,
  padSpatial,
  slidingWindowInference,
  windowStarts,
  type BackendName,
  type SlidingWindowOptions,
} from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';

/** sliding_window.json, written by gen_sliding_window.py with MONAI 1.5.0's own functions. */
interface Case {
  name: string;
  inputShape: number[];
  input: number[];
  outChannels: number;
  predictor: { weightShape: number[]; weight: number[]; bias: number[] };
  options: SlidingWindowOptions;
  outputShape: number[];
  output: number[];
}
interface UNetCase {
  name: string;
  inputShape: number[];
  input: number[];
  state: Record<string, { shape: number[]; values: number[]; dtype: 'float32' | 'int32' }>;
  options: SlidingWindowOptions;
  outputShape: number[];
  output: number[];
}
interface Fixture {
  cases: Case[];
  unetCases: UNetCase[];
  importanceMaps: { patchSize: number[]; sigmaScale: number | number[]; map: number[] }[];
}

const fx = JSON.parse(readFileSync(new URL('../fixtures/inferers/sliding_window.json', import.meta.url), 'utf8')) as Fixture;

/** The fixture's predictor: a 3×3(×3) 'same' convolution with bias, then tanh. */
function predictorOf(c: Case): { run: (w: tf.Tensor) => tf.Tensor; dispose: () => void } {
  const nd = c.inputShape.length - 2;
  const cin = c.inputShape[c.inputShape.length - 1];
  const conv = nd === 2 ? new Conv2d(cin, c.outChannels, 3, { padding: 1 }) : new Conv3d(cin, c.outChannels, 3, { padding: 1 });
  const state = { weight: tf.tensor(c.predictor.weight, c.predictor.weightShape), bias: tf.tensor(c.predictor.bias) };
  conv.loadStateDict(state);
  tf.dispose(Object.values(state));
  return { run: (w) => tf.tanh(conv.forward(w)), dispose: () => conv.dispose() };
}

describe('computeImportanceMap matches MONAI compute_importance_map', () => {
  it.each(fx.importanceMaps.map((m) => [m.patchSize.join('×'), m] as const))('gaussian %s', (_n, m) => {
    const map = computeImportanceMap(m.patchSize, 'gaussian', m.sigmaScale);
    expectClose(Array.from(map), m.map, 1e-6, 1e-9, 'importance map');
  });

  it('is all ones for constant and refuses bad arguments', () => {
    expect(Array.from(computeImportanceMap([2, 3]))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(() => computeImportanceMap([4, 0], 'gaussian')).toThrow(ValueError);
    expect(() => computeImportanceMap([4, 4], 'gaussian', [0.1])).toThrow(/one per axis/);
    expect(() => computeImportanceMap([4, 4], 'cosine' as never)).toThrow(/'constant' or 'gaussian'/);
  });
});

describe.each(['cpu', 'wasm'] as BackendName[])('slidingWindowInference matches MONAI sliding_window_inference on %s', (backend) => {
  beforeAll(() => setupBackend(backend));
  afterAll(() => setupBackend('cpu'));

  it.each(fx.cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const p = predictorOf(c);
    const x = tf.tensor(c.input, c.inputShape);
    const y = slidingWindowInference(x, p.run as never, { ...c.options, swBatchSize: 2 });
    expect(y.shape).toEqual(c.outputShape);
    expectClose(values(y), c.output, 1e-5, 2e-6, c.name);
    tf.dispose([x, y]);
    p.dispose();
  });
});

describe.each(['cpu', 'wasm'] as BackendName[])('a U-Net by sliding window matches MONAI on %s', (backend) => {
  beforeAll(() => setupBackend(backend));
  afterAll(() => setupBackend('cpu'));

  it.each(fx.unetCases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    // The same network in plain torch.nn, eval mode, its weights exported in medvae's layouts.
    const net = new UNet({ inChannels: 1, outChannels: 2, channels: [4, 8] });
    const state: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(c.state)) state[k] = tf.tensor(v.values, v.shape, v.dtype);
    net.loadStateDict(state);
    tf.dispose(Object.values(state));
    net.eval();
    const x = tf.tensor4d(c.input, c.inputShape as [number, number, number, number]);
    const y = slidingWindowInference(x, (w) => tf.softmax(net.forward(w), -1), c.options);
    expect(y.shape).toEqual(c.outputShape);
    expectClose(values(y), c.output, 1e-4, 1e-5, c.name);
    tf.dispose([x, y]);
    net.dispose();
  });
});

describe('slidingWindowInference behaviour', () => {
  beforeAll(() => setupBackend('cpu'));

  it('places windows as MONAI dense_patch_slices (last one moved back inside)', () => {
    expect(windowStarts(20, 8, 6)).toEqual([0, 6, 12]);
    expect(windowStarts(23, 8, 6)).toEqual([0, 6, 12, 15]);
    expect(windowStarts(8, 8, 8)).toEqual([0]);
  });

  it('results do not depend on swBatchSize; progress counts every window; no leaks', async () => {
    const c = fx.cases.find((k) => k.inputShape.length === 5) as Case;
    const p = predictorOf(c);
    const x = tf.tensor(c.input, c.inputShape);
    const seen: [number, number][] = [];
    const a = slidingWindowInference(x, p.run as never, { ...c.options, swBatchSize: 1, onProgress: (d, t) => seen.push([d, t]) });
    const b = slidingWindowInference(x, p.run as never, { ...c.options, swBatchSize: 7 });
    expectClose(values(a), values(b), 1e-6, 1e-7, 'swBatchSize 1 vs 7');
    const total = seen[seen.length - 1][1];
    expect(seen.map(([d]) => d)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    tf.dispose([a, b]);
    await expectNoLeak(() => tf.dispose(slidingWindowInference(x, p.run as never, c.options)));
    x.dispose();
    p.dispose();
  });

  it('names wrong roiSize, overlap and predictor output shapes', () => {
    const x = tf.zeros([1, 8, 8, 1]);
    expect(() => slidingWindowInference(x as tf.Tensor4D, (w) => w, { roiSize: [4, 4, 4] })).toThrow(/2 integers/);
    expect(() => slidingWindowInference(x as tf.Tensor4D, (w) => w, { roiSize: [4, 4], overlap: 1 })).toThrow(ValueError);
    expect(() => slidingWindowInference(x as tf.Tensor4D, (w) => tf.slice(w, [0, 0, 0, 0], [-1, 2, 2, -1]), { roiSize: [4, 4] })).toThrow(ShapeError);
    expect(() => slidingWindowInference(tf.zeros([8, 8]) as never, (w: tf.Tensor) => w, { roiSize: [4, 4] })).toThrow(/rank 4.*rank 5/);
    expect(tf.memory().numTensors).toBeLessThan(1e6);
    x.dispose();
  });

  it('pads as PyTorch F.pad: reflect, replicate, circular', () => {
    const x = tf.tensor([1, 2, 3], [1, 3, 1]);
    expect(values(padSpatial(x, [[2, 1]], 'reflect'))).toEqual([3, 2, 1, 2, 3, 2]);
    expect(values(padSpatial(x, [[2, 1]], 'replicate'))).toEqual([1, 1, 1, 2, 3, 3]);
    expect(values(padSpatial(x, [[2, 1]], 'circular'))).toEqual([2, 3, 1, 2, 3, 1]);
    expect(values(padSpatial(x, [[1, 0]], 'constant', 7))).toEqual([7, 1, 2, 3]);
    expect(() => padSpatial(x, [[3, 0]], 'reflect')).toThrow(ShapeError);
    x.dispose();
  });
});
