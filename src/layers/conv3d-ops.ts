// 3-D convolution primitives with gradients that avoid tfjs's Conv3DBackpropInputV2 kernel
// (internal: not re-exported by the barrel).
//
// tfjs-backend-wasm 4.22's Conv3DBackpropInputV2 returns wrong values (max |cpu − wasm| ≈ 11 on a
// 3×3×3 'same' case), and that kernel is both the input gradient of tf.conv3d and the forward of
// tf.conv3dTranspose. Here the input-side operation is written as a forward convolution of the
// zero-spread, padded output gradient with the flipped kernel, which every backend computes right;
// the kernel gradient uses Conv3DBackpropFilterV2 at stride 1 only, where it agrees across backends.
import * as tf from '@tensorflow/tfjs-core';

export type Triple = [number, number, number];

/** Inserts `f − 1` zeros between neighbouring entries along three consecutive axes from `first`. */
export function spreadAxes(t: tf.Tensor, first: number, factors: readonly number[]): tf.Tensor {
  let y = t;
  factors.forEach((f, i) => {
    if (f === 1) return;
    const axis = first + i;
    const shape = y.shape;
    const n = shape[axis];
    const before = shape.slice(0, axis).reduce((p, v) => p * v, 1);
    const after = shape.slice(axis + 1).reduce((p, v) => p * v, 1);
    const spread = tf.concat([tf.reshape(y, [before, n, 1, after]), tf.zeros([before, n, f - 1, after])], 2);
    const kept = tf.slice(tf.reshape(spread, [before, n * f, after]), [0, 0, 0], [before, (n - 1) * f + 1, after]);
    const next = shape.slice();
    next[axis] = (n - 1) * f + 1;
    y = tf.reshape(kept, next);
  });
  return y;
}

/**
 * The adjoint of a 'valid' 3-D convolution with respect to its input: maps `dy`
 * `[n, od, oh, ow, cout]` to `[n, ...inputSpatial, cin]` for a kernel `[kd, kh, kw, cin, cout]`.
 * Computed as a forward convolution (see the file comment).
 */
export function convInputAdjoint(dy: tf.Tensor5D, kernel: tf.Tensor5D, stride: Triple, inputSpatial: readonly number[]): tf.Tensor5D {
  return tf.tidy(() => {
    const k = kernel.shape.slice(0, 3);
    const spread = spreadAxes(dy, 1, stride);
    const pads: [number, number][] = k.map((kk, i) => {
      const covered = (dy.shape[i + 1] - 1) * stride[i] + kk;
      return [kk - 1, kk - 1 + (inputSpatial[i] - covered)];
    });
    const padded = tf.pad(spread, [[0, 0], ...pads, [0, 0]]);
    const flipped = tf.transpose(tf.reverse(kernel, [0, 1, 2]), [0, 1, 2, 4, 3]) as tf.Tensor5D;
    return tf.conv3d(padded as tf.Tensor5D, flipped, 1, 'valid');
  });
}

/**
 * The kernel gradient of a 'valid' strided 3-D convolution of `x` giving `dy`. Strides are turned
 * into a stride-1 problem (output gradient zero-spread, input cropped to the covered extent)
 * because tfjs-backend-wasm 4.22's Conv3DBackpropFilterV2 is wrong for strides above 1 (it agrees
 * with the cpu backend at stride 1).
 */
export function convKernelGrad(x: tf.Tensor5D | tf.Tensor, dy: tf.Tensor, stride: Triple, kernelShape: number[]): tf.Tensor {
  return tf.tidy(() => {
    let input = x;
    let grad = dy;
    if (stride.some((s) => s > 1)) {
      grad = spreadAxes(dy, 1, stride);
      const covered = [1, 2, 3].map((a, i) => (dy.shape[a] - 1) * stride[i] + kernelShape[i]);
      input = tf.slice(x, [0, 0, 0, 0, 0], [x.shape[0] as number, ...covered, x.shape[4] as number]);
    }
    return tf.engine().runKernel('Conv3DBackpropFilterV2', { x: input, dy: grad }, { strides: [1, 1, 1], pad: 'valid', filterShape: kernelShape }) as tf.Tensor;
  });
}

/** 'valid' strided 3-D convolution `[n, d, h, w, cin] → [n, d', h', w', cout]` with a correct gradient on every backend. */
export function conv3dValid(x: tf.Tensor5D, kernel: tf.Tensor5D, stride: Triple): tf.Tensor5D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, k, save] = args as [tf.Tensor5D, tf.Tensor5D, tf.GradSaveFunc];
    save([input, k]);
    return {
      value: tf.conv3d(input, k, stride, 'valid'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sk] = saved as [tf.Tensor5D, tf.Tensor5D];
        return [convInputAdjoint(dy as tf.Tensor5D, sk, stride, sx.shape.slice(1, 4)), convKernelGrad(sx, dy, stride, sk.shape)];
      },
    };
  });
  return op(x, kernel) as tf.Tensor5D;
}

/**
 * The full ('valid') transposed 3-D convolution `[n, d, h, w, cin] → [n, (d − 1)·s + k, …, cout]`
 * for a kernel `[kd, kh, kw, cout, cin]` (tfjs's conv3dTranspose layout), with its gradient.
 */
export function conv3dTransposeValid(x: tf.Tensor5D, kernel: tf.Tensor5D, stride: Triple): tf.Tensor5D {
  const full = x.shape.slice(1, 4).map((n, i) => (n - 1) * stride[i] + kernel.shape[i]);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, k, save] = args as [tf.Tensor5D, tf.Tensor5D, tf.GradSaveFunc];
    save([input, k]);
    return {
      // The transposed convolution is the input adjoint of the convolution with this kernel.
      value: convInputAdjoint(input, k, stride, full),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sk] = saved as [tf.Tensor5D, tf.Tensor5D];
        // Its adjoint is the forward convolution; the kernel gradient swaps input and output roles.
        return [tf.conv3d(dy as tf.Tensor5D, sk, stride, 'valid'), convKernelGrad(dy, sx, stride, sk.shape)];
      },
    };
  });
  return op(x, kernel) as tf.Tensor5D;
}
