import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { useBackend, type BackendName } from '../../src/index.js';

/** Activates a backend for a test file (cpu unless a test says otherwise). */
export async function setupBackend(name: BackendName = 'cpu'): Promise<void> {
  await useBackend(name);
}

/**
 * Runs `step` `repeats` times and asserts that no tensor is left behind: the number of live
 * tensors after is the number before (the leak check every model and loss test uses).
 */
export async function expectNoLeak(step: () => unknown | Promise<unknown>, repeats = 3): Promise<void> {
  // One warm-up run: the first call may create lasting state (optimizer slots, cached constants).
  await step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) await step();
  expect(tf.memory().numTensors).toBe(before);
}

/**
 * Element-wise closeness: |a − b| ≤ atol + rtol·|b| for every element, with a readable failure
 * message naming the worst element.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6, what = 'value'): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (Number.isNaN(a) !== Number.isNaN(b) || excess > worstExcess) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** Reads a tensor's values as a plain array of numbers. */
export function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}
