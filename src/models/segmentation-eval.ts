import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { DataLoader } from '../data/data-loader.js';
import type { Dataset } from '../data/dataset.js';
import type { Sample } from '../data/sample.js';
import { computeConfusionMatrixMetric, confusionMatrix } from '../metrics/confusion-matrix.js';
import { computeDice } from '../metrics/dice.js';
import { computeIoU } from '../metrics/iou.js';
import { averageSurfaceDistance, hausdorffDistance, hausdorffDistance95 } from '../metrics/surface-distance.js';

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

/**
 * Evaluates a segmentation predictor on image/mask samples (masks hold class indices,
 * `[H, W, 1]`): each metric is computed per image on the foreground classes and averaged over
 * images, skipping NaN (images whose ground truth lacks a class, MONAI's `ignoreEmpty` rule).
 * Distances are in pixels. The shared evaluation of {@link UNetSegmenter} and
 * {@link AdversarialSegmenter}; any model that maps images to label maps can use it.
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
  const what = options.what ?? 'evaluateSegmentation';
  const loader = new DataLoader(data, { batchSize: options.batchSize ?? 8 });
  const sums: Record<string, { total: number; count: number }> = Object.fromEntries(metrics.map((m) => [m, { total: 0, count: 0 }]));
  const common = { numClasses: Math.max(options.numClasses, 2), includeBackground: false } as const;
  for await (const batch of loader) {
    if (batch.mask === undefined) throw new ValueError(`${what} needs samples with a mask.`);
    const pred = predict(batch.image);
    const target = tf.tidy(() => tf.cast(tf.round(tf.squeeze(batch.mask as tf.Tensor4D, [3])), 'int32'));
    try {
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
            table = computeConfusionMatrixMetric(m, confusionMatrix(pred, target, common));
        }
        for (const row of table) for (const v of row) if (!Number.isNaN(v)) {
          sums[m].total += v;
          sums[m].count += 1;
        }
      }
    } finally {
      tf.dispose([pred, target]);
    }
  }
  return Object.fromEntries(metrics.map((m) => [m, sums[m].count > 0 ? sums[m].total / sums[m].count : NaN]));
}
