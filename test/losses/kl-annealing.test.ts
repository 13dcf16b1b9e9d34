import { describe, expect, it } from 'vitest';
import { ValueError, cyclicalKLSchedule, linearKLWarmup } from '../../src/index.js';

describe('linearKLWarmup', () => {
  it('rises linearly from startBeta to maxBeta over warmupSteps, then holds', () => {
    const beta = linearKLWarmup({ warmupSteps: 10, maxBeta: 2, startBeta: 0.5 });
    expect(beta(0)).toBe(0.5);
    expect(beta(4)).toBeCloseTo(0.5 + 1.5 * 0.4, 12);
    expect(beta(10)).toBe(2);
    expect(beta(1000)).toBe(2);
    expect(linearKLWarmup({ warmupSteps: 4 })(1)).toBe(0.25);
    expect(linearKLWarmup({ warmupSteps: 0 })(0)).toBe(1);
  });

  it('rejects bad steps and options', () => {
    expect(() => linearKLWarmup({ warmupSteps: -1 })).toThrow(ValueError);
    expect(() => linearKLWarmup({ warmupSteps: 5 })(-1)).toThrow(/step/);
  });
});

describe('cyclicalKLSchedule (Fu et al. 2019)', () => {
  it('follows β = maxBeta·min(1, τ/R) with τ the position in the cycle', () => {
    const beta = cyclicalKLSchedule({ totalSteps: 100, cycles: 4, ratio: 0.5, maxBeta: 1 });
    // period 25: rises over 12.5 steps, holds for the rest.
    expect(beta(0)).toBe(0);
    expect(beta(5)).toBeCloseTo(5 / 12.5, 12);
    expect(beta(12.5)).toBe(1);
    expect(beta(20)).toBe(1);
    expect(beta(25)).toBe(0);
    expect(beta(30)).toBeCloseTo(5 / 12.5, 12);
    expect(beta(99)).toBe(1);
    expect(beta(150)).toBe(1);
  });

  it('defaults: 4 cycles, ratio 0.5, maxBeta 1; ratio 1 rises over the whole cycle', () => {
    const beta = cyclicalKLSchedule({ totalSteps: 40 });
    expect(beta(2)).toBeCloseTo(2 / 5, 12);
    expect(beta(10)).toBe(0);
    const full = cyclicalKLSchedule({ totalSteps: 30, cycles: 3, ratio: 1, maxBeta: 0.5 });
    expect(full(5)).toBeCloseTo(0.25, 12);
    expect(full(15)).toBeCloseTo(0.25, 12);
  });

  it('rejects bad options', () => {
    expect(() => cyclicalKLSchedule({ totalSteps: 0 })).toThrow(ValueError);
    expect(() => cyclicalKLSchedule({ totalSteps: 10, ratio: 0 })).toThrow(/ratio/);
    expect(() => cyclicalKLSchedule({ totalSteps: 10, cycles: 1.5 })).toThrow(/cycles/);
  });
});
