import type { Tensor } from '@tensorflow/tfjs-core';
import { DTypeError, ShapeError } from './errors.js';

/**
 * One expected dimension: a number that must match exactly, or `null` for "any size".
 */
export type DimSpec = number | null;

function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/**
 * Throws a {@link ShapeError} unless `x` has exactly `rank` dimensions.
 *
 * @param x - the tensor to check.
 * @param rank - the required rank.
 * @param name - how the tensor is called in the message (e.g. `"Conv2d input"`).
 * @param layout - optional names of the axes, e.g. `"NHWC"`, used to explain the expected layout.
 */
export function assertRank(x: Tensor, rank: number, name: string, layout?: string): void {
  if (x.rank !== rank) {
    const hint = layout ? ` in ${layout} layout` : '';
    throw new ShapeError(
      `${name} must have rank ${rank}${hint}, but got rank ${x.rank} with shape ${formatShape(x.shape)}. ` +
        `Reshape or expand the tensor to ${rank} dimensions${hint} first.`,
    );
  }
}

/**
 * Throws a {@link ShapeError} unless `x` matches `expected` dimension by dimension. The message
 * names the first dimension that is wrong, using `dimNames` when given.
 *
 * @example
 * ```ts
 * assertShape(x, [null, null, null, 3], 'image', ['batch', 'height', 'width', 'channels']);
 * ```
 */
export function assertShape(
  x: Tensor,
  expected: readonly DimSpec[],
  name: string,
  dimNames?: readonly string[],
): void {
  if (x.rank !== expected.length) {
    throw new ShapeError(
      `${name} must have shape ${formatShape(expected)} (rank ${expected.length}), ` +
        `but got shape ${formatShape(x.shape)} (rank ${x.rank}).`,
    );
  }
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i];
    if (want !== null && x.shape[i] !== want) {
      const dim = dimNames?.[i] ?? `dimension ${i}`;
      throw new ShapeError(
        `${name}: ${dim} (axis ${i}) must be ${want}, but got ${x.shape[i]} ` +
          `(shape ${formatShape(x.shape)}, expected ${formatShape(expected)}).`,
      );
    }
  }
}

/** Throws a {@link ShapeError} unless `a` and `b` have identical shapes. */
export function assertSameShape(a: Tensor, b: Tensor, nameA: string, nameB: string): void {
  const same = a.rank === b.rank && a.shape.every((d, i) => d === b.shape[i]);
  if (!same) {
    throw new ShapeError(
      `${nameA} and ${nameB} must have the same shape, but ${nameA} is ${formatShape(a.shape)} ` +
        `and ${nameB} is ${formatShape(b.shape)}.`,
    );
  }
}

/** Throws a {@link DTypeError} unless `x` is float32. */
export function assertFloat(x: Tensor, name: string): void {
  if (x.dtype !== 'float32') {
    throw new DTypeError(
      `${name} must be float32, but got ${x.dtype}. Convert it with tf.cast(x, 'float32').`,
    );
  }
}

/** Formats a shape as `[2, 3, ?]` for error messages. */
export { formatShape };
