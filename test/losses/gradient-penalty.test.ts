import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, NumericalError, ShapeError, gradientPenalty, r1Penalty, discriminatorLoss } from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend } from '../helpers/tf.js';

interface Arr { shape: number[]; data: number[] }
interface Penalties {
  params: Arr[]; real: Arr; fake: Arr; epsilon: number[];
  gp: { lambda: number; value: number; grads: Arr[] };
  r1: { gamma: number; value: number; grads: Arr[] };
}
const fx = (JSON.parse(readFileSync(new URL('../fixtures/losses/losses.json', import.meta.url), 'utf8')) as { penalties: Penalties }).penalties;
const T = (a: Arr): tf.Tensor => tf.tensor(a.data, a.shape, 'float32');

beforeAll(() => setupBackend('cpu'));

// The critic of gen_losses.py, from raw tf ops on variables: conv 3x3 + bias, softplus,
// conv 3x3 stride 2, relu, NHWC flatten, dense.
function makeCritic(): { vars: tf.Variable[]; critic: (x: tf.Tensor) => tf.Tensor } {
  const vars = fx.params.map((p) => tf.variable(T(p)));
  const [w1, b1, w2, d] = vars;
  const critic = (x: tf.Tensor): tf.Tensor => {
    let h = tf.add(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same'), b1);
    h = tf.softplus(h);
    h = tf.relu(tf.conv2d(h as tf.Tensor4D, w2 as tf.Tensor4D, 2, 'same'));
    return tf.matMul(tf.reshape(h, [x.shape[0], -1]) as tf.Tensor2D, d as tf.Tensor2D);
  };
  return { vars, critic };
}

describe('gradientPenalty (WGAN-GP)', () => {
  it('matches PyTorch in value and in its gradient w.r.t. the critic weights (double backprop)', () => {
    const { vars, critic } = makeCritic();
    const real = T(fx.real);
    const fake = T(fx.fake);
    const { value, grads } = tf.variableGrads(() => gradientPenalty(critic, real, fake, { epsilon: fx.epsilon, lambda: fx.gp.lambda }), vars);
    expectClose(value.dataSync(), [fx.gp.value], 1e-5, 1e-6, 'penalty');
    vars.forEach((v, i) => expectClose(grads[v.name].dataSync(), fx.gp.grads[i].data, 1e-5, 1e-6, `d penalty / d param ${i}`));
    vars.forEach((v) => v.dispose());
  });

  it('draws ε from the seeded Generator: same seed, same penalty; ε = the seed stream', () => {
    const { vars, critic } = makeCritic();
    const real = T(fx.real);
    const fake = T(fx.fake);
    const a = gradientPenalty(critic, real, fake, { seed: 7 }).dataSync()[0];
    const b = gradientPenalty(critic, real, fake, { seed: 7 }).dataSync()[0];
    const c = gradientPenalty(critic, real, fake, { seed: 8 }).dataSync()[0];
    const eps = Array.from(new Generator(7).uniformArray(2));
    const explicit = gradientPenalty(critic, real, fake, { epsilon: eps }).dataSync()[0];
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(explicit).toBeCloseTo(a, 6);
    vars.forEach((v) => v.dispose());
  });

  it('is zero for a critic whose input gradient has unit norm per sample', () => {
    // D(x) = Σ x·u with ‖u‖ = 1 per sample: ∇ = u, so (‖∇‖ − 1)² = 0.
    const u = tf.div(tf.ones([1, 2, 2, 1]), 2);
    const gp = gradientPenalty((x) => tf.sum(tf.mul(x, u), [1, 2, 3]), tf.ones([3, 2, 2, 1]), tf.zeros([3, 2, 2, 1]), { seed: 1 });
    expect(gp.dataSync()[0]).toBeCloseTo(0, 6);
  });

  it('trains a critic with discriminatorLoss + penalty inside optimizer.minimize without leaking', async () => {
    const { vars, critic } = makeCritic();
    const real = T(fx.real);
    const fake = T(fx.fake);
    const opt = tf.train.adam(1e-3);
    const gen = new Generator(3);
    await expectNoLeak(() => {
      opt.minimize(() => tf.add(
        discriminatorLoss(critic(real), critic(fake), { type: 'wasserstein' }),
        gradientPenalty(critic, real, fake, { seed: gen }),
      ) as tf.Scalar, false, vars);
    });
    opt.dispose();
    vars.forEach((v) => v.dispose());
  });

  it('rejects mismatched shapes, NaN inputs and a wrong number of ε', () => {
    const critic = (x: tf.Tensor) => tf.sum(x, [1, 2, 3]);
    expect(() => gradientPenalty(critic, tf.zeros([2, 3, 3, 1]), tf.zeros([2, 3, 4, 1]))).toThrow(ShapeError);
    expect(() => gradientPenalty(critic, tf.zeros([2, 3, 3, 1]), tf.fill([2, 3, 3, 1], NaN))).toThrow(/fake contains NaN/);
    expect(() => gradientPenalty(critic, tf.zeros([2, 3, 3, 1]), tf.fill([2, 3, 3, 1], NaN))).toThrow(NumericalError);
    expect(() => gradientPenalty(critic, tf.zeros([2, 3, 3, 1]), tf.zeros([2, 3, 3, 1]), { epsilon: [0.5] })).toThrow(/epsilon/);
  });
});

describe('r1Penalty', () => {
  it('matches PyTorch in value and in its gradient w.r.t. the discriminator weights', () => {
    const { vars, critic } = makeCritic();
    const real = T(fx.real);
    const { value, grads } = tf.variableGrads(() => r1Penalty(critic, real, { gamma: fx.r1.gamma }), vars);
    expectClose(value.dataSync(), [fx.r1.value], 1e-5, 1e-6, 'R1');
    vars.forEach((v, i) => expectClose(grads[v.name].dataSync(), fx.r1.grads[i].data, 1e-5, 1e-6, `d R1 / d param ${i}`));
    vars.forEach((v) => v.dispose());
  });

  it('works for PatchGAN outputs [B, h, w, 1]: γ/2 · mean ‖∇‖² of the summed patch scores', () => {
    // D(x) = 3·x per pixel (a patch map): ∇ of the sum is 3 everywhere → ‖∇‖² = 9·h·w.
    const r1 = r1Penalty((x) => tf.mul(x, 3), tf.ones([2, 4, 4, 1]), { gamma: 2 });
    expect(r1.dataSync()[0]).toBeCloseTo(9 * 16, 3);
  });
});
