import { ValueError } from '../core/errors.js';

/**
 * How inference timesteps are spread over the training range (diffusers' `timestep_spacing`):
 * `'leading'` = 0, k, 2k, … (+ `stepsOffset`) with k = ⌊T/n⌋, the DDPM/DDIM papers' choice;
 * `'trailing'` counts down from T − 1 so sampling starts at the noisiest step (Lin et al. 2023);
 * `'linspace'` spreads n points evenly over [0, T − 1].
 */
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

/** Every {@link TimestepSpacing}. */
export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ['leading', 'trailing', 'linspace'];

/** Rounds half to even, as `numpy.round` does (0.5 → 0, 1.5 → 2), so timesteps match diffusers'. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `numpy.arange(start, stop, step)` for floats, with numpy's length rule and fill formula (start + i·(a₁ − a₀)). */
function numpyArange(start: number, stop: number, step: number): Float64Array {
  const len = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Float64Array(len);
  if (len === 0) return out;
  out[0] = start;
  if (len > 1) out[1] = start + step;
  const delta = out.length > 1 ? out[1] - out[0] : step;
  for (let i = 2; i < len; i++) out[i] = start + i * delta;
  return out;
}

/** `numpy.linspace(start, stop, n)` with its formula (i·step + start, last value set to stop). */
function numpyLinspace(start: number, stop: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = i * step + start;
  out[n - 1] = stop;
  return out;
}

/**
 * The descending inference timesteps a scheduler visits for `numInferenceSteps` sampling steps,
 * computed exactly as diffusers' `set_timesteps` does (including numpy's round-half-to-even),
 * so a pipeline ported from diffusers visits the same timesteps.
 *
 * @param numTrainTimesteps - T, the length of the training schedule.
 * @param numInferenceSteps - n, between 1 and T.
 * @param spacing - see {@link TimestepSpacing}.
 * @param stepsOffset - added to every timestep under `'leading'` spacing only (diffusers' `steps_offset`; Stable Diffusion uses 1).
 */
export function inferenceTimesteps(
  numTrainTimesteps: number,
  numInferenceSteps: number,
  spacing: TimestepSpacing = 'leading',
  stepsOffset = 0,
): Int32Array {
  const T = numTrainTimesteps;
  const n = numInferenceSteps;
  if (!Number.isInteger(n) || n < 1) {
    throw new ValueError(`numInferenceSteps must be a positive integer, but got ${n}.`);
  }
  if (n > T) {
    throw new ValueError(
      `numInferenceSteps (${n}) cannot be larger than numTrainTimesteps (${T}): the model was only trained on ${T} timesteps. ` +
        `Use at most ${T} inference steps.`,
    );
  }
  if (!Number.isInteger(stepsOffset) || stepsOffset < 0) {
    throw new ValueError(`stepsOffset must be a non-negative integer, but got ${stepsOffset}.`);
  }
  let ts: number[];
  if (spacing === 'linspace') {
    ts = Array.from(numpyLinspace(0, T - 1, n), roundHalfEven).reverse();
  } else if (spacing === 'leading') {
    const ratio = Math.floor(T / n);
    ts = Array.from({ length: n }, (_, i) => i * ratio + stepsOffset).reverse();
  } else if (spacing === 'trailing') {
    ts = Array.from(numpyArange(T, 0, -(T / n)), (v) => roundHalfEven(v) - 1);
  } else {
    throw new ValueError(
      `Unknown timestepSpacing ${JSON.stringify(spacing)}. Use one of ${TIMESTEP_SPACINGS.map((s) => `'${s}'`).join(', ')}.`,
    );
  }
  const bad = ts.find((t) => t < 0 || t >= T);
  if (bad !== undefined) {
    throw new ValueError(
      `Timestep ${bad} from ${spacing} spacing (stepsOffset ${stepsOffset}) falls outside [0, ${T - 1}]. ` +
        `Lower stepsOffset or numInferenceSteps.`,
    );
  }
  return Int32Array.from(ts);
}
