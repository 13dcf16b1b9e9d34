// Metric references against genuine MONAI 1.5.0 (test/fixtures/metrics/gen_metrics_monai.py): the
// surface distances of medvae directly, the other metrics through metrics.json, whose per-sample
// values the overlap / ROC / image tests hold medvae to.
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { averageSurfaceDistance, hausdorffDistance } from '../../src/index.js';
import { setupBackend } from '../helpers/tf.js';
import { expectNestedClose, loadMetricsFixture } from './fixture.js';

beforeAll(() => setupBackend('cpu'));

type Nested = number | Nested[];
const fx = loadMetricsFixture();
const monai = JSON.parse(readFileSync(new URL('../fixtures/metrics/metrics_monai.json', import.meta.url), 'utf8'), (_k, v: unknown) =>
  v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v) as {
  segmentation: { dice: Record<string, Nested>; iou: Record<string, Nested>; cm: Record<string, Nested> }[];
  surface: number[][][][];
  roc: number[];
  rocMulti: Record<string, Nested>;
  psnr: number[][];
  ssim: number[][];
};

// MONAI computes HD percentiles and SSIM in float32; everything else agrees to float64 rounding.
const RTOL = 1e-5;

describe('surface distances: medvae against MONAI 1.5', () => {
  it('equal MONAI wherever both masks are non-empty; NaN where MONAI gives inf (one mask empty)', () => {
    let infinities = 0;
    fx.surface.forEach((c, ci) => {
      const shape = [...c.labelShape, 1];
      const pred = tf.tensor(c.predLabels, shape, 'int32');
      const target = tf.tensor(c.targetLabels, shape, 'int32');
      c.results.forEach((r, ri) => {
        const base = { numClasses: c.numClasses, spacing: r.spacing, includeBackground: r.includeBackground, reduction: 'none' as const };
        const got = r.kind === 'hd'
          ? hausdorffDistance(pred, target, { ...base, directed: r.directed, ...(r.percentile == null ? {} : { percentile: r.percentile }) })
          : averageSurfaceDistance(pred, target, { ...base, symmetric: r.symmetric });
        const expected = monai.surface[ci][ri];
        const mapped = expected.map((row, b) => row.map((v, k) => {
          if (v !== Infinity) return v;
          infinities++;
          expect(Number.isNaN(got[b][k]), `${c.name} result ${ri} [${b}][${k}]: MONAI inf, medvae NaN`).toBe(true);
          return NaN;
        }));
        expectNestedClose(got, mapped, 1e-4, `${c.name} ${r.kind} result ${ri}`);
      });
      tf.dispose([pred, target]);
    });
    expect(infinities).toBeGreaterThan(0);
  });
});

describe('metric references (metrics.json) against MONAI 1.5', () => {
  it('Dice, IoU and the 17 confusion-matrix metrics, per sample and class, with and without background', () => {
    fx.segmentation.forEach((c, ci) => {
      const m = monai.segmentation[ci];
      for (const key of Object.keys(m.dice)) {
        expectNestedClose(c.dice[key].none, m.dice[key], RTOL, `${c.name} dice ${key}`);
        expectNestedClose(c.iou[key].none, m.iou[key], RTOL, `${c.name} iou ${key}`);
      }
      const perSample = c.cm.filter((x) => x.reduction === 'none');
      expect(perSample.length).toBe(34);
      for (const x of perSample) expectNestedClose(x.sample, m.cm[`${x.metric}|${x.includeBackground ? 'True' : 'False'}`], RTOL, `${c.name} ${x.metric}`);
    });
  });

  it('ROC-AUC (binary; per class, macro, weighted, micro)', () => {
    fx.roc.forEach((c, i) => expectNestedClose(c.auc, monai.roc[i], RTOL, `roc ${i}`));
    for (const avg of ['none', 'macro', 'weighted', 'micro'] as const) {
      expectNestedClose(fx.rocMulti[avg] as Nested, monai.rocMulti[avg], RTOL, `rocMulti ${avg}`);
    }
  });

  it('PSNR and SSIM per image', () => {
    fx.images.psnr.forEach((c, i) => expectNestedClose(c.none, monai.psnr[i], RTOL, `psnr ${i}`));
    fx.images.ssim.forEach((c, i) => expectNestedClose(c.none, monai.ssim[i], RTOL, `ssim ${i}`));
  });
});
