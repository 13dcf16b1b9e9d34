import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { activateKeepingNaN, fixConvNonFinite, hasNonFinite, poolReference } from '../kernels/non-finite.js';
import { pair } from '../kernels/scratch.js';
import { asWasmBackend, type KernelArgs, type WasmBackendLike } from './kernel-utils.js';

// Wasm kernels that give NaN and ±Infinity the cpu backend's treatment (see
// kernels/non-finite.ts for why XNNPACK's do not). Each runs the stock kernel, which answers
// every call with finite data unchanged and at full speed; one pass over the data spots the
// non-finite calls, which are then corrected or recomputed with the cpu backend's rules.

type Stock = (args: KernelArgs) => TensorInfo;

const f32 = (backend: WasmBackendLike, t: TensorInfo): Float32Array => backend.typedArrayFromHeap(t) as Float32Array;

function wrap(name: string, stock: KernelConfig, body: (args: KernelArgs, stock: Stock) => TensorInfo): KernelConfig {
  const run: Stock = (args) => stock.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
  return {
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: ((args: KernelArgs) => body(args, run)) as unknown as KernelFunc,
    setupFunc: stock.setupFunc,
    disposeFunc: stock.disposeFunc,
  };
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  leakyreluAlpha?: number;
}

function convInfoOf(x: TensorInfo, filter: TensorInfo, attrs: ConvAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast',
  );
}

/**
 * `Conv2D`: the stock XNNPACK convolution, then every non-finite output element (a NaN shows as
 * −Infinity there) recomputed exactly. The scan costs one read per output element, against
 * kernel-area × input-channel multiply–adds per element for the convolution itself.
 */
export function conv2DNanSafeConfig(stock: KernelConfig): KernelConfig {
  return wrap(tf.Conv2D, stock, (args, run) => {
    const out = run(args);
    const attrs = args.attrs as unknown as ConvAttrs;
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    if (attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || x.shape.length !== 4) return out;
    const backend = asWasmBackend(args.backend, tf.Conv2D);
    const y = f32(backend, out);
    if (hasNonFinite(y)) fixConvNonFinite(f32(backend, x), f32(backend, filter), y, convInfoOf(x, filter, attrs));
    return out;
  });
}

/**
 * `FusedConv2D`: as {@link conv2DNanSafeConfig}; when the data holds NaN or ±Infinity, the stock
 * kernel runs without its activation (its clamp would turn NaN into 0), the non-finite elements
 * are recomputed, and the activation is applied keeping NaN. PReLU stays with the stock kernel.
 */
export function fusedConv2DNanSafeConfig(stock: KernelConfig): KernelConfig {
  return wrap(tf.FusedConv2D, stock, (args, run) => {
    const attrs = args.attrs as unknown as ConvAttrs;
    const { x, filter, bias, preluActivationWeights } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    const activation = attrs.activation ?? 'linear';
    const handled = attrs.dataFormat !== 'NCHW' && x.dtype === 'float32' && x.shape.length === 4 && preluActivationWeights == null && activation !== 'prelu' &&
      (bias == null || bias.shape.length === 1);
    if (!handled) return run(args);
    const backend = asWasmBackend(args.backend, tf.FusedConv2D);
    if (activation === 'linear') {
      const out = run(args);
      const y = f32(backend, out);
      if (hasNonFinite(y)) fixConvNonFinite(f32(backend, x), f32(backend, filter), y, convInfoOf(x, filter, attrs), bias != null ? f32(backend, bias) : undefined);
      return out;
    }
    // With an activation the output no longer shows a NaN product (a ReLU clamp makes it 0), so
    // the inputs are checked instead; finite inputs keep the stock kernel's result.
    const inputsBad = hasNonFinite(f32(backend, x)) || hasNonFinite(f32(backend, filter)) || (bias != null && hasNonFinite(f32(backend, bias)));
    if (!inputsBad) return run(args);
    const out = run({ ...args, attrs: { ...args.attrs, activation: 'linear' } as unknown as NamedAttrMap });
    const y = f32(backend, out);
    if (hasNonFinite(y)) fixConvNonFinite(f32(backend, x), f32(backend, filter), y, convInfoOf(x, filter, attrs), bias != null ? f32(backend, bias) : undefined);
    activateKeepingNaN(y, activation, attrs.leakyreluAlpha ?? 0);
    return out;
  });
}

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * `MaxPool` / `AvgPool`: the stock XNNPACK pool unless the input holds NaN or ±Infinity (XNNPACK
 * gives −Infinity for a max-pool window starting with NaN, and for an average over NaN); then the whole output is recomputed by
 * the cpu backend's rules (max: NaN never wins; avg: NaN and ±Infinity propagate).
 */
export function poolNanSafeConfig(name: typeof tf.MaxPool | typeof tf.AvgPool, stock: KernelConfig): KernelConfig {
  const kind = name === tf.MaxPool ? 'max' : 'avg';
  return wrap(name, stock, (args, run) => {
    const out = run(args);
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== 'float32' || x.shape.length !== 4) return out;
    const backend = asWasmBackend(args.backend, name);
    const input = f32(backend, x);
    // Only NaN trips XNNPACK's max pool, but any non-finite input is rare enough to recompute.
    if (!hasNonFinite(input)) return out;
    const attrs = args.attrs as unknown as PoolAttrs;
    const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], pair(attrs.filterSize), pair(attrs.strides), 1, attrs.pad, attrs.dimRoundingMode);
    poolReference(f32(backend, x), f32(backend, out), info, kind);
    return out;
  });
}

/** `ClipByValue` / `Relu6`: the stock kernel, with NaN put back where the input had NaN (XNNPACK's clamp moves it to the lower bound). */
export function clampNanSafeConfig(name: typeof tf.ClipByValue | typeof tf.Relu6, stock: KernelConfig): KernelConfig {
  return wrap(name, stock, (args, run) => {
    const out = run(args);
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== 'float32') return out;
    const backend = asWasmBackend(args.backend, name);
    const input = f32(backend, x);
    if (!hasNonFinite(input)) return out;
    const y = f32(backend, out);
    for (let i = 0; i < input.length; i++) if (input[i] !== input[i]) y[i] = NaN;
    return out;
  });
}
