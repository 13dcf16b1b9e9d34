// medvae's wasm Concat and SplitV (src/backend/wasm/concat.ts, split-v.ts): bit-for-bit copies, so
// every case must equal stock wasm and cpu exactly, on every axis (the channel axis is the U-Net's).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { isMedvaeKernel } from '../../src/backend/wasm/register.js';
import { SHORT_RUN } from '../../src/backend/wasm/copy-runs.js';
import { expectNoLeak } from '../helpers/tf.js';
import { expectParity, filled, useParityBackends } from './wasm-parity.js';

const NAMES = [tf.Concat, tf.SplitV];

useParityBackends();

/** [shapes, axis] cases: channel axis (short and long runs), other axes, odd sizes, ranks 1–5. */
const concatCases: [number[][], number][] = [
  [[[2, 3, 5, 4], [2, 3, 5, 7]], 3],
  [[[2, 3, 5, 4], [2, 3, 5, 7]], -1],
  [[[2, 4, 3, SHORT_RUN + 3], [2, 4, 3, 5], [2, 4, 3, 1]], 3],
  [[[3, 2, 5, 4], [3, 1, 5, 4]], 1],
  [[[3, 2, 5, 4], [3, 2, 6, 4]], 2],
  [[[1, 2, 5, 4], [4, 2, 5, 4]], 0],
  [[[7], [3], [1]], 0],
  [[[5, 3], [5, 9]], 1],
  [[[2, 3, 2, 2, 3], [2, 3, 2, 2, 5]], 4],
  [[[3, 0, 2], [3, 4, 2]], 1],
  [[[3, 0, 2], [3, 0, 2]], 1],
];

describe('wasm Concat', () => {
  it('is medvae\'s and equals stock wasm and cpu on every axis', async () => {
    expect(isMedvaeKernel(tf.Concat, 'wasm')).toBe(true);
    for (const [shapes, axis] of concatCases) {
      await expectParity(() => tf.concat(shapes.map((s, i) => filled(s, 'float32', i + 1)), axis), NAMES, `concat ${JSON.stringify(shapes)} axis ${axis}`);
    }
  });

  it('handles int32 and bool', async () => {
    for (const dtype of ['int32', 'bool'] as const) {
      await expectParity(() => tf.concat([filled([2, 3, 3], dtype, 1), filled([2, 3, 5], dtype, 2)], 2), NAMES, `concat ${dtype}`);
      await expectParity(() => tf.concat([filled([2, 3, 3], dtype, 1), filled([1, 3, 3], dtype, 2)], 0), NAMES, `concat ${dtype} axis 0`);
    }
  });

  it('gives the same gradients as cpu (SplitV in the backward pass)', async () => {
    await expectParity(() => {
      const a = filled([2, 4, 4, 3], 'float32', 1);
      const b = filled([2, 4, 4, 5], 'float32', 2);
      const w = filled([2, 4, 4, 8], 'float32', 3);
      return tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.concat([x, y], 3), w)))([a, b]);
    }, NAMES, 'gradient of concat');
  });

  it('keeps the only non-empty input alive when the result is disposed, and leaks nothing', async () => {
    await tf.setBackend('wasm');
    const bytes0 = tf.memory().numBytes;
    const ids0 = tf.engine().backend.numDataIds();
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const e = tf.zeros([2, 0]);
    const y = tf.concat([e, x], 1);
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(Array.from(x.dataSync())).toEqual([1, 2, 3, 4]);
    const z = tf.concat([x, e], 1);
    x.dispose();
    expect(Array.from(z.dataSync())).toEqual([1, 2, 3, 4]);
    tf.dispose([z, e]);
    expect(tf.memory().numBytes).toBe(bytes0);
    expect(tf.engine().backend.numDataIds()).toBe(ids0);
    const a = filled([2, 3, 3, 4]);
    const b = filled([2, 3, 3, 6], 'float32', 2);
    await expectNoLeak(() => tf.dispose(tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.concat([p, q], 3))))([a, b])));
    tf.dispose([a, b]);
    expect(tf.memory().numBytes).toBe(bytes0);
  });
});

describe('wasm SplitV', () => {
  it('is medvae\'s and equals stock wasm and cpu on every axis', async () => {
    expect(isMedvaeKernel(tf.SplitV, 'wasm')).toBe(true);
    const cases: [number[], number[] | number, number][] = [
      [[2, 3, 5, 12], [4, 8], 3],
      [[2, 3, 5, 12], [4, -1, 3], -1],
      [[2, 3, 5, 2 * SHORT_RUN + 2], 2, 3],
      [[2, 6, 5, 4], [1, 2, 3], 1],
      [[2, 3, 6, 4], 3, 2],
      [[5, 3, 2], [2, 3], 0],
      [[9], [4, 0, 5], 0],
      [[4, 7], [3, 4], 1],
    ];
    for (const [shape, sizes, axis] of cases) {
      await expectParity(() => tf.split(filled(shape), sizes, axis), NAMES, `split ${JSON.stringify(shape)} into ${JSON.stringify(sizes)} on axis ${axis}`);
    }
  });

  it('handles int32 and bool, and leaks nothing', async () => {
    for (const dtype of ['int32', 'bool'] as const) {
      await expectParity(() => tf.split(filled([3, 4, 6], dtype), [2, 4], 2), NAMES, `split ${dtype}`);
    }
    await tf.setBackend('wasm');
    const bytes0 = tf.memory().numBytes;
    const x = filled([2, 3, 3, 10]);
    await expectNoLeak(() => tf.dispose(tf.split(x, [3, 7], 3)));
    x.dispose();
    expect(tf.memory().numBytes).toBe(bytes0);
  });

  it('gives the same gradients as cpu (Concat in the backward pass)', async () => {
    await expectParity(() => {
      const x = filled([2, 3, 3, 7]);
      const w1 = filled([2, 3, 3, 3], 'float32', 2);
      const w2 = filled([2, 3, 3, 4], 'float32', 3);
      return tf.grad((v: tf.Tensor) => {
        const [p, q] = tf.split(v, [3, 4], 3);
        return tf.add(tf.sum(tf.mul(p, w1)), tf.sum(tf.mul(q, w2)));
      })(x);
    }, NAMES, 'gradient of split');
  });
});
