import { checkReduction, overlapCounts, prepareSegmentation } from './input.js';
import { reduceMetric, type MetricReduction, type ReducedMetric } from './reduction.js';
import type { MetricInput, SegmentationInputOptions } from './types.js';

/** Options of {@link computeDice} and {@link computeIoU}. */
export interface OverlapMetricOptions<R extends MetricReduction = 'none'> extends SegmentationInputOptions {
  /** Keep channel 0 (the background). MONAI default `true`; ignored for single-channel masks. */
  includeBackground?: boolean;
  /**
   * What a class whose ground truth is empty scores. `true` (MONAI default): NaN, so reductions
   * skip it. Neither 1 nor 0 is honest there: with nothing to find, a prediction cannot be graded
   * on overlap, and 1.0 would reward an empty guess while 0.0 would punish a correct one, both
   * pulling the mean towards whatever the dataset's share of empty slices happens to be.
   * `false`: 1 if the prediction is empty too, else 0 (the convention of many papers).
   */
  ignoreEmpty?: boolean;
  /**
   * Reduction over samples and classes (see {@link MetricReduction}). Default `'none'`: the
   * `[B][C]` table, as MONAI's functional `compute_dice` / `compute_iou` return.
   */
  reduction?: R;
}

/**
 * Dice coefficient 2·|P ∩ T| / (|P| + |T|) per sample and class, with MONAI's `compute_dice`
 * semantics (see {@link OverlapMetricOptions.ignoreEmpty} for empty ground truths).
 *
 * @param pred - binarised prediction, one-hot channel-last `[B, H, W, C]` (or `[B, D, H, W, C]`),
 *   or a label map with `numClasses`.
 * @param target - ground truth, same form.
 * @returns `[B][C]` (`number[][]`) by default; see {@link MetricReduction} for the reduced shapes.
 */
export function computeDice<R extends MetricReduction = 'none'>(
  pred: MetricInput,
  target: MetricInput,
  options: OverlapMetricOptions<R> = {},
): ReducedMetric<R> {
  const reduction = (options.reduction ?? 'none') as R;
  checkReduction(reduction, undefined, 'computeDice');
  const ignoreEmpty = options.ignoreEmpty ?? true;
  const pair = prepareSegmentation(pred, target, { numClasses: options.numClasses, includeBackground: options.includeBackground ?? true }, 'computeDice');
  const { intersection, predSum, targetSum } = overlapCounts(pair);
  const table = intersection.map((row, b) =>
    row.map((inter, c) => {
      const t = targetSum[b][c];
      const denom = t + predSum[b][c];
      if (t === 0) return ignoreEmpty ? NaN : denom === 0 ? 1 : 0;
      return (2 * inter) / denom;
    }),
  );
  return reduceMetric(table, reduction);
}
