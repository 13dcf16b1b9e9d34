// GroupNorm's hand-written gradient must stay differentiable in its input: gradient penalties
// (WGAN-GP, R1) differentiate a critic's input gradient again. Checked against GroupNorm built from
// plain tfjs ops (tf.moments), whose second derivatives come from tfjs's own gradients.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, it } from 'vitest';
import { GroupNorm } from '../../src/index.js';
import { expectClose, setupBackend, values } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

function referenceGroupNorm(x: tf.Tensor, groups: number, weight: tf.Tensor, bias: tf.Tensor, eps = 1e-5): tf.Tensor {
  const [n, h, w, c] = x.shape;
  const grouped = tf.reshape(x, [n, h * w, groups, c / groups]);
  const { mean, variance } = tf.moments(grouped, [1, 3], true);
  const normed = tf.reshape(tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, eps))), x.shape);
  return tf.add(tf.mul(normed, weight), bias);
}

describe('GroupNorm second derivatives', () => {
  it('match the tf.moments formulation for a penalty on the input gradient', () => {
    const x = tf.randomNormal([2, 3, 3, 8], 0.5, 2, 'float32', 1);
    const r = tf.randomNormal([2, 3, 3, 8], 0, 1, 'float32', 2);
    const gn = new GroupNorm(4, 8);
    gn.weight?.assign(tf.randomNormal([8], 1, 0.3, 'float32', 3));
    gn.bias?.assign(tf.randomNormal([8], 0, 0.3, 'float32', 4));
    const scale = tf.variable(tf.randomNormal([8], 1, 0.5, 'float32', 5));
    // A critic whose GroupNorm input depends on a parameter, so the penalty's gradient runs through
    // the derivative of GroupNorm's backward with respect to its input.
    const penaltyGrads = (norm: (t: tf.Tensor) => tf.Tensor): number[][] => {
      const critic = (t: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.tanh(norm(tf.mul(t, scale))), r));
      // (The input gradient does not depend on the bias, so the penalty has no bias gradient.)
      const vars = [scale, gn.weight as tf.Variable];
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.grad(critic)(x))), vars);
      const out = vars.map((v) => values(grads[v.name]));
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const got = penaltyGrads((t) => gn.forward(t));
    const want = penaltyGrads((t) => referenceGroupNorm(t, 4, gn.weight as tf.Variable, gn.bias as tf.Variable));
    ['scale', 'weight'].forEach((name, i) => expectClose(got[i], want[i], 1e-4, 1e-5, `d penalty / d ${name}`));
    tf.dispose([x, r, scale]);
    gn.dispose();
  });
});
