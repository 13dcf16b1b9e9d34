// Steps at t = T − 1 with zero-terminal-SNR betas (ᾱ = 0), against genuine diffusers
// (test/fixtures/schedules/gen_terminal_step.py): with ε-prediction x̂₀ is ±inf, clipped to ±1.
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DDIMScheduler, DDPMScheduler } from '../../src/index.js';
import { expectClose, setupBackend, values } from '../helpers/tf.js';
import { nums, type Num } from './fixture.js';

beforeAll(() => setupBackend('cpu'));

interface TerminalCase {
  class: 'DDPMScheduler' | 'DDIMScheduler';
  config: Record<string, unknown>;
  numInferenceSteps: number | null;
  t: number;
  eta?: number;
  noise?: Num[];
  predOriginalSample: Num[];
  prevSample: Num[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/schedules/terminal_step.json', import.meta.url), 'utf8')) as {
  shape: number[]; sample: Num[]; modelOutput: Num[]; cases: TerminalCase[];
};

// Non-finite values must match exactly (same sign of infinity); finite ones to float32 precision.
function expectSameValues(actual: number[], expected: number[], what: string): void {
  const finite = expected.map((v, i) => [v, actual[i]] as const).filter(([v]) => Number.isFinite(v));
  expect(actual.map((v, i) => (Number.isFinite(expected[i]) ? 0 : v)), `${what}: non-finite entries`)
    .toEqual(expected.map((v) => (Number.isFinite(v) ? 0 : v)));
  expectClose(finite.map(([, a]) => a), finite.map(([e]) => e), 1e-5, 1e-6, what);
}

describe('zero-terminal-SNR step at t = T − 1 (ᾱ = 0), as diffusers', () => {
  for (const c of fixture.cases) {
    it(`${c.class} ${JSON.stringify(c.config)}${c.numInferenceSteps ? `, ${c.numInferenceSteps} steps` : ''}`, () => {
      const s = (c.class === 'DDPMScheduler' ? DDPMScheduler : DDIMScheduler).fromDiffusersConfig(c.config);
      expect(s.alphasCumprod[c.t]).toBe(0);
      if (c.numInferenceSteps !== null) s.setTimesteps(c.numInferenceSteps);
      expect(s.timesteps[0]).toBe(c.t);
      const sample = tf.tensor(nums(fixture.sample), fixture.shape);
      const modelOutput = tf.tensor(nums(fixture.modelOutput), fixture.shape);
      const noise = c.noise ? tf.tensor(nums(c.noise), fixture.shape) : undefined;
      const out = s instanceof DDPMScheduler
        ? s.step(modelOutput, c.t, sample, { varianceNoise: noise })
        : s.step(modelOutput, c.t, sample, { eta: c.eta });
      expectSameValues(values(out.predOriginalSample), nums(c.predOriginalSample), 'predOriginalSample');
      expectSameValues(values(out.prevSample), nums(c.prevSample), 'prevSample');
      expect(values(out.prevSample).some(Number.isNaN)).toBe(false);
      tf.dispose([sample, modelOutput, noise, out.prevSample, out.predOriginalSample].filter((t): t is tf.Tensor => t !== undefined));
    });
  }
});
