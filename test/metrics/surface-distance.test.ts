import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ShapeError,
  ValueError,
  averageSurfaceDistance,
  distanceTransformEdt,
  hausdorffDistance,
  hausdorffDistance95,
} from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend } from '../helpers/tf.js';
import { expectNestedClose, loadMetricsFixture } from './fixture.js';

const fx = loadMetricsFixture();

beforeAll(() => setupBackend('cpu'));

describe('distanceTransformEdt', () => {
  it.each(fx.edt.map((c) => [c.shape.join('×'), c.sampling.join(','), c] as const))(
    'matches scipy distance_transform_edt on %s with sampling (%s)',
    (_s, _p, c) => {
      const got = distanceTransformEdt({ data: c.input, shape: c.shape }, { sampling: c.sampling });
      expectClose(got, c.expected, 1e-10, 1e-12, 'edt');
    },
  );

  it('gives Infinity where there is no zero at all, and 0 on zeros', () => {
    expect(Array.from(distanceTransformEdt({ data: [1, 1, 1], shape: [3] }))).toEqual([Infinity, Infinity, Infinity]);
    expect(Array.from(distanceTransformEdt({ data: [0, 1, 1], shape: [3] }, { sampling: 2 }))).toEqual([0, 2, 4]);
  });

  it('rejects NaN and a wrong number of spacings', () => {
    expect(() => distanceTransformEdt({ data: [0, NaN], shape: [2] })).toThrow(ValueError);
    expect(() => distanceTransformEdt({ data: [0, 1, 1, 1], shape: [2, 2] }, { sampling: [1, 1, 1] })).toThrow(/one spacing per spatial axis/);
    expect(() => distanceTransformEdt({ data: [0, 1, 1, 1], shape: [2, 2] }, { sampling: [1, -1] })).toThrow(ValueError);
  });
});

describe.each(fx.surface.map((c) => [c.name, c] as const))('surface distances, %s case', (_n, c) => {
  const shape = [...c.labelShape, 1];
  let pred: tf.Tensor;
  let target: tf.Tensor;
  beforeAll(() => {
    pred = tf.tensor(c.predLabels, shape, 'int32');
    target = tf.tensor(c.targetLabels, shape, 'int32');
  });
  afterAll(() => tf.dispose([pred, target]));

  it('hausdorffDistance (max, HD95, HD50; directed or not) matches the numpy/scipy reference', () => {
    for (const r of c.results.filter((x) => x.kind === 'hd')) {
      const opts = {
        numClasses: c.numClasses,
        spacing: r.spacing,
        includeBackground: r.includeBackground,
        directed: r.directed,
        ...(r.percentile === null ? {} : { percentile: r.percentile }),
      };
      const what = `hd p=${r.percentile} dir=${r.directed} bg=${r.includeBackground} spacing=${r.spacing}`;
      expectNestedClose(hausdorffDistance(pred, target, { ...opts, reduction: 'none' }), r.none, 1e-4, what);
      expectNestedClose(hausdorffDistance(pred, target, opts), r.mean, 1e-4, `${what} mean`);
      if (r.percentile === 95) {
        expectNestedClose(hausdorffDistance95(pred, target, { ...opts, reduction: 'none' }), r.none, 1e-4, `hd95 ${what}`);
      }
    }
  });

  it('averageSurfaceDistance (symmetric or not) matches the numpy/scipy reference', () => {
    for (const r of c.results.filter((x) => x.kind === 'asd')) {
      const opts = { numClasses: c.numClasses, spacing: r.spacing, includeBackground: r.includeBackground, symmetric: r.symmetric };
      const what = `asd sym=${r.symmetric} bg=${r.includeBackground} spacing=${r.spacing}`;
      expectNestedClose(averageSurfaceDistance(pred, target, { ...opts, reduction: 'none' }), r.none, 1e-4, what);
      expectNestedClose(averageSurfaceDistance(pred, target, opts), r.mean, 1e-4, `${what} mean`);
    }
  });

  it('creates no tensors', async () => {
    await expectNoLeak(() => hausdorffDistance95(pred, target, { numClasses: c.numClasses }));
  });
});

describe('surface distances: semantics and bad input', () => {
  const mask = (h: number, w: number, on: [number, number][]) => {
    const d = new Array<number>(h * w).fill(0);
    for (const [y, x] of on) d[y * w + x] = 1;
    return { data: d, shape: [1, h, w, 1] };
  };

  it('hand-computed: one pixel vs one pixel, with spacing', () => {
    const a = mask(5, 6, [[1, 1]]);
    const b = mask(5, 6, [[4, 5]]);
    expect(hausdorffDistance(a, b)).toBeCloseTo(5, 12);
    expect(hausdorffDistance(a, b, { spacing: [2, 0.5] })).toBeCloseTo(Math.hypot(6, 2), 12);
    expect(averageSurfaceDistance(a, b, { symmetric: true })).toBeCloseTo(5, 12);
  });

  it('is NaN when the prediction or the target is empty, and the mean skips it', () => {
    const a = mask(4, 4, [[1, 1], [1, 2]]);
    const z = mask(4, 4, []);
    expect(hausdorffDistance(a, z)).toBeNaN();
    expect(hausdorffDistance(z, a)).toBeNaN();
    expect(averageSurfaceDistance(z, z)).toBeNaN();
    const both = { data: [...a.data, ...z.data], shape: [2, 4, 4, 1] };
    const tgt = { data: [...a.data, ...a.data], shape: [2, 4, 4, 1] };
    expect(hausdorffDistance(both, tgt)).toBe(0);
    const none = hausdorffDistance(both, tgt, { reduction: 'none' });
    expect(none[0]).toEqual([0]);
    expect(none[1][0]).toBeNaN();
  });

  it('rejects bad options and inputs', () => {
    const a = mask(4, 4, [[1, 1]]);
    expect(() => hausdorffDistance(a, a, { percentile: 120 })).toThrow(ValueError);
    expect(() => hausdorffDistance(a, a, { spacing: [1, 1, 1] })).toThrow(/one spacing per spatial axis/);
    expect(() => hausdorffDistance(a, mask(4, 5, [[1, 1]]))).toThrow(ShapeError);
    expect(() => hausdorffDistance({ data: a.data.map((v) => v * 0.5), shape: a.shape }, a)).toThrow(/binary/);
  });
});
