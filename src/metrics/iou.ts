import { checkReduction, overlapCounts, prepareSegmentation } from './input.js';
import { reduceMetric, type MetricReduction, type ReducedMetric } from './reduction.js';
import type { OverlapMetricOptions } from './dice.js';
import type { MetricInput } from './types.js';

/**
 * Intersection over union (Jaccard index) |P ∩ T| / |P ∪ T| per sample and class, with MONAI's
 * `compute_iou` semantics: an empty ground truth gives NaN when `ignoreEmpty` (default; see
 * {@link OverlapMetricOptions.ignoreEmpty} for why), else 1 if the prediction is empty too and 0 otherwise.
 *
 * @param pred - binarised prediction, one-hot channel-last `[B, H, W, C]` (or `[B, D, H, W, C]`),
 *   or a label map with `numClasses`.
 * @param target - ground truth, same form.
 * @returns `[B][C]` (`number[][]`) by default; see {@link MetricReduction} for the reduced shapes.
 */
export function computeIoU<R extends MetricReduction = 'none'>(
  pred: MetricInput,
  target: MetricInput,
  options: OverlapMetricOptions<R> = {},
): ReducedMetric<R> {
  const reduction = (options.reduction ?? 'none') as R;
  checkReduction(reduction, undefined, 'computeIoU');
  const ignoreEmpty = options.ignoreEmpty ?? true;
  const pair = prepareSegmentation(pred, target, { numClasses: options.numClasses, includeBackground: options.includeBackground ?? true }, 'computeIoU');
  const { intersection, predSum, targetSum } = overlapCounts(pair);
  const table = intersection.map((row, b) =>
    row.map((inter, c) => {
      const t = targetSum[b][c];
      const union = t + predSum[b][c] - inter;
      if (t === 0) return ignoreEmpty ? NaN : union === 0 ? 1 : 0;
      return inter / union;
    }),
  );
  return reduceMetric(table, reduction);
}
