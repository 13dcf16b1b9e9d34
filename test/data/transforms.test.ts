import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  adjustGamma,
  affine,
  applyToImage,
  binarize,
  centerCrop,
  compose,
  ctWindow,
  divisiblePad,
  flip,
  gaussianNoise,
  gaussianSmooth,
  imageArray,
  medianFilter,
  normalizeIntensity,
  oneHot,
  pad,
  randomAffine,
  randomCrop,
  randomFlip,
  randomGamma,
  randomRotate90,
  resize,
  rotate90,
  scaleIntensity,
  scaleIntensityRange,
  scaleIntensityRangePercentiles,
  spatialPad,
  thresholdIntensity,
  type BoundaryMode,
  type ImageArray,
  type Sample,
  type Transform,
} from '../../src/data/index.js';
import { MedvaeError, ShapeError, ValueError } from '../../src/core/errors.js';
import { expectClose } from '../helpers/tf.js';

interface Encoded {
  shape: [number, number, number];
  data: number[];
}
const fixtures = JSON.parse(readFileSync(join(__dirname, '../fixtures/data/transforms.json'), 'utf8')) as {
  median: { input: Encoded; radius: [number, number]; mode: BoundaryMode; expected: Encoded }[];
  gaussian: { input: Encoded; sigma: [number, number]; mode: BoundaryMode; expected: Encoded }[];
  zoom_order1: { input: Encoded; size: [number, number]; expected: Encoded }[];
  torch_resize: { input: Encoded; size: [number, number]; bilinear: Encoded; nearest: Encoded }[];
  rot90: { input: Encoded; k1: Encoded; k2: Encoded; k3: Encoded };
  percentiles: { input: Encoded; lower: number; upper: number; expected: Encoded };
  normalize_nonzero: { input: Encoded; expected: Encoded };
  normalize: { input: Encoded; expected: Encoded };
};

const dec = (e: Encoded): ImageArray => imageArray(Float32Array.from(e.data), e.shape);
const run = (t: Transform, image: ImageArray): ImageArray => applyToImage(t, image);
const ramp = (h: number, w: number, c = 1): ImageArray => imageArray(Float32Array.from({ length: h * w * c }, (_, i) => i), [h, w, c]);

describe('intensity transforms', () => {
  it('normalizeIntensity matches numpy z-scores (all pixels and non-zero only)', () => {
    const f = fixtures.normalize;
    expectClose(run(normalizeIntensity(), dec(f.input)).data, f.expected.data, 1e-5, 1e-5, 'z-score');
    const g = fixtures.normalize_nonzero;
    const out = run(normalizeIntensity({ nonzero: true }), dec(g.input));
    expectClose(out.data, g.expected.data, 1e-5, 1e-5, 'non-zero z-score');
    expect(out.data[0]).toBe(0);
  });

  it('normalizeIntensity channelWise uses per-channel statistics; a constant image is left at x − mean', () => {
    const img = imageArray(Float32Array.from([1, 10, 3, 30]), [1, 2, 2]);
    expectClose(run(normalizeIntensity({ channelWise: true }), img).data, [-1, -1, 1, 1], 1e-6, 1e-6, 'channel-wise');
    expectClose(run(normalizeIntensity(), imageArray(new Float32Array([5, 5, 5, 5]), [2, 2])).data, [0, 0, 0, 0]);
  });

  it('scaleIntensity maps min/max onto [minv, maxv]', () => {
    const out = run(scaleIntensity({ minv: -1, maxv: 1 }), imageArray(Float32Array.from([2, 4, 6, 10]), [2, 2]));
    expectClose(out.data, [-1, -0.5, 0, 1]);
    expectClose(run(scaleIntensity(), imageArray(new Float32Array([3, 3]), [1, 2])).data, [0, 0]);
  });

  it('scaleIntensityRange and ctWindow are the closed-form linear maps (ctWindow clips)', () => {
    const img = imageArray(Float32Array.from([-1000, 0, 40, 80, 2000]), [1, 5]);
    expectClose(run(scaleIntensityRange({ aMin: 0, aMax: 80, bMin: -1, bMax: 1 }), img).data, [-26, -1, 0, 1, 49]);
    expectClose(run(ctWindow({ center: 40, width: 80 }), img).data, [0, 0, 0.5, 1, 1]);
    expect(() => ctWindow({ center: 0, width: 0 })).toThrow(ValueError);
  });

  it('scaleIntensityRangePercentiles matches numpy percentiles (linear interpolation)', () => {
    const f = fixtures.percentiles;
    const out = run(scaleIntensityRangePercentiles({ lower: f.lower, upper: f.upper, bMin: 0, bMax: 1, clip: true }), dec(f.input));
    expectClose(out.data, f.expected.data, 1e-5, 1e-6, 'percentile scaling');
    // relative: output range shrinks to the same percentiles of [bMin, bMax].
    const rel = run(scaleIntensityRangePercentiles({ lower: 0, upper: 50, bMin: 0, bMax: 10, relative: true }), ramp(1, 5));
    expectClose(rel.data, [0, 2.5, 5, 7.5, 10]);
  });

  it('thresholdIntensity keeps values above (or below) the threshold', () => {
    const img = imageArray(Float32Array.from([1, 5, 3, 7]), [2, 2]);
    expectClose(run(thresholdIntensity({ threshold: 3 }), img).data, [0, 5, 0, 7]);
    expectClose(run(thresholdIntensity({ threshold: 3, above: false, cval: -1 }), img).data, [1, -1, -1, -1]);
  });

  it('adjustGamma is MONAI’s min/max-preserving gamma curve', () => {
    const x = [0, 1, 2, 4];
    const out = run(adjustGamma({ gamma: 2 }), imageArray(Float32Array.from(x), [2, 2]));
    expectClose(out.data, x.map((v) => (v / (4 + 1e-7)) ** 2 * 4), 1e-6, 1e-6);
  });

  it('randomGamma draws gamma in range and is reproducible by seed', () => {
    const img = imageArray(Float32Array.from([0, 1, 2, 4]), [2, 2]);
    const a = run(randomGamma({ prob: 1, gamma: [2, 2], seed: 1 }), img);
    expectClose(a.data, run(adjustGamma({ gamma: 2 }), img).data);
    const b1 = run(randomGamma({ prob: 1, seed: 7 }), img).data;
    const b2 = run(randomGamma({ prob: 1, seed: 7 }), img).data;
    expect(Array.from(b1)).toEqual(Array.from(b2));
    expect(run(randomGamma({ prob: 0, seed: 7 }), img)).toBe(img);
  });

  it('gaussianNoise adds N(mean, std²) noise, same seed same noise, mask untouched', () => {
    const n = 20000;
    const image = imageArray(new Float32Array(n).fill(3), [100, 200]);
    const mask = imageArray(new Uint8Array(n).fill(1), [100, 200]);
    const t = gaussianNoise({ prob: 1, mean: 0.5, std: 0.2, seed: 3 });
    const out = t({ image, mask });
    let s = 0;
    let s2 = 0;
    for (const v of out.image.data) {
      s += v - 3;
      s2 += (v - 3) ** 2;
    }
    const mean = s / n;
    const std = Math.sqrt(s2 / n - mean * mean);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(std - 0.2)).toBeLessThan(0.01);
    expect(out.mask).toBe(mask);
    expect(Array.from(gaussianNoise({ prob: 1, seed: 3 })({ image }).image.data.slice(0, 5))).toEqual(
      Array.from(gaussianNoise({ prob: 1, seed: 3 })({ image }).image.data.slice(0, 5)),
    );
  });
});

describe('filters against scipy.ndimage', () => {
  it('medianFilter matches median_filter for every boundary mode', () => {
    for (const f of fixtures.median) {
      const out = run(medianFilter({ radius: f.radius, mode: f.mode }), dec(f.input));
      expectClose(out.data, f.expected.data, 1e-6, 1e-6, `median ${f.mode} r=${f.radius}`);
    }
  });

  it('gaussianSmooth matches gaussian_filter (including kernels wider than the image)', () => {
    for (const f of fixtures.gaussian) {
      const out = run(gaussianSmooth({ sigma: f.sigma, mode: f.mode }), dec(f.input));
      expectClose(out.data, f.expected.data, 1e-5, 1e-6, `gaussian ${f.mode} σ=${f.sigma}`);
    }
  });

  it('medianFilter removes an isolated spike', () => {
    const img = imageArray(new Float32Array(25), [5, 5]);
    (img.data as Float32Array)[12] = 100;
    expect(Math.max(...run(medianFilter(), img).data)).toBe(0);
  });
});

describe('spatial transforms', () => {
  it('resize with alignCorners matches scipy.ndimage.zoom(order=1)', () => {
    for (const f of fixtures.zoom_order1) {
      const out = run(resize({ spatialSize: f.size, alignCorners: true }), dec(f.input));
      expect(out.shape).toEqual(f.expected.shape);
      expectClose(out.data, f.expected.data, 1e-5, 1e-5, `zoom to ${f.size}`);
    }
  });

  it('resize matches torch F.interpolate (bilinear, align_corners=False; nearest)', () => {
    for (const f of fixtures.torch_resize) {
      expectClose(run(resize({ spatialSize: f.size }), dec(f.input)).data, f.bilinear.data, 1e-5, 1e-5, `bilinear ${f.size}`);
      expectClose(run(resize({ spatialSize: f.size, mode: 'nearest' }), dec(f.input)).data, f.nearest.data, 0, 0, `nearest ${f.size}`);
    }
  });

  it('resize uses nearest for the mask, so labels stay labels, and keeps its array type', () => {
    const image = ramp(4, 4);
    const mask = imageArray(Uint8Array.from([0, 0, 2, 2, 0, 0, 2, 2, 1, 1, 3, 3, 1, 1, 3, 3]), [4, 4]);
    const out = resize({ spatialSize: [7, 5] })({ image, mask, label: 4 });
    expect(out.mask!.data).toBeInstanceOf(Uint8Array);
    expect(new Set(out.mask!.data)).toEqual(new Set([0, 1, 2, 3]));
    expect(out.mask!.shape).toEqual([7, 5, 1]);
    expect(out.label).toBe(4);
    expect(resize({ spatialSize: [-1, 2] })({ image }).image.shape).toEqual([4, 2, 1]);
  });

  it('rotate90 matches numpy.rot90 for k = 1, 2, 3 and the reversed plane', () => {
    const f = fixtures.rot90;
    const x = dec(f.input);
    for (const [k, e] of [[1, f.k1], [2, f.k2], [3, f.k3]] as const) {
      const out = run(rotate90({ k }), x);
      expect(out.shape).toEqual(e.shape);
      expectClose(out.data, e.data, 0, 0, `rot90 k=${k}`);
    }
    expectClose(run(rotate90({ k: 1, spatialAxes: [1, 0] }), x).data, f.k3.data, 0, 0, 'rot90 axes [1, 0]');
  });

  it('flip reverses rows and/or columns', () => {
    const x = ramp(2, 3);
    expect(Array.from(run(flip({ spatialAxis: 0 }), x).data)).toEqual([3, 4, 5, 0, 1, 2]);
    expect(Array.from(run(flip({ spatialAxis: 1 }), x).data)).toEqual([2, 1, 0, 5, 4, 3]);
    expect(Array.from(run(flip(), x).data)).toEqual([5, 4, 3, 2, 1, 0]);
    expect(() => flip({ spatialAxis: 2 })).toThrow(ValueError);
  });

  it('centerCrop follows MONAI’s start = floor(dim/2) − floor(size/2); too large a crop throws', () => {
    const x = ramp(5, 6);
    const out = run(centerCrop({ roiSize: [2, 3] }), x);
    expect(out.shape).toEqual([2, 3, 1]);
    // rows start at 5//2 − 2//2 = 1, columns at 6//2 − 3//2 = 2.
    expect(Array.from(out.data)).toEqual([8, 9, 10, 14, 15, 16]);
    expect(() => run(centerCrop({ roiSize: [6, 3] }), x)).toThrow(ShapeError);
  });

  it('pad and spatialPad fill with constants or reflect, symmetric with the extra pixel after', () => {
    const x = imageArray(Float32Array.from([1, 2, 3, 4]), [2, 2]);
    const p = run(pad({ padding: [1, 0, 0, 1], value: 9 }), x);
    expect(p.shape).toEqual([3, 3, 1]);
    expect(Array.from(p.data)).toEqual([9, 9, 9, 1, 2, 9, 3, 4, 9]);
    const r = run(pad({ padding: [0, 0, 2, 2], mode: 'reflect' }), imageArray(Float32Array.from([1, 2, 3]), [1, 3]));
    expect(Array.from(r.data)).toEqual([2, 1, 1, 2, 3, 3, 2]);
    const s = run(spatialPad({ spatialSize: [5, 2] }), x);
    expect(s.shape).toEqual([5, 2, 1]);
    expect(Array.from(s.data)).toEqual([0, 0, 1, 2, 3, 4, 0, 0, 0, 0]);
    expect(run(divisiblePad({ k: 4 }), ramp(5, 8)).shape).toEqual([8, 8, 1]);
  });

  it('affine by a quarter turn equals rotate90; identity leaves the image unchanged', () => {
    const x = ramp(6, 6, 2);
    expectClose(run(affine({ rotate: Math.PI / 2, mode: 'nearest' }), x).data, run(rotate90(), x).data, 0, 0, 'nearest');
    expectClose(run(affine({ rotate: Math.PI / 2 }), x).data, run(rotate90(), x).data, 0, 1e-9, 'bilinear');
    expectClose(run(affine({}), x).data, x.data, 0, 0, 'identity');
  });

  it('affine translate and scale move content as documented', () => {
    const x = ramp(5, 5);
    const t = run(affine({ translate: [1, 2], paddingMode: 'zeros', mode: 'nearest' }), x);
    // Output (y, x) reads input (y − 1, x − 2).
    expect(t.data[3 * 5 + 4]).toBe(x.data[2 * 5 + 2]);
    expect(t.data[0]).toBe(0);
    // Zooming in by 2 about the centre: output (y, x) reads input ((y − 2)/2 + 2, (x − 2)/2 + 2).
    const z = run(affine({ scale: 2, paddingMode: 'zeros' }), x);
    expectClose([z.data[0]], [x.data[1 * 5 + 1]], 0, 1e-6, 'zoom corner');
    expectClose([z.data[2 * 5 + 2]], [x.data[2 * 5 + 2]], 0, 1e-6, 'zoom centre');
  });
});

describe('discrete transforms', () => {
  it('binarize thresholds at >= threshold (uint8 mask)', () => {
    const s: Sample = { image: ramp(1, 3), mask: imageArray(Float32Array.from([0.2, 0.5, 0.9]), [1, 3]) };
    const out = binarize()(s);
    expect(out.mask!.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(out.mask!.data)).toEqual([0, 1, 1]);
    expect(Array.from(binarize({ threshold: 1, key: 'image' })(s).image.data)).toEqual([0, 1, 1]);
    expect(() => binarize()({ image: ramp(1, 3) })).toThrow(ValueError);
  });

  it('oneHot makes one channel per class and rejects labels out of range', () => {
    const s: Sample = { image: ramp(1, 3), mask: imageArray(Uint8Array.from([0, 2, 1]), [1, 3]) };
    const out = oneHot({ numClasses: 3 })(s);
    expect(out.mask!.shape).toEqual([1, 3, 3]);
    expect(Array.from(out.mask!.data)).toEqual([1, 0, 0, 0, 0, 1, 0, 1, 0]);
    expect(() => oneHot({ numClasses: 2 })(s)).toThrow(ValueError);
  });
});

describe('image and mask consistency under random geometry', () => {
  // An image whose values encode their pixel position, and a mask that is the same values as
  // integers: after any pure re-arrangement (flip, rot90, crop, nearest affine) they must still agree.
  function paired(h: number, w: number): Sample {
    const image = ramp(h, w);
    const mask = imageArray(Int32Array.from(image.data), [h, w]);
    return { image, mask };
  }

  it('randomFlip, randomRotate90, randomCrop and nearest randomAffine move image and mask identically', () => {
    const pipeline = compose([
      randomFlip({ prob: 0.5, seed: 1 }),
      randomRotate90({ prob: 0.5, seed: 2 }),
      randomCrop({ roiSize: [6, 6], seed: 3 }),
      randomAffine({ prob: 0.9, rotateRange: 0.4, scaleRange: 0.2, translateRange: 2, mode: 'nearest', paddingMode: 'zeros', seed: 4 }),
    ]);
    let changed = 0;
    for (let i = 0; i < 40; i++) {
      const s = paired(8, 9);
      const out = pipeline(s);
      expect(out.image.shape).toEqual([6, 6, 1]);
      expect(Array.from(out.image.data)).toEqual(Array.from(out.mask!.data));
      if (out.image.data[0] !== 0 || out.image.data[1] !== 1) changed++;
    }
    expect(changed).toBeGreaterThan(20);
  });

  it('bilinear randomAffine warps the image by the same map as the nearest-neighbour mask', () => {
    const t = randomAffine({ prob: 1, rotateRange: 0.3, scaleRange: 0.1, seed: 9 });
    const s = paired(16, 16);
    const out = t(s);
    // Bilinear interpolation of the ramp v = 16·y + x is exact, so the image holds 16·sy + sx at the
    // sampled position and the mask 16·round(sy) + round(sx): they differ by at most 16·½ + ½.
    let worst = 0;
    for (let i = 0; i < out.image.data.length; i++) worst = Math.max(worst, Math.abs(out.image.data[i] - out.mask!.data[i]));
    expect(worst).toBeLessThanOrEqual(8.5 + 1e-3);
    expect(worst).toBeGreaterThan(0);
  });

  it('same seeds give the same augmentations, different seeds different ones; inputs are not modified', () => {
    const make = (seed: number): Transform =>
      compose([randomFlip({ prob: 0.5, seed }), randomAffine({ prob: 1, rotateRange: 0.5, seed: seed + 1 }), gaussianNoise({ prob: 1, seed: seed + 2 })]);
    const a = make(10);
    const b = make(10);
    const c = make(20);
    const s = paired(8, 8);
    const before = Array.from(s.image.data);
    const oa = a(s);
    const ob = b(s);
    const oc = c(s);
    expect(Array.from(oa.image.data)).toEqual(Array.from(ob.image.data));
    expect(Array.from(oa.mask!.data)).toEqual(Array.from(ob.mask!.data));
    expect(Array.from(oa.image.data)).not.toEqual(Array.from(oc.image.data));
    expect(Array.from(s.image.data)).toEqual(before);
  });

  it('geometric transforms reject a mask on a different grid', () => {
    const s: Sample = { image: ramp(4, 4), mask: ramp(4, 5) };
    expect(() => flip()(s)).toThrow(ShapeError);
    expect(() => compose([flip(), 3 as unknown as Transform])).toThrow(MedvaeError);
  });
});
