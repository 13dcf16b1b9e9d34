import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { assertFloatArg, checkData } from './checks.js';
import { defineLoss, defineUnaryLoss, type Loss, type UnaryLoss } from './loss-fn.js';
import { softplus } from './stable.js';

/**
 * The GAN objective:
 *
 * | type | discriminator loss | generator loss |
 * |---|---|---|
 * | `'minimax'` (Goodfellow et al. 2014) | `−log σ(D(x)) − log(1 − σ(D(G(z))))` | `log(1 − σ(D(G(z))))` (saturates early in training) |
 * | `'non-saturating'` (default) | same as minimax | `−log σ(D(G(z)))` |
 * | `'least-squares'` (LSGAN, Mao et al. 2017) | `½(D(x) − 1)² + ½D(G(z))²` | `½(D(G(z)) − 1)²` |
 * | `'hinge'` (Lim & Ye 2017; SAGAN) | `max(0, 1 − D(x)) + max(0, 1 + D(G(z)))` | `−D(G(z))` |
 * | `'wasserstein'` (WGAN, Arjovsky et al. 2017) | `D(G(z)) − D(x)` | `−D(G(z))` |
 *
 * `D(·)` are raw logits / critic scores. Each term is a mean over all elements of its tensor, so
 * logits may be one per image `[B, 1]` or a PatchGAN map `[B, h, w, 1]`; real and fake may have
 * different batch sizes.
 */
export type AdversarialLossType = 'minimax' | 'non-saturating' | 'least-squares' | 'hinge' | 'wasserstein';

/** Options of {@link generatorLoss} and {@link discriminatorLoss}. */
export interface AdversarialLossOptions {
  /** The GAN objective (see {@link AdversarialLossType}). Default `'non-saturating'`. */
  type?: AdversarialLossType;
}

const TYPES: readonly AdversarialLossType[] = ['minimax', 'non-saturating', 'least-squares', 'hinge', 'wasserstein'];

function checkType(name: string, o: AdversarialLossOptions): void {
  if (o.type !== undefined && !TYPES.includes(o.type)) {
    throw new ValueError(`${name}: type must be one of ${TYPES.map((t) => `'${t}'`).join(', ')}, but got ${JSON.stringify(o.type)}.`);
  }
}

function checkLogits(name: string, pairs: [tf.Tensor, string][]): void {
  for (const [x, arg] of pairs) {
    assertFloatArg(name, x, arg);
    if (x.size === 0) throw new ValueError(`${name}: ${arg} is empty (shape [${x.shape.join(', ')}]).`);
  }
  checkData(name, pairs.map(([tensor, arg]) => ({ kind: 'nan' as const, arg, tensor })));
}

/**
 * The generator's adversarial loss for discriminator logits on generated samples (see
 * {@link AdversarialLossType} for each formula); a scalar, the mean over all elements.
 */
export const generatorLoss: UnaryLoss<AdversarialLossOptions> = defineUnaryLoss(
  'generatorLoss',
  (fakeLogits, o) => {
    checkLogits('generatorLoss', [[fakeLogits, 'fakeLogits']]);
    const f = fakeLogits;
    switch (o.type ?? 'non-saturating') {
      case 'minimax':
        return tf.neg(tf.mean(softplus(f)));
      case 'non-saturating':
        return tf.mean(softplus(tf.neg(f)));
      case 'least-squares':
        return tf.mul(0.5, tf.mean(tf.square(tf.sub(f, 1))));
      case 'hinge':
      case 'wasserstein':
        return tf.neg(tf.mean(f));
    }
  },
  (o) => checkType('generatorLoss', o),
);

/**
 * The discriminator's (critic's) adversarial loss for its logits on real and on generated samples
 * (see {@link AdversarialLossType} for each formula): the mean over the real term plus the mean
 * over the fake term, a scalar. Add {@link gradientPenalty} for WGAN-GP.
 */
export const discriminatorLoss: Loss<AdversarialLossOptions> = defineLoss(
  'discriminatorLoss',
  (realLogits, fakeLogits, o) => {
    checkLogits('discriminatorLoss', [[realLogits, 'realLogits'], [fakeLogits, 'fakeLogits']]);
    const r = realLogits;
    const f = fakeLogits;
    switch (o.type ?? 'non-saturating') {
      case 'minimax':
      case 'non-saturating':
        return tf.add(tf.mean(softplus(tf.neg(r))), tf.mean(softplus(f)));
      case 'least-squares':
        return tf.add(tf.mul(0.5, tf.mean(tf.square(tf.sub(r, 1)))), tf.mul(0.5, tf.mean(tf.square(f))));
      case 'hinge':
        return tf.add(tf.mean(tf.relu(tf.sub(1, r))), tf.mean(tf.relu(tf.add(1, f))));
      case 'wasserstein':
        return tf.sub(tf.mean(f), tf.mean(r));
    }
  },
  (o) => checkType('discriminatorLoss', o),
);
