// Shared data and hand-written reference formulas for the VAE-family tests.
import { Generator, imageArray, type Sample } from '../../src/index.js';

/** `n` binary `size×size` images: a filled rectangle at a random place and size per image. */
export function binaryRects(n: number, size: number, seed: number, label?: (i: number) => number): Sample[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, (_, i) => {
    const w = g.randint(2, size - 1);
    const h = g.randint(2, size - 1);
    const x0 = g.randint(0, size - w + 1);
    const y0 = g.randint(0, size - h + 1);
    const img = new Float32Array(size * size);
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) img[y * size + x] = 1;
    return label ? { image: imageArray(img, [size, size]), label: label(i) } : { image: imageArray(img, [size, size]) };
  });
}

/** Σ over each sample's elements of BCE-with-logits, written out (stable form). */
export function bernoulliNLLByHand(logits: ArrayLike<number>, target: ArrayLike<number>, batch: number): number[] {
  const per = logits.length / batch;
  return Array.from({ length: batch }, (_, b) => {
    let s = 0;
    for (let i = b * per; i < (b + 1) * per; i++) {
      const l = logits[i];
      s += Math.max(l, 0) - l * target[i] + Math.log1p(Math.exp(-Math.abs(l)));
    }
    return s;
  });
}

/** Σ over each sample's elements of ½(log 2π + log σ² + (x − m)²/σ²). */
export function gaussianNLLByHand(mean: ArrayLike<number>, target: ArrayLike<number>, variance: number, batch: number): number[] {
  const per = mean.length / batch;
  return Array.from({ length: batch }, (_, b) => {
    let s = 0;
    for (let i = b * per; i < (b + 1) * per; i++) s += 0.5 * (Math.log(2 * Math.PI) + Math.log(variance) + (target[i] - mean[i]) ** 2 / variance);
    return s;
  });
}

/** Closed-form KL(N(μ, e^lv) ‖ N(0, 1)) summed per sample: ½ Σ (μ² + e^lv − 1 − lv). */
export function klByHand(mu: ArrayLike<number>, logVar: ArrayLike<number>, batch: number): number[] {
  const d = mu.length / batch;
  return Array.from({ length: batch }, (_, b) => {
    let s = 0;
    for (let j = b * d; j < (b + 1) * d; j++) s += 0.5 * (mu[j] ** 2 + Math.exp(logVar[j]) - 1 - logVar[j]);
    return s;
  });
}

/** Mean of an array. */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}
