import { ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { assertFiniteValues, readInput, type DenseArray } from './input.js';
import type { MetricInput } from './types.js';

/** Scores or labels for the ROC functions: a tensor, an `{ data, shape }` array, or a plain list. */
export type RocInput = MetricInput | ArrayLike<number>;

/**
 * How per-class AUCs of multi-column inputs `[N, C]` are combined (MONAI's `Average`):
 * `'macro'` the plain mean (NaN if any class is NaN), `'weighted'` weighted by each class's number
 * of positives, `'micro'` one AUC over all columns flattened together, `'none'` one AUC per class.
 */
export type RocAverage = 'macro' | 'weighted' | 'micro' | 'none';

/** Options of {@link rocAuc}. */
export interface RocAucOptions<A extends RocAverage = 'macro'> {
  /** Combination of per-class AUCs for `[N, C]` inputs; ignored for one column. Default `'macro'`. */
  average?: A;
}

/** The ROC curve: matched lists, one point per distinct threshold plus the origin. */
export interface RocCurve {
  /** False positive rate at each threshold (non-decreasing, from 0 to 1). */
  fpr: number[];
  /** True positive rate at each threshold (non-decreasing, from 0 to 1). */
  tpr: number[];
  /**
   * Decreasing thresholds: a sample is called positive when its score is ≥ the threshold. The first
   * is `Infinity` (nothing called positive), the rest are the distinct scores.
   */
  thresholds: number[];
}

function readRoc(x: RocInput, name: string): DenseArray {
  if (typeof x === 'object' && x !== null && !('shape' in x) && typeof (x as ArrayLike<number>).length === 'number') {
    const arr = x as ArrayLike<number>;
    return { data: arr, shape: [arr.length] };
  }
  return readInput(x as MetricInput, name);
}

/** Reads scores and labels as columns: `[N]`/`[N, 1]` → one column, `[N, C]` → C columns. */
function readColumns(scores: RocInput, labels: RocInput, fn: string): { s: Float64Array[]; l: Uint8Array[] } {
  const s = readRoc(scores, `${fn} scores`);
  const l = readRoc(labels, `${fn} labels`);
  const cols = (shape: number[], name: string): number => {
    if (shape.length === 1) return 1;
    if (shape.length === 2) return shape[1];
    throw new ShapeError(`${fn}: ${name} must be [N] or [N, C], but got shape ${formatShape(shape)}.`);
  };
  const cs = cols(s.shape, 'scores');
  const cl = cols(l.shape, 'labels');
  if (s.shape[0] !== l.shape[0] || cs !== cl) {
    throw new ShapeError(
      `${fn}: scores and labels must have the same shape ([N] or [N, C]), but scores are ${formatShape(s.shape)} ` +
        `and labels ${formatShape(l.shape)}.`,
    );
  }
  assertFiniteValues(s.data, `${fn} scores`);
  const n = s.shape[0];
  const sc: Float64Array[] = [];
  const lc: Uint8Array[] = [];
  for (let c = 0; c < cs; c++) {
    const a = new Float64Array(n);
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      a[i] = s.data[i * cs + c];
      const y = l.data[i * cs + c];
      if (y !== 0 && y !== 1) {
        throw new ValueError(
          `${fn}: labels must be 0 or 1, but got ${Number.isNaN(y) ? 'NaN' : y} at flat index ${i * cs + c}. ` +
            'For class indices, one-hot encode them to [N, C] first.',
        );
      }
      b[i] = y;
    }
    sc.push(a);
    lc.push(b);
  }
  return { s: sc, l: lc };
}

/**
 * Binary AUC from average ranks (Mann–Whitney U / (n₊·n₋)), which is exactly the area under the
 * trapezoidal ROC curve: tied scores across classes count one half.
 */
function binaryAuc(scores: Float64Array, labels: Uint8Array): number {
  const n = scores.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += labels[i];
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let k = i; k <= j; k++) if (labels[order[k]]) rankSumPos += avgRank;
    i = j + 1;
  }
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Area under the ROC curve, as MONAI's `compute_roc_auc`: the probability that a random positive
 * scores higher than a random negative, ties counting one half (Mann–Whitney U; equal to the
 * trapezoidal area under {@link rocCurve}).
 *
 * When the labels hold only one class the AUC is undefined (there is no pair to rank) and the
 * result is NaN rather than 0.5 or an error, so an evaluation over many folds keeps running; check
 * for it with `Number.isNaN`.
 *
 * @param scores - `[N]` (or `[N, 1]`) scores for the positive class, or `[N, C]` per-class scores.
 * @param labels - 0/1 labels of the same shape (one-hot or multi-label for `[N, C]`).
 * @returns one number, or `number[]` per class with `average: 'none'`.
 */
export function rocAuc<A extends RocAverage = 'macro'>(
  scores: RocInput,
  labels: RocInput,
  options: RocAucOptions<A> = {},
): A extends 'none' ? number[] : number {
  type Out = A extends 'none' ? number[] : number;
  const average = options.average ?? 'macro';
  if (!['macro', 'weighted', 'micro', 'none'].includes(average)) {
    throw new ValueError(`rocAuc: average must be 'macro', 'weighted', 'micro' or 'none', but got '${average}'.`);
  }
  const { s, l } = readColumns(scores, labels, 'rocAuc');
  if (s.length === 1) {
    const auc = binaryAuc(s[0], l[0]);
    return (average === 'none' ? [auc] : auc) as Out;
  }
  if (average === 'micro') {
    const n = s[0].length;
    const fs = new Float64Array(n * s.length);
    const fl = new Uint8Array(n * s.length);
    s.forEach((col, c) => {
      fs.set(col, c * n);
      fl.set(l[c], c * n);
    });
    return binaryAuc(fs, fl) as Out;
  }
  const aucs = s.map((col, c) => binaryAuc(col, l[c]));
  if (average === 'none') return aucs as Out;
  if (average === 'weighted') {
    const w = l.map((col) => col.reduce((a, b) => a + b, 0));
    const total = w.reduce((a, b) => a + b, 0);
    return (aucs.reduce((acc, a, c) => acc + a * w[c], 0) / total) as Out;
  }
  return (aucs.reduce((a, b) => a + b, 0) / aucs.length) as Out;
}

/**
 * The ROC curve of binary scores: false and true positive rates at every distinct threshold
 * (no intermediate points dropped), from (0, 0) at threshold `Infinity` to (1, 1).
 *
 * If the labels have no positives, `tpr` is NaN throughout (0/0); with no negatives, `fpr` is.
 *
 * @param scores - `[N]` scores (higher means more likely positive).
 * @param labels - `[N]` 0/1 labels.
 */
export function rocCurve(scores: RocInput, labels: RocInput): RocCurve {
  const { s, l } = readColumns(scores, labels, 'rocCurve');
  if (s.length !== 1) {
    throw new ShapeError(`rocCurve takes one column of scores ([N] or [N, 1]), but got ${s.length} columns. Call it once per class.`);
  }
  const sc = s[0];
  const lb = l[0];
  const n = sc.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += lb[i];
  const nNeg = n - nPos;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => sc[b] - sc[a]);
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Infinity];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < n; ) {
    const t = sc[order[i]];
    while (i < n && sc[order[i]] === t) {
      if (lb[order[i]]) tp++;
      else fp++;
      i++;
    }
    fpr.push(nNeg > 0 ? fp / nNeg : NaN);
    tpr.push(nPos > 0 ? tp / nPos : NaN);
    thresholds.push(t);
  }
  if (nNeg === 0) fpr[0] = NaN;
  if (nPos === 0) tpr[0] = NaN;
  return { fpr, tpr, thresholds };
}
