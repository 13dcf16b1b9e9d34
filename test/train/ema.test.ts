import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { EMA, Generator, Linear, Module, StateDictError, ValueError } from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

class Two extends Module<tf.Tensor, tf.Tensor> {
  readonly a = this.registerModule('a', new Linear(3, 2, { seed: 1 }));
  readonly frozen = this.registerParameter('frozen', tf.tensor1d([1, 2]), false);
  forward(x: tf.Tensor): tf.Tensor {
    return this.a.forward(x);
  }
}

/** diffusers' EMAModel.get_decay, written out independently of medvae's implementation. */
function diffusersDecay(step: number, o: { decay: number; minDecay?: number; updateAfterStep?: number; warmup?: boolean; invGamma?: number; power?: number }): number {
  const s = Math.max(0, step - (o.updateAfterStep ?? 0) - 1);
  if (s <= 0) return 0;
  const cur = o.warmup ? 1 - Math.pow(1 + s / (o.invGamma ?? 1), -(o.power ?? 2 / 3)) : (1 + s) / (10 + s);
  return Math.max(Math.min(cur, o.decay), o.minDecay ?? 0);
}

/** Sets the module's trainable weights to fresh values from `g`, returning them as float64 arrays by name. */
function perturb(m: Module<tf.Tensor, tf.Tensor>, g: Generator): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const [name, p] of m.namedParameters()) {
    if (!p.trainable) {
      out[name] = Float64Array.from(p.dataSync());
      continue;
    }
    const v = g.normalArray(p.size);
    p.assign(tf.tensor(v, p.shape));
    out[name] = Float64Array.from(v);
  }
  return out;
}

describe('EMA', () => {
  for (const cfg of [
    { decay: 0.9 },
    { decay: 0.999, updateAfterStep: 2 },
    { decay: 0.99, warmup: true, power: 3 / 4, minDecay: 0.1 },
  ]) {
    it(`equals the closed form after k updates (${JSON.stringify(cfg)})`, () => {
      const m = new Two();
      const ema = new EMA(m, { decay: cfg.decay, minDecay: cfg.minDecay, updateAfterStep: cfg.updateAfterStep, useEmaWarmup: cfg.warmup, power: cfg.power });
      // Expected shadow, in float64: starts as the initial weights; s ← s − (1 − d_k)(s − p_k).
      const expected: Record<string, Float64Array> = {};
      for (const [name, p] of m.namedParameters()) expected[name] = Float64Array.from(p.dataSync());
      const g = new Generator(3);
      const k = 14;
      for (let step = 1; step <= k; step++) {
        const now = perturb(m, g);
        ema.update();
        const d = diffusersDecay(step, cfg);
        expect(ema.getDecay(step)).toBeCloseTo(d, 15);
        for (const name of Object.keys(expected)) {
          expected[name] = expected[name].map((s, i) => s - (1 - d) * (s - now[name][i]));
        }
      }
      expect(ema.optimizationStep).toBe(k);
      const state = ema.stateDict();
      for (const [name, exp] of Object.entries(expected)) expectClose(values(state[name]), exp, 1e-5, 1e-6, name);
      ema.dispose();
      m.dispose();
    });
  }

  it('copies the weights on the first update and caps the decay (diffusers ramp)', () => {
    const m = new Two();
    const ema = new EMA(m, { decay: 0.5 });
    expect([1, 2, 3, 100].map((s) => ema.getDecay(s))).toEqual([0, 2 / 11, 0.25, 0.5]);
    perturb(m, new Generator(0));
    ema.update();
    for (const [name, p] of m.namedParameters()) expectClose(values(ema.stateDict()[name]), values(p), 0, 1e-6, name);
    ema.dispose();
    m.dispose();
  });

  it('copies frozen parameters instead of averaging them', () => {
    const m = new Two();
    const ema = new EMA(m, { decay: 0.9 });
    for (let i = 0; i < 3; i++) {
      m.frozen.assign(tf.tensor1d([10 + i, 20 + i]));
      ema.update();
    }
    expect(values(ema.stateDict().frozen)).toEqual([12, 22]);
    ema.dispose();
    m.dispose();
  });

  it('stores, swaps in the averages and restores the live weights', async () => {
    const m = new Two();
    const ema = new EMA(m, { decay: 0.9 });
    const g = new Generator(5);
    for (let i = 0; i < 4; i++) {
      perturb(m, g);
      ema.update();
    }
    const live = values(m.a.weight);
    const avg = values(ema.stateDict()['a.weight']);
    expect(avg).not.toEqual(live);
    const seen = await ema.withAveragedWeights(() => values(m.a.weight));
    expect(seen).toEqual(avg);
    expect(values(m.a.weight)).toEqual(live);
    ema.store();
    expect(() => ema.store()).toThrow(ValueError);
    ema.copyTo();
    expect(values(m.a.weight)).toEqual(avg);
    ema.restore();
    expect(values(m.a.weight)).toEqual(live);
    expect(() => ema.restore()).toThrow(/nothing is stored/);
    // copyTo another module of the same layout
    const other = new Two();
    ema.copyTo(other);
    expect(values(other.a.weight)).toEqual(avg);
    ema.dispose();
    m.dispose();
    other.dispose();
  });

  it('round-trips through its state dict, update count included', () => {
    const m = new Two();
    const ema = new EMA(m, { decay: 0.9 });
    const g = new Generator(9);
    for (let i = 0; i < 3; i++) {
      perturb(m, g);
      ema.update();
    }
    const copy = Object.fromEntries(Object.entries(ema.stateDict()).map(([k, v]) => [k, tf.clone(v)]));
    const fresh = new EMA(new Two(), { decay: 0.9 });
    fresh.loadStateDict(copy);
    expect(fresh.optimizationStep).toBe(3);
    for (const [k, v] of Object.entries(ema.stateDict())) expect(values(fresh.stateDict()[k])).toEqual(values(v));
    expect(() => fresh.loadStateDict({ 'a.weight': copy['a.weight'] })).toThrow(StateDictError);
    tf.dispose(Object.values(copy));
    fresh.dispose();
    fresh.module.dispose();
    ema.dispose();
    m.dispose();
  });

  it('validates its options and leaks nothing per update', async () => {
    const m = new Two();
    expect(() => new EMA(m, { decay: 1.5 })).toThrow(ValueError);
    expect(() => new EMA(m, { updateAfterStep: -1 })).toThrow(ValueError);
    const ema = new EMA(m, { decay: 0.99 });
    await expectNoLeak(() => ema.update(), 5);
    await expectNoLeak(() => ema.withAveragedWeights(() => undefined), 3);
    const before = tf.memory().numTensors;
    ema.dispose();
    expect(tf.memory().numTensors).toBe(before - m.parameters().length - 1);
    expect(() => ema.update()).toThrow(/disposed/);
    m.dispose();
  });

  it('creating and disposing an EMA leaves no tensor behind', () => {
    const m = new Two();
    const before = tf.memory().numTensors;
    new EMA(m, { decay: 0.9 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});
