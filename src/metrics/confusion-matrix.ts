import { ValueError } from '../core/errors.js';
import { checkReduction, prepareSegmentation } from './input.js';
import { reduceMetric, type MetricReduction, type ReducedMetric } from './reduction.js';
import type { MetricInput, SegmentationInputOptions } from './types.js';

/** Options of {@link confusionMatrix}. */
export interface ConfusionMatrixOptions extends SegmentationInputOptions {
  /** Keep channel 0 (the background) in the result. MONAI default `true`. */
  includeBackground?: boolean;
}

/**
 * Per-sample, per-class confusion counts, as MONAI's `get_confusion_matrix`.
 *
 * @param pred - binarised prediction, one-hot `[B, H, W, C]` (or a label map with `numClasses`).
 * @param target - ground truth, same form.
 * @returns `[B][C'][4]` with the last axis `[tp, fp, tn, fn]` (MONAI's order), where C' is C, or
 *   C − 1 when `includeBackground` is false (and C > 1). Counts are voxel counts (plain numbers).
 */
export function confusionMatrix(pred: MetricInput, target: MetricInput, options: ConfusionMatrixOptions = {}): number[][][] {
  const pair = prepareSegmentation(pred, target, { numClasses: options.numClasses, includeBackground: options.includeBackground ?? true }, 'confusionMatrix');
  const { batch, voxels, channels, classes } = pair;
  const out: number[][][] = [];
  for (let b = 0; b < batch; b++) {
    const tp = new Float64Array(channels);
    const fp = new Float64Array(channels);
    const fn = new Float64Array(channels);
    let j = b * voxels * channels;
    for (let v = 0; v < voxels; v++) {
      for (let c = 0; c < channels; c++, j++) {
        const p = pair.pred[j];
        const t = pair.target[j];
        if (p & t) tp[c]++;
        else if (p) fp[c]++;
        else if (t) fn[c]++;
      }
    }
    out.push(classes.map((c) => [tp[c], fp[c], voxels - tp[c] - fp[c] - fn[c], fn[c]]));
  }
  return out;
}

/**
 * Metric names understood by {@link computeConfusionMatrixMetric}, spelled as MONAI's
 * `ConfusionMatrixMetric(metric_name=...)` so ported code keeps working. Aliases name the same
 * quantity (e.g. `'sensitivity'`, `'recall'`, `'tpr'`, `'hit_rate'`).
 */
export type ConfusionMatrixMetricName =
  | 'sensitivity' | 'recall' | 'hit_rate' | 'true_positive_rate' | 'tpr'
  | 'specificity' | 'selectivity' | 'true_negative_rate' | 'tnr'
  | 'precision' | 'positive_predictive_value' | 'ppv'
  | 'negative_predictive_value' | 'npv'
  | 'miss_rate' | 'false_negative_rate' | 'fnr'
  | 'fall_out' | 'false_positive_rate' | 'fpr'
  | 'false_discovery_rate' | 'fdr'
  | 'false_omission_rate' | 'for'
  | 'prevalence_threshold' | 'pt'
  | 'threat_score' | 'critical_success_index' | 'ts' | 'csi'
  | 'accuracy' | 'acc'
  | 'balanced_accuracy' | 'ba'
  | 'f1_score' | 'f1'
  | 'matthews_correlation_coefficient' | 'mcc'
  | 'fowlkes_mallows_index' | 'fm'
  | 'informedness' | 'bookmaker_informedness' | 'bm' | 'youden_index' | 'youden'
  | 'markedness' | 'deltap' | 'mk';

type Canonical = 'tpr' | 'tnr' | 'ppv' | 'npv' | 'fnr' | 'fpr' | 'fdr' | 'for' | 'pt' | 'ts' | 'acc' | 'ba' | 'f1' | 'mcc' | 'fm' | 'bm' | 'mk';

const ALIASES: Record<ConfusionMatrixMetricName, Canonical> = {
  sensitivity: 'tpr', recall: 'tpr', hit_rate: 'tpr', true_positive_rate: 'tpr', tpr: 'tpr',
  specificity: 'tnr', selectivity: 'tnr', true_negative_rate: 'tnr', tnr: 'tnr',
  precision: 'ppv', positive_predictive_value: 'ppv', ppv: 'ppv',
  negative_predictive_value: 'npv', npv: 'npv',
  miss_rate: 'fnr', false_negative_rate: 'fnr', fnr: 'fnr',
  fall_out: 'fpr', false_positive_rate: 'fpr', fpr: 'fpr',
  false_discovery_rate: 'fdr', fdr: 'fdr',
  false_omission_rate: 'for', for: 'for',
  prevalence_threshold: 'pt', pt: 'pt',
  threat_score: 'ts', critical_success_index: 'ts', ts: 'ts', csi: 'ts',
  accuracy: 'acc', acc: 'acc',
  balanced_accuracy: 'ba', ba: 'ba',
  f1_score: 'f1', f1: 'f1',
  matthews_correlation_coefficient: 'mcc', mcc: 'mcc',
  fowlkes_mallows_index: 'fm', fm: 'fm',
  informedness: 'bm', bookmaker_informedness: 'bm', bm: 'bm', youden_index: 'bm', youden: 'bm',
  markedness: 'mk', deltap: 'mk', mk: 'mk',
};

function canonical(name: string): Canonical {
  const c = (ALIASES as Record<string, Canonical | undefined>)[name.replace(/ /g, '_').toLowerCase()];
  if (c === undefined) {
    throw new ValueError(
      `Unknown confusion-matrix metric '${name}'. Use one of: ${Object.keys(ALIASES).map((k) => `'${k}'`).join(', ')}.`,
    );
  }
  return c;
}

/** `num / den`, NaN where the denominator is 0 (MONAI's rule: the ratio is undefined there). */
function ratio(num: number, den: number): number {
  return den !== 0 ? num / den : NaN;
}

/** One metric from one `[tp, fp, tn, fn]` quadruple, following MONAI's `compute_confusion_matrix_metric`. */
function metricFromCounts(m: Canonical, tp: number, fp: number, tn: number, fn: number): number {
  const p = tp + fn;
  const n = fp + tn;
  switch (m) {
    case 'tpr': return ratio(tp, p);
    case 'tnr': return ratio(tn, n);
    case 'ppv': return ratio(tp, tp + fp);
    case 'npv': return ratio(tn, tn + fn);
    case 'fnr': return ratio(fn, p);
    case 'fpr': return ratio(fp, n);
    case 'fdr': return ratio(fp, fp + tp);
    case 'for': return ratio(fn, fn + tn);
    case 'pt': {
      const tpr = ratio(tp, p);
      const tnr = ratio(tn, n);
      return ratio(Math.sqrt(tpr * (1 - tnr)) + tnr - 1, tpr + tnr - 1);
    }
    case 'ts': return ratio(tp, tp + fn + fp);
    case 'acc': return ratio(tp + tn, p + n);
    case 'ba': return (ratio(tp, p) + ratio(tn, n)) / 2;
    case 'f1': return ratio(2 * tp, 2 * tp + fp + fn);
    case 'mcc': return ratio(tp * tn - fp * fn, Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)));
    case 'fm': return Math.sqrt(ratio(tp, tp + fp) * ratio(tp, p));
    case 'bm': return ratio(tp, p) + ratio(tn, n) - 1;
    case 'mk': return ratio(tp, tp + fp) + ratio(tn, tn + fn) - 1;
  }
}

/**
 * Applies a named metric to every `[tp, fp, tn, fn]` quadruple of a confusion matrix (as MONAI's
 * `compute_confusion_matrix_metric`). A ratio whose denominator is 0 is NaN (e.g. precision of a
 * class never predicted), so NaN-aware reductions skip it instead of counting it as 0 or 1.
 *
 * @param metricName - see {@link ConfusionMatrixMetricName}.
 * @param matrix - `[B][C][4]` from {@link confusionMatrix}.
 * @returns `[B][C]`.
 */
export function computeConfusionMatrixMetric(metricName: ConfusionMatrixMetricName, matrix: readonly (readonly (readonly number[])[])[]): number[][] {
  const m = canonical(metricName);
  return matrix.map((row) =>
    row.map((q) => {
      if (q.length !== 4) {
        throw new ValueError(`computeConfusionMatrixMetric: each entry must be [tp, fp, tn, fn], but one has ${q.length} values.`);
      }
      return metricFromCounts(m, q[0], q[1], q[2], q[3]);
    }),
  );
}

/** Options of the confusion-matrix metric functions ({@link precision}, {@link recall}, ...). */
export interface ConfusionMetricOptions<R extends MetricReduction = 'mean'> extends ConfusionMatrixOptions {
  /**
   * How to reduce over samples and classes (see {@link MetricReduction}). Default `'mean'`, as
   * MONAI's `ConfusionMatrixMetric`.
   */
  reduction?: R;
  /**
   * `false` (MONAI default): first reduce the confusion counts with `reduction`, then compute the
   * metric from the reduced counts, i.e. pool voxels (micro average; with `'mean'` this equals the
   * metric of the summed counts). `true`: compute the metric per sample and class, then reduce the
   * metric values, skipping NaNs (macro average).
   */
  computeSample?: boolean;
}

/**
 * Computes any confusion-matrix metric with MONAI `ConfusionMatrixMetric` semantics
 * (`includeBackground`, `reduction`, `computeSample`). The named wrappers ({@link precision},
 * {@link recall}, ...) call this.
 *
 * @returns by `reduction`: a number (`'mean'`, `'sum'`), `number[]` per class (`'mean_batch'`,
 *   `'sum_batch'`) or per sample (`'mean_channel'`, `'sum_channel'`), or `number[][]` `[B][C]` (`'none'`).
 */
export function confusionMatrixMetric<R extends MetricReduction = 'mean'>(
  metricName: ConfusionMatrixMetricName,
  pred: MetricInput,
  target: MetricInput,
  options: ConfusionMetricOptions<R> = {},
): ReducedMetric<R> {
  const reduction = (options.reduction ?? 'mean') as R;
  checkReduction(reduction, undefined, `confusionMatrixMetric('${metricName}')`);
  const m = canonical(metricName);
  const cm = confusionMatrix(pred, target, options);
  if (options.computeSample) {
    return reduceMetric(computeConfusionMatrixMetric(metricName, cm), reduction);
  }
  // Reduce each count table the same way, then take the metric of the reduced counts.
  const counts = [0, 1, 2, 3].map((k) => reduceMetric(cm.map((row) => row.map((q) => q[k])), reduction)) as unknown[];
  const combine = (tp: unknown, fp: unknown, tn: unknown, fn: unknown): unknown => {
    if (typeof tp === 'number') return metricFromCounts(m, tp, fp as number, tn as number, fn as number);
    return (tp as unknown[]).map((_, i) =>
      combine((tp as unknown[])[i], (fp as unknown[])[i], (tn as unknown[])[i], (fn as unknown[])[i]),
    );
  };
  return combine(counts[0], counts[1], counts[2], counts[3]) as ReducedMetric<R>;
}

/** Precision, positive predictive value: tp / (tp + fp). See {@link confusionMatrixMetric} for options and return shapes. */
export function precision<R extends MetricReduction = 'mean'>(pred: MetricInput, target: MetricInput, options?: ConfusionMetricOptions<R>): ReducedMetric<R> {
  return confusionMatrixMetric('precision', pred, target, options);
}

/** Recall (sensitivity, true positive rate): tp / (tp + fn). See {@link confusionMatrixMetric}. */
export function recall<R extends MetricReduction = 'mean'>(pred: MetricInput, target: MetricInput, options?: ConfusionMetricOptions<R>): ReducedMetric<R> {
  return confusionMatrixMetric('recall', pred, target, options);
}

/** Sensitivity, the same quantity as {@link recall} under its clinical name. */
export const sensitivity = recall;

/** Specificity (true negative rate): tn / (tn + fp). See {@link confusionMatrixMetric}. */
export function specificity<R extends MetricReduction = 'mean'>(pred: MetricInput, target: MetricInput, options?: ConfusionMetricOptions<R>): ReducedMetric<R> {
  return confusionMatrixMetric('specificity', pred, target, options);
}

/** Accuracy: (tp + tn) / all voxels. See {@link confusionMatrixMetric}. */
export function accuracy<R extends MetricReduction = 'mean'>(pred: MetricInput, target: MetricInput, options?: ConfusionMetricOptions<R>): ReducedMetric<R> {
  return confusionMatrixMetric('accuracy', pred, target, options);
}

/**
 * F1 score: 2·tp / (2·tp + fp + fn). Per class and sample it equals the Dice coefficient, except
 * that an empty ground truth with an empty prediction gives NaN here (0/0). See {@link confusionMatrixMetric}.
 */
export function f1Score<R extends MetricReduction = 'mean'>(pred: MetricInput, target: MetricInput, options?: ConfusionMetricOptions<R>): ReducedMetric<R> {
  return confusionMatrixMetric('f1_score', pred, target, options);
}

/** Balanced accuracy: (sensitivity + specificity) / 2. See {@link confusionMatrixMetric}. */
export function balancedAccuracy<R extends MetricReduction = 'mean'>(pred: MetricInput, target: MetricInput, options?: ConfusionMetricOptions<R>): ReducedMetric<R> {
  return confusionMatrixMetric('balanced_accuracy', pred, target, options);
}
