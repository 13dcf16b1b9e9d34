import { ValueError } from '../core/errors.js';
import { checkReduction } from './input.js';

/**
 * How a per-sample × per-class table `[B][C]` is reduced (MONAI's `MetricReduction`):
 *
 * - `'none'` keeps the table (`number[][]`, `[B][C]`);
 * - `'mean'` / `'sum'` give one number;
 * - `'mean_batch'` / `'sum_batch'` reduce over the batch, one value per class (`number[]`, length C);
 * - `'mean_channel'` / `'sum_channel'` reduce over classes, one value per sample (`number[]`, length B).
 *
 * NaN entries (a class with an empty ground truth, say) are skipped: means divide by the number
 * of non-NaN entries, sums add only the non-NaN ones. `'mean'` is MONAI's two-step mean: first
 * the mean over classes of each sample, then the mean of those over the samples that had any.
 * One deviation from MONAI: a mean over nothing but NaN is NaN here, where MONAI returns 0, since
 * 0 would pass for a real (worst possible) score.
 */
export type MetricReduction = 'none' | 'mean' | 'sum' | 'mean_batch' | 'sum_batch' | 'mean_channel' | 'sum_channel';

/**
 * The type of a reduced `[B][C]` table for a given reduction: `number[][]` for `'none'`, a number
 * for `'mean'`/`'sum'`, and `number[]` for the batch/channel reductions.
 */
export type ReducedMetric<R extends MetricReduction> = R extends 'none'
  ? number[][]
  : R extends 'mean' | 'sum'
    ? number
    : number[];

/**
 * How a per-image list `[B]` is reduced (PSNR, SSIM): `'none'` keeps it, `'mean'` (NaN-aware; NaN
 * if every entry is NaN) and `'sum'` (NaNs skipped) give one number.
 */
export type ImageReduction = 'none' | 'mean' | 'sum';

/** The type of a reduced per-image list: `number[]` for `'none'`, else a number. */
export type ReducedImageMetric<R extends ImageReduction> = R extends 'none' ? number[] : number;

function nanMean(xs: readonly number[]): number {
  let s = 0;
  let n = 0;
  for (const x of xs) {
    if (!Number.isNaN(x)) {
      s += x;
      n++;
    }
  }
  return n > 0 ? s / n : NaN;
}

function nanSum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) if (!Number.isNaN(x)) s += x;
  return s;
}

function column(table: readonly (readonly number[])[], c: number): number[] {
  return table.map((row) => row[c]);
}

/**
 * Reduces a per-sample × per-class table `[B][C]` (as returned with `reduction: 'none'`), skipping
 * NaN entries. See {@link MetricReduction} for what each mode returns.
 *
 * @example
 * ```ts
 * const perClass = computeDice(pred, target);           // [B][C]
 * const meanDice = reduceMetric(perClass, 'mean');       // number
 * const perClassMean = reduceMetric(perClass, 'mean_batch'); // [C]
 * ```
 */
export function reduceMetric<R extends MetricReduction>(table: readonly (readonly number[])[], reduction: R): ReducedMetric<R> {
  checkReduction(reduction, undefined, 'reduceMetric');
  const rows = table.map((row) => Array.from(row));
  const numClasses = rows.length > 0 ? rows[0].length : 0;
  if (rows.some((row) => row.length !== numClasses)) {
    throw new ValueError('reduceMetric: every row of the [B][C] table must have the same number of classes.');
  }
  let out: number | number[] | number[][];
  switch (reduction as MetricReduction) {
    case 'none':
      out = rows;
      break;
    case 'mean': {
      // Two steps as MONAI: class mean per sample, then the mean over samples that had a value.
      out = nanMean(rows.map(nanMean));
      break;
    }
    case 'sum':
      out = nanSum(rows.map(nanSum));
      break;
    case 'mean_batch':
      out = Array.from({ length: numClasses }, (_, c) => nanMean(column(rows, c)));
      break;
    case 'sum_batch':
      out = Array.from({ length: numClasses }, (_, c) => nanSum(column(rows, c)));
      break;
    case 'mean_channel':
      out = rows.map(nanMean);
      break;
    case 'sum_channel':
      out = rows.map(nanSum);
      break;
  }
  return out as ReducedMetric<R>;
}

/** Reduces a per-image list (see {@link ImageReduction}). */
export function reduceImageMetric<R extends ImageReduction>(values: readonly number[], reduction: R): ReducedImageMetric<R> {
  checkReduction(reduction, ['none', 'mean', 'sum'], 'reduceImageMetric');
  let out: number | number[];
  if (reduction === 'none') out = Array.from(values);
  else if (reduction === 'mean') out = nanMean(values);
  else out = nanSum(values);
  return out as ReducedImageMetric<R>;
}
