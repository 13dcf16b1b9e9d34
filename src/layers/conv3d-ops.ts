// 3-D convolution primitives built from 2-D ones (internal: not re-exported by the barrel).
//
// tfjs-backend-wasm 4.22's Conv3D, Conv3DBackpropInputV2 and Conv3DBackpropFilterV2 are plain loops
// (no XNNPACK), and the last two return wrong values (max |cpu − wasm| ≈ 11 on a 3×3×3 'same'
// input gradient; the filter gradient is wrong at strides above 1). A 3-D convolution is therefore
// computed here as one 2-D convolution over depth-stacked input planes:
//
//   y[n, z, ·, ·, o] = Σ_{a < kd} conv2d(x[n, z·sd + a], W[a])[·, ·, o]
//                    = conv2d(concat_a x[n, z·sd + a]  (channels a·cin + c),  W reshaped to [kh, kw, kd·cin, cout])
//
// so the product runs on the backend's 2-D kernels (XNNPACK and medvae's 2-D gradient kernels on
// wasm, OpenBLAS with medvae-native, shaders on WebGL) and the gradients come from tfjs's 2-D
// convolution gradients plus those of the slices, concats and reshapes around them. Every tensor
// the composition slices or pads is viewed with at most four axes, because tfjs-backend-wasm slices
// 5-D tensors element by element in JavaScript (a 2×34³×16 slice took 2.8 s under load).
//
// With medvae-native loaded, the wasm backend's three 3-D kernels are medvae's (vol2col + OpenBLAS,
// src/backend/native/kernels3d.ts, correct where the stock ones are not): convolutions whose padding
// is the same on every side (the U-Net's 3×3×3 padding 1, 'valid', the 2×2×2 upsampling) then call
// them directly, without the stacked copies.
import * as tf from '@tensorflow/tfjs-core';
import { isMedvaeKernel } from '../backend/kernels/registry.js';
import { NATIVE_3D_KERNELS } from '../backend/native/kernels3d.js';

export type Triple = [number, number, number];
/** Zero padding `[before, after]` per spatial axis `[d, h, w]`. */
export type Pads3 = readonly (readonly [number, number])[];

const NO_PADS: Pads3 = [[0, 0], [0, 0], [0, 0]];

/** True when the active backend runs medvae-native's 3-D convolution kernels (wasm with the addon). */
function native3d(): boolean {
  return tf.getBackend() === 'wasm' && NATIVE_3D_KERNELS.every((k) => isMedvaeKernel(k, 'wasm'));
}

/** The padding as tfjs's 3-D kernels take it (one number for every side), or undefined when the sides differ. */
function uniformPad(pads: Pads3): number | undefined {
  const p = pads[0][0];
  return pads.every(([a, b]) => a === p && b === p) ? p : undefined;
}

type Attrs = Record<string, unknown>;
const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Attrs): tf.Tensor => tf.engine().runKernel(name, inputs, attrs as never) as tf.Tensor;

/** 3-D convolution with `pad` zeros on every side through the native kernels, with its gradient. */
function conv3dNative(x: tf.Tensor5D, kernel: tf.Tensor5D, stride: Triple, pad: number): tf.Tensor5D {
  const attrs = { strides: stride, pad, dataFormat: 'NDHWC', dilations: [1, 1, 1] };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, k, save] = args as [tf.Tensor5D, tf.Tensor5D, tf.GradSaveFunc];
    save([input, k]);
    return {
      value: run(tf.Conv3D, { x: input, filter: k }, attrs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sk] = saved;
        return [
          run(tf.Conv3DBackpropInputV2, { dy, filter: sk }, { ...attrs, inputShape: sx.shape }),
          run(tf.Conv3DBackpropFilterV2, { x: sx, dy }, { ...attrs, filterShape: sk.shape }),
        ];
      },
    };
  });
  return op(x, kernel) as tf.Tensor5D;
}

/** The full transposed 3-D convolution through the native kernels (the input gradient of a 'valid' convolution), with its gradient. */
function conv3dTransposeNative(x: tf.Tensor5D, kernel: tf.Tensor5D, stride: Triple, outShape: number[]): tf.Tensor5D {
  const attrs = { strides: stride, pad: 'valid', dataFormat: 'NDHWC', dilations: [1, 1, 1] };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, k, save] = args as [tf.Tensor5D, tf.Tensor5D, tf.GradSaveFunc];
    save([input, k]);
    return {
      value: run(tf.Conv3DBackpropInputV2, { dy: input, filter: k }, { ...attrs, inputShape: outShape }),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sk] = saved;
        // The adjoint of the transposed convolution is the forward one; for the kernel, the
        // transposed convolution's output gradient plays the input and its input the output gradient.
        return [run(tf.Conv3D, { x: dy, filter: sk }, attrs), run(tf.Conv3DBackpropFilterV2, { x: dy, dy: sx }, { ...attrs, filterShape: sk.shape })];
      },
    };
  });
  return op(x, kernel) as tf.Tensor5D;
}

/**
 * The input planes `z·stride + offset` for `z < count` of `x3` (`[n, depth, rest]`), as
 * `[n, count, rest]`, through contiguous slices and reshapes only.
 */
function depthPlanes(x3: tf.Tensor3D, offset: number, stride: number, count: number): tf.Tensor3D {
  const [n, depth, rest] = x3.shape;
  if (stride === 1) return tf.slice(x3, [0, offset, 0], [n, count, rest]) as tf.Tensor3D;
  // Take `count · stride` planes from `offset` (zero planes appended where that runs past the end,
  // never read back), fold every `stride` planes into one row and keep the first plane of each.
  const need = offset + count * stride - depth;
  const src = need > 0 ? tf.pad(x3, [[0, 0], [0, need], [0, 0]]) : x3;
  const run = tf.slice(src, [0, offset, 0], [n, count * stride, rest]);
  return tf.slice(tf.reshape(run, [n, count, stride * rest]), [0, 0, 0], [n, count, rest]) as tf.Tensor3D;
}

/**
 * 3-D convolution of `x` `[n, d, h, w, cin]`, zero-padded by `pads`, with `kernel`
 * `[kd, kh, kw, cin, cout]` and `stride`, without further padding: `[n, d', h', w', cout]` with
 * `d' = ⌊(d + pads − kd) / sd⌋ + 1` (likewise h', w'). Differentiable on every backend.
 */
export function conv3dPadded(x: tf.Tensor5D, kernel: tf.Tensor5D, stride: Triple, pads: Pads3 = NO_PADS): tf.Tensor5D {
  const pad = uniformPad(pads);
  if (pad !== undefined && native3d()) return conv3dNative(x, kernel, stride, pad);
  return tf.tidy(() => {
    const [n, d, h, w, cin] = x.shape;
    const [kd, kh, kw, , cout] = kernel.shape;
    const [sd, sh, sw] = stride;
    const [[d0, d1], [h0, h1], [w0, w1]] = pads;
    const od = Math.floor((d + d0 + d1 - kd) / sd) + 1;
    const rest = h * w * cin;
    let x3 = tf.reshape(x, [n, d, rest]) as tf.Tensor3D;
    if (d0 > 0 || d1 > 0) x3 = tf.pad(x3, [[0, 0], [d0, d1], [0, 0]]);
    // One [n·od, h, w, cin] stack of planes per kernel depth tap, concatenated along channels.
    const taps = Array.from({ length: kd }, (_, a) => tf.reshape(depthPlanes(x3, a, sd, od), [n * od, h, w, cin]) as tf.Tensor4D);
    const stacked = kd === 1 ? taps[0] : tf.concat(taps, 3);
    // [kd, kh, kw, cin, cout] → [kh, kw, kd·cin, cout], channel a·cin + c as in `stacked`.
    const w2 = kd === 1 ? tf.reshape(kernel, [kh, kw, cin, cout]) : tf.reshape(tf.transpose(kernel, [1, 2, 0, 3, 4]), [kh, kw, kd * cin, cout]);
    const pad2: 'valid' | tf.backend_util.ExplicitPadding = h0 || h1 || w0 || w1 ? [[0, 0], [h0, h1], [w0, w1], [0, 0]] : 'valid';
    const y = tf.conv2d(stacked, w2 as tf.Tensor4D, [sh, sw], pad2);
    return tf.reshape(y, [n, od, y.shape[1], y.shape[2], cout]) as tf.Tensor5D;
  });
}

/** 'valid' strided 3-D convolution `[n, d, h, w, cin] → [n, d', h', w', cout]` with a correct gradient on every backend. */
export function conv3dValid(x: tf.Tensor5D, kernel: tf.Tensor5D, stride: Triple): tf.Tensor5D {
  return conv3dPadded(x, kernel, stride, NO_PADS);
}

/**
 * The full ('valid') transposed 3-D convolution `[n, d, h, w, cin] → [n, (d − 1)·s + k, …, cout]`
 * for a kernel `[kd, kh, kw, cout, cin]` (tfjs's conv3dTranspose layout), differentiable on every
 * backend.
 *
 * Each kernel depth tap `a` is a 2-D transposed convolution of every input plane, landing on
 * output plane `z·sd + a`; all taps run as one 2-D transposed convolution with `kd·cout` output
 * channels. When `kd = sd` (the U-Net's 2×2×2 stride-2 upsampling) the taps tile the output depth
 * and one transpose interleaves them; otherwise each tap is spread `sd` planes apart, shifted by `a`
 * and the taps are summed.
 */
export function conv3dTransposeValid(x: tf.Tensor5D, kernel: tf.Tensor5D, stride: Triple): tf.Tensor5D {
  const [n, d, h, w, cin] = x.shape;
  const [kd, kh, kw, cout] = kernel.shape;
  const [sd, sh, sw] = stride;
  const oh = (h - 1) * sh + kh;
  const ow = (w - 1) * sw + kw;
  const od = (d - 1) * sd + kd;
  if (native3d()) return conv3dTransposeNative(x, kernel, stride, [n, od, oh, ow, cout]);
  return tf.tidy(() => {
    // [kd, kh, kw, cout, cin] → [kh, kw, kd·cout, cin]: output channel a·cout + o.
    const w2 = kd === 1 ? tf.reshape(kernel, [kh, kw, cout, cin]) : tf.reshape(tf.transpose(kernel, [1, 2, 0, 3, 4]), [kh, kw, kd * cout, cin]);
    const planes = tf.conv2dTranspose(tf.reshape(x, [n * d, h, w, cin]) as tf.Tensor4D, w2 as tf.Tensor4D, [n * d, oh, ow, kd * cout], [sh, sw], 'valid');
    const plane = oh * ow * cout;
    if (kd === sd) {
      // [n·d, oh·ow, kd, cout] → [n·d, kd, oh·ow, cout]: plane z·kd + a follows plane z·kd + a − 1.
      const t = tf.transpose(tf.reshape(planes, [n * d, oh * ow, kd, cout]), [0, 2, 1, 3]);
      return tf.reshape(t, [n, od, oh, ow, cout]) as tf.Tensor5D;
    }
    const byTap = tf.reshape(planes, [n * d * oh * ow, kd, cout]) as tf.Tensor3D;
    const parts = Array.from({ length: kd }, (_, a) => {
      let p = tf.reshape(tf.slice(byTap, [0, a, 0], [n * d * oh * ow, 1, cout]), [n, d, plane]) as tf.Tensor3D;
      if (sd > 1) {
        // Plane z goes to z·sd: sd − 1 zero planes after each, the trailing ones dropped.
        const spread = tf.concat([tf.reshape(p, [n * d, 1, plane]), tf.zeros([n * d, sd - 1, plane])], 1);
        p = tf.slice(tf.reshape(spread, [n, d * sd, plane]), [0, 0, 0], [n, (d - 1) * sd + 1, plane]) as tf.Tensor3D;
      }
      return tf.pad(p, [[0, 0], [a, kd - 1 - a], [0, 0]]);
    });
    return tf.reshape(parts.length === 1 ? parts[0] : tf.addN(parts), [n, od, oh, ow, cout]) as tf.Tensor5D;
  });
}
