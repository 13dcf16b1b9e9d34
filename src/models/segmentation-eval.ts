import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { DataLoader } from '../data/data-loader.js';
import type { Dataset } from '../data/dataset.js';
import type { Sample } from '../data/sample.js';
import { computeConfusionMatrixMetric, confusionMatrix } from '../metrics/confusion-matrix.js';
import { computeDice } from '../metrics/dice.js';
import { computeIoU } from '../metrics/iou.js';
import { averageSurfaceDistance, hausdorffDistance, hausdorffDistance95 } from '../metrics/surface-distance.js';
import { positiveInt } from '../core/validate.js';

/** Metrics a segmentation model's `evaluate` can report, computed per image on the foreground classes. */
export type SegmentationMetricName = 'dice' | 'iou' | 'hd95' | 'hausdorff' | 'asd' | 'precision' | 'recall' | 'specificity' | 'accuracy';

/** Options of {@link evaluateSegmentation}. */
export interface EvaluateSegmentationOptions {
  /** Number of classes of the label maps (a binary model counts as 2: background and foreground). */
  numClasses: number;
  /** Images per call of `predict`. Default 8. */
  batchSize?: number;
  /** Name used in error messages. Default `'evaluateSegmentation'`. */
  what?: string;
}

/** Everything {@link evaluateSegmentationReport} measures. */
export interface SegmentationReport {
  /** Images evaluated. */
  count: number;
  /**
   * Per-image (macro) means: each metric per image on the foreground classes, averaged over images,
   * skipping NaN (images whose ground truth lacks a class, MONAI's `ignoreEmpty` rule).
   */
  macro: Record<string, number>;
  /** Per image, in dataset order: each metric's mean over the foreground classes (NaN when undefined for every class). */
  perSample: Record<string, number[]>;
  /**
   * Pooled (micro) overlap: true/false positives and negatives summed over every image first, then
   * Dice and IoU per foreground class, averaged over classes. Unlike the macro mean it weighs
   * images by their foreground size, and no image is skipped.
   */
  pooled: { dice: number; iou: number };
  /**
   * Images in which some foreground class of the ground truth was not predicted at all. Their
   * distances (HD95, Hausdorff, ASD) are NaN and left out of the macro means, which would
   * otherwise flatter a model that predicts nothing on hard images: report this count beside them.
   */
  emptyPredictions: number;
  /** NaN values (image × class) left out of each metric's macro mean. */
  skipped: Record<string, number>;
}

function nanMean(values: readonly number[]): number {
  let sum = 0;
  let n = 0;
  for (const v of values) if (!Number.isNaN(v)) {
    sum += v;
    n += 1;
  }
  return n > 0 ? sum / n : NaN;
}

/**
 * Evaluates a segmentation predictor on image/mask samples (masks hold class indices,
 * `[H, W, 1]`) and returns per-image values, their macro means, pooled (micro) Dice and IoU, and
 * the number of images with an empty prediction for a present class (see {@link SegmentationReport}).
 * Distances are in pixels.
 *
 * @param predict - images `[B, H, W, C]` to int32 label maps `[B, H, W]` (the caller's tensor is disposed here).
 * @param data - samples with masks.
 * @param metrics - the metrics to report.
 */
export async function evaluateSegmentationReport(
  predict: (images: tf.Tensor4D) => tf.Tensor3D,
  data: Dataset<Sample>,
  metrics: readonly SegmentationMetricName[],
  options: EvaluateSegmentationOptions,
): Promise<SegmentationReport> {
  const what = options.what ?? 'evaluateSegmentation';
  if (!Array.isArray(metrics) || metrics.length === 0) throw new ValueError(`${what} metrics must be a non-empty list of metric names, but got ${JSON.stringify(metrics)}.`);
  if (options.batchSize !== undefined) positiveInt(options.batchSize, `${what} batchSize`);
  const loader = new DataLoader(data, { batchSize: options.batchSize ?? 8 });
  const perSample: Record<string, number[]> = Object.fromEntries(metrics.map((m) => [m, []]));
  const sums: Record<string, { total: number; count: number; skipped: number }> = Object.fromEntries(metrics.map((m) => [m, { total: 0, count: 0, skipped: 0 }]));
  const common = { numClasses: Math.max(options.numClasses, 2), includeBackground: false } as const;
  let pooledCounts: number[][] | null = null;
  let emptyPredictions = 0;
  let count = 0;
  for await (const batch of loader) {
    if (batch.mask === undefined) throw new ValueError(`${what} needs samples with a mask.`);
    const pred = predict(batch.image);
    const target = tf.tidy(() => tf.cast(tf.round(tf.squeeze(batch.mask as tf.Tensor4D, [3])), 'int32'));
    try {
      const cm = confusionMatrix(pred, target, common);
      for (const image of cm) {
        count += 1;
        if (image.some(([tp, fp, , fn]) => tp + fn > 0 && tp + fp === 0)) emptyPredictions += 1;
        pooledCounts ??= image.map(() => [0, 0, 0, 0]);
        image.forEach((c, k) => c.forEach((v, j) => ((pooledCounts as number[][])[k][j] += v)));
      }
      for (const m of metrics) {
        let table: number[][];
        switch (m) {
          case 'dice':
            table = computeDice(pred, target, common);
            break;
          case 'iou':
            table = computeIoU(pred, target, common);
            break;
          case 'hd95':
            table = hausdorffDistance95(pred, target, { ...common, reduction: 'none' });
            break;
          case 'hausdorff':
            table = hausdorffDistance(pred, target, { ...common, reduction: 'none' });
            break;
          case 'asd':
            table = averageSurfaceDistance(pred, target, { ...common, symmetric: true, reduction: 'none' });
            break;
          default:
            table = computeConfusionMatrixMetric(m, cm);
        }
        for (const row of table) {
          perSample[m].push(nanMean(row));
          for (const v of row) {
            if (Number.isNaN(v)) sums[m].skipped += 1;
            else {
              sums[m].total += v;
              sums[m].count += 1;
            }
          }
        }
      }
    } finally {
      tf.dispose([pred, target]);
    }
  }
  if (count === 0) throw new ValueError(`${what} got an empty dataset; give at least one image with a mask.`);
  const classes = pooledCounts ?? [];
  const pooled = {
    dice: nanMean(classes.map(([tp, fp, , fn]) => (2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : NaN))),
    iou: nanMean(classes.map(([tp, fp, , fn]) => (tp + fp + fn > 0 ? tp / (tp + fp + fn) : NaN))),
  };
  return {
    count,
    macro: Object.fromEntries(metrics.map((m) => [m, sums[m].count > 0 ? sums[m].total / sums[m].count : NaN])),
    perSample,
    pooled,
    emptyPredictions,
    skipped: Object.fromEntries(metrics.map((m) => [m, sums[m].skipped])),
  };
}

/**
 * Evaluates a segmentation predictor on image/mask samples (masks hold class indices,
 * `[H, W, 1]`): each metric is computed per image on the foreground classes and averaged over
 * images, skipping NaN (images whose ground truth lacks a class, MONAI's `ignoreEmpty` rule).
 * Beside the requested metrics it reports `pooledDice` (Dice from counts summed over all images)
 * and `emptyPredictions` (images where a present class was not predicted at all, whose NaN
 * distances the means skip). Distances are in pixels. The shared evaluation of
 * {@link UNetSegmenter} and {@link AdversarialSegmenter}; {@link evaluateSegmentationReport} gives
 * the per-image values too.
 *
 * @param predict - images `[B, H, W, C]` to int32 label maps `[B, H, W]` (the caller's tensor is disposed here).
 * @param data - samples with masks.
 * @param metrics - the metrics to report.
 */
export async function evaluateSegmentation(
  predict: (images: tf.Tensor4D) => tf.Tensor3D,
  data: Dataset<Sample>,
  metrics: readonly SegmentationMetricName[],
  options: EvaluateSegmentationOptions,
): Promise<Record<string, number>> {
  const report = await evaluateSegmentationReport(predict, data, metrics, options);
  return { ...report.macro, pooledDice: report.pooled.dice, emptyPredictions: report.emptyPredictions };
}
