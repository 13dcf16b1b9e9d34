import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors.js';
import { toGenerator, type SeedLike } from '../core/random.js';
import { formatShape } from '../core/shape.js';
import { assertFloatArg, assertMinRank, assertSameShapeArgs, checkData, checkNumber } from './checks.js';

/**
 * A discriminator / critic as a function of its input batch. It may return one score per sample
 * (`[B]`, `[B, 1]`) or a patch map (`[B, h, w, 1]`); the penalties differentiate the sum of its
 * outputs, so each sample's gradient is that of its own scores.
 */
export type Critic = (x: tf.Tensor) => tf.Tensor;

/** Options of {@link gradientPenalty}. */
export interface GradientPenaltyOptions {
  /** Weight λ of the penalty. Default `10` (Gulrajani et al. 2017). */
  lambda?: number;
  /** Seed or {@link Generator} for the per-sample interpolation weights ε ~ U[0, 1). */
  seed?: SeedLike;
  /** Explicit per-sample interpolation weights ε (`[B]`), instead of drawing them (for reproducing another implementation). */
  epsilon?: tf.Tensor | readonly number[];
}

// ‖g‖₂ is not differentiable at g = 0; a tiny floor keeps the double-backward finite there.
const NORM_EPS = 1e-12;

function perSampleSqNorm(g: tf.Tensor): tf.Tensor {
  return tf.sum(tf.square(g), Array.from({ length: g.rank - 1 }, (_, i) => i + 1));
}

function inputGradient(critic: Critic, x: tf.Tensor): tf.Tensor {
  return tf.grad((input: tf.Tensor) => tf.sum(critic(input)))(x);
}

/**
 * The WGAN-GP gradient penalty (Gulrajani et al. 2017):
 * `λ · mean_b (‖∇ₓ̂ D(x̂_b)‖₂ − 1)²` at `x̂ = ε·real + (1 − ε)·fake`, with one ε ~ U[0, 1) per
 * sample drawn from medvae's seeded {@link Generator}, and the norm taken over all of a sample's
 * elements (`sqrt(Σ g² + 1e-12)`).
 *
 * It computes the input gradient with `tf.grad`, so it can be used inside an outer
 * `tf.variableGrads` / `optimizer.minimize` over the critic's variables (double backprop). Pass the
 * critic's variables as `varList` there, so that no gradient flows into the generator through
 * `fake`.
 *
 * Double backprop needs every op of the critic to have a differentiable gradient in tfjs-core
 * 4.22. Verified to match PyTorch: conv2d (stride 1 and 2), matMul, bias add, relu, softplus.
 * Known not to work: `leakyRelu`, `prelu`, `relu6`, `selu`, `clipByValue` and `maximum`-based
 * activations throw "gradient function not found for Greater / Less / LessEqual / LogicalAnd";
 * `elu`, `maxPool` and `avgPool` throw for EluGrad / MaxPoolGrad / AvgPoolGrad. Ops whose gradient
 * reuses their own output (`tanh`, `sigmoid`, `exp`, hence swish) give silently wrong second
 * derivatives in tfjs-core (the saved output's tape entry is recorded before the op's own), so
 * avoid them in a critic trained with this penalty.
 */
export function gradientPenalty(critic: Critic, real: tf.Tensor, fake: tf.Tensor, options: GradientPenaltyOptions = {}): tf.Scalar {
  const name = 'gradientPenalty';
  checkNumber(name, 'lambda', options.lambda, 0);
  return tf.tidy(() => {
    assertMinRank(name, real, 2, 'real', '[B, ...]');
    assertFloatArg(name, real, 'real');
    assertFloatArg(name, fake, 'fake');
    assertSameShapeArgs(name, real, fake, 'real', 'fake');
    checkData(name, [{ kind: 'nan', arg: 'real', tensor: real }, { kind: 'nan', arg: 'fake', tensor: fake }]);
    const b = real.shape[0];
    let eps: tf.Tensor;
    if (options.epsilon !== undefined) {
      eps = options.epsilon instanceof tf.Tensor ? tf.cast(options.epsilon, 'float32') : tf.tensor1d(options.epsilon as number[], 'float32');
      if (eps.size !== b) {
        throw new ShapeError(`${name}: epsilon must have one weight per sample (${b}), but got shape ${formatShape(eps.shape)}.`);
      }
    } else {
      eps = toGenerator(options.seed).uniform([b]);
    }
    eps = tf.reshape(eps, [b, ...real.shape.slice(1).map(() => 1)]);
    const xHat = tf.add(tf.mul(eps, real), tf.mul(tf.sub(1, eps), fake));
    const norm = tf.sqrt(tf.add(perSampleSqNorm(inputGradient(critic, xHat)), NORM_EPS));
    return tf.mul(options.lambda ?? 10, tf.mean(tf.square(tf.sub(norm, 1)))) as tf.Scalar;
  });
}

/** Options of {@link r1Penalty}. */
export interface R1PenaltyOptions {
  /** Weight γ; the penalty is γ/2 times the mean squared gradient norm. Default `10`. */
  gamma?: number;
}

/**
 * The R1 regulariser (Mescheder et al. 2018): `γ/2 · mean_b ‖∇ₓ D(x_b)‖₂²` on real samples only.
 * It stabilises non-saturating GAN training (StyleGAN uses it). Same double-backprop rules as
 * {@link gradientPenalty}.
 */
export function r1Penalty(discriminator: Critic, real: tf.Tensor, options: R1PenaltyOptions = {}): tf.Scalar {
  const name = 'r1Penalty';
  checkNumber(name, 'gamma', options.gamma, 0);
  return tf.tidy(() => {
    assertMinRank(name, real, 2, 'real', '[B, ...]');
    assertFloatArg(name, real, 'real');
    checkData(name, [{ kind: 'nan', arg: 'real', tensor: real }]);
    const sq = perSampleSqNorm(inputGradient(discriminator, real));
    return tf.mul((options.gamma ?? 10) / 2, tf.mean(sq)) as tf.Scalar;
  });
}
