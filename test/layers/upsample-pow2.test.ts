// Nearest upsampling by power-of-two factors takes its own path (resize kernel + sum-pool gradient);
// checked here against the closed form, on factors and shapes the PyTorch fixture does not cover.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Upsample } from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';

// cpu by default; MEDVAE_TEST_BACKEND=wasm runs the same checks there.
beforeAll(() => setupBackend((process.env.MEDVAE_TEST_BACKEND ?? 'cpu') as Parameters<typeof setupBackend>[0]));

/** y[n, i, j, c] = x[n, ⌊i/kh⌋, ⌊j/kw⌋, c], and dL/dx for L = Σ y·r: the sum of r over each block. */
function reference(x: number[], r: number[], [n, h, w, c]: number[], kh: number, kw: number): { y: number[]; dx: number[] } {
  const H = h * kh;
  const W = w * kw;
  const y = new Array<number>(n * H * W * c);
  const dx = new Array<number>(x.length).fill(0);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        for (let k = 0; k < c; k++) {
          const src = ((b * h + Math.floor(i / kh)) * w + Math.floor(j / kw)) * c + k;
          const dst = ((b * H + i) * W + j) * c + k;
          y[dst] = x[src];
          dx[src] += r[dst];
        }
      }
    }
  }
  return { y, dx };
}

describe('Upsample nearest, power-of-two factors', () => {
  const cases: { scaleFactor: number | [number, number]; shape: number[] }[] = [
    { scaleFactor: 2, shape: [2, 3, 5, 2] },
    { scaleFactor: 4, shape: [1, 2, 3, 3] },
    { scaleFactor: [2, 1], shape: [2, 3, 4, 1] },
    { scaleFactor: [1, 8], shape: [1, 2, 2, 2] },
  ];
  for (const { scaleFactor, shape } of cases) {
    it(`scaleFactor ${JSON.stringify(scaleFactor)} on [${shape.join(', ')}]: values and input gradient`, async () => {
      const [kh, kw] = typeof scaleFactor === 'number' ? [scaleFactor, scaleFactor] : scaleFactor;
      const up = new Upsample({ scaleFactor });
      const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
      const outShape = [shape[0], shape[1] * kh, shape[2] * kw, shape[3]];
      const r = tf.randomNormal(outShape, 0, 1, 'float32', 2);
      const want = reference(values(x), values(r), shape, kh, kw);
      const y = up.forward(x);
      expect(y.shape).toEqual(outShape);
      expectClose(values(y), want.y, 0, 0, 'output');
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(up.forward(t), r)))(x);
      expectClose(values(dx), want.dx, 1e-6, 1e-6, 'input gradient');
      await expectNoLeak(() => tf.dispose(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(up.forward(t), r)))(x)));
      tf.dispose([x, r, y, dx]);
    });
  }
});
