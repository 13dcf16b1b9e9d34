import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError, psnr, ssim, type SsimOptions } from '../../src/index.js';
import { expectNoLeak, setupBackend } from '../helpers/tf.js';
import { expectNestedClose, loadMetricsFixture } from './fixture.js';

const fx = loadMetricsFixture();
const img = fx.images;
const scaled = (xs: number[], k: number) => ({ data: xs.map((v) => v * k), shape: img.shape });

beforeAll(() => setupBackend('cpu'));

describe('psnr', () => {
  it.each(img.psnr.map((c) => [c.maxVal, c] as const))('matches the reference with maxVal %d', (_m, c) => {
    const p = scaled(img.pred, c.scale);
    const t = scaled(img.target, c.scale);
    expectNestedClose(psnr(p, t, { maxVal: c.maxVal, reduction: 'none' }), c.none, 1e-5, 'psnr per image');
    expectNestedClose(psnr(p, t, { maxVal: c.maxVal }), c.none.reduce((a, b) => a + b, 0) / c.none.length, 1e-5, 'psnr mean');
    expectNestedClose(psnr(p, t, { maxVal: c.maxVal, reduction: 'sum' }), c.none.reduce((a, b) => a + b, 0), 1e-5, 'psnr sum');
  });

  it('is Infinity for identical images and reads tensors without leaking', async () => {
    const a = tf.tensor4d(img.target, img.shape as [number, number, number, number]);
    expect(psnr(a, a)).toBe(Infinity);
    await expectNoLeak(() => psnr(a, a));
    a.dispose();
  });
});

describe('ssim', () => {
  it.each(img.ssim.map((c) => [JSON.stringify(c.options), c] as const))('matches the torch reference with options %s', (_o, c) => {
    const p = scaled(img.pred, c.scale);
    const t = scaled(img.target, c.scale);
    const opts = c.options as SsimOptions;
    expectNestedClose(ssim(p, t, { ...opts, reduction: 'none' }), c.none, 1e-4, 'ssim per image');
    expectNestedClose(ssim(p, t, opts), c.none.reduce((a, b) => a + b, 0) / c.none.length, 1e-4, 'ssim mean');
  });

  it('is 1 for identical images and decreases with noise', () => {
    const t = scaled(img.target, 1);
    expect(ssim(t, t)).toBeCloseTo(1, 12);
    const per = ssim(scaled(img.pred, 1), t, { reduction: 'none' });
    expect(per[0]).toBeGreaterThan(per[1]);
    expect(per[1]).toBeGreaterThan(per[2]);
  });

  it('reads tensors without leaking', async () => {
    const a = tf.tensor4d(img.pred, img.shape as [number, number, number, number]);
    const b = tf.tensor4d(img.target, img.shape as [number, number, number, number]);
    expectNestedClose(ssim(a, b, { reduction: 'none' }), img.ssim[0].none, 1e-4, 'ssim from float32 tensors');
    await expectNoLeak(() => ssim(a, b, { kernelSize: 7 }));
    tf.dispose([a, b]);
  });

  it('rejects bad input', () => {
    const t = scaled(img.target, 1);
    expect(() => ssim(t, { data: img.target.slice(0, 960), shape: [1, 24, 20, 2] })).toThrow(ShapeError);
    expect(() => ssim(t, t, { kernelSize: 25 })).toThrow(/at least as large as the window/);
    expect(() => ssim({ data: [1, 2, 3, 4], shape: [1, 4] }, { data: [1, 2, 3, 4], shape: [1, 4] })).toThrow(/\[B, H, W, C\]/);
    expect(() => ssim(t, t, { kernelSigma: 0 })).toThrow(ValueError);
    const bad = img.target.slice();
    bad[7] = NaN;
    expect(() => ssim(t, { data: bad, shape: img.shape })).toThrow(/NaN at flat index 7/);
    expect(() => psnr(t, { data: bad, shape: img.shape })).toThrow(ValueError);
    expect(() => psnr(t, t, { maxVal: -1 })).toThrow(ValueError);
  });
});
