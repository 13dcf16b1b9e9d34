import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { maxPoolGradInfo, maxPoolGradInto, type MaxPoolGradAttrs } from '../kernels/max-pool-grad.js';
import type { KernelArgs } from '../kernels/scratch.js';
import { asCpuBackend } from './kernel-utils.js';

/**
 * Gradient of a 2-D max pool on cpu, with the stock kernel's results (same winner rule, see
 * `maxPoolGradInto`) about ten times faster: the stock kernel revisits every window for each input
 * element through `TensorBuffer.get`; this one finds each window's winners once and scatters.
 * @internal
 */
export function maxPoolGradCpu(args: KernelArgs): TensorInfo {
  const backend = asCpuBackend(args.backend, 'MaxPoolGrad');
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const info = maxPoolGradInfo(input.shape, args.attrs as unknown as MaxPoolGradAttrs);
  const dx = new Float32Array(tf.util.sizeFromShape(input.shape));
  maxPoolGradInto(backend.readSync(input.dataId) as ArrayLike<number>, backend.readSync(dy.dataId) as ArrayLike<number>, dx, info);
  return backend.makeTensorInfo(input.shape, 'float32', dx);
}

/** Kernel config of {@link maxPoolGradCpu}. @internal */
export const maxPoolGradCpuConfig: KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'cpu',
  kernelFunc: maxPoolGradCpu as unknown as KernelConfig['kernelFunc'],
};
