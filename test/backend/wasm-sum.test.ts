// medvae's wasm Sum (src/backend/wasm/sum.ts): reductions over leading axes without the stock
// kernel's transpose, with the same float32 additions in the same order, so results must equal
// stock wasm bit for bit (and cpu within float32 rounding).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Conv2d } from '../../src/index.js';
import { isMedvaeKernel } from '../../src/backend/wasm/register.js';
import { expectNoLeak } from '../helpers/tf.js';
import { expectParity, filled, useParityBackends } from './wasm-parity.js';

const NAMES = [tf.Sum];

useParityBackends();

describe('wasm Sum', () => {
  it('is medvae\'s and equals stock wasm (and cpu to 1e-5) over leading axes', async () => {
    expect(isMedvaeKernel(tf.Sum, 'wasm')).toBe(true);
    const cases: [number[], number[]][] = [
      [[2, 5, 3, 16], [0, 1, 2]], // bias gradient, 8-column blocks
      [[3, 4, 5, 12], [0, 1, 2]], // one block and 4 leftover columns
      [[2, 3, 3, 9], [0, 1, 2]],
      [[2, 3, 3, 9], [-4, -3]], // negative axes
      [[3, 5, 100], [0, 1]], // wide rows
      [[7, 3, 8], [0]],
      [[37, 8], [0]],
      [[4, 2, 3, 11], [0, 1]],
      [[1, 1, 16], [0, 1]],
    ];
    for (const [shape, axes] of cases) {
      await expectParity(() => tf.sum(filled(shape), axes), NAMES, `sum ${JSON.stringify(shape)} over ${JSON.stringify(axes)}`, 1e-5);
      await expectParity(() => tf.sum(filled(shape), axes, true), NAMES, `sum ${JSON.stringify(shape)} over ${JSON.stringify(axes)}, keepDims`, 1e-5);
    }
  });

  it('leaves other reductions and dtypes to the stock kernel, with the same results', async () => {
    const cases: [number[], number[] | undefined][] = [
      [[2, 5, 3, 16], [1, 2]], // not leading
      [[2, 5, 3, 16], [2, 0, 1]], // leading but unsorted: the stock kernel adds in this order
      [[2, 5, 3, 16], [3]], // innermost
      [[2, 5, 3, 4], [0, 1, 2]], // fewer than 8 columns
      [[2, 5, 3, 16], undefined], // all axes
      [[4, 16], [0, 1]],
    ];
    for (const [shape, axes] of cases) {
      await expectParity(() => tf.sum(filled(shape), axes), NAMES, `sum ${JSON.stringify(shape)} over ${JSON.stringify(axes)}`, 1e-5);
    }
    await expectParity(() => tf.sum(filled([3, 4, 10], 'int32'), [0, 1]), NAMES, 'int32 sum over leading axes');
    await expectParity(() => tf.sum(filled([3, 4, 10], 'bool'), [0, 1]), NAMES, 'bool sum over leading axes');
  });

  it('gives a convolution\'s bias gradient as cpu does, and leaks nothing', async () => {
    const f = (): tf.Tensor[] => {
      const conv = new Conv2d(3, 16, 3, { padding: 1, seed: 5 });
      const x = filled([2, 6, 6, 3]);
      const w = filled([2, 6, 6, 16], 'float32', 2);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(conv.forward(x), w)) as tf.Scalar, [conv.bias!]);
      const g = Object.values(grads);
      conv.dispose();
      return g;
    };
    await expectParity(f, NAMES, 'bias gradient', 1e-5);
    await tf.setBackend('wasm');
    const bytes0 = tf.memory().numBytes;
    const x = filled([2, 6, 6, 24]);
    await expectNoLeak(() => tf.dispose(tf.sum(x, [0, 1, 2])));
    x.dispose();
    expect(tf.memory().numBytes).toBe(bytes0);
  });
});
