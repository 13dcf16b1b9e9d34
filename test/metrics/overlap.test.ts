import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ShapeError,
  ValueError,
  accuracy,
  balancedAccuracy,
  computeConfusionMatrixMetric,
  computeDice,
  computeIoU,
  confusionMatrix,
  confusionMatrixMetric,
  f1Score,
  precision,
  recall,
  reduceMetric,
  sensitivity,
  specificity,
  type ConfusionMatrixMetricName,
  type MetricReduction,
} from '../../src/index.js';
import { expectNoLeak, setupBackend } from '../helpers/tf.js';
import { expectNestedClose, loadMetricsFixture } from './fixture.js';

const fx = loadMetricsFixture();
const REDUCTIONS: MetricReduction[] = ['none', 'mean', 'sum', 'mean_batch', 'sum_batch', 'mean_channel', 'sum_channel'];

beforeAll(() => setupBackend('cpu'));

describe.each(fx.segmentation.map((c) => [c.name, c] as const))('overlap metrics, %s case', (_name, c) => {
  const pred = { data: c.pred, shape: c.shape };
  const target = { data: c.target, shape: c.shape };

  it('confusionMatrix counts [tp, fp, tn, fn] per sample and class', () => {
    expectNestedClose(confusionMatrix(pred, target), c.confusion, 0, 'confusion');
    const noBg = confusionMatrix(pred, target, { includeBackground: false });
    expectNestedClose(noBg, c.numClasses > 1 ? c.confusion.map((r) => r.slice(1)) : c.confusion, 0, 'confusion without background');
  });

  it.each(['bg', 'nobg'])('computeDice / computeIoU match the reference for every reduction (%s)', (bg) => {
    for (const ignoreEmpty of [true, false]) {
      const key = `${bg}_${ignoreEmpty ? 'ignore' : 'keep'}`;
      for (const reduction of REDUCTIONS) {
        const opts = { includeBackground: bg === 'bg', ignoreEmpty, reduction };
        expectNestedClose(computeDice(pred, target, opts), c.dice[key][reduction] as never, 1e-5, `dice ${key} ${reduction}`);
        expectNestedClose(computeIoU(pred, target, opts), c.iou[key][reduction] as never, 1e-5, `iou ${key} ${reduction}`);
      }
    }
  });

  it('confusion-matrix metrics match the reference (pooled and per-sample, all reductions)', () => {
    for (const e of c.cm) {
      for (const computeSample of [false, true]) {
        const got = confusionMatrixMetric(e.metric as ConfusionMatrixMetricName, pred, target, {
          includeBackground: e.includeBackground,
          reduction: e.reduction as MetricReduction,
          computeSample,
        });
        const want = computeSample ? e.sample : e.pooled;
        expectNestedClose(got, want, 1e-5, `${e.metric} bg=${e.includeBackground} ${e.reduction} sample=${computeSample}`);
      }
    }
  });

  if (c.predLabels && c.targetLabels && c.labelShape) {
    const labelShape = c.labelShape;
    const pl = c.predLabels;
    const tl = c.targetLabels;
    it('label maps with numClasses give the same results as one-hot masks (tensors, with and without a channel axis)', () => {
      const pT = tf.tensor(pl, labelShape, 'int32');
      const tT = tf.tensor(tl, [...labelShape, 1], 'float32');
      const opts = { numClasses: c.numClasses, includeBackground: false, ignoreEmpty: false };
      expectNestedClose(computeDice(pT, tT, opts), computeDice(pred, target, opts), 0, 'dice from labels');
      expectNestedClose(computeIoU(pT, tT, opts), computeIoU(pred, target, opts), 0, 'iou from labels');
      expectNestedClose(confusionMatrix(pT, tT, opts), confusionMatrix(pred, target, opts), 0, 'confusion from labels');
      // A one-hot target next to a label-map prediction.
      expectNestedClose(computeDice(pT, target, opts), computeDice(pred, target, opts), 0, 'dice, mixed forms');
      tf.dispose([pT, tT]);
    });
  }
});

describe('overlap metrics: semantics', () => {
  const m = (rows: number[][]) => ({ data: rows.flat(), shape: [1, rows.length, rows[0].length / 2, 2] });
  // One sample, 2×2 pixels, 2 channels written per pixel as [c0, c1].
  const pred = m([[1, 0, 0, 1], [0, 1, 1, 0]]);
  const target = m([[1, 0, 1, 0], [0, 1, 1, 0]]);

  it('hand-computed Dice, IoU and confusion metrics', () => {
    // channel 0: pred {0, 3}, target {0, 1, 3}; channel 1: pred {1, 2}, target {2}
    expect(computeDice(pred, target)).toEqual([[0.8, 2 / 3]]);
    expect(computeIoU(pred, target)).toEqual([[2 / 3, 0.5]]);
    expect(confusionMatrix(pred, target)).toEqual([[[2, 0, 1, 1], [1, 1, 2, 0]]]);
    expect(precision(pred, target, { reduction: 'none' })).toEqual([[1, 0.5]]);
    expect(recall(pred, target, { reduction: 'mean_batch', includeBackground: false })).toEqual([1]);
    expect(sensitivity).toBe(recall);
    expect(specificity(pred, target, { reduction: 'none' })).toEqual([[1, 2 / 3]]);
    expect(accuracy(pred, target)).toBe(0.75);
    // pooled counts: tp 3, fp 1, fn 1 → f1 = 6 / 8
    expect(f1Score(pred, target)).toBe(0.75);
    expect(balancedAccuracy(pred, target, { reduction: 'none' })).toEqual([[(2 / 3 + 1) / 2, (1 + 2 / 3) / 2]]);
  });

  it('an empty ground truth is NaN with ignoreEmpty, else 1 (empty prediction) or 0', () => {
    const z = { data: [0, 0, 0, 0], shape: [1, 2, 2, 1] };
    const one = { data: [0, 1, 0, 0], shape: [1, 2, 2, 1] };
    expect(computeDice(z, z)[0][0]).toBeNaN();
    expect(computeDice(z, z, { ignoreEmpty: false })).toEqual([[1]]);
    expect(computeDice(one, z, { ignoreEmpty: false })).toEqual([[0]]);
    expect(computeIoU(one, z, { ignoreEmpty: false })).toEqual([[0]]);
    expect(computeIoU(z, z, { ignoreEmpty: false })).toEqual([[1]]);
    // Only NaN to average: the mean is NaN (MONAI would report 0), the sum is 0.
    expect(computeDice(z, z, { reduction: 'mean' })).toBeNaN();
    expect(computeDice(z, z, { reduction: 'sum' })).toBe(0);
    // A single-channel mask keeps its channel even with includeBackground: false.
    expect(computeDice(one, one, { includeBackground: false })).toEqual([[1]]);
  });

  it('reduceMetric follows MONAI two-step mean and skips NaN', () => {
    const t = [[1, NaN, 3], [NaN, NaN, NaN], [2, 4, NaN]];
    expect(reduceMetric(t, 'mean')).toBe((2 + 3) / 2);
    expect(reduceMetric(t, 'sum')).toBe(10);
    expect(reduceMetric(t, 'mean_batch')).toEqual([1.5, 4, 3]);
    expect(reduceMetric(t, 'sum_channel')).toEqual([4, 0, 6]);
    const mc = reduceMetric(t, 'mean_channel');
    expect(mc[0]).toBe(2);
    expect(mc[1]).toBeNaN();
    expect(reduceMetric(t, 'none')).toEqual(t);
  });

  it('computeConfusionMatrixMetric gives NaN for a 0 denominator and accepts MONAI aliases', () => {
    const cm = [[[0, 0, 5, 0], [2, 1, 3, 2]]];
    const ppv = computeConfusionMatrixMetric('ppv', cm);
    expect(ppv[0][0]).toBeNaN();
    expect(ppv[0][1]).toBeCloseTo(2 / 3, 12);
    expect(computeConfusionMatrixMetric('hit_rate', cm)[0][1]).toBe(0.5);
    expect(() => computeConfusionMatrixMetric('bogus' as ConfusionMatrixMetricName, cm)).toThrow(ValueError);
  });

  it('reads tensors without creating or disposing any', async () => {
    const p = tf.tensor4d(pred.data, pred.shape as [number, number, number, number]);
    const t = tf.tensor4d(target.data, target.shape as [number, number, number, number], 'bool');
    await expectNoLeak(() => {
      computeDice(p, t);
      precision(p, t);
      computeIoU(p, t, { reduction: 'mean' });
    });
    expect(p.isDisposed).toBe(false);
    expect(computeDice(p, t)).toEqual([[0.8, 2 / 3]]);
    tf.dispose([p, t]);
  });
});

describe('overlap metrics: bad input', () => {
  const ok = { data: [1, 0, 0, 1], shape: [1, 2, 2, 1] };
  it('rejects mismatched shapes', () => {
    expect(() => computeDice(ok, { data: [1, 0, 0, 1, 0, 0], shape: [1, 2, 3, 1] })).toThrow(ShapeError);
    expect(() => computeDice(ok, { data: [1, 0, 0, 1], shape: [1, 2, 2] })).toThrow(/one-hot mask/);
  });
  it('rejects non-binary masks and NaN, naming the fix', () => {
    expect(() => computeDice({ data: [0.7, 0, 0, 1], shape: [1, 2, 2, 1] }, ok)).toThrow(/binary.*0\.7.*Threshold/s);
    expect(() => precision(ok, { data: [NaN, 0, 0, 1], shape: [1, 2, 2, 1] })).toThrow(ValueError);
    expect(() => precision(ok, { data: [NaN, 0, 0, 1], shape: [1, 2, 2, 1] })).toThrow(/NaN/);
  });
  it('rejects label values outside [0, numClasses) and bad options', () => {
    const lab = { data: [0, 1, 2, 3], shape: [1, 2, 2] };
    expect(() => computeDice(lab, lab, { numClasses: 3 })).toThrow(/\[0, 2\].*3/);
    expect(() => computeDice(lab, lab, { numClasses: 0 })).toThrow(ValueError);
    expect(() => computeDice(ok, ok, { reduction: 'avg' as MetricReduction })).toThrow(/reduction must be one of/);
    expect(() => computeDice({ data: [1, 0], shape: [1, 2, 2, 1] }, ok)).toThrow(ShapeError);
  });
});
