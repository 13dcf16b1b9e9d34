/**
 * Timing of the CPU segmentation metrics on realistic mask sizes (run: `npx tsx bench/metrics.ts`).
 *
 * Masks are unions of random ellipses (seeded); the prediction is the target shifted by a few
 * pixels with some stray blobs, so surfaces are long and distances are non-trivial. Prints the
 * median of several runs in ms. Not part of `npm test`: timings are machine-dependent.
 */
import { Generator } from '../src/core/random.js';
import { computeDice, distanceTransformEdt, hausdorffDistance, hausdorffDistance95, averageSurfaceDistance } from '../src/metrics/index.js';
import type { NdArrayLike } from '../src/metrics/index.js';

const g = new Generator(7);

function blobs(h: number, w: number, n: number, rmin: number, rmax: number, out = new Uint8Array(h * w)): Uint8Array {
  for (let k = 0; k < n; k++) {
    const cy = g.random() * h;
    const cx = g.random() * w;
    const ry = rmin + g.random() * (rmax - rmin);
    const rx = rmin + g.random() * (rmax - rmin);
    const a = g.random() * Math.PI;
    const c = Math.cos(a);
    const s = Math.sin(a);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const u = c * (y - cy) + s * (x - cx);
        const v = -s * (y - cy) + c * (x - cx);
        if ((u / ry) ** 2 + (v / rx) ** 2 <= 1) out[y * w + x] = 1;
      }
    }
  }
  return out;
}

/** A batch of B binary masks [B, H, W, 1] and a shifted, noisier prediction. */
function pair(b: number, h: number, w: number): { pred: NdArrayLike; target: NdArrayLike } {
  const t = new Uint8Array(b * h * w);
  const p = new Uint8Array(b * h * w);
  for (let i = 0; i < b; i++) {
    const ti = blobs(h, w, 4, h / 16, h / 5);
    t.set(ti, i * h * w);
    const pi = new Uint8Array(h * w);
    const dy = 3;
    const dx = -2;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const sy = y - dy;
      const sx = x - dx;
      if (sy >= 0 && sy < h && sx >= 0 && sx < w) pi[y * w + x] = ti[sy * w + sx];
    }
    blobs(h, w, 3, 2, h / 40, pi); // stray false positives far from the target
    p.set(pi, i * h * w);
  }
  return { pred: { data: p, shape: [b, h, w, 1] }, target: { data: t, shape: [b, h, w, 1] } };
}

function time(label: string, fn: () => unknown, runs = 7): void {
  fn(); // warm-up (JIT)
  const ms: number[] = [];
  let result: unknown;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const value = typeof result === 'number' ? result.toFixed(3) : '';
  console.log(`${label.padEnd(46)} median ${ms[runs >> 1].toFixed(1).padStart(7)} ms   min ${ms[0].toFixed(1).padStart(7)} ms   ${value}`);
}

for (const [b, h, w] of [
  [1, 256, 256],
  [4, 256, 256],
  [1, 512, 512],
  [4, 512, 512],
] as const) {
  const { pred, target } = pair(b, h, w);
  const tag = `${b}×${h}×${w}×1`;
  console.log(`\n${tag}`);
  time(`  hausdorffDistance95`, () => hausdorffDistance95(pred, target));
  time(`  hausdorffDistance95, spacing [0.8, 1.5]`, () => hausdorffDistance95(pred, target, { spacing: [0.8, 1.5] }));
  time(`  hausdorffDistance (max)`, () => hausdorffDistance(pred, target));
  time(`  averageSurfaceDistance (symmetric)`, () => averageSurfaceDistance(pred, target, { symmetric: true }));
  time(`  computeDice (mean)`, () => computeDice(pred, target, { reduction: 'mean' }));
  time(`  distanceTransformEdt, one ${h}×${w} image`, () => distanceTransformEdt({ data: Array.prototype.slice.call(target.data, 0, h * w) as number[], shape: [h, w] }));
}
