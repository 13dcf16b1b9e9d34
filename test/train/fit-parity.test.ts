// The shared training engine against the per-model loops it replaced: the same short fits give the
// logs and weights that test/fixtures/train/fit-parity.json recorded from the old loops.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fitParityRuns, type ParityRun } from './fit-parity-runs.js';
import { useUnfusedBatchNorm } from '../../bench/unfused-batchnorm.js';
import { expectClose } from '../helpers/tf.js';

const expected = JSON.parse(readFileSync(new URL('../fixtures/train/fit-parity.json', import.meta.url), 'utf8')) as Record<string, ParityRun>;
let actual: Record<string, ParityRun>;
beforeAll(async () => {
  // The fixture predates the fused BatchNorm training op (src/layers/batchnorm-train.ts), whose
  // closed-form backward rounds differently: run with the composition it replaced, so that what is
  // compared is the training loop alone.
  useUnfusedBatchNorm(true);
  try {
    actual = await fitParityRuns();
  } finally {
    useUnfusedBatchNorm(false);
  }
}, 120_000);

// rtol 1e-5 (float32 rounding of the on-device gradient clipping); any change of the loop's logic
// (a skipped or reordered update, another lr, another batch order) moves these numbers by percents.
const RTOL = 1e-5;

describe('fit through the shared engine reproduces the per-model loops', () => {
  for (const name of Object.keys(expected)) {
    it(name, () => {
      const a = actual[name];
      const e = expected[name];
      expect(a.history.length).toBe(e.history.length);
      e.history.forEach((rec, i) => {
        for (const part of ['train', 'val'] as const) {
          // Validation may report more than it did (pooledDice, emptyPredictions); what it did report must match.
          if (part === 'train') expect(Object.keys(a.history[i][part]).sort()).toEqual(Object.keys(rec[part]).sort());
          for (const [k, v] of Object.entries(rec[part])) expectClose([a.history[i][part][k]], [v], RTOL, 1e-6, `${name} epoch ${i} ${part}.${k}`);
        }
      });
      expect(Object.keys(a.weights).sort()).toEqual(Object.keys(e.weights).sort());
      for (const [k, v] of Object.entries(e.weights)) expectClose(a.weights[k], v, RTOL, 1e-6, `${name} ${k}`);
    });
  }
});
