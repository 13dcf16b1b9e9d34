// NaN and ±Infinity through the wasm kernels behave as on the cpu backend: XNNPACK's output clamp
// turned NaN into −Infinity (plain convolutions and pools) or 0 (fused ReLU, ReLU6, clipByValue),
// so a poisoned batch looked finite on wasm. Per kernel and shape: where cpu gives NaN, +Infinity
// or −Infinity, pure wasm (medvae's kernels, medvae-native off) and wasm with medvae-native (when
// the addon loads) give the same, and the finite values agree; with finite data medvae's kernels
// return the stock kernels' values bit for bit.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { nativeKernelsStatus } from '../../src/backend/native/native-kernels.js';
import { expectClose } from '../helpers/tf.js';
import { expectParity, filled } from './wasm-parity.js';

beforeAll(async () => {
  await useBackend('cpu');
  await useBackend('wasm');
  tf.env().set('IS_TEST', true);
});
afterAll(async () => {
  tf.env().set('IS_TEST', false);
  await useBackend('wasm');
});

/** Deterministic values with NaN, +Infinity and −Infinity planted at a few places. */
function poisoned(shape: number[], seed: number, plant: Array<[number, number]>): tf.Tensor {
  const t = filled(shape, 'float32', seed);
  const v = t.dataSync().slice() as Float32Array;
  t.dispose();
  for (const [at, value] of plant) v[at % v.length] = value;
  return tf.tensor(v, shape);
}

const NAN_ONLY: Array<[number, number]> = [[5, NaN], [40, NaN]];
const MIXED: Array<[number, number]> = [[5, NaN], [17, Infinity], [61, -Infinity], [90, NaN]];
const INF_ONLY: Array<[number, number]> = [[17, Infinity], [18, -Infinity]];

type Kind = 'nan' | '+inf' | '-inf' | 'finite';
const kindOf = (v: number): Kind => (Number.isNaN(v) ? 'nan' : v === Infinity ? '+inf' : v === -Infinity ? '-inf' : 'finite');

function read(f: () => tf.Tensor | tf.Tensor[]): number[][] {
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const values = list.map((t) => Array.from(t.dataSync()));
  tf.dispose(list);
  return values;
}

/** Runs `f` on cpu, pure wasm and wasm + native (when it loads) and compares element kinds and finite values. */
async function expectSameNonFinite(f: () => tf.Tensor | tf.Tensor[], what: string, rtol = 1e-4, nativeMayAddNaN = false): Promise<void> {
  await tf.setBackend('cpu');
  const cpu = read(f);
  expect(cpu.flat().some((v) => !Number.isFinite(v)), `${what}: the case reaches the output with a non-finite value on cpu`).toBe(true);
  const setups: Array<[string, boolean]> = [['pure wasm', false], ['wasm + native', true]];
  for (const [label, native] of setups) {
    await useBackend('wasm', { native: native ? 'auto' : false });
    if (native && !nativeKernelsStatus().active) continue;
    const wasm = read(f);
    cpu.forEach((c, i) => {
      const kinds = wasm[i].map(kindOf);
      const expected = c.map(kindOf);
      // The addon's im2col multiplies padding zeros too, so a NaN filter tap also reaches outputs
      // whose window overhangs the border (0 × NaN): more NaN than cpu, never fewer.
      const extraNaNOk = (j: number): boolean => native && nativeMayAddNaN && expected[j] === 'finite' && kinds[j] === 'nan';
      const first = expected.findIndex((k, j) => k !== kinds[j] && !extraNaNOk(j));
      expect(first, `${what} on ${label}, output ${i}: element ${first} is ${wasm[i][first]} where cpu has ${c[first]}`).toBe(-1);
      const finite = c.map((v, j) => (Number.isFinite(v) && Number.isFinite(wasm[i][j]) ? j : -1)).filter((j) => j >= 0);
      expectClose(finite.map((j) => wasm[i][j]), finite.map((j) => c[j]), rtol, 1e-4, `${what} on ${label}, output ${i}, finite values`);
    });
  }
}

const conv = (x: tf.Tensor, w: tf.Tensor, stride: number, pad: 'same' | 'valid', dilation = 1): tf.Tensor =>
  tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad, 'NHWC', dilation);

describe('Conv2D', () => {
  const cases: Array<[string, number[], number[], number, 'same' | 'valid', number]> = [
    ['3×3 same, 3 → 2 channels', [2, 6, 6, 3], [3, 3, 3, 2], 1, 'same', 1],
    ['3×3 stride 2 (VAE-GAN discriminator block), 1 → 16', [2, 8, 8, 1], [3, 3, 1, 16], 2, 'same', 1],
    ['1×1, 4 → 1', [2, 5, 5, 4], [1, 1, 4, 1], 1, 'valid', 1],
    ['3×3 dilation 2, 2 → 3', [1, 9, 9, 2], [3, 3, 2, 3], 1, 'valid', 2],
    ['1×1, 1 → 1', [2, 6, 6, 1], [1, 1, 1, 1], 1, 'valid', 1],
    ['3×3 same, 1 → 1', [2, 6, 6, 1], [3, 3, 1, 1], 1, 'same', 1],
    ['3×3 same, 8 → 8', [2, 6, 6, 8], [3, 3, 8, 8], 1, 'same', 1],
  ];
  for (const [what, xs, ws, stride, pad, dil] of cases) {
    for (const [plantName, plant] of [['NaN', NAN_ONLY], ['NaN and ±Infinity', MIXED]] as const) {
      it(`${what}, input with ${plantName}: forward${dil > 1 ? '' : ' and gradients'}`, async () => {
        await expectSameNonFinite(() => {
          const x = poisoned(xs, 1, plant);
          const w = filled(ws, 'float32', 2);
          // tfjs has no gradient for dilated convolutions.
          if (dil > 1) return [conv(x, w, stride, pad, dil)];
          return [conv(x, w, stride, pad, dil), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(conv(a, b, stride, pad, dil)))([x, w])];
        }, `conv ${what}, ${plantName}`);
      });
    }
  }
  it('a filter holding NaN', async () => {
    await expectSameNonFinite(() => conv(filled([1, 5, 5, 2], 'float32', 1), poisoned([3, 3, 2, 2], 2, [[3, NaN]]), 1, 'same'), 'conv, NaN filter', 1e-4, true);
  });
});

describe('FusedConv2D', () => {
  for (const activation of ['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid'] as const) {
    it(`${activation} with bias, input with NaN and ±Infinity`, async () => {
      await expectSameNonFinite(() => {
        const filter = filled([3, 3, 3, 4], 'float32', 2) as tf.Tensor4D;
        const bias = filled([4], 'float32', 3);
        const clean = tf.fused.conv2d({ x: filled([1, 6, 6, 3], 'float32', 4) as tf.Tensor4D, filter, bias, strides: 1, pad: 'same', activation, leakyreluAlpha: 0.2 });
        // The same filter again (XNNPACK caches its operator per filter), now on poisoned data.
        const dirty = tf.fused.conv2d({ x: poisoned([1, 6, 6, 3], 1, MIXED) as tf.Tensor4D, filter, bias, strides: 1, pad: 'same', activation, leakyreluAlpha: 0.2 });
        return [clean, dirty];
      }, `fused conv ${activation}`);
    });
  }
});

describe('MaxPool and AvgPool', () => {
  const cases: Array<[string, number, number, 'same' | 'valid']> = [['2×2 stride 2 valid', 2, 2, 'valid'], ['3×3 stride 1 same', 3, 1, 'same'], ['3×3 stride 2 same', 3, 2, 'same']];
  for (const [what, size, stride, pad] of cases) {
    for (const [plantName, plant] of [['NaN', NAN_ONLY], ['NaN and ±Infinity', MIXED], ['±Infinity', INF_ONLY]] as const) {
      it(`${what}, input with ${plantName}: forward and gradients`, async () => {
        await expectSameNonFinite(() => {
          const x = poisoned([2, 6, 6, 3], 1, plant);
          const max = tf.maxPool(x as tf.Tensor4D, size, stride, pad);
          const avg = tf.avgPool(x as tf.Tensor4D, size, stride, pad);
          const gMax = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, size, stride, pad), 1)))(tf.mul(x, 1));
          return [max, avg, gMax];
        }, `pool ${what}, ${plantName}`);
      });
    }
  }
  it('a window whose first element is NaN gives the maximum of the others, as on cpu', async () => {
    await tf.setBackend('wasm');
    expect(tf.tidy(() => tf.maxPool(tf.tensor4d([NaN, 1, 3, 2], [1, 2, 2, 1]), 2, 2, 'valid')).dataSync()[0]).toBe(3);
  });
});

describe('ClipByValue, Relu6 and the fused matMul ReLU', () => {
  it('clipByValue and relu6 keep NaN', async () => {
    await expectSameNonFinite(() => {
      const x = poisoned([4, 25], 1, MIXED);
      return [tf.clipByValue(x, -0.5, 0.5), tf.relu6(tf.mul(x, 8))];
    }, 'clamps');
  });
  it('fused matMul with bias and relu keeps NaN', async () => {
    await expectSameNonFinite(() => {
      const b = filled([12, 3], 'float32', 2) as tf.Tensor2D;
      const clean = tf.fused.matMul({ a: filled([8, 12], 'float32', 3) as tf.Tensor2D, b, bias: filled([3], 'float32', 4), activation: 'relu' });
      const dirty = tf.fused.matMul({ a: poisoned([8, 12], 1, MIXED) as tf.Tensor2D, b, bias: filled([3], 'float32', 4), activation: 'relu' });
      return [clean, dirty];
    }, 'fused matMul relu');
  });
});

describe('finite data: the stock kernels’ values, bit for bit', () => {
  const names = [tf.Conv2D, tf.FusedConv2D, tf.MaxPool, tf.AvgPool, tf.ClipByValue, tf.Relu6, tf._FusedMatMul];
  it('conv, fused conv (relu + bias), pools, clamps and fused matMul', async () => {
    await useBackend('wasm', { native: false });
    await expectParity(() => {
      const x = filled([2, 8, 8, 3], 'float32', 1) as tf.Tensor4D;
      const w = filled([3, 3, 3, 4], 'float32', 2) as tf.Tensor4D;
      return [
        tf.conv2d(x, w, 2, 'same'),
        tf.fused.conv2d({ x, filter: w, bias: filled([4], 'float32', 3), strides: 1, pad: 'same', activation: 'relu' }),
        tf.maxPool(x, 2, 2, 'valid'), tf.avgPool(x, 3, 1, 'same'),
        tf.clipByValue(x, -0.3, 0.3), tf.relu6(tf.mul(x, 8)),
        tf.fused.matMul({ a: filled([5, 7], 'float32', 4) as tf.Tensor2D, b: filled([7, 3], 'float32', 5) as tf.Tensor2D, activation: 'relu' }),
      ];
    }, names, 'finite data', 1e-5);
  });
});
