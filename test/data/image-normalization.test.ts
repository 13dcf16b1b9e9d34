import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValueError } from '../../src/core/errors.js';
import { checkIntensityNormalization, normalizeImages, type IntensityNormalization } from '../../src/data/transforms/image-normalization.js';
import { useBackend } from '../../src/backend/index.js';

interface Case { kind: string; options: Record<string, unknown>; shape: number[]; input: number[]; expected: number[] }
const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'transforms', 'image_normalization.json'), 'utf8')) as { monai: string; cases: Case[] };

describe('normalizeImages against MONAI 1.5 (ScaleIntensityRangePercentiles, NormalizeIntensity, ScaleIntensityRange)', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`${fixture.cases.length} cases match on ${backend}, one image at a time and batched`, async () => {
      await useBackend(backend);
      expect(fixture.monai).toBe('1.5.0');
      for (const c of fixture.cases) {
        const spec = checkIntensityNormalization({ kind: c.kind, ...c.options }, 'test');
        const x = tf.tensor(c.input, [1, ...c.shape]);
        // A batch of the image and the image ×3 + 7: per-image statistics keep them apart.
        const batch = tf.concat([x, tf.add(tf.mul(x, 3), 7)], 0);
        const before = tf.memory().numTensors;
        const y = normalizeImages(x, spec);
        const yb = normalizeImages(batch, spec);
        expect(tf.memory().numTensors).toBe(before + 2);
        const got = Array.from(y.dataSync());
        got.forEach((v, i) => expect(v, `${c.kind} ${JSON.stringify(c.options)} [${i}]`).toBeCloseTo(c.expected[i], 4));
        const first = Array.from(yb.dataSync()).slice(0, got.length);
        expect(first).toEqual(got);
        if (c.kind !== 'range' && c.options.nonzero !== true) {
          // Percentile and z-score scaling are indifferent to gain and offset (not with nonzero: the offset moves the zeros).
          const second = Array.from(yb.dataSync()).slice(got.length);
          second.forEach((v, i) => expect(v).toBeCloseTo(got[i], 3));
        }
        tf.dispose([x, batch, y, yb]);
      }
    });
  }

  it("'none' returns the input and bad specifications are refused with what to write", () => {
    const x = tf.ones([1, 2, 2, 1]);
    expect(normalizeImages(x, 'none')).toBe(x);
    x.dispose();
    const bad: unknown[] = [{ kind: 'percentiles', lower: 99, upper: 1 }, { kind: 'zscore', nonzero: 'yes' }, { kind: 'range', aMin: 0 }, 'percentile', null, { kind: 'minmax' }, { kind: 'percentiles', lower: 1, upper: 99, clip: 1 }];
    for (const b of bad) expect(() => checkIntensityNormalization(b, 'UNetSegmenter')).toThrow(ValueError);
    expect(() => checkIntensityNormalization({ kind: 'minmax' }, 'UNetSegmenter')).toThrow(/kind must be 'percentiles', 'zscore' or 'range'/);
    const ok: IntensityNormalization[] = ['none', { kind: 'zscore' }, { kind: 'percentiles', lower: 1, upper: 99 }, { kind: 'range', aMin: -1000, aMax: 400, clip: true }];
    for (const s of ok) expect(checkIntensityNormalization(s, 'UNetSegmenter')).toBe(s);
  });
});
