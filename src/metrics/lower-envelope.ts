import { ValueError } from '../core/errors.js';

// Internal: the distance-transform core shared by distance-transform.ts and surface-distance.ts.
// Not re-exported by the barrel.

/** Normalises a spacing option to one positive finite number per axis. */
export function resolveSpacing(spacing: number | readonly number[] | undefined, rank: number, what: string): number[] {
  const s = spacing === undefined ? new Array<number>(rank).fill(1) : typeof spacing === 'number' ? new Array<number>(rank).fill(spacing) : Array.from(spacing);
  if (s.length !== rank) {
    throw new ValueError(`${what} needs one spacing per spatial axis (${rank}), but got ${s.length}: [${s.join(', ')}].`);
  }
  if (!s.every((v) => Number.isFinite(v) && v > 0)) {
    throw new ValueError(`${what} spacing must be positive and finite, but got [${s.join(', ')}].`);
  }
  return s;
}

/**
 * Squared distance transform along one line, in place, by Felzenszwalb & Huttenlocher's lower
 * envelope of parabolas: `d[q] = min_p s²·(q − p)² + f[p]`. Infinite samples (no feature yet) are
 * left out of the envelope, which avoids the ∞ − ∞ that a "large number" sentinel only hides.
 */
function transformLine(f: Float64Array, n: number, s2: number, v: Int32Array, z: Float64Array, d: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q];
    if (fq === Infinity) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    const cq = fq + s2 * q * q;
    let p = v[k];
    let x = (cq - (f[p] + s2 * p * p)) / (2 * s2 * (q - p));
    while (x <= z[k]) {
      k--;
      p = v[k];
      x = (cq - (f[p] + s2 * p * p)) / (2 * s2 * (q - p));
    }
    k++;
    v[k] = q;
    z[k] = x;
    z[k + 1] = Infinity;
  }
  if (k < 0) return; // no feature on this line: every value stays infinite
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const p = v[k];
    const dq = q - p;
    d[q] = s2 * dq * dq + f[p];
  }
  for (let q = 0; q < n; q++) f[q] = d[q];
}

/**
 * Exact squared Euclidean distance from every element to the nearest feature, in place: `sq` must
 * hold 0 at features and `Infinity` elsewhere. Separable over axes, O(n) per axis.
 */
export function squaredDistanceToFeatures(sq: Float64Array, shape: readonly number[], spacing: readonly number[]): void {
  const maxN = Math.max(1, ...shape);
  const line = new Float64Array(maxN);
  const tmp = new Float64Array(maxN);
  const v = new Int32Array(maxN);
  const z = new Float64Array(maxN + 1);
  let inner = sq.length;
  for (let axis = 0; axis < shape.length; axis++) {
    const n = shape[axis];
    inner /= n; // stride of this axis
    const outer = sq.length / (n * inner);
    const s2 = spacing[axis] * spacing[axis];
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let any = false;
        for (let q = 0, j = base; q < n; q++, j += inner) {
          const x = sq[j];
          line[q] = x;
          if (x !== Infinity) any = true;
        }
        if (!any) continue;
        transformLine(line, n, s2, v, z, tmp);
        for (let q = 0, j = base; q < n; q++, j += inner) sq[j] = line[q];
      }
    }
  }
}

