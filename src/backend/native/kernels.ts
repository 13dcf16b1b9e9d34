// Kernels of the tfjs wasm backend that run on the `medvae-native` addon (OpenBLAS) directly on
// the wasm heap. Each one answers what it can and hands everything else (NCHW, non-float32 data,
// shapes it does not cover, PReLU) to the kernel it replaced. Not exported from the package.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelMaker } from '../kernels/registry.js';
import { hasNonFinite } from '../kernels/non-finite.js';
import { asWasmBackend, type KernelArgs, type WasmBackendLike } from '../wasm/kernel-utils.js';
import { NATIVE_ACTIVATIONS, type NativeActivation, type NativeAddon, type NativeConvGeometry, type NativeEpilogue } from './addon.js';
import { fallbackOf, sameShape, view, withOutput, type Fallback } from './kernel-common.js';
import { nativeKernelMakers3d } from './kernels3d.js';

type Shape4 = [number, number, number, number];
type Pad = Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: Rounding;
  activation?: string;
  leakyreluAlpha?: number;
  inputShape?: Shape4;
  filterShape?: Shape4;
}

const isFloat = (...infos: TensorInfo[]): boolean => infos.every((t) => t.dtype === 'float32');

/**
 * The addon's geometry for tfjs's description of a convolution, or undefined where the addon does
 * not apply: empty tensors, negative leading padding (cropping), or channel counts that differ
 * from the filter's (grouped convolutions).
 */
function geometryOf(info: tf.backend_util.Conv2DInfo, filterShape: readonly number[]): NativeConvGeometry | undefined {
  const g: NativeConvGeometry = {
    batchSize: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
  if (info.padInfo.top < 0 || info.padInfo.left < 0) return undefined;
  if (Object.entries(g).some(([k, v]) => !Number.isInteger(v) || v < (k.startsWith('pad') ? 0 : 1))) return undefined;
  if (filterShape.length !== 4 || filterShape[2] !== info.inChannels || filterShape[3] !== info.outChannels) return undefined;
  return g;
}

function convInfo(inShape: readonly number[], filterShape: readonly number[], attrs: ConvAttrs, dilations: number | [number, number]): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(inShape as Shape4, filterShape as Shape4, attrs.strides, dilations, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
}

/**
 * The epilogue of a fused kernel (bias over the last axis, activation), or undefined when the
 * addon cannot apply it: PReLU, an unknown activation, or a bias that is not one value per column.
 */
function epilogueOf(inputs: Record<string, TensorInfo | undefined>, attrs: ConvAttrs, cols: number, backend: WasmBackendLike | undefined): NativeEpilogue | undefined | null {
  const activation = attrs.activation ?? 'linear';
  if (inputs.preluActivationWeights != null || !NATIVE_ACTIVATIONS.has(activation)) return null;
  const bias = inputs.bias;
  if (bias != null && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== cols || bias.shape.slice(0, -1).some((d) => d !== 1))) return null;
  if (backend === undefined) return undefined; // only checking
  return { bias: bias != null ? view(backend, bias) : undefined, activation: activation as NativeActivation, leakyreluAlpha: attrs.leakyreluAlpha ?? 0 };
}

/**
 * True when a fused ReLU / ReLU6 epilogue would meet NaN: the addon's clamp turns NaN into 0, so
 * such calls go to the replaced kernel, which keeps NaN (medvae's wasm kernels do).
 */
function clampMeetsNonFinite(backend: WasmBackendLike, attrs: ConvAttrs, inputs: readonly (TensorInfo | undefined)[]): boolean {
  const activation = attrs.activation ?? 'linear';
  if (activation !== 'relu' && activation !== 'relu6') return false;
  return inputs.some((t) => t != null && hasNonFinite(view(backend, t)));
}

/** `Conv2D` and `FusedConv2D`: im2col + one OpenBLAS GEMM per chunk of output rows, bias and activation applied in C. */
function makeConv2D(addon: NativeAddon, name: string, fallback: Fallback): KernelFunc {
  const kernel = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const inputs = args.inputs as Record<string, TensorInfo | undefined>;
    const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
    const attrs = (args.attrs ?? {}) as unknown as ConvAttrs;
    if (!isFloat(x, filter) || attrs.dataFormat === 'NCHW' || x.shape.length !== 4 || filter.shape.length !== 4) return fallback(args);
    const info = convInfo(x.shape, filter.shape, attrs, attrs.dilations ?? 1);
    const g = geometryOf(info, filter.shape);
    if (g === undefined || epilogueOf(inputs, attrs, g.outChannels, undefined) === null) return fallback(args);
    const backend = asWasmBackend(args.backend, name);
    if (clampMeetsNonFinite(backend, attrs, [x, filter, inputs.bias])) return fallback(args);
    return withOutput(backend, info.outShape, (out) => {
      const ep = epilogueOf(inputs, attrs, g.outChannels, backend) ?? undefined;
      addon.conv2d(view(backend, x), view(backend, filter), view(backend, out), g, ep);
    });
  };
  return kernel as unknown as KernelFunc;
}

/** `Conv2DBackpropInput`: dcol = dY·Wᵀ (GEMM) then col2im; also the forward pass of transposed convolutions. */
function makeConv2DBackpropInput(addon: NativeAddon, fallback: Fallback): KernelFunc {
  const kernel = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = (args.attrs ?? {}) as unknown as ConvAttrs;
    const inputShape = attrs.inputShape;
    if (!isFloat(dy, filter) || attrs.dataFormat === 'NCHW' || inputShape === undefined || inputShape.length !== 4 || filter.shape.length !== 4) return fallback(args);
    const info = convInfo(inputShape, filter.shape, attrs, 1);
    const g = geometryOf(info, filter.shape);
    if (g === undefined || !sameShape(dy.shape, info.outShape)) return fallback(args);
    const backend = asWasmBackend(args.backend, tf.Conv2DBackpropInput);
    return withOutput(backend, [...inputShape], (out) => addon.conv2dBackpropInput(view(backend, dy), view(backend, filter), view(backend, out), g));
  };
  return kernel as unknown as KernelFunc;
}

/** `Conv2DBackpropFilter`: dW = Σ colᵀ·dY over chunks of rows (GEMMs accumulating in place). */
function makeConv2DBackpropFilter(addon: NativeAddon, fallback: Fallback): KernelFunc {
  const kernel = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const attrs = (args.attrs ?? {}) as unknown as ConvAttrs;
    const filterShape = attrs.filterShape;
    if (!isFloat(x, dy) || attrs.dataFormat === 'NCHW' || filterShape === undefined || filterShape.length !== 4 || x.shape.length !== 4) return fallback(args);
    const info = convInfo(x.shape, filterShape, attrs, 1);
    const g = geometryOf(info, filterShape);
    if (g === undefined || !sameShape(dy.shape, info.outShape)) return fallback(args);
    const backend = asWasmBackend(args.backend, tf.Conv2DBackpropFilter);
    return withOutput(backend, [...filterShape], (out) => addon.conv2dBackpropFilter(view(backend, x), view(backend, dy), view(backend, out), g));
  };
  return kernel as unknown as KernelFunc;
}

/** `BatchMatMul` and `_FusedMatMul`: one GEMM per matrix pair (one in all when the right-hand side is shared). */
function makeMatMul(addon: NativeAddon, name: string, fallback: Fallback): KernelFunc {
  const kernel = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const inputs = args.inputs as Record<string, TensorInfo | undefined>;
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const attrs = (args.attrs ?? {}) as unknown as ConvAttrs & { transposeA?: boolean; transposeB?: boolean };
    const transposeA = attrs.transposeA === true;
    const transposeB = attrs.transposeB === true;
    const ra = a.shape.length;
    const rb = b.shape.length;
    if (!isFloat(a, b) || ra < 2 || rb < 2) return fallback(args);
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const batchA = tf.util.sizeFromShape(outerA);
    const batchB = tf.util.sizeFromShape(outerB);
    // Mismatched inner sizes and general broadcasts are the replaced kernel's (it raises tfjs's errors).
    if (k !== kb || m * n * k * batchA * batchB === 0) return fallback(args);
    if (!(batchA === 1 || batchB === 1 || sameShape(outerA, outerB))) return fallback(args);
    if (epilogueOf(inputs, attrs, n, undefined) === null) return fallback(args);
    const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB), m, n];
    const backend = asWasmBackend(args.backend, name);
    if (clampMeetsNonFinite(backend, attrs, [a, b, inputs.bias])) return fallback(args);
    return withOutput(backend, outShape, (out) => {
      const ep = epilogueOf(inputs, attrs, n, backend) ?? undefined;
      addon.matMul(view(backend, a), view(backend, b), view(backend, out), { batchA, batchB, m, n, k, transposeA, transposeB }, ep);
    });
  };
  return kernel as unknown as KernelFunc;
}

/** Builds a native kernel config around the kernel it replaces, keeping that kernel's set-up. */
function maker(name: string, build: (fallback: Fallback) => KernelFunc): KernelMaker {
  return (previous) => ({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: build(fallbackOf(name, previous)),
    // The replaced kernel (the fallback) binds its wasm exports in its set-up, which must keep
    // running whenever the backend is initialised.
    setupFunc: previous?.setupFunc,
    disposeFunc: previous?.disposeFunc,
  });
}

/** The kernels the addon replaces on the wasm backend, by tfjs kernel name. @internal */
export function nativeKernelMakers(addon: NativeAddon): Readonly<Record<string, KernelMaker>> {
  return {
    [tf.Conv2D]: maker(tf.Conv2D, (fb) => makeConv2D(addon, tf.Conv2D, fb)),
    [tf.FusedConv2D]: maker(tf.FusedConv2D, (fb) => makeConv2D(addon, tf.FusedConv2D, fb)),
    [tf.Conv2DBackpropInput]: maker(tf.Conv2DBackpropInput, (fb) => makeConv2DBackpropInput(addon, fb)),
    [tf.Conv2DBackpropFilter]: maker(tf.Conv2DBackpropFilter, (fb) => makeConv2DBackpropFilter(addon, fb)),
    [tf.BatchMatMul]: maker(tf.BatchMatMul, (fb) => makeMatMul(addon, tf.BatchMatMul, fb)),
    [tf._FusedMatMul]: maker(tf._FusedMatMul, (fb) => makeMatMul(addon, tf._FusedMatMul, fb)),
    ...nativeKernelMakers3d(addon),
  };
}
