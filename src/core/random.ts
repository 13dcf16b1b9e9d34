import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from './errors.js';

/** The full state of a {@link Generator}: four 32-bit words. Save it to resume a run exactly. */
export type GeneratorState = readonly [number, number, number, number];

/** Mixes a seed into well-spread 32-bit words (SplitMix32), so nearby seeds give unrelated streams. */
function splitMix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seeded random number generator, the one source of randomness in medvae (weight init, dropout,
 * reparameterisation noise, diffusion noise, shuffles, augmentations). Like `torch.Generator`:
 * the same seed gives the same stream, on every backend, because numbers are drawn in JavaScript
 * and only then uploaded as tensors.
 *
 * The algorithm is xoshiro128** (32-bit words, period 2^128 − 1).
 *
 * @example
 * ```ts
 * const g = new Generator(42);
 * const eps = g.normal([4, 16]);   // standard normal tensor
 * const order = g.permutation(10); // shuffled indices
 * ```
 */
export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** @param seed - any finite number; it is reduced to 32 bits. */
  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Re-seeds the generator in place (as `torch.Generator.manual_seed`). Returns `this`. */
  manualSeed(seed: number): this {
    if (!Number.isFinite(seed)) {
      throw new ValueError(`Generator seed must be a finite number, but got ${seed}.`);
    }
    const mix = splitMix32(Math.floor(seed) >>> 0 ^ Math.floor(seed / 2 ** 32));
    this.s0 = mix();
    this.s1 = mix();
    this.s2 = mix();
    this.s3 = mix();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    return this;
  }

  /** The next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** A uniform float in [0, 1) with 32 bits of randomness. */
  random(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [low, high). */
  randint(low: number, high: number): number {
    if (!(high > low)) throw new ValueError(`randint needs high > low, but got low=${low}, high=${high}.`);
    return low + Math.floor(this.random() * (high - low));
  }

  /** One standard-normal sample (Box–Muller; the second value of the pair is discarded to keep the state simple). */
  randn(): number {
    let u = this.random();
    while (u === 0) u = this.random();
    const v = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fills a new Float32Array of length `n` with uniform values in [low, high). */
  uniformArray(n: number, low = 0, high = 1): Float32Array {
    const out = new Float32Array(n);
    const span = high - low;
    for (let i = 0; i < n; i++) out[i] = low + span * this.random();
    return out;
  }

  /** Fills a new Float32Array of length `n` with normal values N(mean, std²). */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      let u = this.random();
      while (u === 0) u = this.random();
      const v = this.random();
      const r = Math.sqrt(-2 * Math.log(u));
      out[i] = mean + std * r * Math.cos(2 * Math.PI * v);
      if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * v);
    }
    return out;
  }

  /** A float32 tensor of uniform values in [low, high). */
  uniform(shape: readonly number[], low = 0, high = 1): tf.Tensor {
    return tf.tensor(this.uniformArray(sizeOf(shape), low, high), shape.slice(), 'float32');
  }

  /** A float32 tensor of normal values N(mean, std²), like `torch.randn`. */
  normal(shape: readonly number[], mean = 0, std = 1): tf.Tensor {
    return tf.tensor(this.normalArray(sizeOf(shape), mean, std), shape.slice(), 'float32');
  }

  /** A float32 tensor of 0/1 values that are 1 with probability `p`. */
  bernoulli(shape: readonly number[], p: number): tf.Tensor {
    if (!(p >= 0 && p <= 1)) throw new ValueError(`bernoulli probability must be in [0, 1], but got ${p}.`);
    const n = sizeOf(shape);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.random() < p ? 1 : 0;
    return tf.tensor(out, shape.slice(), 'float32');
  }

  /** An int32 tensor of integers uniform in [low, high), like `torch.randint`. */
  integers(shape: readonly number[], low: number, high: number): tf.Tensor {
    const n = sizeOf(shape);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.randint(low, high);
    return tf.tensor(out, shape.slice(), 'int32');
  }

  /** A random permutation of 0 … n−1 (Fisher–Yates), like `torch.randperm`. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const tmp = out[i];
      out[i] = out[j];
      out[j] = tmp;
    }
    return out;
  }

  /**
   * A new generator seeded from this one's stream: use it to hand an independent, reproducible
   * stream to a child (a layer, a worker) without sharing state.
   */
  fork(): Generator {
    return new Generator(this.nextUint32());
  }

  /** A copy of the current state, to store in a checkpoint. */
  getState(): GeneratorState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Restores a state returned by {@link Generator.getState}. */
  setState(state: GeneratorState): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new ValueError(`Generator state must be four unsigned 32-bit integers, but got ${JSON.stringify(state)}.`);
    }
    [this.s0, this.s1, this.s2, this.s3] = state;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ValueError(`Shape entries must be non-negative integers, but got [${shape.join(', ')}].`);
    n *= d;
  }
  return n;
}

let globalGenerator = new Generator(0);

/**
 * Seeds the global generator used when no `seed`/`generator` option is given (as `torch.manual_seed`).
 * Returns the global generator.
 */
export function manualSeed(seed: number): Generator {
  globalGenerator = new Generator(seed);
  return globalGenerator;
}

/** The global generator (seeded with 0 until {@link manualSeed} is called). */
export function defaultGenerator(): Generator {
  return globalGenerator;
}

/**
 * What an option named `seed` accepts throughout medvae: a number (a fresh generator is made from
 * it), a {@link Generator} (used and advanced), or `undefined` (the global generator is used).
 */
export type SeedLike = number | Generator | undefined;

/**
 * The seed an options object gives, from `seed` or from the deprecated `generator` spelling of the
 * same option (medvae names every {@link SeedLike} option `seed`; `generator` is kept for code
 * written before the rename). Giving both is refused rather than silently preferring one.
 *
 * @internal
 */
export function seedOption(options: { seed?: SeedLike; generator?: SeedLike }, fn: string): SeedLike {
  if (options.seed !== undefined && options.generator !== undefined) {
    throw new ValueError(`${fn}: got both seed and generator, which are the same option (generator is its deprecated name). Pass seed only.`);
  }
  return options.seed ?? options.generator;
}

/** Turns a {@link SeedLike} into a generator. */
export function toGenerator(seed: SeedLike): Generator {
  if (seed instanceof Generator) return seed;
  if (seed === undefined) return globalGenerator;
  return new Generator(seed);
}
