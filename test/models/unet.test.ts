import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArrayDataset, DataLoader, ShapeError, UNet, UNetSegmenter, slidingWindowInference } from '../../src/index.js';
import { discs } from '../helpers/discs.js';
import { expectClose, expectNoLeak, setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

describe('UNet', () => {
  it('has the parameter count of the reference U-Net (closed form)', () => {
    // The benchmark U-Net of bench/unet-step.ts: 16/32/64, bottleneck 128, no norm, 2×2/s2 transposed conv.
    const net = new UNet({ inChannels: 1, outChannels: 1, channels: [16, 32, 64, 128], norm: 'none', seed: 0 });
    expect(net.numParameters()).toBe(481_745);
    net.dispose();
  });

  it('maps [B, H, W, C] to [B, H, W, outChannels] for every upsampling mode and norm', () => {
    for (const upsample of ['transpose', 'nearest', 'bilinear'] as const) {
      for (const norm of ['batch', 'instance', 'group', 'none'] as const) {
        const net = new UNet({ inChannels: 2, outChannels: 3, channels: [4, 8, 8], norm, upsample, residual: norm === 'group', seed: 1 });
        const y = net.forward(tf.zeros([2, 8, 12, 2]));
        expect(y.shape).toEqual([2, 8, 12, 3]);
        y.dispose();
        net.dispose();
      }
    }
  });

  it('names sizes that do not divide and wrong channel counts', () => {
    const net = new UNet({ inChannels: 1, outChannels: 1, channels: [4, 8, 8], seed: 0 });
    const x = tf.zeros([1, 10, 8, 1]);
    expect(() => net.forward(x)).toThrow(/divisible by 4 .* got 10×8/);
    const y = tf.zeros([1, 8, 8, 3]);
    expect(() => net.forward(y)).toThrow(ShapeError);
    tf.dispose([x, y]);
    net.dispose();
  });
});

describe('UNetSegmenter', () => {
  it('overfits one batch: the loss falls 10× in a few dozen steps', async () => {
    const data = new ArrayDataset(discs(4, 16, 3));
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [8, 16], seed: 0 });
    const { history } = await model.fit(new DataLoader(data, { batchSize: 4 }), { epochs: 40, lr: 1e-2, onProgress: 'none' });
    expect(history[history.length - 1].train.loss).toBeLessThan(history[0].train.loss / 10);
    const dice = await model.evaluate(data, ['dice', 'hd95']);
    expect(dice.dice).toBeGreaterThan(0.9);
    model.dispose();
  });

  it('leaks no tensors over 50 training steps', async () => {
    const data = new ArrayDataset(discs(2, 16, 4));
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 1, channels: [4, 8], seed: 0 });
    const before = tf.memory().numTensors;
    // 25 epochs of 2 batches = 50 steps; the default optimizer is disposed when fit returns.
    await model.fit(data, { epochs: 25, batchSize: 1, onProgress: 'none' });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('saves and loads to identical outputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medvae-unet-'));
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 3, channels: [4, 8, 8], norm: 'batch', seed: 5 });
    await model.fit(new ArrayDataset(discs(2, 16, 1)), { epochs: 1, batchSize: 2, onProgress: 'none' }); // moves BN running stats
    await model.save(dir);
    const loaded = await UNetSegmenter.load(dir);
    const x = tf.randomNormal([2, 16, 16, 1], 0, 1, 'float32', 3);
    const a = model.predictProba(x);
    const b = loaded.predictProba(x);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(loaded.config).toEqual(model.config);
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
    rmSync(dir, { recursive: true });
  });

  it('predicts label maps for any size, with flips and sliding windows', async () => {
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 2 });
    const x = tf.randomNormal([1, 13, 18, 1], 0, 1, 'float32', 4);
    const labels = model.predict(x);
    expect(labels.shape).toEqual([1, 13, 18]);
    expect(labels.dtype).toBe('int32');
    const tta = model.predictProba(x, { flipTTA: true });
    const probs = tf.sum(tta, -1);
    expectClose(probs.dataSync(), new Array(13 * 18).fill(1), 1e-5, 1e-5, 'softmax sums');
    await expectNoLeak(() => tf.dispose(model.predictProba(x, { slidingWindow: { roiSize: [8, 8], overlap: 0.5, mode: 'gaussian' } })));
    tf.dispose([x, labels, tta, probs]);
    model.dispose();
  });
});

describe('slidingWindowInference', () => {
  it('reproduces a pointwise predictor exactly, whatever the windows', () => {
    const x = tf.randomNormal([2, 11, 9, 2], 0, 1, 'float32', 8);
    const f = (w: tf.Tensor4D) => tf.tidy(() => tf.concat([tf.mul(w, 2), tf.sum(w, -1, true)], -1));
    const expected = f(x as tf.Tensor4D);
    for (const mode of ['constant', 'gaussian'] as const) {
      const y = slidingWindowInference(x, f, { roiSize: [4, 5], overlap: 0.3, mode, swBatchSize: 3 });
      expectClose(y.dataSync(), expected.dataSync(), 1e-5, 1e-5, mode);
      y.dispose();
    }
    tf.dispose([x, expected]);
  });
});
