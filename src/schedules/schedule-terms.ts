import { ValueError } from '../core/errors.js';

/**
 * Every per-timestep quantity of a diffusion schedule (Ho et al. 2020, eqs. 4, 6, 7), indexed by
 * timestep t = 0 … T−1, as float64 host arrays. ᾱ is `alphasCumprod`.
 */
export interface ScheduleTerms {
  /** The βₜ the terms were computed from (a copy). */
  betas: Float64Array;
  /** αₜ = 1 − βₜ. */
  alphas: Float64Array;
  /** ᾱₜ = ∏ₛ≤ₜ αₛ: how much of x₀'s variance survives in xₜ. */
  alphasCumprod: Float64Array;
  /** ᾱₜ₋₁, with ᾱ₋₁ = 1. */
  alphasCumprodPrev: Float64Array;
  /** √ᾱₜ: the signal coefficient of q(xₜ | x₀). */
  sqrtAlphasCumprod: Float64Array;
  /** √(1 − ᾱₜ): the noise coefficient of q(xₜ | x₀). */
  sqrtOneMinusAlphasCumprod: Float64Array;
  /** 1/√ᾱₜ, used to recover x₀ from xₜ and ε. Infinite where ᾱₜ = 0 (zero terminal SNR). */
  sqrtRecipAlphasCumprod: Float64Array;
  /** √(1/ᾱₜ − 1). Infinite where ᾱₜ = 0. */
  sqrtRecipm1AlphasCumprod: Float64Array;
  /** β̃ₜ = βₜ (1 − ᾱₜ₋₁)/(1 − ᾱₜ): the variance of the true posterior q(xₜ₋₁ | xₜ, x₀); 0 at t = 0. */
  posteriorVariance: Float64Array;
  /** log β̃ₜ with t = 0 replaced by t = 1's value, since β̃₀ = 0 (as in improved-diffusion). */
  posteriorLogVarianceClipped: Float64Array;
  /** Coefficient of x₀ in the posterior mean: βₜ √ᾱₜ₋₁ / (1 − ᾱₜ). */
  posteriorMeanCoef1: Float64Array;
  /** Coefficient of xₜ in the posterior mean: (1 − ᾱₜ₋₁) √αₜ / (1 − ᾱₜ). */
  posteriorMeanCoef2: Float64Array;
  /** Signal-to-noise ratio ᾱₜ / (1 − ᾱₜ), the quantity min-SNR weighting and zero-SNR rescaling reason about. */
  snr: Float64Array;
}

/**
 * Computes all {@link ScheduleTerms} from a β schedule, in float64. Both the DDPM and DDIM
 * schedulers read their coefficients from here, so the formulas live in one place.
 *
 * @param betas - β₀ … β_{T−1}, each in (0, 1] (1 is allowed for a zero-terminal-SNR schedule).
 */
export function scheduleTerms(betas: ArrayLike<number>): ScheduleTerms {
  const n = betas.length;
  if (n < 1) throw new ValueError('scheduleTerms needs at least one beta, but got an empty array.');
  const b = Float64Array.from(betas);
  b.forEach((v, i) => {
    if (!(v > 0 && v <= 1)) throw new ValueError(`scheduleTerms: betas must lie in (0, 1], but betas[${i}] = ${v}.`);
  });
  const alphas = b.map((v) => 1 - v);
  const alphasCumprod = new Float64Array(n);
  let prod = 1;
  for (let i = 0; i < n; i++) {
    prod *= alphas[i];
    alphasCumprod[i] = prod;
  }
  const alphasCumprodPrev = new Float64Array(n);
  alphasCumprodPrev[0] = 1;
  alphasCumprodPrev.set(alphasCumprod.subarray(0, n - 1), 1);

  const posteriorVariance = b.map((beta, i) => (beta * (1 - alphasCumprodPrev[i])) / (1 - alphasCumprod[i]));
  const posteriorLogVarianceClipped = posteriorVariance.map((v, i) => Math.log(i === 0 && n > 1 ? posteriorVariance[1] : v));
  return {
    betas: b,
    alphas,
    alphasCumprod,
    alphasCumprodPrev,
    sqrtAlphasCumprod: alphasCumprod.map(Math.sqrt),
    sqrtOneMinusAlphasCumprod: alphasCumprod.map((a) => Math.sqrt(1 - a)),
    sqrtRecipAlphasCumprod: alphasCumprod.map((a) => Math.sqrt(1 / a)),
    sqrtRecipm1AlphasCumprod: alphasCumprod.map((a) => Math.sqrt(1 / a - 1)),
    posteriorVariance,
    posteriorLogVarianceClipped,
    posteriorMeanCoef1: b.map((beta, i) => (beta * Math.sqrt(alphasCumprodPrev[i])) / (1 - alphasCumprod[i])),
    posteriorMeanCoef2: alphas.map((a, i) => ((1 - alphasCumprodPrev[i]) * Math.sqrt(a)) / (1 - alphasCumprod[i])),
    snr: alphasCumprod.map((a) => a / (1 - a)),
  };
}
