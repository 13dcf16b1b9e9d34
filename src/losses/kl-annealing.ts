import { ValueError } from '../core/errors.js';

/** A KL weight schedule: the β (weight of the KL term) for a 0-based training step. Not a diffusion β schedule. */
export type BetaSchedule = (step: number) => number;

/** Options of {@link linearKLWarmup}. */
export interface LinearKLWarmupOptions {
  /** Steps over which β rises linearly from `startBeta` to `maxBeta`; 0 means `maxBeta` from the start. */
  warmupSteps: number;
  /** β after the warm-up. Default `1`. */
  maxBeta?: number;
  /** β at step 0. Default `0`. */
  startBeta?: number;
}

function checkStep(step: number): void {
  if (!Number.isFinite(step) || step < 0) throw new ValueError(`KL schedule: step must be a finite number ≥ 0, but got ${step}.`);
}

function checkNonNeg(name: string, value: number, integer = false): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new ValueError(`${name} must be a finite ${integer ? 'integer' : 'number'} ≥ 0, but got ${String(value)}.`);
  }
}

/**
 * Linear KL warm-up (Bowman et al. 2016; Sønderby et al. 2016): β rises linearly from `startBeta`
 * at step 0 to `maxBeta` at `warmupSteps` and stays there:
 * `β(t) = startBeta + (maxBeta − startBeta)·min(1, t / warmupSteps)`.
 * It lets the decoder learn before the KL term pulls the posterior to the prior (posterior collapse).
 */
export function linearKLWarmup(options: LinearKLWarmupOptions): BetaSchedule {
  const { warmupSteps, maxBeta = 1, startBeta = 0 } = options;
  checkNonNeg('linearKLWarmup: warmupSteps', warmupSteps);
  checkNonNeg('linearKLWarmup: maxBeta', maxBeta);
  checkNonNeg('linearKLWarmup: startBeta', startBeta);
  return (step) => {
    checkStep(step);
    const progress = warmupSteps === 0 ? 1 : Math.min(1, step / warmupSteps);
    return startBeta + (maxBeta - startBeta) * progress;
  };
}

/** Options of {@link cyclicalKLSchedule}. */
export interface CyclicalKLScheduleOptions {
  /** Total training steps T spanned by the cycles. */
  totalSteps: number;
  /** Number of cycles M. Default `4`. */
  cycles?: number;
  /** Fraction R of each cycle spent increasing β (the rest holds `maxBeta`). Default `0.5`. */
  ratio?: number;
  /** Peak β. Default `1`. */
  maxBeta?: number;
}

/**
 * Cyclical KL annealing (Fu et al. 2019): the T steps are split into M cycles of length T/M; in
 * each, β rises linearly from 0 to `maxBeta` over the first fraction R and then holds:
 * `τ = (t mod (T/M)) / (T/M)`, `β(t) = maxBeta·min(1, τ / R)`. Steps from T on keep `maxBeta`.
 */
export function cyclicalKLSchedule(options: CyclicalKLScheduleOptions): BetaSchedule {
  const { totalSteps, cycles = 4, ratio = 0.5, maxBeta = 1 } = options;
  if (!(Number.isFinite(totalSteps) && totalSteps > 0)) throw new ValueError(`cyclicalKLSchedule: totalSteps must be > 0, but got ${String(totalSteps)}.`);
  if (!(Number.isInteger(cycles) && cycles >= 1)) throw new ValueError(`cyclicalKLSchedule: cycles must be an integer ≥ 1, but got ${String(cycles)}.`);
  if (!(Number.isFinite(ratio) && ratio > 0 && ratio <= 1)) throw new ValueError(`cyclicalKLSchedule: ratio must be in (0, 1], but got ${String(ratio)}.`);
  checkNonNeg('cyclicalKLSchedule: maxBeta', maxBeta);
  const period = totalSteps / cycles;
  return (step) => {
    checkStep(step);
    if (step >= totalSteps) return maxBeta;
    const tau = (step % period) / period;
    return maxBeta * Math.min(1, tau / ratio);
  };
}
