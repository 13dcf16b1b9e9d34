import { ValueError } from '../core/errors.js';

/**
 * The β-schedule names diffusers accepts in `beta_schedule`, kept verbatim so configs port as they are:
 * `'linear'` (Ho et al. 2020), `'scaled_linear'` (Stable Diffusion / latent diffusion),
 * `'squaredcos_cap_v2'` (the cosine schedule of Nichol & Dhariwal 2021) and `'sigmoid'`.
 */
export type BetaScheduleName = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2' | 'sigmoid';

/** Every {@link BetaScheduleName}, in the order error messages list them. */
export const BETA_SCHEDULE_NAMES: readonly BetaScheduleName[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'sigmoid'];

function assertTimesteps(numTrainTimesteps: number, fn: string): void {
  if (!Number.isInteger(numTrainTimesteps) || numTrainTimesteps < 1) {
    throw new ValueError(`${fn}: numTrainTimesteps must be a positive integer, but got ${numTrainTimesteps}.`);
  }
}

function assertBetaRange(betaStart: number, betaEnd: number, fn: string): void {
  for (const [name, v] of [['betaStart', betaStart], ['betaEnd', betaEnd]] as const) {
    if (!Number.isFinite(v) || v < 0 || v >= 1) {
      throw new ValueError(`${fn}: ${name} must be a number in [0, 1), but got ${v}. β is a per-step noise variance.`);
    }
  }
}

/**
 * `n` evenly spaced values from `start` to `end`, computed like `torch.linspace` (the first half
 * counted up from `start`, the second half down from `end`), so both ends are exact and the
 * float64 values match PyTorch's bit for bit.
 */
function torchLinspace(start: number, end: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const step = (end - start) / (n - 1);
  const halfway = Math.floor(n / 2);
  for (let i = 0; i < n; i++) out[i] = i < halfway ? start + step * i : end - step * (n - i - 1);
  return out;
}

/**
 * β rising linearly from `betaStart` to `betaEnd` (DDPM, Ho et al. 2020; diffusers' `'linear'`).
 *
 * All schedules return float64 host arrays: the cumulative product over 1000 steps loses digits
 * in float32, so the schedulers keep their terms in float64 and only turn the per-step scalars into
 * float32 tensor operands.
 */
export function linearBetaSchedule(numTrainTimesteps: number, betaStart = 1e-4, betaEnd = 0.02): Float64Array {
  assertTimesteps(numTrainTimesteps, 'linearBetaSchedule');
  assertBetaRange(betaStart, betaEnd, 'linearBetaSchedule');
  return torchLinspace(betaStart, betaEnd, numTrainTimesteps);
}

/**
 * √β rising linearly, then squared (diffusers' `'scaled_linear'`, used by latent / Stable Diffusion,
 * whose defaults 0.00085 → 0.012 are this function's). Spends more steps at low noise than
 * {@link linearBetaSchedule} with the same ends. Returns a float64 array.
 */
export function scaledLinearBetaSchedule(numTrainTimesteps: number, betaStart = 0.00085, betaEnd = 0.012): Float64Array {
  assertTimesteps(numTrainTimesteps, 'scaledLinearBetaSchedule');
  assertBetaRange(betaStart, betaEnd, 'scaledLinearBetaSchedule');
  const roots = torchLinspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), numTrainTimesteps);
  return roots.map((r) => r * r);
}

/** Options of {@link cosineBetaSchedule}. */
export interface CosineBetaScheduleOptions {
  /** Upper cap on each β: near t = T the cosine ᾱ ratio tends to 0 and β to 1, which would make sampling singular. Default 0.999. */
  maxBeta?: number;
  /** Small offset that keeps β near t = 0 from being vanishingly small (Nichol & Dhariwal use 0.008). */
  s?: number;
}

/**
 * The cosine schedule of Nichol & Dhariwal (2021), diffusers' `'squaredcos_cap_v2'`: ᾱ(t) =
 * cos²((t/T + s)/(1 + s) · π/2) and βₜ = min(1 − ᾱ((t+1)/T)/ᾱ(t/T), maxBeta). It destroys
 * information more slowly than a linear schedule, which helps small images. Returns a float64 array.
 */
export function cosineBetaSchedule(numTrainTimesteps: number, options: CosineBetaScheduleOptions = {}): Float64Array {
  const { maxBeta = 0.999, s = 0.008 } = options;
  assertTimesteps(numTrainTimesteps, 'cosineBetaSchedule');
  if (!(maxBeta > 0 && maxBeta <= 1)) throw new ValueError(`cosineBetaSchedule: maxBeta must be in (0, 1], but got ${maxBeta}.`);
  if (!(s >= 0) || !Number.isFinite(s)) throw new ValueError(`cosineBetaSchedule: s must be a finite number ≥ 0, but got ${s}.`);
  const alphaBar = (t: number): number => Math.cos(((t + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  const out = new Float64Array(numTrainTimesteps);
  for (let i = 0; i < numTrainTimesteps; i++) {
    const t1 = i / numTrainTimesteps;
    const t2 = (i + 1) / numTrainTimesteps;
    out[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return out;
}

/**
 * diffusers' `'sigmoid'` schedule: β = sigmoid(linspace(−6, 6, T)) · (betaEnd − betaStart) + betaStart,
 * flat at both ends and steep in the middle. Returns a float64 array.
 */
export function sigmoidBetaSchedule(numTrainTimesteps: number, betaStart = 1e-4, betaEnd = 0.02): Float64Array {
  assertTimesteps(numTrainTimesteps, 'sigmoidBetaSchedule');
  assertBetaRange(betaStart, betaEnd, 'sigmoidBetaSchedule');
  return torchLinspace(-6, 6, numTrainTimesteps).map((x) => (1 / (1 + Math.exp(-x))) * (betaEnd - betaStart) + betaStart);
}

/** Options of {@link betaSchedule}; anything left out takes the chosen schedule's own default. */
export interface BetaScheduleOptions {
  /** β at the first step (linear, scaled_linear, sigmoid). */
  betaStart?: number;
  /** β at the last step (linear, scaled_linear, sigmoid). */
  betaEnd?: number;
  /** Cap on β (squaredcos_cap_v2). */
  maxBeta?: number;
}

/**
 * Builds a β schedule by its diffusers name, so a scheduler config (`betaSchedule: 'scaled_linear'`)
 * maps to the same numbers as in diffusers. Throws a {@link ValueError} naming the valid choices for
 * an unknown name. Returns a float64 array of length `numTrainTimesteps`.
 */
export function betaSchedule(name: BetaScheduleName, numTrainTimesteps: number, options: BetaScheduleOptions = {}): Float64Array {
  const { betaStart, betaEnd, maxBeta } = options;
  switch (name) {
    case 'linear':
      return linearBetaSchedule(numTrainTimesteps, betaStart, betaEnd);
    case 'scaled_linear':
      return scaledLinearBetaSchedule(numTrainTimesteps, betaStart, betaEnd);
    case 'squaredcos_cap_v2':
      return cosineBetaSchedule(numTrainTimesteps, { maxBeta });
    case 'sigmoid':
      return sigmoidBetaSchedule(numTrainTimesteps, betaStart, betaEnd);
    default:
      throw new ValueError(
        `Unknown beta schedule ${JSON.stringify(name)}. Use one of ${BETA_SCHEDULE_NAMES.map((n) => `'${n}'`).join(', ')} ` +
          `(the cosine schedule is called 'squaredcos_cap_v2', as in diffusers).`,
      );
  }
}
