import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { checkImageInput } from './conv-utils.js';
import { checkVolumeInput } from './conv-utils3d.js';

/** Interpolation modes of {@link Upsample}: `'bilinear'` for NHWC images, `'trilinear'` for NDHWC volumes (as PyTorch). */
export type UpsampleMode = 'nearest' | 'bilinear' | 'trilinear';

/** A per-axis size or factor: `[h, w]` for images, `[d, h, w]` for volumes. */
export type SpatialSizes = readonly [number, number] | readonly [number, number, number];

/** Options of {@link Upsample}, as `torch.nn.Upsample` (camelCase). Give exactly one of `scaleFactor` and `size`. */
export interface UpsampleOptions {
  /** Multiplier of the spatial size, for all axes or per axis (`[h, w]`, or `[d, h, w]` for volumes); output size is ⌊in·scaleFactor⌋. */
  scaleFactor?: number | SpatialSizes;
  /** Output spatial size, for all axes or per axis (`[h, w]`, or `[d, h, w]` for volumes). */
  size?: number | SpatialSizes;
  /**
   * `'nearest'` (PyTorch's legacy nearest: source index ⌊dst·in/out⌋), `'bilinear'` (4-D input) or
   * `'trilinear'` (5-D input). Default `'nearest'`.
   */
  mode?: UpsampleMode;
  /**
   * Bilinear/trilinear only: when true, the corner pixels of input and output are aligned (source =
   * dst·(in−1)/(out−1)); when false (the default, as in PyTorch), pixel centres are
   * (source = (dst+0.5)·scale − 0.5, clamped at 0).
   */
  alignCorners?: boolean;
}

/**
 * Spatial up- (or down-) sampling of an NHWC batch or an NDHWC volume batch, matching
 * `torch.nn.Upsample` / `F.interpolate` for modes `'nearest'`, `'bilinear'` (images) and
 * `'trilinear'` (volumes, resampled one axis after the other), including PyTorch's choice of source
 * coordinates when `scaleFactor` is given (1/scaleFactor, not in/out, as with the default
 * `recompute_scale_factor=None`).
 *
 * Power-of-two nearest scaling uses tfjs's nearest-resize kernel (exact for those ratios) with a
 * sum-pooling gradient; other integer nearest scaling repeats entries; other cases apply, per axis,
 * the interpolation matrix (each output row a convex combination of at most two input rows). All use only
 * operations whose gradients every tfjs backend has (tfjs's own bilinear-resize gradient ignores
 * half-pixel centres, so it cannot match PyTorch's `alignCorners: false`).
 *
 * @example
 * ```ts
 * new Upsample({ scaleFactor: 2, mode: 'bilinear' }).forward(tf.zeros([1, 8, 8, 3])).shape; // [1, 16, 16, 3]
 * ```
 */
export class Upsample extends Module<tf.Tensor, tf.Tensor> {
  /** Scale factor per axis as given (`[h, w]`, or `[d, h, w]`; one number is stored as `[v, v]`), or null when `size` is used. */
  readonly scaleFactor: number[] | null;
  /** Output size per axis as given (as `scaleFactor`), or null when `scaleFactor` is used. */
  readonly size: number[] | null;
  // Whether scaleFactor/size was one number, valid for any number of spatial axes.
  private readonly uniform: boolean;
  /** Interpolation mode. */
  readonly mode: UpsampleMode;
  /** Whether corners are aligned (bilinear only). */
  readonly alignCorners: boolean;

  /** @param options - exactly one of `scaleFactor` and `size`, plus the mode. */
  constructor(options: UpsampleOptions) {
    super();
    const { scaleFactor, size } = options;
    if ((scaleFactor === undefined) === (size === undefined)) {
      throw new ValueError(
        `Upsample: give exactly one of scaleFactor and size, but got ${scaleFactor === undefined ? 'neither' : 'both'}.`,
      );
    }
    this.mode = options.mode ?? 'nearest';
    if (this.mode !== 'nearest' && this.mode !== 'bilinear' && this.mode !== 'trilinear') {
      throw new ValueError(`Upsample: mode must be 'nearest', 'bilinear' or 'trilinear', but got '${String(this.mode)}'.`);
    }
    if (options.alignCorners === true && this.mode === 'nearest') {
      throw new ValueError(`Upsample: alignCorners can only be set with mode 'bilinear' (as in PyTorch); drop it for 'nearest'.`);
    }
    this.alignCorners = options.alignCorners ?? false;
    this.uniform = typeof (scaleFactor ?? size) === 'number';
    this.scaleFactor = scaleFactor === undefined ? null : sizesOf(scaleFactor, 'scaleFactor', (v) => Number.isFinite(v) && v > 0);
    this.size = size === undefined ? null : sizesOf(size, 'size', (v) => Number.isInteger(v) && v >= 1);
  }

  /** Output spatial size (`[h', w']` or `[d', h', w']`) for an input of spatial size `[h, w]` or `[d, h, w]`. */
  outputSize(...spatial: number[]): number[] {
    const sizes = this.perAxis(this.size ?? (this.scaleFactor as number[]), spatial.length);
    return this.size ? sizes : spatial.map((s, i) => Math.floor(s * sizes[i]));
  }

  // The stored sizes/factors for `axes` spatial axes (a single number applies to all of them).
  private perAxis(values: number[], axes: number): number[] {
    if (this.uniform) return Array.from({ length: axes }, () => values[0]);
    if (values.length !== axes) {
      throw new ShapeError(
        `Upsample: ${this.size ? 'size' : 'scaleFactor'} has ${values.length} entries but the input has ${axes} spatial axes; ` +
          `give ${axes === 3 ? '[d, h, w]' : '[h, w]'} or a single number.`,
      );
    }
    return values;
  }

  /** Resamples `[n, h, w, c]` to `[n, h', w', c]`, or `[n, d, h, w, c]` to `[n, d', h', w', c]`. */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank === 5) return this.forward3d(x);
    checkImageInput(x, 'Upsample');
    if (this.mode === 'trilinear') {
      throw new ShapeError(`Upsample: mode 'trilinear' needs an NDHWC volume (rank 5), but got shape [${x.shape.join(', ')}]; use 'bilinear' for images.`);
    }
    const [n, h, w, c] = x.shape;
    const [outH, outW] = this.outputSize(h, w);
    if (outH < 1 || outW < 1) {
      throw new ShapeError(
        `Upsample: input shape [${x.shape.join(', ')}] with scaleFactor ${JSON.stringify(this.scaleFactor)} ` +
          `gives an empty output (${outH}×${outW}). Use a larger scaleFactor or give size.`,
      );
    }
    const sf = this.scaleFactor ? this.perAxis(this.scaleFactor, 2) : null;
    const rowPlan = this.plan(h, outH, sf ? sf[0] : undefined);
    const colPlan = this.plan(w, outW, sf ? sf[1] : undefined);
    return tf.tidy(() => {
      // Power-of-two nearest scaling (2×, the U-Nets' case): see nearestPowerOfTwo.
      if (resizeKernelFits(rowPlan) && resizeKernelFits(colPlan) && (rowPlan.kind !== 'identity' || colPlan.kind !== 'identity')) {
        return nearestPowerOfTwo(x as tf.Tensor4D, timesOf(rowPlan), timesOf(colPlan));
      }
      let y: tf.Tensor = x;
      // Rows: [n, h, w·c] seen as a batch of h×(w·c) matrices.
      if (rowPlan.kind === 'repeat') {
        y = tf.reshape(tf.tile(tf.reshape(y, [n, h, 1, w * c]), [1, 1, rowPlan.times, 1]), [n, outH, w, c]);
      } else if (rowPlan.kind === 'matrix') {
        y = tf.reshape(tf.matMul(rowPlan.matrix(), tf.reshape(y, [n, h, w * c])), [n, outH, w, c]);
      }
      // Columns: [n·outH, w, c] seen as a batch of w×c matrices.
      if (colPlan.kind === 'repeat') {
        y = tf.reshape(tf.tile(tf.reshape(y, [n * outH, w, 1, c]), [1, 1, colPlan.times, 1]), [n, outH, outW, c]);
      } else if (colPlan.kind === 'matrix') {
        y = tf.reshape(tf.matMul(colPlan.matrix(), tf.reshape(y, [n * outH, w, c])), [n, outH, outW, c]);
      }
      return y === x ? tf.clone(x) : y;
    });
  }

  // Volumes: each spatial axis resampled in turn (nearest, or linear per axis = trilinear).
  private forward3d(x: tf.Tensor): tf.Tensor {
    checkVolumeInput(x, 'Upsample');
    if (this.mode === 'bilinear') {
      throw new ShapeError(`Upsample: mode 'bilinear' needs an NHWC image (rank 4), but got shape [${x.shape.join(', ')}]; use 'trilinear' for volumes.`);
    }
    const spatial = x.shape.slice(1, 4);
    const out = this.outputSize(...spatial);
    if (out.some((s) => s < 1)) {
      throw new ShapeError(
        `Upsample: input shape [${x.shape.join(', ')}] with scaleFactor ${JSON.stringify(this.scaleFactor)} ` +
          `gives an empty output (${out.join('×')}). Use a larger scaleFactor or give size.`,
      );
    }
    const sf = this.scaleFactor ? this.perAxis(this.scaleFactor, 3) : null;
    return tf.tidy(() => {
      let y: tf.Tensor = x;
      for (let a = 0; a < 3; a++) y = resampleAxis(y, a + 1, this.plan(spatial[a], out[a], sf ? sf[a] : undefined));
      return y === x ? tf.clone(x) : y;
    });
  }

  // How one axis is resampled: unchanged, by repeating each entry, or by an [out, in] matrix.
  private plan(inSize: number, outSize: number, scaleFactor: number | undefined): AxisPlan {
    if (this.mode === 'nearest') {
      const src = nearestSources(inSize, outSize, scaleFactor);
      if (src.every((s, d) => s === d)) return { kind: 'identity' };
      const times = outSize / inSize;
      if (Number.isInteger(times) && src.every((s, d) => s === Math.floor(d / times))) return { kind: 'repeat', times };
      return {
        kind: 'matrix',
        matrix: () => {
          const m = new Float32Array(outSize * inSize);
          src.forEach((s, d) => (m[d * inSize + s] = 1));
          return tf.tensor2d(m, [outSize, inSize]);
        },
      };
    }
    const taps = bilinearTaps(inSize, outSize, this.alignCorners, scaleFactor);
    if (taps.every(([i0, , l1], d) => i0 === d && l1 === 0)) return { kind: 'identity' };
    return {
      kind: 'matrix',
      matrix: () => {
        const m = new Float32Array(outSize * inSize);
        taps.forEach(([i0, i1, l1], d) => {
          m[d * inSize + i0] += 1 - l1;
          m[d * inSize + i1] += l1;
        });
        return tf.tensor2d(m, [outSize, inSize]);
      },
    };
  }

  /** PyTorch-style summary, e.g. `scaleFactor=2, mode=nearest`. */
  override extraRepr(): string {
    const p = (v: number[]): string => (v.every((e) => e === v[0]) ? String(v[0]) : `[${v.join(',')}]`);
    let s = this.size ? `size=${p(this.size)}` : `scaleFactor=${p(this.scaleFactor as number[])}`;
    s += `, mode=${this.mode}`;
    if (this.mode !== 'nearest') s += `, alignCorners=${this.alignCorners}`;
    return s;
  }
}

/** Whether an axis plan is one the nearest-resize kernel reproduces exactly: identity or a power-of-two repeat. */
function resizeKernelFits(plan: AxisPlan): boolean {
  return plan.kind === 'identity' || (plan.kind === 'repeat' && Number.isInteger(Math.log2(plan.times)));
}

function timesOf(plan: AxisPlan): number {
  return plan.kind === 'repeat' ? plan.times : 1;
}

/**
 * Nearest upscaling by power-of-two factors: forward with tfjs's nearest-resize kernel (its source
 * index ⌊dst·in/out⌋ is exact for these ratios, so it picks PyTorch's pixels), backward as a sum
 * over each source pixel's block, i.e. a stride-k average pool times k_h·k_w (exact: both are
 * powers of two). tfjs-backend-cpu's own nearest-resize gradient is wrong without alignCorners,
 * and the Tile used otherwise is a generic per-element loop on wasm (~20× slower for a 2× upsampling).
 */
function nearestPowerOfTwo(x: tf.Tensor4D, kh: number, kw: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const up = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.image.resizeNearestNeighbor(args[0] as tf.Tensor4D, [h * kh, w * kw]),
    gradFunc: (dy: tf.Tensor4D) => tf.mul(tf.avgPool(dy, [kh, kw], [kh, kw], 'valid'), kh * kw),
  }));
  return up(x);
}

type AxisPlan = { kind: 'identity' } | { kind: 'repeat'; times: number } | { kind: 'matrix'; matrix: () => tf.Tensor2D };

function sizesOf(value: number | SpatialSizes, name: string, ok: (v: number) => boolean): number[] {
  const list: readonly number[] = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(list) || (list.length !== 2 && list.length !== 3) || !list.every(ok)) {
    throw new ValueError(
      `Upsample: ${name} must be a positive ${name === 'size' ? 'integer' : 'number'}, a pair [h, w] or a triple [d, h, w] of them, ` +
        `but got ${JSON.stringify(value)}.`,
    );
  }
  return [...list];
}

/** Applies an axis plan to axis `axis` of `y`, seen as `[before, in, after]`. */
function resampleAxis(y: tf.Tensor, axis: number, plan: AxisPlan): tf.Tensor {
  if (plan.kind === 'identity') return y;
  const shape = y.shape;
  const before = shape.slice(0, axis).reduce((p, v) => p * v, 1);
  const after = shape.slice(axis + 1).reduce((p, v) => p * v, 1);
  const inSize = shape[axis];
  const next = shape.slice();
  if (plan.kind === 'repeat') {
    next[axis] = inSize * plan.times;
    return tf.reshape(tf.tile(tf.reshape(y, [before, inSize, 1, after]), [1, 1, plan.times, 1]), next);
  }
  const m = plan.matrix();
  next[axis] = m.shape[0];
  return tf.reshape(tf.matMul(m, tf.reshape(y, [before, inSize, after])), next);
}

/**
 * PyTorch's legacy nearest source index per output index, computed in float32 as PyTorch does
 * (`floorf(dst * scale)`), so that boundary cases pick the same pixel.
 */
function nearestSources(inSize: number, outSize: number, scaleFactor: number | undefined): number[] {
  if (outSize === inSize) return Array.from({ length: outSize }, (_, d) => d);
  if (outSize === 2 * inSize) return Array.from({ length: outSize }, (_, d) => d >> 1);
  const scale = Math.fround(scaleFactor !== undefined ? 1 / scaleFactor : inSize / outSize);
  return Array.from({ length: outSize }, (_, d) => Math.min(Math.floor(Math.fround(d * scale)), inSize - 1));
}

/** PyTorch's bilinear taps per output index: `[i0, i1, weight of i1]`. */
function bilinearTaps(inSize: number, outSize: number, alignCorners: boolean, scaleFactor: number | undefined): [number, number, number][] {
  let scale: number;
  if (alignCorners) scale = outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  else scale = scaleFactor !== undefined ? 1 / scaleFactor : inSize / outSize;
  return Array.from({ length: outSize }, (_, d) => {
    const src = alignCorners ? scale * d : Math.max(scale * (d + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    const l1 = i1 === i0 ? 0 : src - i0;
    return [i0, i1, l1] as [number, number, number];
  });
}
