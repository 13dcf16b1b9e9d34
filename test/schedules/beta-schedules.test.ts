import { describe, expect, it } from 'vitest';
import {
  betaSchedule,
  cosineBetaSchedule,
  linearBetaSchedule,
  rescaleZeroTerminalSnr,
  scaledLinearBetaSchedule,
  scheduleTerms,
  sigmoidBetaSchedule,
  ValueError,
  type BetaScheduleName,
} from '../../src/index.js';
import { expectClose } from '../helpers/tf.js';
import { fx, nums, pick } from './fixture.js';

describe('beta schedules', () => {
  it.each(fx.betas.map((c) => [`${c.name} T=${c.T} ${JSON.stringify(c.params)}`, c] as const))('%s matches the published formula', (_, c) => {
    const { betaStart, betaEnd, maxBeta } = c.params;
    let betas: Float64Array;
    switch (c.name) {
      case 'linear':
        betas = linearBetaSchedule(c.T, betaStart, betaEnd);
        break;
      case 'scaled_linear':
        betas = scaledLinearBetaSchedule(c.T, betaStart, betaEnd);
        break;
      case 'squaredcos_cap_v2':
        betas = cosineBetaSchedule(c.T, { maxBeta });
        break;
      default:
        betas = sigmoidBetaSchedule(c.T, betaStart, betaEnd);
    }
    expect(betas).toBeInstanceOf(Float64Array);
    expect(betas.length).toBe(c.T);
    expectClose(pick(betas, c.indices), c.values, 1e-12, 0, c.name);
    // The dispatcher gives the same numbers by name.
    expectClose(pick(betaSchedule(c.name as BetaScheduleName, c.T, c.params), c.indices), c.values, 1e-12, 0, `${c.name} by name`);
  });

  it('uses the documented defaults', () => {
    const lin = linearBetaSchedule(1000);
    expect([lin[0], lin[999]]).toEqual([1e-4, 0.02]);
    const sl = scaledLinearBetaSchedule(1000);
    expect(sl[0]).toBeCloseTo(0.00085, 15);
    expect(sl[999]).toBeCloseTo(0.012, 15);
    expect(Math.max(...cosineBetaSchedule(1000))).toBe(0.999);
  });

  it('rejects unknown names and bad arguments with ValueError', () => {
    expect(() => betaSchedule('cosine' as BetaScheduleName, 10)).toThrow(ValueError);
    expect(() => betaSchedule('cosine' as BetaScheduleName, 10)).toThrow(/Unknown beta schedule "cosine".*'squaredcos_cap_v2'/);
    expect(() => linearBetaSchedule(0)).toThrow(/numTrainTimesteps must be a positive integer/);
    expect(() => linearBetaSchedule(10.5)).toThrow(ValueError);
    expect(() => linearBetaSchedule(10, 1e-4, 1.5)).toThrow(/betaEnd must be a number in \[0, 1\)/);
    expect(() => cosineBetaSchedule(10, { maxBeta: 0 })).toThrow(ValueError);
  });
});

describe('rescaleZeroTerminalSnr', () => {
  it.each(fx.zeroTerminalSnr.map((c) => [`${c.name} T=${c.T}`, c] as const))('%s matches Lin et al. 2023', (_, c) => {
    const base = betaSchedule(c.name as BetaScheduleName, c.T);
    const rescaled = rescaleZeroTerminalSnr(base);
    expectClose(pick(rescaled, c.indices), c.betas, 1e-9, 1e-15, 'betas');
    const terms = scheduleTerms(rescaled);
    expectClose(pick(terms.alphasCumprod, c.indices), c.alphasCumprod, 1e-9, 1e-15, 'alphasCumprod');
    expectClose(pick(terms.snr, c.indices), c.snr, 1e-9, 1e-15, 'snr');
    // Terminal SNR is exactly zero; the first ᾱ is kept.
    expect(rescaled[c.T - 1]).toBe(1);
    expect(terms.alphasCumprod[c.T - 1]).toBe(0);
    expect(terms.snr[c.T - 1]).toBe(0);
    expect(terms.alphasCumprod[0]).toBeCloseTo(1 - base[0], 14);
  });

  it('rejects schedules it cannot rescale', () => {
    expect(() => rescaleZeroTerminalSnr([0.1])).toThrow(ValueError);
    expect(() => rescaleZeroTerminalSnr([0.1, 1.2])).toThrow(/betas\[1\] = 1.2/);
  });
});

describe('scheduleTerms', () => {
  it.each(fx.terms.map((c) => [`${c.name} T=${c.T}`, c] as const))('%s: every derived term matches Ho et al. 2020', (_, c) => {
    const terms = scheduleTerms(betaSchedule(c.name as BetaScheduleName, c.T));
    const keys = Object.keys(c.terms);
    expect(keys.sort()).toEqual(Object.keys(terms).sort());
    for (const key of keys) {
      const actual = terms[key as keyof typeof terms];
      expect(actual, key).toBeInstanceOf(Float64Array);
      expectClose(pick(actual, c.indices), nums(c.terms[key]), 1e-10, 1e-15, key);
    }
  });

  it('rejects betas outside (0, 1]', () => {
    expect(() => scheduleTerms([])).toThrow(ValueError);
    expect(() => scheduleTerms([0.1, 0])).toThrow(/betas\[1\] = 0/);
  });
});
