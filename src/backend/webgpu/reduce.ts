import * as tf from '@tensorflow/tfjs-core';
import { backend_util, util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { asWebGpuBackend, inI32Buffer, type KernelArgs } from './kernel-utils.js';
import { transposeOnWebGpu } from './transpose.js';

/** Reductions whose tfjs-backend-webgpu kernel transposes its input with tfjs's own transpose. */
const AXES_ATTR: Record<string, string> = {
  [tf.Sum]: 'axis',
  [tf.Prod]: 'axis',
  [tf.Mean]: 'axis',
  [tf.Min]: 'axis',
  [tf.Max]: 'reductionIndices',
  [tf.Any]: 'axis',
  [tf.All]: 'axis',
  [tf.ArgMax]: 'axis',
  [tf.ArgMin]: 'axis',
};

/** Names of the webgpu reductions medvae wraps (see {@link reductionConfig}). @internal */
export const WEBGPU_REDUCTIONS: readonly string[] = Object.keys(AXES_ATTR);

function stockKernel(name: string): KernelFunc {
  const k = tf.getKernel(name, 'webgpu');
  if (k === undefined) throw new Error(`tfjs-backend-webgpu has no '${name}' kernel`);
  return k.kernelFunc;
}

/**
 * Wraps tfjs-backend-webgpu's reduction `stock`. tfjs reduces over the last axes only, and first
 * transposes the input when the reduced axes are elsewhere (e.g. a per-class sum of an NHWC
 * one-hot target over H and W, as the Dice loss does). Its transpose program cannot compile for
 * tensors in i32 buffers (int32, bool, and float32 cast from them; see {@link transposeOnWebGpu}),
 * so for those this kernel transposes with medvae's program first and hands tfjs a reduction over
 * the last axes, which needs no transpose; the result is the tensor tfjs's kernel is meant to
 * return. Other tensors go straight to `stock`. @internal
 */
export function reductionConfig(stock: KernelConfig): KernelConfig {
  const name = stock.kernelName;
  const attr = AXES_ATTR[name];
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { x } = args.inputs as { x: TensorInfo };
    const attrs = args.attrs as Record<string, unknown>;
    const axes = util.parseAxisParam(attrs[attr] as number | number[], x.shape);
    const perm = backend_util.getAxesPermutation(axes, x.shape.length);
    const backend = asWebGpuBackend(args.backend, name);
    if (perm === null || !inI32Buffer(backend, x) || backend.shouldExecuteOnCPU([x])) return stock.kernelFunc(args) as TensorInfo;
    const xt = transposeOnWebGpu(backend, x, perm, stockKernel(tf.Transpose));
    const inner = backend_util.getInnerMostAxes(axes.length, x.shape.length);
    const argReduction = name === tf.ArgMax || name === tf.ArgMin;
    try {
      const reduced = stock.kernelFunc({ ...args, inputs: { x: xt }, attrs: { ...attrs, [attr]: argReduction ? inner[0] : inner, keepDims: false } } as KernelArgs) as TensorInfo;
      if (argReduction || attrs.keepDims !== true) return reduced;
      const shape = backend_util.expandShapeToKeepDim(reduced.shape, axes);
      const kept = stockKernel(tf.Reshape)({ inputs: { x: reduced }, attrs: { shape }, backend } as unknown as KernelArgs) as TensorInfo;
      backend.disposeData(reduced.dataId);
      return kept;
    } finally {
      backend.disposeData(xt.dataId);
    }
  };
  return { kernelName: name, backendName: 'webgpu', kernelFunc: kernelFunc as unknown as KernelFunc, setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc };
}
