import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError, rocAuc, rocCurve, type RocAverage } from '../../src/index.js';
import { expectNoLeak, setupBackend } from '../helpers/tf.js';
import { expectNestedClose, loadMetricsFixture } from './fixture.js';

const fx = loadMetricsFixture();

beforeAll(() => setupBackend('cpu'));

describe('rocAuc / rocCurve', () => {
  it.each(fx.roc.map((c, i) => [i, c] as const))('case %i matches the rank-based (Mann–Whitney) reference', (_i, c) => {
    expectNestedClose(rocAuc(c.scores, c.labels), c.auc, 1e-5, 'auc');
    const curve = rocCurve(c.scores, c.labels);
    expectNestedClose(curve.fpr, c.fpr, 1e-5, 'fpr');
    expectNestedClose(curve.tpr, c.tpr, 1e-5, 'tpr');
    expectNestedClose(curve.thresholds, c.thresholds, 0, 'thresholds');
  });

  it('equals the trapezoidal area under its own curve (ties included)', () => {
    for (const c of fx.roc.filter((x) => !Number.isNaN(x.auc))) {
      const { fpr, tpr } = rocCurve(c.scores, c.labels);
      let area = 0;
      for (let i = 1; i < fpr.length; i++) area += ((fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1])) / 2;
      expect(area).toBeCloseTo(rocAuc(c.scores, c.labels), 12);
    }
  });

  it('accepts tensors ([N] and [N, 1]) without leaking', async () => {
    const c = fx.roc[0];
    const s = tf.tensor2d(c.scores, [c.scores.length, 1]);
    const l = tf.tensor1d(c.labels, 'int32');
    const l2 = tf.reshape(l, [c.labels.length, 1]);
    expectNestedClose(rocAuc(s, l2), c.auc, 1e-5, 'auc from tensors');
    expectNestedClose(rocAuc(Float32Array.from(c.scores), { data: c.labels, shape: [c.labels.length] }), c.auc, 1e-5, 'auc float32');
    await expectNoLeak(() => rocAuc(s, l2));
    tf.dispose([s, l, l2]);
  });

  it.each(['macro', 'weighted', 'micro', 'none'] as RocAverage[])('multi-class [N, C] with average %s', (average) => {
    const m = fx.rocMulti;
    const got = rocAuc({ data: m.scores, shape: m.shape }, { data: m.labels, shape: m.shape }, { average });
    expectNestedClose(got, m[average], 1e-5, `auc ${average}`);
  });

  it('hand-computed: ties count one half; one class present gives NaN', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(rocAuc([0.5, 0.5], [0, 1])).toBe(0.5);
    expect(rocAuc([0.2, 0.9], [1, 1])).toBeNaN();
    const c = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
    expect(c).toEqual({ fpr: [0, 0, 0.5, 0.5, 1], tpr: [0, 0.5, 0.5, 1, 1], thresholds: [Infinity, 0.8, 0.4, 0.35, 0.1] });
  });

  it('rejects bad input', () => {
    expect(() => rocAuc([0.1, NaN], [0, 1])).toThrow(/NaN/);
    expect(() => rocAuc([0.1, 0.2], [0, 2])).toThrow(/0 or 1/);
    expect(() => rocAuc([0.1, 0.2, 0.3], [0, 1])).toThrow(ShapeError);
    expect(() => rocAuc([0.1, 0.2], [0, 1], { average: 'median' as RocAverage })).toThrow(ValueError);
    expect(() => rocCurve({ data: [0.1, 0.2, 0.3, 0.4], shape: [2, 2] }, { data: [0, 1, 1, 0], shape: [2, 2] })).toThrow(/one column/);
  });
});
