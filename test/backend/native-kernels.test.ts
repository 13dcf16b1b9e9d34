// medvae-native (OpenBLAS on the wasm heap) against medvae's pure-wasm kernels and the cpu
// backend, plus the switching logic of useBackend('wasm', { native }). The kernel and model
// tests need the compiled addon (packages/medvae-native); without it they are skipped with the
// reason printed, while the fallback tests run either way.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Adam, BackendError, Generator, mse, nativeKernelsStatus, registerCpuTrainingKernels, UNet, unregisterCpuTrainingKernels, useBackend } from '../../src/index.js';
import type { NativeAddon } from '../../src/backend/native/addon.js';
import { loadNativeAddon, setNativeModuleLoader } from '../../src/backend/native/loader.js';
import { installNativeKernels, uninstallNativeKernels } from '../../src/backend/native/native-kernels.js';
import { isMedvaeKernel, kernelOverrides } from '../../src/backend/kernels/registry.js';
import { expectClose, expectNoLeak } from '../helpers/tf.js';
import { convCases, convOutShape, data, describeConvCase, t, type ConvCase, type Data } from './kernel-cases.js';

const loaded = await loadNativeAddon();
const available = loaded.ok;
if (!loaded.ok) console.warn(`native-kernels.test.ts: kernel tests skipped: ${loaded.reason}`);

/** Addon calls by function name: proves that a case ran natively and was not served by the fallback. */
const calls = new Map<string, number>();
function counting(addon: NativeAddon): NativeAddon {
  const wrap = <K extends keyof NativeAddon>(name: K): NativeAddon[K] =>
    ((...args: unknown[]) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return (addon[name] as (...a: unknown[]) => unknown)(...args);
    }) as NativeAddon[K];
  return { ...addon, conv2d: wrap('conv2d'), conv2dBackpropInput: wrap('conv2dBackpropInput'), conv2dBackpropFilter: wrap('conv2dBackpropFilter'), matMul: wrap('matMul') };
}

const countingAddon = loaded.ok ? counting(loaded.addon) : undefined;

type Mode = 'cpu' | 'wasm' | 'native';

async function activate(mode: Mode): Promise<void> {
  if (mode === 'cpu') {
    await tf.setBackend('cpu');
    return;
  }
  await tf.setBackend('wasm');
  if (mode === 'native') {
    // Replaces whatever native kernels are installed by ones on the counting addon.
    uninstallNativeKernels('replaced by the counting addon');
    if (countingAddon !== undefined) installNativeKernels(countingAddon, loaded.ok ? loaded.addonPath : undefined);
  } else {
    uninstallNativeKernels('off for a pure-wasm reference run');
  }
}

interface Result {
  shape: number[];
  values: Float32Array;
}

async function runOn(mode: Mode, f: () => tf.Tensor): Promise<Result> {
  await activate(mode);
  const out = f();
  const result = { shape: out.shape, values: out.dataSync() as Float32Array };
  out.dispose();
  return result;
}

/**
 * Runs `f` natively, on medvae's pure-wasm kernels and on the cpu backend (stock tfjs kernels:
 * an independent reference), and requires the native result to match both to 1e-4 relative, and
 * the addon's `fn` to have been called (unless the case is one the native kernel declines).
 */
async function expectNativeMatches(f: () => tf.Tensor, what: string, fn: keyof NativeAddon | null, refs: readonly Mode[] = ['wasm', 'cpu']): Promise<void> {
  const before = fn === null ? 0 : (calls.get(fn) ?? 0);
  const got = await runOn('native', f);
  if (fn !== null) expect(calls.get(fn) ?? 0, `${what}: native ${fn} calls`).toBeGreaterThan(before);
  for (const mode of refs) {
    const ref = await runOn(mode, f);
    expect(got.shape, `${what}: shape vs ${mode}`).toEqual(ref.shape);
    const scale = ref.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expectClose(got.values, ref.values, 1e-4, 1e-5 * scale, `${what} vs ${mode}`);
  }
}

const run = (name: string, inputs: Record<string, Data>, attrs: Record<string, unknown>): tf.Tensor =>
  tf.tidy(() => tf.engine().runKernel(name, Object.fromEntries(Object.entries(inputs).map(([k, d]) => [k, t(d)])), attrs as unknown as tf.NamedAttrMap) as tf.Tensor);

beforeAll(async () => {
  await useBackend('cpu');
  unregisterCpuTrainingKernels();
  await useBackend('wasm');
  // The engine checks after every kernel that the backend holds no data beyond the outputs.
  tf.env().set('IS_TEST', true);
});

afterAll(async () => {
  tf.env().set('IS_TEST', false);
  registerCpuTrainingKernels();
  setNativeModuleLoader();
  await useBackend('wasm');
});

describe.runIf(available)('native kernels match pure-wasm and cpu', () => {
  const nhwc = convCases.filter((c) => c.dataFormat !== 'NCHW');
  const dilated: Array<ConvCase & { dilations: number | [number, number] }> = [
    { x: [2, 9, 8, 3], w: [3, 3, 3, 4], strides: 1, pad: 'same', dilations: 2 },
    { x: [1, 11, 10, 1], w: [3, 3, 1, 2], strides: 1, pad: 'valid', dilations: [2, 1] },
    { x: [3, 12, 11, 2], w: [5, 5, 2, 3], strides: 1, pad: [[0, 0], [2, 1], [3, 0], [0, 0]], dilations: 2 },
  ];

  it('Conv2D: strides 1/2/3, same/valid/numeric/explicit pads, kernels 1–5, batch 1–3, Cin 1–3, dilation 2', async () => {
    for (const c of [...nhwc.map((c) => ({ ...c, dilations: 1 as number | [number, number] })), ...dilated]) {
      const x = data(c.x);
      const w = data(c.w);
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: c.dilations, dimRoundingMode: c.dimRoundingMode };
      // Stock tfjs-backend-wasm's Conv2D ignores dimRoundingMode (its output is shifted by a row
      // and a column), so that case is checked against cpu only.
      const refs: Mode[] = c.dimRoundingMode === undefined ? ['wasm', 'cpu'] : ['cpu'];
      await expectNativeMatches(() => run(tf.Conv2D, { x, filter: w }, attrs), `Conv2D ${describeConvCase(c)} dilations ${JSON.stringify(c.dilations)}`, 'conv2d', refs);
    }
  });

  it('Conv2DBackpropInput and Conv2DBackpropFilter on every case (NCHW ones fall back)', async () => {
    for (const c of convCases) {
      const x = data(c.x);
      const w = data(c.w);
      const dy = data(convOutShape(c));
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat ?? 'NHWC', dimRoundingMode: c.dimRoundingMode };
      const native = c.dataFormat !== 'NCHW';
      await expectNativeMatches(() => run(tf.Conv2DBackpropInput, { dy, filter: w }, { ...attrs, inputShape: c.x }), `input grad ${describeConvCase(c)}`, native ? 'conv2dBackpropInput' : null);
      await expectNativeMatches(() => run(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, filterShape: c.w }), `filter grad ${describeConvCase(c)}`, native ? 'conv2dBackpropFilter' : null);
    }
  });

  it('transposed convolutions (Conv2DBackpropInput as a forward pass): 2×2/s2 and 3×3/s2 same', async () => {
    const cases: Array<[number[], number[], number, 'same' | 'valid']> = [
      [[3, 5, 5, 4], [2, 2, 3, 4], 2, 'valid'],
      [[1, 4, 6, 2], [3, 3, 5, 2], 2, 'same'],
      [[2, 3, 3, 1], [5, 5, 1, 1], 1, 'same'],
    ];
    for (const [xs, ws, s, pad] of cases) {
      const x = data(xs);
      const w = data(ws);
      const out = [xs[0], pad === 'valid' ? (xs[1] - 1) * s + ws[0] : xs[1] * s, pad === 'valid' ? (xs[2] - 1) * s + ws[1] : xs[2] * s, ws[2]] as [number, number, number, number];
      await expectNativeMatches(() => tf.tidy(() => tf.conv2dTranspose(t(x) as tf.Tensor4D, t(w) as tf.Tensor4D, out, s, pad)), `conv2dTranspose x ${xs} w ${ws} s ${s} ${pad}`, 'conv2dBackpropInput');
    }
  });

  it('FusedConv2D with bias and relu / relu6 / leakyrelu / elu / sigmoid; prelu falls back', async () => {
    const x = data([2, 7, 6, 3]);
    const w = data([3, 3, 3, 4]);
    const bias = data([4]);
    for (const activation of ['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid'] as const) {
      await expectNativeMatches(
        () => tf.tidy(() => tf.fused.conv2d({ x: t(x) as tf.Tensor4D, filter: t(w) as tf.Tensor4D, strides: 1, pad: 'same', bias: t(bias), activation, leakyreluAlpha: 0.3 })),
        `fused conv2d ${activation}`,
        'conv2d',
      );
    }
    const slope = data([4]);
    await expectNativeMatches(
      () => tf.tidy(() => tf.fused.conv2d({ x: t(x) as tf.Tensor4D, filter: t(w) as tf.Tensor4D, strides: 2, pad: 'valid', bias: t(bias), activation: 'prelu', preluActivationWeights: t(slope) })),
      'fused conv2d prelu (fallback)',
      null,
    );
  });

  it('BatchMatMul with both transposes, broadcast batches and rank 4; _FusedMatMul with bias + relu', async () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[3, 4, 5], [3, 5, 6], false, false],
      [[3, 5, 4], [3, 5, 6], true, false],
      [[3, 4, 5], [3, 6, 5], false, true],
      [[3, 5, 4], [3, 6, 5], true, true],
      [[1, 4, 5], [3, 5, 6], false, false],
      [[3, 4, 5], [1, 5, 6], false, false],
      [[3, 5, 4], [5, 6], true, false],
      [[2, 3, 4, 5], [2, 3, 6, 5], false, true],
      [[17, 33], [33, 9], false, false],
    ];
    for (const [as, bs, ta, tb] of cases) {
      const a = data(as);
      const b = data(bs);
      await expectNativeMatches(() => tf.tidy(() => tf.matMul(t(a), t(b), ta, tb)), `matMul ${as} × ${bs} tA ${ta} tB ${tb}`, 'matMul');
    }
    const a = data([6, 7]);
    const b = data([7, 5]);
    const bias = data([5]);
    await expectNativeMatches(() => tf.tidy(() => tf.fused.matMul({ a: t(a) as tf.Tensor2D, b: t(b) as tf.Tensor2D, bias: t(bias), activation: 'relu' })), 'fused matMul relu', 'matMul');
  });

  it('keeps no wasm memory: same tensors and data ids after repeated calls', async () => {
    await activate('native');
    const c = convCases[6];
    const x = t(data(c.x));
    const w = t(data(c.w));
    const dy = t(data(convOutShape(c)));
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC' };
    const step = (): void => {
      tf.dispose([
        tf.engine().runKernel(tf.Conv2D, { x, filter: w }, { ...attrs, dilations: 1 } as unknown as tf.NamedAttrMap) as tf.Tensor,
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, filterShape: c.w } as unknown as tf.NamedAttrMap) as tf.Tensor,
        tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w }, { ...attrs, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor,
      ]);
    };
    step();
    const dataIds = tf.engine().backend.numDataIds();
    await expectNoLeak(step, 5);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    tf.dispose([x, w, dy]);
  });

  it('the addon checks its arguments and throws instead of touching memory out of bounds', () => {
    if (!loaded.ok) return;
    const g = {
      batchSize: 1, inHeight: 3, inWidth: 3, inChannels: 1, outHeight: 3, outWidth: 3, outChannels: 1,
      filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1, padTop: 1, padLeft: 1,
    };
    const nine = (): Float32Array => new Float32Array(9);
    expect(() => loaded.addon.conv2d(nine(), nine(), new Float32Array(8), g)).toThrow(/y \(output\) has 8 elements where the geometry needs 9/);
    expect(() => loaded.addon.conv2d(nine(), new Int32Array(9) as unknown as Float32Array, nine(), g)).toThrow(TypeError);
    expect(() => loaded.addon.conv2d(nine(), nine(), nine(), { ...g, strideHeight: 0 })).toThrow(/strideHeight must be an integer >= 1/);
    expect(() => loaded.addon.matMul(nine(), nine(), nine(), { batchA: 2, batchB: 3, m: 1, n: 1, k: 1, transposeA: false, transposeB: false })).toThrow(/batchA \(2\) and batchB \(3\)/);
    expect(() => loaded.addon.setNumThreads(0)).toThrow(RangeError);
  });
});

describe.runIf(available)('a U-Net trains identically with and without native kernels', () => {
  it('10 Adam steps give the same losses (1e-4) and leak nothing', async () => {
    const gen = new Generator(3);
    const xs = gen.normalArray(2 * 16 * 16);
    const ys = gen.normalArray(2 * 16 * 16);
    const train = async (mode: Mode): Promise<number[]> => {
      await activate(mode);
      const net = new UNet({ inChannels: 1, outChannels: 1, channels: [4, 8, 16], norm: 'none', seed: 0 });
      const x = tf.tensor4d(xs, [2, 16, 16, 1]);
      const y = tf.tensor4d(ys, [2, 16, 16, 1]);
      const adam = new Adam(net.trainableParameters(), { lr: 1e-2 });
      const step = (): number => {
        const { value, grads } = tf.variableGrads(() => mse(net.forward(x), y) as tf.Scalar, net.trainableParameters());
        adam.step(grads);
        tf.dispose(grads);
        const loss = value.dataSync()[0];
        value.dispose();
        return loss;
      };
      const losses = Array.from({ length: 10 }, step);
      if (mode === 'native') await expectNoLeak(step, 2);
      adam.dispose();
      net.dispose();
      tf.dispose([x, y]);
      return losses;
    };
    const before = calls.get('conv2dBackpropFilter') ?? 0;
    const native = await train('native');
    expect(calls.get('conv2dBackpropFilter') ?? 0).toBeGreaterThan(before);
    const wasm = await train('wasm');
    expectClose(native, wasm, 1e-4, 1e-7, 'losses native vs pure wasm');
    expect(native[9]).toBeLessThan(native[0]);
  });
});

describe('useBackend("wasm", { native })', () => {
  // These cases test the 'auto' default and set MEDVAE_NATIVE themselves, so a value from the
  // environment (a pure-wasm test run with MEDVAE_NATIVE=0) is set aside while they run.
  let fromEnv: string | undefined;
  beforeEach(() => {
    fromEnv = process.env.MEDVAE_NATIVE;
    delete process.env.MEDVAE_NATIVE;
  });
  afterEach(() => {
    if (fromEnv === undefined) delete process.env.MEDVAE_NATIVE;
    else process.env.MEDVAE_NATIVE = fromEnv;
  });
  const brokenBuild = async (): Promise<never> => {
    throw Object.assign(new Error("Cannot find module 'medvae-native' imported from src"), { code: 'ERR_MODULE_NOT_FOUND' });
  };

  it('native: true names the reason and the fix when the addon cannot load; auto falls back to the wasm kernels', async () => {
    setNativeModuleLoader(async () => ({ loadError: 'could not load build/Release/medvae_native.node (simulated). Install-time build: the build failed' }));
    try {
      const err = await useBackend('wasm', { native: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackendError);
      expect((err as Error).message).toMatch(/native: true.*simulated.*the build failed.*npm install medvae-native.*build-essential libopenblas-dev/s);
      await useBackend('wasm', { native: 'auto' });
      const status = nativeKernelsStatus();
      expect(status.active).toBe(false);
      expect(status.kernels).toEqual([]);
      expect(status.reason).toContain('simulated');
      // medvae's pure-wasm kernels (Conv2D among them: the NaN-keeping wrapper of the stock one).
      for (const name of [tf.Conv2D, tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter, tf.BatchMatMul]) expect(isMedvaeKernel(name, 'wasm')).toBe(true);

      setNativeModuleLoader(brokenBuild);
      await expect(useBackend('wasm', { native: true })).rejects.toThrow(/the package medvae-native is not installed/);
    } finally {
      setNativeModuleLoader();
    }
  });

  it.runIf(available)('auto installs native kernels; false puts back exactly the kernels they replaced; MEDVAE_NATIVE=0 turns auto off', async () => {
    await useBackend('wasm', { native: false });
    const pure = new Map([tf.Conv2D, tf.FusedConv2D, tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter, tf.BatchMatMul, tf._FusedMatMul, tf.Conv3D, tf.Conv3DBackpropInputV2, tf.Conv3DBackpropFilterV2].map((n) => [n, tf.getKernel(n, 'wasm')?.kernelFunc]));
    expect(nativeKernelsStatus()).toMatchObject({ active: false, reason: expect.stringContaining('native: false') });

    await useBackend('wasm');
    const on = nativeKernelsStatus();
    expect(on.active).toBe(true);
    expect([...on.kernels].sort()).toEqual([...pure.keys()].sort());
    expect(on.addonPath).toMatch(/medvae_native\.node$/);
    expect(on.threads).toBeGreaterThanOrEqual(1);
    for (const [name, func] of pure) expect(tf.getKernel(name, 'wasm')?.kernelFunc).not.toBe(func);

    await useBackend('wasm', { native: false });
    for (const [name, func] of pure) expect(tf.getKernel(name, 'wasm')?.kernelFunc, name).toBe(func);
    expect(kernelOverrides('wasm')).toEqual([]);

    process.env.MEDVAE_NATIVE = '0';
    try {
      await useBackend('wasm');
      expect(nativeKernelsStatus()).toMatchObject({ active: false, reason: expect.stringContaining('MEDVAE_NATIVE=0') });
      await useBackend('wasm', { native: true }); // an explicit choice wins over the variable
      expect(nativeKernelsStatus().active).toBe(true);
    } finally {
      delete process.env.MEDVAE_NATIVE;
    }
  });
});
