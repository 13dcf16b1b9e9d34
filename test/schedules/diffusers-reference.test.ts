// medvae's schedulers against genuine diffusers 0.40.0.dev0 on the cases of schedules.json
// (test/fixtures/schedules/gen_schedules_diffusers.py). diffusers computes in float32, and its step
// coefficients such as 1 − ᾱₜ/ᾱₜ₋₁ lose digits to cancellation where β is small (about 1e-4
// relative), so the tolerances here are float32's; the float64 references of schedules.json, which
// agree with diffusers to those tolerances, check medvae to 1e-5 in the other scheduler tests.
const STEP = [1e-3, 1e-4] as const;
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DDIMScheduler, DDPMScheduler, betaSchedule, rescaleZeroTerminalSnr, scheduleTerms, type BetaScheduleName } from '../../src/index.js';
import { expectClose, setupBackend, values } from '../helpers/tf.js';
import { fx, nums, pick, type Num } from './fixture.js';

beforeAll(() => setupBackend('cpu'));

interface StepRef { prevT: number; predOriginalSample: Num[]; prevSample: Num[] }
const ref = JSON.parse(readFileSync(new URL('../fixtures/schedules/schedules_diffusers.json', import.meta.url), 'utf8')) as {
  ddpm: StepRef[]; ddim: StepRef[]; timesteps: number[][]; forward: { noisy: Num[]; velocity: Num[] }[];
  betas: (Num[] | null)[]; zeroTerminalSnr: { betas: Num[]; alphasCumprod: Num[] }[];
};
const shape = fx.shape;

describe('schedulers against genuine diffusers', () => {
  it('DDPMScheduler.step, every case (fixed_large_log excepted: diffusers gives NaN there, see DDPMScheduler.variance)', () => {
    let compared = 0;
    fx.ddpm.forEach((c, i) => {
      const r = ref.ddpm[i];
      const s = new DDPMScheduler(c.config);
      if (c.numInferenceSteps) s.setTimesteps(c.numInferenceSteps);
      expect(s.previousTimestep(c.t), `case ${i} previous timestep`).toBe(r.prevT);
      if (c.config.varianceType === 'fixed_large_log' && c.t > 0) {
        expect(nums(r.prevSample).every(Number.isNaN)).toBe(true);
        return;
      }
      const learned = c.modelOutput.length === 2 * fx.sample.length;
      const out = tf.tensor(c.modelOutput, learned ? [...shape.slice(0, 3), 2 * shape[3]] : shape);
      const x = tf.tensor(fx.sample, shape);
      const noise = tf.tensor(fx.noise, shape);
      const step = s.step(out, c.t, x, { varianceNoise: noise });
      expectClose(values(step.predOriginalSample), nums(r.predOriginalSample), ...STEP, `DDPM case ${i} predOriginalSample`);
      expectClose(values(step.prevSample), nums(r.prevSample), ...STEP, `DDPM case ${i} prevSample`);
      tf.dispose([out, x, noise, step]);
      compared++;
    });
    expect(compared).toBeGreaterThan(40);
  });

  it("DDIMScheduler.step, where diffusers' t − ⌊T/n⌋ is medvae's previous timestep", () => {
    let compared = 0;
    fx.ddim.forEach((c, i) => {
      const r = ref.ddim[i];
      if (r.prevT !== c.prevT) return; // 'trailing' / 'linspace': medvae steps along its timesteps (documented)
      const s = new DDIMScheduler(c.config);
      s.setTimesteps(c.numInferenceSteps);
      const out = tf.tensor(fx.modelOutput, shape);
      const x = tf.tensor(fx.sample, shape);
      const noise = tf.tensor(fx.noise, shape);
      const step = s.step(out, c.t, x, { eta: c.eta, useClippedModelOutput: c.useClippedModelOutput, varianceNoise: noise });
      expectClose(values(step.predOriginalSample), nums(r.predOriginalSample), ...STEP, `DDIM case ${i} predOriginalSample`);
      expectClose(values(step.prevSample), nums(r.prevSample), ...STEP, `DDIM case ${i} prevSample`);
      tf.dispose([out, x, noise, step]);
      compared++;
    });
    expect(compared).toBeGreaterThan(25);
  });

  it('setTimesteps, every spacing and offset', () => {
    fx.timesteps.forEach((c, i) => {
      const s = new DDPMScheduler({ numTrainTimesteps: c.T, timestepSpacing: c.spacing, stepsOffset: c.stepsOffset });
      s.setTimesteps(c.n);
      expect(Array.from(s.timesteps), `case ${i}`).toEqual(ref.timesteps[i]);
    });
  });

  it('addNoise and getVelocity', () => {
    fx.forward.forEach((c, i) => {
      const s = new DDPMScheduler(c.config);
      const x0 = tf.tensor(c.sample, c.shape);
      const eps = tf.tensor(c.noise, c.shape);
      const noisy = s.addNoise(x0, eps, c.timesteps);
      const velocity = s.getVelocity(x0, eps, c.timesteps);
      expectClose(values(noisy), nums(ref.forward[i].noisy), 1e-4, 1e-5, `forward case ${i} addNoise`);
      expectClose(values(velocity), nums(ref.forward[i].velocity), 1e-4, 1e-5, `forward case ${i} getVelocity`);
      tf.dispose([x0, eps, noisy, velocity]);
    });
  });

  it('beta schedules and their zero-terminal-SNR rescaling', () => {
    let compared = 0;
    fx.betas.forEach((c, i) => {
      const r = ref.betas[i];
      if (r === null) return; // a cosine cap other than 0.999, which diffusers' schedulers do not take
      expectClose(pick(betaSchedule(c.name as BetaScheduleName, c.T, c.params), c.indices), nums(r), 1e-6, 1e-9, `${c.name} T=${c.T}`);
      compared++;
    });
    expect(compared).toBe(fx.betas.length - 1);
    fx.zeroTerminalSnr.forEach((c, i) => {
      const betas = rescaleZeroTerminalSnr(betaSchedule(c.name as BetaScheduleName, c.T));
      expectClose(pick(betas, c.indices), nums(ref.zeroTerminalSnr[i].betas), 1e-4, 1e-7, `zero-SNR ${c.name} betas`);
      expectClose(pick(scheduleTerms(betas).alphasCumprod, c.indices), nums(ref.zeroTerminalSnr[i].alphasCumprod), 1e-4, 1e-7, `zero-SNR ${c.name} alphasCumprod`);
    });
  });
});
