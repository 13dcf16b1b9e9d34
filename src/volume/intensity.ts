import { ValueError } from '../core/errors.js';

/**
 * Intensity scaling applied to a whole volume before it is cut or fed to a model:
 * `'percentile'` maps the 0.5th…99.5th percentiles onto [0, 1] and clips, `'minmax'` maps
 * min…max onto [0, 1], `'zscore'` standardises with the mean and standard deviation of the
 * non-zero voxels, `'none'` keeps the values, and `{ scale, offset }` applies `v·scale + offset`
 * (e.g. `{ scale: 1 / 255 }` for a model trained on 8-bit intensities divided by 255). The named
 * modes are those of `niftiSliceDataset`'s `normalize`, so a model trained on its slices sees
 * the same values here.
 */
export type VolumeIntensity = 'percentile' | 'minmax' | 'zscore' | 'none' | { scale: number; offset?: number };

/** The affine `a·v + b` (and whether to clip to [0, 1]) that {@link VolumeIntensity} `mode` means for `values`. */
export function intensityAffine(values: Float32Array, mode: VolumeIntensity): { a: number; b: number; clip: boolean } {
  if (typeof mode === 'object' && mode !== null) {
    const offset = mode.offset ?? 0;
    if (!Number.isFinite(mode.scale) || !Number.isFinite(offset)) {
      throw new ValueError(`intensity { scale, offset } must be finite numbers, but got ${JSON.stringify(mode)}.`);
    }
    return { a: mode.scale, b: offset, clip: false };
  }
  switch (mode) {
    case 'none':
      return { a: 1, b: 0, clip: false };
    case 'percentile':
    case 'minmax': {
      let lo = Infinity;
      let hi = -Infinity;
      if (mode === 'minmax') {
        for (const v of values) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      } else {
        // Linear interpolation between order statistics at (n − 1)·q/100, as numpy's default.
        const sorted = Float32Array.from(values).sort();
        const at = (q: number): number => {
          const pos = ((sorted.length - 1) * q) / 100;
          const i = Math.floor(pos);
          const j = Math.min(i + 1, sorted.length - 1);
          return sorted[i] + (sorted[j] - sorted[i]) * (pos - i);
        };
        lo = at(0.5);
        hi = at(99.5);
      }
      const a = hi > lo ? 1 / (hi - lo) : 1;
      return { a, b: -lo * a, clip: mode === 'percentile' };
    }
    case 'zscore': {
      // Background zeros (outside the head) would dominate the statistics; skip them.
      let n = 0;
      let sum = 0;
      for (const v of values) if (v !== 0) { n++; sum += v; }
      const mean = n > 0 ? sum / n : 0;
      let sq = 0;
      for (const v of values) if (v !== 0) sq += (v - mean) ** 2;
      const std = n > 0 && sq > 0 ? Math.sqrt(sq / n) : 1;
      return { a: 1 / std, b: -mean / std, clip: false };
    }
    default:
      throw new ValueError(`intensity must be 'percentile', 'minmax', 'zscore', 'none' or { scale, offset }, but got ${JSON.stringify(mode)}.`);
  }
}

/** Applies {@link intensityAffine} in place and returns the array. */
export function applyIntensity(values: Float32Array, mode: VolumeIntensity): Float32Array {
  const { a, b, clip } = intensityAffine(values, mode);
  if (a === 1 && b === 0 && !clip) return values;
  for (let i = 0; i < values.length; i++) {
    const v = a * values[i] + b;
    values[i] = clip ? (v < 0 ? 0 : v > 1 ? 1 : v) : v;
  }
  return values;
}
