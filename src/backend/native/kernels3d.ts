// The 3-D convolution kernels of the tfjs wasm backend that run on the `medvae-native` addon
// (vol2col + OpenBLAS GEMM, directly on the wasm heap): Conv3D, Conv3DBackpropInputV2 and
// Conv3DBackpropFilterV2. tfjs-backend-wasm 4.22's own ones are plain loops, and its two gradient
// kernels return wrong values, so these replace them where they apply (float32 NDHWC); every
// other call goes to the replaced kernel. Not exported from the package.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelMaker } from '../kernels/registry.js';
import { asWasmBackend, type KernelArgs } from '../wasm/kernel-utils.js';
import type { NativeAddon, NativeConv3dGeometry } from './addon.js';
import { fallbackOf, sameShape, view, withOutput, type Fallback } from './kernel-common.js';

type Triple = [number, number, number];
type Shape5 = [number, number, number, number, number];

/** Attributes of tfjs's Conv3D / Conv3DBackpropInputV2 / Conv3DBackpropFilterV2 (a number pad is the same on every side). */
interface Conv3dAttrs {
  strides: number | Triple;
  pad: 'valid' | 'same' | number;
  dataFormat?: 'NDHWC' | 'NCDHW';
  dilations?: number | Triple;
  inputShape?: Shape5;
  filterShape?: Shape5;
}

/**
 * The addon's geometry for a 3-D convolution of an input `inShape` with `filterShape`, or undefined
 * where the addon does not apply (NCDHW, negative padding, a filter whose channels differ from the input's).
 */
function geometry3d(inShape: readonly number[], filterShape: readonly number[], attrs: Conv3dAttrs): { g: NativeConv3dGeometry; outShape: number[] } | undefined {
  if (attrs.dataFormat === 'NCDHW' || inShape.length !== 5 || filterShape.length !== 5 || inShape[4] !== filterShape[3]) return undefined;
  const info = tf.backend_util.computeConv3DInfo(inShape as Shape5, filterShape as Shape5, attrs.strides, attrs.dilations ?? 1, attrs.pad as 'valid' | 'same');
  const g: NativeConv3dGeometry = {
    batchSize: info.batchSize,
    inDepth: info.inDepth,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outDepth: info.outDepth,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterDepth: info.filterDepth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideDepth: info.strideDepth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationDepth: info.dilationDepth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padFront: info.padInfo.front,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
  if (Object.entries(g).some(([k, v]) => !Number.isInteger(v) || v < (k.startsWith('pad') ? 0 : 1))) return undefined;
  return { g, outShape: info.outShape };
}

type Conv3dFn = NonNullable<NativeAddon['conv3d']>;

function makeConv3D(run: Conv3dFn, fallback: Fallback): KernelFunc {
  return ((args: KernelArgs) => {
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    const attrs = (args.attrs ?? {}) as unknown as Conv3dAttrs;
    if (x.dtype !== 'float32' || filter.dtype !== 'float32') return fallback(args);
    const geo = geometry3d(x.shape, filter.shape, attrs);
    if (geo === undefined) return fallback(args);
    const backend = asWasmBackend(args.backend, tf.Conv3D);
    return withOutput(backend, geo.outShape, (out) => run(view(backend, x), view(backend, filter), view(backend, out), geo.g));
  }) as unknown as KernelFunc;
}

function makeConv3DBackpropInput(run: Conv3dFn, fallback: Fallback): KernelFunc {
  return ((args: KernelArgs) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = (args.attrs ?? {}) as unknown as Conv3dAttrs;
    const inputShape = attrs.inputShape;
    if (dy.dtype !== 'float32' || filter.dtype !== 'float32' || inputShape === undefined) return fallback(args);
    const geo = geometry3d(inputShape, filter.shape, attrs);
    if (geo === undefined || !sameShape(dy.shape, geo.outShape)) return fallback(args);
    const backend = asWasmBackend(args.backend, tf.Conv3DBackpropInputV2);
    return withOutput(backend, [...inputShape], (out) => run(view(backend, dy), view(backend, filter), view(backend, out), geo.g));
  }) as unknown as KernelFunc;
}

function makeConv3DBackpropFilter(run: Conv3dFn, fallback: Fallback): KernelFunc {
  return ((args: KernelArgs) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const attrs = (args.attrs ?? {}) as unknown as Conv3dAttrs;
    const filterShape = attrs.filterShape;
    if (x.dtype !== 'float32' || dy.dtype !== 'float32' || filterShape === undefined) return fallback(args);
    const geo = geometry3d(x.shape, filterShape, attrs);
    if (geo === undefined || !sameShape(dy.shape, geo.outShape)) return fallback(args);
    const backend = asWasmBackend(args.backend, tf.Conv3DBackpropFilterV2);
    return withOutput(backend, [...filterShape], (out) => run(view(backend, x), view(backend, dy), view(backend, out), geo.g));
  }) as unknown as KernelFunc;
}

function maker(name: string, build: (fallback: Fallback) => KernelFunc): KernelMaker {
  return (previous) => ({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: build(fallbackOf(name, previous)),
    // The replaced kernel binds its wasm exports in its set-up, which must keep running.
    setupFunc: previous?.setupFunc,
    disposeFunc: previous?.disposeFunc,
  });
}

/** The 3-D kernels the addon replaces on the wasm backend (none for an addon built without them). @internal */
export function nativeKernelMakers3d(addon: NativeAddon): Readonly<Record<string, KernelMaker>> {
  const { conv3d, conv3dBackpropInput, conv3dBackpropFilter } = addon;
  if (typeof conv3d !== 'function' || typeof conv3dBackpropInput !== 'function' || typeof conv3dBackpropFilter !== 'function') return {};
  return {
    [tf.Conv3D]: maker(tf.Conv3D, (fb) => makeConv3D(conv3d.bind(addon), fb)),
    [tf.Conv3DBackpropInputV2]: maker(tf.Conv3DBackpropInputV2, (fb) => makeConv3DBackpropInput(conv3dBackpropInput.bind(addon), fb)),
    [tf.Conv3DBackpropFilterV2]: maker(tf.Conv3DBackpropFilterV2, (fb) => makeConv3DBackpropFilter(conv3dBackpropFilter.bind(addon), fb)),
  };
}

/** The tfjs kernels {@link nativeKernelMakers3d} provides. @internal */
export const NATIVE_3D_KERNELS: readonly string[] = [tf.Conv3D, tf.Conv3DBackpropInputV2, tf.Conv3DBackpropFilterV2];
