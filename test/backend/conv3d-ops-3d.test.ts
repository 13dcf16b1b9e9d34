// medvae's 3-D convolutions (src/layers/conv3d-ops.ts: one 2-D convolution over depth-stacked
// planes, or medvae-native's vol2col + OpenBLAS 3-D kernels) against the cpu backend's own 3-D
// kernels: values, input gradients and kernel gradients, on cpu, on pure wasm (XNNPACK + medvae's
// 2-D gradient kernels) and on wasm + medvae-native (its 3-D kernels for uniform padding). Strides 1–3, explicit symmetric ('same') and asymmetric padding, 'valid', odd sizes.
// The native runs need the compiled addon (packages/medvae-native); without it they are skipped
// with the reason printed.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, useBackend } from '../../src/index.js';
import { conv3dPadded, conv3dTransposeValid, type Pads3, type Triple } from '../../src/layers/conv3d-ops.js';
import { loadNativeAddon } from '../../src/backend/native/loader.js';
import { installNativeKernels, nativeKernelsStatus, uninstallNativeKernels } from '../../src/backend/native/native-kernels.js';
import { expectClose, expectNoLeak } from '../helpers/tf.js';

const loaded = await loadNativeAddon();
if (!loaded.ok) console.warn(`conv3d-ops-3d.test.ts: wasm + native runs skipped: ${loaded.reason}`);

type Mode = 'cpu' | 'wasm' | 'native';
const MODES: Mode[] = loaded.ok ? ['cpu', 'wasm', 'native'] : ['cpu', 'wasm'];

async function activate(mode: Mode): Promise<void> {
  await tf.setBackend(mode === 'cpu' ? 'cpu' : 'wasm');
  if (mode === 'native' && loaded.ok) installNativeKernels(loaded.addon, loaded.addonPath);
  if (mode === 'wasm') uninstallNativeKernels('off for a pure-wasm run of conv3d-ops-3d.test.ts');
}

/** Seeded standard-normal values. */
function randn(n: number, seed: number): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from(g.normalArray(n, 0, 1));
}

interface Arrays {
  y: Float32Array;
  dx: Float32Array;
  dk: Float32Array;
}

/** A tensor of any rank from plain values. */
const tensorOf = (v: Float32Array, shape: readonly number[]): tf.Tensor => tf.tensor(v, shape.slice());

const read = (ts: tf.Tensor[]): Float32Array[] => ts.map((t) => t.dataSync() as Float32Array);

/** Compares `got` with `want` with a tolerance scaled to the reference's magnitude (float32 sums). */
function expectArrays(got: Arrays, want: Arrays, what: string): void {
  for (const key of ['y', 'dx', 'dk'] as const) {
    const scale = Math.max(1, ...Array.from(want[key], Math.abs));
    expectClose(got[key], want[key], 1e-4, 2e-5 * scale, `${what} ${key}`);
  }
}

interface ConvCase {
  x: number[];
  k: number[];
  stride: Triple;
  pads: Pads3;
}

const convCases: ConvCase[] = [
  { x: [2, 5, 6, 7, 3], k: [3, 3, 3, 3, 4], stride: [1, 1, 1], pads: [[1, 1], [1, 1], [1, 1]] }, // 'same', odd sizes
  { x: [1, 7, 6, 5, 2], k: [3, 3, 3, 2, 3], stride: [2, 2, 2], pads: [[1, 1], [1, 1], [1, 1]] }, // stride 2, padding 1
  { x: [2, 6, 5, 4, 2], k: [2, 3, 1, 2, 3], stride: [2, 1, 2], pads: [[0, 0], [0, 0], [0, 0]] }, // 'valid', mixed strides
  { x: [2, 4, 5, 3, 5], k: [1, 1, 1, 5, 2], stride: [1, 1, 1], pads: [[0, 0], [0, 0], [0, 0]] }, // 1×1×1 head
  { x: [1, 5, 7, 6, 2], k: [3, 2, 3, 2, 3], stride: [1, 2, 1], pads: [[0, 1], [1, 0], [2, 1]] }, // asymmetric padding
  { x: [1, 8, 5, 5, 1], k: [3, 3, 3, 1, 2], stride: [3, 2, 3], pads: [[0, 0], [1, 1], [0, 0]] }, // stride 3, trailing planes unread
];

/** Reference: the cpu backend's tf.conv3d of the zero-padded input and its gradients. */
function conv3dReference(c: ConvCase, x: Float32Array, k: Float32Array, dy: Float32Array, dyShape: number[]): Arrays {
  return tf.tidy(() => {
    const xt = tensorOf(x, c.x) as tf.Tensor5D;
    const kt = tensorOf(k, c.k) as tf.Tensor5D;
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor5D => tf.conv3d(tf.pad(a, [[0, 0], ...c.pads.map((p) => [p[0], p[1]] as [number, number]), [0, 0]]) as tf.Tensor5D, b as tf.Tensor5D, c.stride, 'valid');
    const y = f(xt, kt);
    const [dx, dk] = tf.grads(f)([xt, kt], tensorOf(dy, dyShape));
    const [yv, dxv, dkv] = read([y, dx, dk]);
    return { y: yv, dx: dxv, dk: dkv };
  });
}

function conv3dMedvae(c: ConvCase, x: Float32Array, k: Float32Array, dy: Float32Array, dyShape: number[]): Arrays {
  return tf.tidy(() => {
    const xt = tensorOf(x, c.x) as tf.Tensor5D;
    const kt = tensorOf(k, c.k) as tf.Tensor5D;
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor5D => conv3dPadded(a as tf.Tensor5D, b as tf.Tensor5D, c.stride, c.pads);
    const y = f(xt, kt);
    expect(y.shape).toEqual(dyShape);
    const [dx, dk] = tf.grads(f)([xt, kt], tensorOf(dy, dyShape));
    const [yv, dxv, dkv] = read([y, dx, dk]);
    return { y: yv, dx: dxv, dk: dkv };
  });
}

interface TransposeCase {
  x: number[];
  /** `[kd, kh, kw, cout, cin]`. */
  k: number[];
  stride: Triple;
}

const transposeCases: TransposeCase[] = [
  { x: [2, 3, 4, 5, 3], k: [2, 2, 2, 4, 3], stride: [2, 2, 2] }, // the U-Net's upsampling (kd = sd)
  { x: [1, 3, 3, 4, 2], k: [3, 3, 3, 2, 2], stride: [2, 2, 2] }, // overlapping taps
  { x: [1, 4, 3, 3, 2], k: [3, 2, 2, 3, 2], stride: [1, 1, 1] }, // stride 1
  { x: [2, 3, 2, 3, 1], k: [1, 2, 3, 2, 1], stride: [2, 2, 1] }, // kd < sd: empty planes between
];

/**
 * Reference on the cpu backend: tf.conv3dTranspose for the value; the gradients by the adjoint
 * relation, dx = conv3d(dy, k) and dk = the kernel gradient of conv3d(dy, ·) against x.
 */
function transposeReference(c: TransposeCase, x: Float32Array, k: Float32Array, dy: Float32Array, outShape: number[]): Arrays {
  return tf.tidy(() => {
    const xt = tensorOf(x, c.x) as tf.Tensor5D;
    const kt = tensorOf(k, c.k) as tf.Tensor5D;
    const dyt = tensorOf(dy, outShape) as tf.Tensor5D;
    const y = tf.conv3dTranspose(xt, kt, outShape as [number, number, number, number, number], c.stride, 'valid');
    const dx = tf.conv3d(dyt, kt, c.stride, 'valid');
    const dk = tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv3d(dyt, f as tf.Tensor5D, c.stride, 'valid'), xt)))(kt);
    const [yv, dxv, dkv] = read([y, dx, dk]);
    return { y: yv, dx: dxv, dk: dkv };
  });
}

function transposeMedvae(c: TransposeCase, x: Float32Array, k: Float32Array, dy: Float32Array, outShape: number[]): Arrays {
  return tf.tidy(() => {
    const xt = tensorOf(x, c.x) as tf.Tensor5D;
    const kt = tensorOf(k, c.k) as tf.Tensor5D;
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor5D => conv3dTransposeValid(a as tf.Tensor5D, b as tf.Tensor5D, c.stride);
    const y = f(xt, kt);
    expect(y.shape).toEqual(outShape);
    const [dx, dk] = tf.grads(f)([xt, kt], tensorOf(dy, outShape));
    const [yv, dxv, dkv] = read([y, dx, dk]);
    return { y: yv, dx: dxv, dk: dkv };
  });
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

describe('3-D convolutions from 2-D ones (conv3d-ops) vs the cpu backend', () => {
  beforeAll(async () => {
    await useBackend('cpu');
    await useBackend('wasm');
  });
  afterAll(async () => {
    // Leave the wasm backend with its native kernels as useBackend installs them.
    await useBackend('wasm');
  });

  it.each(convCases.map((c, i) => [i, c] as const))('conv3dPadded case %i matches tf.conv3d on cpu (values and gradients)', async (i, c) => {
    const x = randn(size(c.x), 10 + i);
    const k = randn(size(c.k), 20 + i);
    const out = c.x.slice(1, 4).map((n, a) => Math.floor((n + c.pads[a][0] + c.pads[a][1] - c.k[a]) / c.stride[a]) + 1);
    const dyShape = [c.x[0], ...out, c.k[4]];
    const dy = randn(size(dyShape), 30 + i);
    await activate('cpu');
    const want = conv3dReference(c, x, k, dy, dyShape);
    for (const mode of MODES) {
      await activate(mode);
      // With the addon, uniform padding runs on its 3-D kernels, other padding on its 2-D ones.
      if (mode === 'native') expect(nativeKernelsStatus().kernels).toEqual(expect.arrayContaining(['Conv2D', 'Conv3D', 'Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2']));
      expectArrays(conv3dMedvae(c, x, k, dy, dyShape), want, `${mode} case ${i}`);
    }
  });

  it.each(transposeCases.map((c, i) => [i, c] as const))('conv3dTransposeValid case %i matches tf.conv3dTranspose on cpu (values and gradients)', async (i, c) => {
    const x = randn(size(c.x), 40 + i);
    const k = randn(size(c.k), 50 + i);
    const outShape = [c.x[0], ...c.x.slice(1, 4).map((n, a) => (n - 1) * c.stride[a] + c.k[a]), c.k[3]];
    const dy = randn(size(outShape), 60 + i);
    await activate('cpu');
    const want = transposeReference(c, x, k, dy, outShape);
    for (const mode of MODES) {
      await activate(mode);
      expectArrays(transposeMedvae(c, x, k, dy, outShape), want, `${mode} case ${i}`);
    }
  });

  // tf.conv3d itself on wasm + native runs the addon's kernels, including tfjs's 'same' padding
  // (uneven at stride 2: the extra plane goes after) and its gradients through tfjs-core's Conv3D gradient.
  it.runIf(loaded.ok).each([
    [[2, 5, 6, 7, 3], [3, 3, 3, 3, 4], [2, 2, 2], 'same'],
    [[1, 6, 5, 4, 2], [2, 3, 2, 2, 3], [1, 2, 1], 'valid'],
  ] as const)('tf.conv3d %j on wasm + native matches cpu (values and gradients)', async (xs, ks, stride, pad) => {
    const x = randn(size(xs), 70);
    const k = randn(size(ks), 71);
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, stride as unknown as Triple, pad);
    const runAll = (): Arrays =>
      tf.tidy(() => {
        const xt = tensorOf(x, xs);
        const kt = tensorOf(k, ks);
        const y = f(xt, kt);
        const [dx, dk] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), tf.sin(tf.reshape(tf.range(0, size(y.shape)), y.shape)))))([xt, kt]);
        const [yv, dxv, dkv] = read([y, dx, dk]);
        return { y: yv, dx: dxv, dk: dkv };
      });
    await activate('cpu');
    const want = runAll();
    await activate('native');
    expect(nativeKernelsStatus().kernels).toEqual(expect.arrayContaining(['Conv3D', 'Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2']));
    expectArrays(runAll(), want, `tf.conv3d ${pad}`);
  });

  it('leaves no tensors behind (forward and backward, wasm)', async () => {
    await activate(loaded.ok ? 'native' : 'wasm');
    const x = tf.randomNormal([1, 4, 5, 6, 2], 0, 1, 'float32', 1) as tf.Tensor5D;
    const k = tf.randomNormal([3, 3, 3, 2, 3], 0, 1, 'float32', 2) as tf.Tensor5D;
    const kt = tf.randomNormal([2, 2, 2, 3, 2], 0, 1, 'float32', 3) as tf.Tensor5D;
    await expectNoLeak(() => {
      tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => conv3dPadded(a as tf.Tensor5D, b as tf.Tensor5D, [2, 1, 1], [[1, 1], [1, 1], [1, 1]]))([x, k]));
      tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => conv3dTransposeValid(a as tf.Tensor5D, b as tf.Tensor5D, [2, 2, 2]))([x, kt]));
    });
    tf.dispose([x, k, kt]);
  });
});
