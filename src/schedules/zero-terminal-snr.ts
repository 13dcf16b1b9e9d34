import { ValueError } from '../core/errors.js';

/**
 * Rescales a β schedule so its terminal signal-to-noise ratio is exactly zero (Lin et al. 2023,
 * "Common Diffusion Noise Schedules and Sample Steps are Flawed"; diffusers'
 * `rescale_zero_terminal_snr`).
 *
 * Common schedules leave a little signal at t = T − 1, so training never sees pure noise while
 * sampling starts from it; images then drift toward mid brightness. The fix shifts √ᾱ so its last
 * value is 0 and scales it so its first value is unchanged, then turns ᾱ back into β. The last β
 * becomes 1, so ᾱ[T−1] = 0 exactly. Pair it with `predictionType: 'v_prediction'` (ε-prediction
 * cannot recover x₀ from pure noise) and `timestepSpacing: 'trailing'`.
 *
 * @param betas - a schedule of length ≥ 2 with values in (0, 1).
 * @returns the rescaled betas as a new float64 array.
 */
export function rescaleZeroTerminalSnr(betas: ArrayLike<number>): Float64Array {
  const n = betas.length;
  if (n < 2) throw new ValueError(`rescaleZeroTerminalSnr needs at least 2 betas, but got ${n}.`);
  const sqrtAlphaBar = new Float64Array(n);
  let prod = 1;
  for (let i = 0; i < n; i++) {
    const b = betas[i];
    if (!(b > 0 && b < 1)) throw new ValueError(`rescaleZeroTerminalSnr: betas must lie in (0, 1), but betas[${i}] = ${b}.`);
    prod *= 1 - b;
    sqrtAlphaBar[i] = Math.sqrt(prod);
  }
  const first = sqrtAlphaBar[0];
  const last = sqrtAlphaBar[n - 1];
  if (!(first > last)) {
    throw new ValueError('rescaleZeroTerminalSnr: the schedule keeps all its signal (ᾱ does not decrease), so it cannot be rescaled.');
  }
  const scale = first / (first - last);
  const alphaBar = sqrtAlphaBar.map((v) => ((v - last) * scale) ** 2);
  const out = new Float64Array(n);
  out[0] = 1 - alphaBar[0];
  for (let i = 1; i < n; i++) out[i] = 1 - alphaBar[i] / alphaBar[i - 1];
  return out;
}
