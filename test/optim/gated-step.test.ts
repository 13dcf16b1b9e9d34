// Optimizer.step's `gate`: a step whose gate is 0 must leave parameters, slots and step count
// exactly as if it had not been called, and a step whose gate is 1 must equal an ungated step bit
// for bit, even when earlier gates have not been read (Adam's bias correction and SGD's first-step
// rule then depend on a step number only the device knows). The reference is the plain optimizer
// with the skipped steps left out, decided on the host.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam, AdamW, SGD, ValueError, type Optimizer } from '../../src/index.js';
import { countReadbacks } from '../helpers/readbacks.js';
import { setupBackend } from '../helpers/tf.js';

const backendName = (process.env.MEDVAE_TEST_BACKEND ?? 'cpu') as 'cpu' | 'wasm';
beforeAll(() => setupBackend(backendName));
afterAll(() => tf.disposeVariables());

type Make = (params: tf.Variable[]) => Optimizer;
const makers: Array<[string, Make]> = [
  ['Adam', (p) => new Adam(p, { lr: 0.05 })],
  ['Adam amsgrad + weightDecay', (p) => new Adam(p, { lr: 0.05, amsgrad: true, weightDecay: 0.1, betas: [0.5, 0.99] })],
  ['AdamW', (p) => new AdamW(p, { lr: 0.05 })],
  ['SGD', (p) => new SGD(p, { lr: 0.05 })],
  ['SGD momentum + dampening', (p) => new SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.3 })],
  ['SGD nesterov', (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
];

// Starts with skipped steps (slots not made yet, SGD's first step still to come), then mixes.
const GATES = [0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1];

function gradsAt(step: number, w: tf.Variable, b: tf.Variable): Record<string, tf.Tensor> {
  // Different every step, with a NaN on skipped steps for w (a skipped update must not leak it).
  const g = Float32Array.from({ length: 6 }, (_, i) => Math.sin(1.3 * step + i) * (i + 1));
  if (GATES[step] === 0) g[2] = NaN;
  return { [w.name]: tf.tensor2d(g, [2, 3]), [b.name]: tf.tensor1d([Math.cos(step), -0.5 * step]) };
}

function variables(tag: string): [tf.Variable, tf.Variable] {
  return tf.tidy(() => [tf.variable(tf.tensor2d([0.1, -0.2, 0.3, 0.4, -0.5, 0.6], [2, 3]), true, `${tag}/w`), tf.variable(tf.tensor1d([1, -1]), true, `${tag}/b`)]) as [tf.Variable, tf.Variable];
}

function bits(t: tf.Tensor): number[] {
  return Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
}

describe(`Optimizer.step with a gate (${backendName})`, () => {
  for (const [name, make] of makers) {
    it(`${name}: gated steps equal the ungated run without the skipped steps, bit for bit`, async () => {
      const before = tf.memory().numTensors;
      const [w, b] = variables(`gated-${name}`);
      const [rw, rb] = variables(`ref-${name}`);
      const gated = make([w, b]);
      const ref = make([rw, rb]);
      const counter = countReadbacks();
      let readsWhileStepping = -1;
      try {
        GATES.forEach((on, step) => {
          const g = gradsAt(step, w, b);
          const gate = tf.scalar(on, step % 2 === 0 ? 'bool' : 'float32');
          gated.step(g, { gate });
          tf.dispose([gate, ...Object.values(g)]);
          if (on) {
            const r = gradsAt(step, w, b);
            ref.step({ [rw.name]: r[w.name], [rb.name]: r[b.name] });
            tf.dispose(Object.values(r));
          }
        });
        readsWhileStepping = counter.sync;
      } finally {
        counter.restore();
      }
      // Nothing was read back while stepping: the gates stayed on the device.
      expect(readsWhileStepping).toBe(0);
      expect(bits(w)).toEqual(bits(rw));
      expect(bits(b)).toEqual(bits(rb));
      const sg = gated.getState();
      const sr = ref.getState();
      expect(sg.stepCount).toBe(GATES.filter((g) => g === 1).length);
      expect(sg.stepCount).toBe(sr.stepCount);
      expect(Object.keys(sg.slots).sort()).toEqual(Object.keys(sr.slots).sort());
      for (const k of Object.keys(sr.slots)) expect(bits(sg.slots[k]), k).toEqual(bits(sr.slots[k]));
      gated.dispose();
      ref.dispose();
      tf.dispose([w, b, rw, rb]);
      // The gathered bias corrections, clones and where-selects of every step left nothing behind.
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('settle() reads the pending gates asynchronously, after which stepCount needs no read', async () => {
    const [w, b] = variables('settle');
    const opt = new Adam([w, b], { lr: 0.01 });
    for (const on of [1, 0, 1]) {
      const g = gradsAt(0, w, b);
      const gate = tf.scalar(on);
      opt.step(g, { gate });
      tf.dispose([gate, ...Object.values(g)]);
    }
    const g = gradsAt(1, w, b);
    opt.step(g); // an ungated step after gated ones counts on the host
    tf.dispose(Object.values(g));
    const counter = countReadbacks();
    try {
      await opt.settle();
      expect(opt.stepCount).toBe(3);
      expect(counter.sync).toBe(0);
      expect(counter.async).toBe(1);
    } finally {
      counter.restore();
    }
    // Unsettled: stepCount still answers, with one synchronous read.
    const gate = tf.scalar(1);
    const g2 = gradsAt(2, w, b);
    opt.step(g2, { gate });
    tf.dispose([gate, ...Object.values(g2)]);
    expect(opt.stepCount).toBe(4);
    // setState replaces pending gates with the saved count.
    const g3 = gradsAt(3, w, b);
    const gate3 = tf.scalar(0);
    opt.step(g3, { gate: gate3 });
    tf.dispose([gate3, ...Object.values(g3)]);
    const other = new Adam([w, b], { lr: 0.01 });
    const gate4 = tf.scalar(1);
    const g4 = gradsAt(4, w, b);
    other.step(g4, { gate: gate4 });
    tf.dispose([gate4, ...Object.values(g4)]);
    other.setState({ ...opt.getState(), stepCount: 7 });
    expect(other.stepCount).toBe(7);
    other.dispose();
    opt.dispose();
    tf.dispose([w, b]);
  });

  it('rejects a gate that is not a scalar tensor', () => {
    const [w, b] = variables('bad-gate');
    const opt = new SGD([w, b], { lr: 0.1 });
    const g = gradsAt(1, w, b);
    const two = tf.tensor1d([1, 1]);
    expect(() => opt.step(g, { gate: two })).toThrow(ValueError);
    expect(() => opt.step(g, { gate: 1 as unknown as tf.Tensor })).toThrow(/gate must be a scalar tensor/);
    expect(opt.stepCount).toBe(0);
    tf.dispose([two, ...Object.values(g)]);
    opt.dispose();
    tf.dispose([w, b]);
  });
});
