// Internal helpers of the GAN-style models (DCGAN, AdversarialSegmenter); not re-exported.
import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import type { AnyModule } from '../core/module.js';
import type { OptimizerSpec } from '../train/fit.js';
import type { DiscriminatorOptimizerOptions } from '../train/fit-options.js';

/**
 * Runs `fn` (a forward pass in training mode) and then puts the module's buffers back as they were,
 * so that BatchNorm running statistics move once per training step even though the step runs the
 * network twice: once to make the fakes the discriminator learns from, once under the gradient
 * tape for the network's own update (tfjs cannot reuse one tape for two updates, as PyTorch's
 * `fake.detach()` does).
 */
export function forwardKeepingBuffers<T extends tf.TensorContainer>(module: AnyModule, fn: () => T): T {
  const saved = module.namedBuffers().map(([, v]) => [v, tf.clone(v)] as const);
  try {
    return fn();
  } finally {
    for (const [v, copy] of saved) {
      v.assign(copy);
      copy.dispose();
    }
  }
}

/** The first `b` rows of `x` and the rest. */
export function splitBatch(x: tf.Tensor, b: number): [tf.Tensor, tf.Tensor] {
  const rest = x.shape[0] - b;
  return [tf.slice(x, 0, b), tf.slice(x, b, rest)];
}

/**
 * A discriminator's logits on the real batch (`b` rows) and the fake one: with `jointBatch`, one
 * pass over both concatenated (BatchNorm then normalises real and fake together), else two passes
 * (instance norm judges each image alone, so one batch is the same as two).
 */
export function realFakeLogits(discriminator: { forward(x: tf.Tensor): tf.Tensor }, real: tf.Tensor, fake: tf.Tensor, b: number, jointBatch: boolean): [tf.Tensor, tf.Tensor] {
  if (jointBatch) return splitBatch(discriminator.forward(tf.concat([real, fake], 0)), b);
  return [discriminator.forward(real), discriminator.forward(fake)];
}

/**
 * The discriminator's {@link OptimizerSpec} from a GAN model's fit options: `discriminator.*`, with
 * `discriminatorLr` as a shorthand for its lr, and the generator side's lr when neither is given.
 */
export function discriminatorSpec(
  options: DiscriminatorOptimizerOptions,
  params: tf.Variable[],
  defaults: { lr: number; betas: [number, number] },
  what: string,
): OptimizerSpec {
  const d = options.discriminator ?? {};
  if (options.discriminatorLr !== undefined && d.lr !== undefined) {
    throw new ValueError(`${what}: give the discriminator's learning rate once, as discriminatorLr or discriminator.lr, not both.`);
  }
  return {
    params,
    options: { ...d, lr: d.lr ?? options.discriminatorLr },
    defaultLr: defaults.lr,
    defaultBetas: defaults.betas,
    label: 'discriminator',
  };
}
