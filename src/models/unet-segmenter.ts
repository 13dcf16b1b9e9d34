import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { variableGrads } from '../core/gradients.js';
import { Module } from '../core/module.js';
import { assertRank } from '../core/shape.js';
import type { Dataset } from '../data/dataset.js';
import { checkIntensityNormalization, normalizeImages, type IntensityNormalization } from '../data/transforms/image-normalization.js';
import type { Sample } from '../data/sample.js';
import { readConfig, type ConfigError } from '../io/config-schema.js';
import { SavableModel } from '../io/savable-model.js';
import { diceCELoss } from '../losses/dice-ce.js';
import type { LossFn } from '../losses/loss-fn.js';
import { withDeferredLossChecks } from '../losses/checks.js';
import { runFit, type FitData } from '../train/fit.js';
import type { FitOptions, OptimizerOptions } from '../train/fit-options.js';
import type { TrainResult } from '../train/train-loop.js';
import { positiveInt, positiveIntList } from '../core/validate.js';
import { checkMaskClasses, requireMask } from './fit-checks.js';
import { evaluateSegmentation, type SegmentationMetricName } from './segmentation-eval.js';
import { slidingWindowInference, type SlidingWindowOptions } from '../inferers/sliding-window.js';
import { UNET_SEGMENTER_SCHEMA } from './config-schemas.js';
import { UNet, type UNetOptions } from './unet.js';

/** Options of {@link UNetSegmenter}: the {@link UNet} options, with `numClasses` in place of `outChannels`. */
export interface UNetSegmenterOptions extends Omit<UNetOptions, 'outChannels'> {
  /**
   * Number of classes. `1`: binary segmentation with one sigmoid channel; `≥ 2`: softmax over
   * `numClasses` channels, class 0 being the background (MONAI's convention, e.g. 2 for brain vs
   * background).
   */
  numClasses: number;
  /**
   * Intensity normalisation applied to every image, per image, in `fit` and in `predict` /
   * `predictProba` (and so in `evaluate` and `segmentVolume`), saved with the model: e.g.
   * `{ kind: 'percentiles', lower: 1, upper: 99 }` (MONAI `ScaleIntensityRangePercentiles`) or
   * `{ kind: 'zscore' }` (`NormalizeIntensity`), or `{ kind: 'histogram' }` (`HistogramNormalize`,
   * also indifferent to gamma curves, less so to noise); see {@link IntensityNormalization}. The
   * same image at another gain or offset then gives the same mask. Default `'none'`.
   */
  intensity?: IntensityNormalization;
}

/** @deprecated Renamed {@link UNetSegmenterFitOptions} (medvae names fit options `<Model>FitOptions`). */
export type SegmenterFitOptions = UNetSegmenterFitOptions;

/** Options of {@link UNetSegmenter.fit}: the shared fit and optimizer options plus the loss and validation metrics. */
export interface UNetSegmenterFitOptions extends FitOptions, OptimizerOptions {
  /**
   * Loss on (logits, mask). Default: `diceCELoss({ softmax: true, toOneHot: true })` for
   * `numClasses ≥ 2`, `diceCELoss({ sigmoid: true })` for binary. Masks hold class indices.
   * Default learning rate 1e-3, batch size 16.
   */
  loss?: LossFn;
  /** Metrics computed on `validation`. Default `['dice']`. */
  validationMetrics?: SegmentationMetricName[];
}

/** Options of {@link UNetSegmenter.predictProba} and {@link UNetSegmenter.predict}. */
export interface PredictOptions {
  /** Run on overlapping windows of this size and blend (for images larger than the training size). */
  slidingWindow?: SlidingWindowOptions;
  /** Test-time augmentation: average the predictions of the image and its horizontal and vertical flips. Default false. */
  flipTTA?: boolean;
  /** Images per forward pass. Default 8. */
  batchSize?: number;
}

/**
 * A U-Net for 2-D segmentation with training, inference and evaluation built in: the main model of
 * medvae.
 *
 * @example
 * ```ts
 * await useBackend('wasm');
 * const slices = await loadColin27Slices();
 * const [train, val] = randomSplit(slices, [0.8, 0.2], { seed: 0 });
 * const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [16, 32, 64, 128], seed: 0 });
 * await model.fit(train, { epochs: 10, validation: val });
 * console.log(await model.evaluate(val, ['dice', 'hd95']));
 * await model.save('models/brain-unet');
 * ```
 */
export class UNetSegmenter extends SavableModel<tf.Tensor, tf.Tensor> {
  /** The name saves record (see {@link SavableModel}). */
  static override readonly modelName: string = 'UNetSegmenter';

  /** The network, producing logits `[B, H, W, numClasses]`. */
  readonly net: UNet;
  /** Number of classes (see {@link UNetSegmenterOptions.numClasses}). */
  readonly numClasses: number;
  /** The intensity normalisation the model applies to its inputs (see {@link UNetSegmenterOptions.intensity}). */
  readonly intensity: IntensityNormalization;
  private readonly options: UNetSegmenterOptions;

  constructor(options: UNetSegmenterOptions) {
    super();
    if (options === null || typeof options !== 'object') throw new ValueError(`UNetSegmenter needs an options object ({ inChannels, numClasses, ... }), but got ${String(options)}.`);
    // Options can come from an edited model.json: check the list before the network iterates it.
    if (options.channels !== undefined) positiveIntList(options.channels, 'UNetSegmenter channels');
    if (!Number.isInteger(options.numClasses) || options.numClasses < 1) {
      throw new ValueError(`UNetSegmenter numClasses must be a positive integer (1 for binary with sigmoid, ≥ 2 for softmax), but got ${options.numClasses}.`);
    }
    this.numClasses = options.numClasses;
    this.intensity = options.intensity === undefined ? 'none' : checkIntensityNormalization(options.intensity, 'UNetSegmenter');
    // The network itself sees normalised inputs; the normalisation is the segmenter's.
    const { intensity, ...netOptions } = options;
    void intensity;
    this.net = this.registerModule('net', new UNet({ ...netOptions, outChannels: options.numClasses }));
    const { seed, ...rest } = options;
    void seed;
    this.options = rest;
  }

  /** The constructor options (without the seed), as saved by {@link UNetSegmenter.save}. */
  get config(): UNetSegmenterOptions {
    return { ...this.options, channels: [...this.net.config.channels] };
  }

  /** Logits `[B, H, W, numClasses]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.net.forward(x);
  }

  private activate(logits: tf.Tensor): tf.Tensor {
    return this.numClasses === 1 ? tf.sigmoid(logits) : tf.softmax(logits, -1);
  }

  // Pads every spatial axis up to the network's size divisor, runs, and crops back, so any size works.
  private probaPadded(x: tf.Tensor): tf.Tensor {
    const d = this.net.sizeDivisor;
    const spatial = x.shape.slice(1, -1);
    const extra = spatial.map((s) => Math.ceil(s / d) * d - s);
    const padded = extra.some((e) => e > 0);
    const input = padded ? tf.pad(x, [[0, 0], ...extra.map((e) => [0, e] as [number, number]), [0, 0]]) : x;
    const p = this.activate(this.forward(input));
    return padded ? tf.slice(p, p.shape.map(() => 0), [x.shape[0], ...spatial, p.shape[p.rank - 1]]) : p;
  }

  /**
   * Class probabilities `[B, H, W, numClasses]` (softmax, or sigmoid for binary) in eval mode;
   * `[B, D, H, W, numClasses]` for a model built with `spatialDims: 3` (NDHWC volumes in).
   * Inputs of any spatial size are padded to the network's size divisor and cropped back.
   */
  predictProba(images: tf.Tensor5D, options?: PredictOptions): tf.Tensor5D;
  predictProba(images: tf.Tensor, options?: PredictOptions): tf.Tensor4D;
  predictProba(images: tf.Tensor, options: PredictOptions = {}): tf.Tensor {
    const three = this.net.config.spatialDims === 3;
    assertRank(images, three ? 5 : 4, 'UNetSegmenter.predictProba images', three ? 'NDHWC' : 'NHWC');
    const channels = images.shape[images.rank - 1];
    if (channels !== this.net.config.inChannels) {
      throw new ShapeError(`UNetSegmenter expects ${this.net.config.inChannels}-channel inputs (last axis), but got ${channels}.`);
    }
    if (options.batchSize !== undefined) positiveInt(options.batchSize, 'UNetSegmenter.predictProba batchSize');
    if (images.shape[0] === 0) throw new ShapeError('UNetSegmenter.predictProba got an empty batch (0 images); pass at least one image.');
    const wasTraining = this.training;
    this.eval();
    try {
      return tf.tidy(() => {
        // Per-image statistics over the whole image or volume, before it is cut into windows.
        const normalized = normalizeImages(images, this.intensity);
        const run = (x: tf.Tensor): tf.Tensor =>
          options.slidingWindow
            ? slidingWindowInference(x, (w: tf.Tensor) => this.probaPadded(w), options.slidingWindow)
            : this.probaPadded(x);
        const batch = options.batchSize ?? 8;
        const n = images.shape[0] as number;
        const parts: tf.Tensor[] = [];
        for (let i = 0; i < n; i += batch) {
          const x = tf.slice(normalized, images.shape.map((_, a) => (a === 0 ? i : 0)), images.shape.map((v, a) => (a === 0 ? Math.min(batch, n - i) : v)));
          if (!options.flipTTA) {
            parts.push(run(x));
            continue;
          }
          // The input and its mirror image along each spatial axis, predictions mirrored back and averaged.
          const axes = images.shape.slice(1, -1).map((_, a) => a + 1);
          const runs = [run(x), ...axes.map((a) => tf.reverse(run(tf.reverse(x, a)), a))];
          parts.push(tf.div(tf.addN(runs), runs.length));
        }
        return parts.length === 1 ? parts[0] : tf.concat(parts, 0);
      });
    } finally {
      this.train(wasTraining);
    }
  }

  /**
   * Label maps `[B, H, W]` (int32): argmax of the probabilities, or probability > 0.5 for binary;
   * `[B, D, H, W]` for a 3-D model.
   */
  predict(images: tf.Tensor5D, options?: PredictOptions): tf.Tensor4D;
  predict(images: tf.Tensor, options?: PredictOptions): tf.Tensor3D;
  predict(images: tf.Tensor, options: PredictOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const p = this.predictProba(images, options) as tf.Tensor;
      return this.numClasses === 1 ? tf.cast(tf.greater(tf.squeeze(p, [p.rank - 1]), 0.5), 'int32') : tf.argMax(p, -1);
    });
  }

  /** The default loss for this model's number of classes. */
  defaultLoss(): LossFn {
    return this.numClasses === 1 ? diceCELoss({ sigmoid: true }) : diceCELoss({ softmax: true, toOneHot: true });
  }

  /**
   * Trains on image/mask samples (masks hold class indices, `[H, W, 1]`) through {@link runFit}.
   * `data` is a Dataset (batched and shuffled here with `batchSize` and `seed`), a DataLoader, or
   * any source of batches (see {@link FitData}). Logs `loss` per step.
   */
  async fit(data: FitData, options: UNetSegmenterFitOptions): Promise<TrainResult> {
    const what = 'UNetSegmenter.fit';
    const loss = options?.loss ?? this.defaultLoss();
    const metrics = options?.validationMetrics ?? ['dice'];
    const params = this.trainableParameters();
    return runFit({
      what, module: this, data, options, defaultBatchSize: 16,
      optimizers: { optimizer: { params, options, defaultLr: 1e-3, label: '' } },
      step: async (batch, ctx) => {
        const mask = requireMask(batch, what);
        checkMaskClasses(ctx, mask, this.numClasses, what);
        // Per-image statistics (percentiles, z-score) come from the host: read the input batch
        // asynchronously rather than synchronously (the same values, so the same maps).
        const spec = this.intensity;
        const values = spec !== 'none' && spec.kind !== 'range' ? await batch.image.data() : undefined;
        // After the await the loop's deferral of the losses' input checks no longer holds.
        return withDeferredLossChecks(ctx.check, () => {
          const input = normalizeImages(batch.image, spec, values);
          const { value, grads } = variableGrads(() => loss(this.forward(input), mask), params);
          if (input !== batch.image) input.dispose();
          ctx.update('optimizer', grads);
          return { loss: value };
        });
      },
      validate: (validation) => this.evaluate(validation, metrics),
    });
  }

  /**
   * Evaluates on image/mask samples: each metric is computed per image on the foreground classes
   * and averaged over images, skipping NaN (images whose ground truth lacks a class, MONAI's
   * `ignoreEmpty` rule). Distances are in pixels.
   */
  async evaluate(data: Dataset<Sample>, metrics: SegmentationMetricName[] = ['dice'], options: PredictOptions = {}): Promise<Record<string, number>> {
    return evaluateSegmentation((x) => this.predict(x, options), data, metrics, {
      numClasses: this.numClasses, batchSize: options.batchSize, what: 'UNetSegmenter.evaluate',
    });
  }

  /** Builds an untrained UNetSegmenter from a saved config, checked field by field ({@link ConfigError} names a wrong one). */
  static fromConfig(config: Record<string, unknown>): UNetSegmenter {
    return new UNetSegmenter(readConfig(config, UNET_SEGMENTER_SCHEMA, 'UNetSegmenter config'));
  }
}
