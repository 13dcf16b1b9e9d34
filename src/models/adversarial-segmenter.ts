import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { variableGrads, variableGradsWithAux } from '../core/gradients.js';
import { toGenerator } from '../core/random.js';
import type { Dataset } from '../data/dataset.js';
import type { Batch, Sample } from '../data/sample.js';
import { readConfig, type ConfigError } from '../io/config-schema.js';
import { SavableModel } from '../io/savable-model.js';
import type { NormKind } from '../layers/factories.js';
import { discriminatorLoss, generatorLoss, type AdversarialLossType } from '../losses/adversarial.js';
import type { LossFn } from '../losses/loss-fn.js';
import { runFit, type FitData, type FitStepContext } from '../train/fit.js';
import type { DiscriminatorOptimizerOptions, FitOptions, OptimizerOptions } from '../train/fit-options.js';
import type { TrainResult } from '../train/train-loop.js';
import type { StepLogs } from '../train/types.js';
import { nonNegativeInt, nonNegativeNumber, numberInRange, oneOf } from '../core/validate.js';
import { checkMaskClasses, requireMask } from './fit-checks.js';
import { DCGANDiscriminator } from './dcgan/networks.js';
import { discriminatorSpec, forwardKeepingBuffers, realFakeLogits } from './gan-internal.js';
import { scaledMaskTarget } from './scaled-mask-target.js';
import { evaluateSegmentation, type SegmentationMetricName } from './segmentation-eval.js';
import { ADVERSARIAL_SEGMENTER_SCHEMA } from './config-schemas.js';
import { UNetSegmenter, type PredictOptions, type UNetSegmenterOptions } from './unet-segmenter.js';

/** Options of {@link AdversarialSegmenter}: the {@link UNetSegmenter} options plus the discriminator's. */
export interface AdversarialSegmenterOptions extends UNetSegmenterOptions {
  /** Widths of the patch discriminator's stride-2 blocks. Default `[32, 64, 128]`. */
  discriminatorChannels?: number[];
  /** Normalisation in the discriminator (not on its first block). Default `'instance'` (affine). */
  discriminatorNorm?: NormKind;
}

/** An {@link AdversarialSegmenter}'s options with defaults filled in (no seed), as saved. */
export type AdversarialSegmenterConfig = UNetSegmenterOptions & Required<Pick<AdversarialSegmenterOptions, 'discriminatorChannels' | 'discriminatorNorm'>>;

/**
 * Options of {@link AdversarialSegmenter.fit}: the shared fit options; the segmenter's optimizer
 * settings at the top level (`lr` default 1e-3, `lrSchedule`, `clipGradNorm`, `optimizer`) and the
 * discriminator's under `discriminator` (default: Adam with the segmenter's lr, betas [0.5, 0.999]).
 * Default batch size 16.
 */
export interface AdversarialSegmenterFitOptions extends FitOptions, OptimizerOptions, DiscriminatorOptimizerOptions {
  /**
   * λ, the weight of the adversarial term in the segmenter's loss `segmentation + λ·adversarial`.
   * Default 0.05: small, so the supervised loss leads and the discriminator only corrects shapes
   * (Luc et al. 2016 and later work use 0.01–0.1). 0 trains the discriminator but not against it.
   */
  lambdaAdv?: number;
  /**
   * Epochs at the start trained on the segmentation loss alone (λ = 0), while the discriminator
   * already learns: the adversarial term then starts from a segmenter whose masks are roughly
   * right, so it corrects shapes instead of pulling untrained predictions towards mask-like
   * blobs. Default 0 (adversarial from the first step).
   */
  warmupEpochs?: number;
  /** The segmentation loss on (logits, mask). Default as {@link UNetSegmenter.defaultLoss}: Dice + cross-entropy. */
  loss?: LossFn;
  /** Betas of the discriminator's Adam (shorthand for `discriminator.betas`). Default `[0.5, 0.999]` (the usual GAN setting). */
  discriminatorBetas?: [number, number];
  /** The GAN objective (see {@link AdversarialLossType}; `'wasserstein'` is refused, see {@link DCGANFitOptions.lossType}). Default `'non-saturating'`. */
  lossType?: AdversarialLossType;
  /** Metrics computed on `validation`. Default `['dice']`. */
  validationMetrics?: SegmentationMetricName[];
  /**
   * How the true mask is shown to the discriminator (Luc et al. 2016): `'basic'`, the one-hot mask
   * itself; or `'scaling'`, the mask softened to look like a prediction ({@link scaledMaskTarget}
   * with `scalingTau`), so that hard 0/1 values no longer give the real pairs away. Default `'basic'`.
   */
  realMaskEncoding?: 'basic' | 'scaling';
  /** τ of the `'scaling'` encoding: the least weight of the true class. Default 0.9 (Luc et al.). */
  scalingTau?: number;
}

/**
 * Adversarial segmentation (Luc et al., 2016, "Semantic segmentation using adversarial networks";
 * the AE-CNN-GAN pipeline): a U-Net segmenter (a {@link UNetSegmenter}) trained with Dice +
 * cross-entropy plus λ times an adversarial term from a PatchGAN discriminator (a
 * {@link DCGANDiscriminator} with `patch: true`) that judges (image, mask) pairs concatenated on
 * the channel axis: real pairs hold the true one-hot mask, fake pairs the segmenter's softmax
 * probabilities (sigmoid for binary). The discriminator sees whether a mask's shape fits its image
 * in a way a per-pixel loss cannot, which tends to remove stray islands and holes.
 *
 * Each training step (one {@link trainLoop} step per batch) first updates the discriminator on
 * real against fake pairs (predictions held fixed), then the segmenter on
 * `segmentation + λ·generatorLoss(D(image, softmax))` through the updated discriminator. Step logs:
 * `loss` (the segmenter's total), `segmentation`, `adversarial`, `discriminator` and `lambdaAdv` (the
 * λ in force: 0 during `warmupEpochs`).
 *
 * Inference and evaluation are the segmenter's: {@link AdversarialSegmenter.predict} and
 * {@link AdversarialSegmenter.evaluate} behave as {@link UNetSegmenter}'s, and
 * `model.segmenter.save(...)` keeps the segmenter alone for deployment.
 *
 * Children: `segmenter` ({@link UNetSegmenter}) and `discriminator` ({@link DCGANDiscriminator}).
 *
 * @example
 * ```ts
 * const model = new AdversarialSegmenter({ inChannels: 1, numClasses: 2, channels: [16, 32, 64], seed: 0 });
 * await model.fit(train, { epochs: 10, lambdaAdv: 0.05, validation: val });
 * console.log(await model.evaluate(val, ['dice', 'precision', 'hd95']));
 * ```
 */
export class AdversarialSegmenter extends SavableModel<tf.Tensor, tf.Tensor> {
  /** The name saves record (see {@link SavableModel}). */
  static override readonly modelName: string = 'AdversarialSegmenter';

  /** The U-Net segmenter (the GAN's generator). */
  readonly segmenter: UNetSegmenter;
  /** The patch discriminator on (image, mask probabilities) pairs. */
  readonly discriminator: DCGANDiscriminator;
  /** Number of classes (see {@link UNetSegmenterOptions.numClasses}). */
  readonly numClasses: number;

  constructor(options: AdversarialSegmenterOptions) {
    super();
    const gen = toGenerator(options.seed);
    const { discriminatorChannels, discriminatorNorm, ...segOptions } = options;
    this.segmenter = this.registerModule('segmenter', new UNetSegmenter({ ...segOptions, seed: gen }));
    this.numClasses = this.segmenter.numClasses;
    this.discriminator = this.registerModule('discriminator', new DCGANDiscriminator({
      inChannels: options.inChannels + this.numClasses,
      channels: discriminatorChannels ?? [32, 64, 128],
      norm: discriminatorNorm ?? 'instance',
      batchNorm: segOptions.batchNorm,
      patch: true,
      seed: gen,
    }));
  }

  /** The options the model was built with, defaults filled in (without the seed). */
  get config(): AdversarialSegmenterConfig {
    return { ...this.segmenter.config, discriminatorChannels: [...this.discriminator.channels], discriminatorNorm: this.discriminator.norm };
  }

  /** Segmentation logits `[B, H, W, numClasses]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.segmenter.forward(x);
  }

  /** Class probabilities `[B, H, W, numClasses]` in eval mode (see {@link UNetSegmenter.predictProba}). */
  predictProba(images: tf.Tensor, options: PredictOptions = {}): tf.Tensor4D {
    return this.segmenter.predictProba(images, options);
  }

  /** Label maps `[B, H, W]` (int32) (see {@link UNetSegmenter.predict}). */
  predict(images: tf.Tensor, options: PredictOptions = {}): tf.Tensor3D {
    return this.segmenter.predict(images, options);
  }

  /** Evaluates on image/mask samples, as {@link UNetSegmenter.evaluate} (see {@link evaluateSegmentation}). */
  async evaluate(data: Dataset<Sample>, metrics: SegmentationMetricName[] = ['dice'], options: PredictOptions = {}): Promise<Record<string, number>> {
    return evaluateSegmentation((x) => this.predict(x, options), data, metrics, {
      numClasses: this.numClasses, batchSize: options.batchSize, what: 'AdversarialSegmenter.evaluate',
    });
  }

  private activate(logits: tf.Tensor): tf.Tensor {
    return this.numClasses === 1 ? tf.sigmoid(logits) : tf.softmax(logits, -1);
  }

  /** Trains segmenter and discriminator together (see the class description) through {@link runFit}. */
  async fit(data: FitData, options: AdversarialSegmenterFitOptions): Promise<TrainResult> {
    const what = 'AdversarialSegmenter.fit';
    const o = options ?? ({} as AdversarialSegmenterFitOptions);
    const type = o.lossType ?? 'non-saturating';
    if (type === 'wasserstein') {
      throw new ValueError(`${what}: lossType 'wasserstein' needs a gradient penalty, which tfjs cannot differentiate through LeakyReLU; use 'non-saturating', 'least-squares' or 'hinge'.`);
    }
    const lambda = nonNegativeNumber(o.lambdaAdv ?? 0.05, `${what} lambdaAdv`);
    const warmup = nonNegativeInt(o.warmupEpochs ?? 0, `${what} warmupEpochs`);
    const encoding = oneOf(o.realMaskEncoding ?? 'basic', `${what} realMaskEncoding`, ['basic', 'scaling'] as const);
    const tau = numberInRange(o.scalingTau ?? 0.9, `${what} scalingTau`, 0, 1, { low: true });
    if (o.discriminatorBetas !== undefined && o.discriminator?.betas !== undefined) {
      throw new ValueError(`${what}: give the discriminator's betas once, as discriminatorBetas or discriminator.betas, not both.`);
    }
    const loss = o.loss ?? this.segmenter.defaultLoss();
    const lr = o.lr ?? 1e-3;
    const sParams = this.segmenter.trainableParameters();
    const dParams = this.discriminator.trainableParameters();
    const dSpec = discriminatorSpec(o, dParams, { lr, betas: [0.5, 0.999] }, what);
    if (o.discriminatorBetas !== undefined) dSpec.options.betas = o.discriminatorBetas;
    const adv = { type };
    const jointBatch = this.discriminator.norm !== 'batch';
    const k = this.numClasses;

    const step = (batch: Batch, ctx: FitStepContext): StepLogs => {
      const x = batch.image;
      const mask = requireMask(batch, what);
      checkMaskClasses(ctx, mask, k, what);
      const b = x.shape[0];
      const owned: tf.Tensor[] = [];
      try {
        const probs = forwardKeepingBuffers(this.segmenter, () => tf.tidy(() => this.activate(this.segmenter.forward(x))));
        owned.push(probs);
        const fakePair = tf.concat([x, probs], 3);
        owned.push(fakePair);
        const realPair = tf.tidy(() => {
          const oneHot = k === 1 ? tf.cast(mask, 'float32') : tf.cast(tf.oneHot(tf.cast(tf.round(tf.squeeze(mask, [3])), 'int32'), k), 'float32');
          return tf.concat([x, encoding === 'scaling' ? scaledMaskTarget(oneHot, probs, tau) : oneHot], 3);
        });
        owned.push(realPair);
        const d = variableGrads(() => {
          const [rl, fl] = realFakeLogits(this.discriminator, realPair, fakePair, b, jointBatch);
          return discriminatorLoss(rl, fl, adv);
        }, dParams);
        ctx.update('discriminator', d.grads);
        const lambdaNow = ctx.epoch < warmup ? 0 : lambda;
        const s = variableGradsWithAux(() => {
          const logits = this.segmenter.forward(x);
          const segmentation = loss(logits, mask);
          const adversarial = generatorLoss(this.discriminator.forward(tf.concat([x, this.activate(logits)], 3)), adv);
          return { value: tf.add(segmentation, tf.mul(adversarial, lambdaNow)), aux: { segmentation, adversarial } };
        }, sParams);
        ctx.update('segmenter', s.grads);
        return { loss: s.value, segmentation: s.aux.segmentation, adversarial: s.aux.adversarial, discriminator: d.value, lambdaAdv: lambdaNow };
      } finally {
        tf.dispose(owned);
      }
    };

    const metrics = o.validationMetrics ?? ['dice'];
    return runFit({
      what, module: this, data, options: o, defaultBatchSize: 16,
      optimizers: {
        segmenter: { params: sParams, options: o, defaultLr: 1e-3, label: '' },
        discriminator: dSpec,
      },
      step,
      validate: (validation) => this.evaluate(validation, metrics),
    });
  }

  /** Builds an untrained AdversarialSegmenter from a saved config, checked field by field ({@link ConfigError} names a wrong one). */
  static fromConfig(config: Record<string, unknown>): AdversarialSegmenter {
    return new AdversarialSegmenter(readConfig(config, ADVERSARIAL_SEGMENTER_SCHEMA, 'AdversarialSegmenter config'));
  }

  override extraRepr(): string {
    return `numClasses=${this.numClasses}`;
  }
}
