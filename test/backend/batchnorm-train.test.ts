// The fused training-mode BatchNorm (src/layers/batchnorm-train.ts: one customGrad, closed-form
// backward) against the unfused composition it replaced (tf.moments + normalise, differentiated by
// tfjs itself): output, batch statistics, input/weight/bias gradients, second derivatives (a
// gradient penalty), on 4-D and 5-D inputs, with and without affine; on cpu and on wasm; no leaks.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchNorm2d, BatchNorm3d } from '../../src/index.js';
import { batchNormTrain } from '../../src/layers/batchnorm-train.js';
import { expectClose, expectNoLeak, setupBackend, values } from '../helpers/tf.js';

/** The composition BatchNormNd's training branch ran before the fusion. */
function unfused(x: tf.Tensor, w: tf.Tensor | null, b: tf.Tensor | null, eps: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  let scale = tf.rsqrt(tf.add(variance, eps));
  if (w) scale = tf.mul(scale, w);
  let y = tf.mul(tf.sub(x, mean), scale);
  if (b) y = tf.add(y, b);
  return { y, mean, variance };
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`batchNormTrain on ${backend}`, () => {
    afterAll(() => setupBackend('cpu'));

    for (const [shape, affine] of [[[3, 5, 4, 6], true], [[2, 3, 4, 5, 4], true], [[4, 3, 3, 5], false]] as const) {
      it(`matches the unfused composition: ${shape.join('×')}, affine ${affine}`, async () => {
        await setupBackend(backend);
        const x = tf.randomNormal([...shape], 0.7, 2, 'float32', 11);
        const c = shape[shape.length - 1];
        const r = tf.randomNormal([...shape], 0, 1, 'float32', 12);
        const w = affine ? tf.randomNormal([c], 1, 0.4, 'float32', 13) as tf.Tensor1D : null;
        const b = affine ? tf.randomNormal([c], 0, 0.4, 'float32', 14) as tf.Tensor1D : null;
        const eps = 1e-5;
        // A loss that weights every output differently, so that no gradient term cancels by symmetry.
        const inputs = [x, ...(affine ? [w!, b!] : [])];
        const fusedLoss = (...t: tf.Tensor[]): tf.Scalar => {
          const { y, stats } = batchNormTrain(t[0], (t[1] as tf.Tensor1D) ?? null, (t[2] as tf.Tensor1D) ?? null, eps);
          tf.dispose([stats.mean, stats.variance]);
          return tf.sum(tf.mul(tf.tanh(y), r));
        };
        const plainLoss = (...t: tf.Tensor[]): tf.Scalar => tf.sum(tf.mul(tf.tanh(unfused(t[0], t[1] ?? null, t[2] ?? null, eps).y), r));

        const got = tf.tidy(() => batchNormTrain(x, w, b, eps));
        const want = unfused(x, w, b, eps);
        expectClose(values(got.y), values(want.y), 1e-4, 1e-5, 'y');
        expectClose(values(got.stats.mean), values(want.mean), 1e-5, 1e-6, 'batch mean');
        expectClose(values(got.stats.variance), values(want.variance), 1e-4, 1e-6, 'batch variance');
        tf.dispose([got.y, got.stats.mean, got.stats.variance, want.y, want.mean, want.variance]);

        const gFused = tf.grads(fusedLoss)(inputs);
        const gPlain = tf.grads(plainLoss)(inputs);
        ['x', 'weight', 'bias'].slice(0, inputs.length).forEach((name, i) => {
          expect(gFused[i].shape).toEqual(inputs[i].shape);
          expectClose(values(gFused[i]), values(gPlain[i]), 1e-3, 1e-5, `d loss / d ${name}`);
        });
        tf.dispose([...gFused, ...gPlain]);
        await expectNoLeak(() => tf.dispose(tf.grads(fusedLoss)(inputs)));
        tf.dispose([x, r, ...(affine ? [w!, b!] : [])]);
      });
    }

    it('second derivatives (gradient penalty through the input gradient) match', async () => {
      await setupBackend(backend);
      const x = tf.randomNormal([3, 3, 3, 4], 0.5, 2, 'float32', 21);
      const r = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 22);
      const w = tf.variable(tf.randomNormal([4], 1, 0.3, 'float32', 23));
      const b = tf.variable(tf.randomNormal([4], 0, 0.3, 'float32', 24));
      const scale = tf.variable(tf.randomNormal([4], 1, 0.5, 'float32', 25));
      const penalty = (norm: (t: tf.Tensor) => tf.Tensor): number[][] => {
        const critic = (t: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.tanh(norm(tf.mul(t, scale))), r));
        const vars = [scale, w];
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.grad(critic)(x))), vars);
        const out = vars.map((v) => values(grads[v.name]));
        tf.dispose([value, ...Object.values(grads)]);
        return out;
      };
      const got = penalty((t) => {
        const { y, stats } = batchNormTrain(t, w as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
        tf.dispose([stats.mean, stats.variance]);
        return y;
      });
      const want = penalty((t) => unfused(t, w, b, 1e-5).y);
      ['scale', 'weight'].forEach((name, i) => expectClose(got[i], want[i], 1e-3, 1e-5, `d penalty / d ${name}`));
      tf.dispose([x, r, w, b, scale]);
    });

    it('BatchNorm2d/3d layers update running statistics as before (unbiased variance, momentum)', async () => {
      await setupBackend(backend);
      for (const layer of [new BatchNorm2d(3, { momentum: 0.3 }), new BatchNorm3d(3, { momentum: 0.3 })]) {
        const x = tf.randomNormal(layer instanceof BatchNorm3d ? [2, 2, 3, 3, 3] : [2, 3, 3, 3], 1, 2, 'float32', 31);
        const n = x.size / 3;
        const want = unfused(x, null, null, 1e-5);
        const y = layer.forward(x);
        expectClose(values(y), values(want.y), 1e-4, 1e-5, 'y');
        expectClose(values(layer.runningMean!), values(tf.mul(want.mean, 0.3)), 1e-5, 1e-6, 'running mean');
        expectClose(values(layer.runningVar!), values(tf.add(0.7, tf.mul(want.variance, (0.3 * n) / (n - 1)))), 1e-4, 1e-6, 'running var');
        tf.dispose([x, y, want.y, want.mean, want.variance]);
        layer.dispose();
      }
    });
  });
}
