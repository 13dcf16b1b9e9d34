// evaluateSegmentationReport against counts done by hand on tiny label maps: per-image Dice, the
// macro mean, pooled (micro) Dice from summed counts, and the images with an empty prediction.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArrayDataset, evaluateSegmentation, evaluateSegmentationReport, imageArray, type Sample } from '../../src/index.js';
import { setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

// Three 1×4 "images": masks and the predictions a fake model returns for them.
const masks = [
  [1, 1, 0, 0], // pred [1, 0, 0, 0]: tp 1, fp 0, fn 1 → Dice 2/3
  [1, 1, 1, 1], // pred [0, 0, 0, 0]: empty prediction → Dice 0, HD95 NaN
  [0, 0, 0, 0], // pred [0, 1, 0, 0]: no foreground in the truth → Dice NaN (skipped)
];
const preds = [
  [1, 0, 0, 0],
  [0, 0, 0, 0],
  [0, 1, 0, 0],
];
const data = new ArrayDataset<Sample>(masks.map((m) => ({ image: imageArray(new Float32Array(4), [1, 4]), mask: imageArray(Float32Array.from(m), [1, 4]) })));
let call = 0;
const predict = (x: tf.Tensor4D): tf.Tensor3D => {
  const n = x.shape[0];
  const out = tf.tensor3d(preds.slice(call, call + n).flat(), [n, 1, 4], 'int32');
  call += n;
  return out;
};

describe('evaluateSegmentationReport', () => {
  it('gives per-image values, macro and pooled Dice, and counts empty predictions', async () => {
    call = 0;
    const r = await evaluateSegmentationReport(predict, data, ['dice', 'hd95'], { numClasses: 2, batchSize: 2 });
    expect(r.count).toBe(3);
    expect(r.perSample.dice[0]).toBeCloseTo(2 / 3, 6);
    expect(r.perSample.dice[1]).toBe(0);
    expect(Number.isNaN(r.perSample.dice[2])).toBe(true);
    expect(r.macro.dice).toBeCloseTo(1 / 3, 6); // (2/3 + 0) / 2, the NaN image skipped
    // Pooled: tp 1, fp 1, fn 5 over all images → 2 / (2 + 1 + 5).
    expect(r.pooled.dice).toBeCloseTo(2 / 8, 6);
    expect(r.pooled.iou).toBeCloseTo(1 / 7, 6);
    expect(r.emptyPredictions).toBe(1);
    expect(r.skipped.dice).toBe(1);
    expect(Number.isNaN(r.perSample.hd95[1])).toBe(true);
    call = 0;
    const flat = await evaluateSegmentation(predict, data, ['dice'], { numClasses: 2 });
    expect(flat).toEqual({ dice: r.macro.dice, pooledDice: r.pooled.dice, emptyPredictions: 1 });
  });

  it('refuses an empty dataset and a batch size of 0', async () => {
    await expect(evaluateSegmentationReport(predict, new ArrayDataset<Sample>([]), ['dice'], { numClasses: 2 })).rejects.toThrow(/empty dataset/);
    await expect(evaluateSegmentationReport(predict, data, ['dice'], { numClasses: 2, batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
  });
});
