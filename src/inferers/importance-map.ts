import { ValueError } from '../core/errors.js';

/** How overlapping window outputs are blended (MONAI's `BlendMode`). */
export type BlendMode = 'constant' | 'gaussian';

/**
 * The weight of each position of a window when overlapping window outputs are blended, as MONAI's
 * `compute_importance_map`: all ones for `'constant'`; for `'gaussian'` the product over axes of
 * `exp(−x² / (2σ²))` with x measured from the window centre ((n − 1)/2, so even sizes have no
 * centre sample and a peak below 1) and σ = `sigmaScale`·n, clamped below at 1e-3 so positions
 * covered by a single window keep a defined output. The map is not normalised: blending divides
 * by the summed weights, so only ratios matter, and the clamp acts on these values (normalising
 * first would move it for even sizes).
 *
 * @param patchSize - window size per spatial axis.
 * @param mode - `'constant'` or `'gaussian'`.
 * @param sigmaScale - σ as a fraction of the window size, per axis or for all. Default 0.125.
 * @returns the weights in row-major order (last axis fastest), float32 as MONAI computes them.
 */
export function computeImportanceMap(patchSize: readonly number[], mode: BlendMode = 'constant', sigmaScale: number | readonly number[] = 0.125): Float32Array {
  if (patchSize.length === 0 || !patchSize.every((n) => Number.isInteger(n) && n > 0)) {
    throw new ValueError(`computeImportanceMap: patchSize must list positive integers, but got [${patchSize.join(', ')}].`);
  }
  const size = patchSize.reduce((a, b) => a * b, 1);
  if (mode === 'constant') return new Float32Array(size).fill(1);
  if (mode !== 'gaussian') throw new ValueError(`computeImportanceMap: mode must be 'constant' or 'gaussian', but got '${String(mode)}'.`);
  const scales = typeof sigmaScale === 'number' ? patchSize.map(() => sigmaScale) : [...sigmaScale];
  if (scales.length !== patchSize.length || !scales.every((s) => Number.isFinite(s) && s > 0)) {
    throw new ValueError(`computeImportanceMap: sigmaScale must be a positive number or one per axis (${patchSize.length}), but got ${JSON.stringify(sigmaScale)}.`);
  }
  // One 1-D Gaussian per axis, each entry rounded to float32 as torch computes it.
  const axes = patchSize.map((n, i) => {
    const sigma = n * scales[i];
    const denom = Math.fround(-2 * sigma * sigma);
    return Float32Array.from({ length: n }, (_, j) => {
      const x = Math.fround(j - (n - 1) / 2);
      return Math.fround(Math.exp(Math.fround(Math.fround(x * x) / denom)));
    });
  });
  const out = new Float32Array(size);
  let min = Infinity;
  const idx = new Array<number>(patchSize.length);
  for (let flat = 0; flat < size; flat++) {
    let rest = flat;
    for (let a = patchSize.length - 1; a >= 0; a--) {
      idx[a] = rest % patchSize[a];
      rest = (rest - idx[a]) / patchSize[a];
    }
    // Multiplied in axis order, ((g0·g1)·g2), as the outer products are built in MONAI.
    let w = axes[0][idx[0]];
    for (let a = 1; a < patchSize.length; a++) w = Math.fround(w * axes[a][idx[a]]);
    out[flat] = w;
    if (w < min) min = w;
  }
  const floor = Math.max(min, 1e-3);
  for (let i = 0; i < size; i++) if (out[i] < floor) out[i] = floor;
  return out;
}
