import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';

/** How inputs smaller than the window are padded, as PyTorch's `F.pad` modes (MONAI's `padding_mode`). */
export type PaddingMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/**
 * Pads the spatial axes (1 … rank − 2) of a channels-last tensor by `[before, after]` per axis:
 * with `value` (`'constant'`), mirrored without repeating the edge (`'reflect'`), by repeating the
 * edge (`'replicate'`) or by wrapping around (`'circular'`), as PyTorch's `F.pad`.
 */
export function padSpatial(x: tf.Tensor, pads: readonly (readonly [number, number])[], mode: PaddingMode, value = 0): tf.Tensor {
  if (pads.every(([a, b]) => a === 0 && b === 0)) return x;
  const full: [number, number][] = [[0, 0], ...pads.map(([a, b]) => [a, b] as [number, number]), [0, 0]];
  switch (mode) {
    case 'constant':
      return tf.pad(x, full, value);
    case 'reflect':
      pads.forEach(([a, b], i) => {
        const n = x.shape[i + 1];
        if (a >= n || b >= n) {
          throw new ShapeError(`padSpatial: 'reflect' padding (${a}, ${b}) must be smaller than the axis size ${n} (as in PyTorch); use 'replicate' or 'constant'.`);
        }
      });
      return tf.mirrorPad(x, full, 'reflect');
    case 'replicate':
    case 'circular':
      return tf.tidy(() => {
        let y = x;
        pads.forEach(([a, b], i) => {
          const axis = i + 1;
          const n = y.shape[axis];
          if (mode === 'circular' && (a > n || b > n)) {
            throw new ShapeError(`padSpatial: 'circular' padding (${a}, ${b}) must not exceed the axis size ${n} (as in PyTorch).`);
          }
          const take = (start: number, size: number): tf.Tensor => {
            const begin = y.shape.map(() => 0);
            const sizes = y.shape.slice();
            begin[axis] = start;
            sizes[axis] = size;
            return tf.slice(y, begin, sizes);
          };
          const parts: tf.Tensor[] = [];
          if (a > 0) parts.push(mode === 'circular' ? take(n - a, a) : tf.concat(Array.from({ length: a }, () => take(0, 1)), axis));
          parts.push(y);
          if (b > 0) parts.push(mode === 'circular' ? take(0, b) : tf.concat(Array.from({ length: b }, () => take(n - 1, 1)), axis));
          y = parts.length > 1 ? tf.concat(parts, axis) : y;
        });
        return y;
      });
    default:
      throw new ValueError(`padSpatial: paddingMode must be 'constant', 'reflect', 'replicate' or 'circular', but got '${String(mode)}'.`);
  }
}
