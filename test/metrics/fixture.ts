import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { expectClose } from '../helpers/tf.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Loads test/fixtures/metrics/metrics.json, turning the "NaN" / "Infinity" strings back into numbers. */
export function loadMetricsFixture(): MetricsFixture {
  const text = readFileSync(join(here, '../fixtures/metrics/metrics.json'), 'utf8');
  return JSON.parse(text, (_k, v: unknown) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v)) as MetricsFixture;
}

type Nested = number | Nested[];

function flatten(x: unknown, out: number[], shape: number[], depth: number): void {
  if (Array.isArray(x)) {
    if (shape.length <= depth) shape.push(x.length);
    for (const v of x) flatten(v, out, shape, depth + 1);
  } else {
    expect(typeof x, 'leaf type').toBe('number');
    out.push(x as number);
  }
}

/**
 * Compares nested number arrays (or numbers) structurally and element-wise; NaN must meet NaN and
 * ±Infinity must meet the same infinity (expectClose alone would let a finite value pass for one).
 */
export function expectNestedClose(actual: unknown, expected: Nested, rtol: number, what: string, atol = 1e-9): void {
  const a: number[] = [];
  const e: number[] = [];
  const sa: number[] = [];
  const se: number[] = [];
  flatten(actual, a, sa, 0);
  flatten(expected, e, se, 0);
  expect(sa, `${what}: shape`).toEqual(se);
  for (let i = 0; i < e.length; i++) {
    if (!Number.isFinite(e[i]) && !Number.isNaN(e[i])) expect(a[i], `${what}[${i}]`).toBe(e[i]);
  }
  expectClose(a.map((v, i) => (Number.isFinite(e[i]) ? v : Number.isNaN(e[i]) ? v : 0)), e.map((v) => (Number.isFinite(v) || Number.isNaN(v) ? v : 0)), rtol, atol, what);
}

export interface SegCase {
  name: string;
  numClasses: number;
  shape: number[];
  pred: number[];
  target: number[];
  predLabels: number[] | null;
  targetLabels: number[] | null;
  labelShape: number[] | null;
  confusion: number[][][];
  dice: Record<string, Record<string, Nested>>;
  iou: Record<string, Record<string, Nested>>;
  cm: { metric: string; includeBackground: boolean; reduction: string; sample: Nested; pooled: Nested }[];
}

export interface SurfaceResult {
  kind: 'hd' | 'asd';
  spacing: number[];
  includeBackground: boolean;
  percentile?: number | null;
  directed?: boolean;
  symmetric?: boolean;
  none: number[][];
  mean: number;
}

export interface MetricsFixture {
  segmentation: SegCase[];
  edt: { shape: number[]; sampling: number[]; input: number[]; expected: number[] }[];
  surface: { name: string; numClasses: number; labelShape: number[]; predLabels: number[]; targetLabels: number[]; results: SurfaceResult[] }[];
  roc: { scores: number[]; labels: number[]; auc: number; fpr: number[]; tpr: number[]; thresholds: number[] }[];
  rocMulti: { scores: number[]; labels: number[]; shape: number[]; none: number[]; macro: number; weighted: number; micro: number };
  images: {
    shape: number[];
    pred: number[];
    target: number[];
    psnr: { maxVal: number; scale: number; none: number[] }[];
    ssim: { options: Record<string, unknown>; scale: number; none: number[] }[];
  };
}
