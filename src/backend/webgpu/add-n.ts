import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWebGpuBackend, type KernelArgs } from './kernel-utils.js';

/**
 * medvae's webgpu `AddN`. tfjs-backend-webgpu 4.22 adds all n inputs in one program that binds n + 1
 * storage buffers, but a compute stage may bind only `maxStorageBuffersPerShaderStage` (8 on
 * SwiftShader and on many GPUs; WebGPU's default limit): with more inputs (medvae's finite guard
 * adds one sum per trained variable, a gradient-norm clip one per gradient) the pipeline is invalid
 * and the output is garbage. This kernel adds the inputs in groups that fit, then adds the group
 * sums, left to right; with few enough inputs it is tfjs's kernel. (The order of float32 additions
 * changes, so a sum of more than `limit − 1` tensors may differ from the one-pass sum in the last bits.)
 * @internal
 */
export function addNConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const inputs = args.inputs as unknown as TensorInfo[];
    const backend = asWebGpuBackend(args.backend, tf.AddN);
    const group = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
    if (inputs.length <= group) return stock.kernelFunc(args) as TensorInfo;
    let pending = inputs;
    const made: TensorInfo[] = [];
    try {
      while (pending.length > group) {
        const next: TensorInfo[] = [];
        for (let i = 0; i < pending.length; i += group) {
          const part = pending.slice(i, i + group);
          if (part.length === 1) {
            next.push(part[0]);
            continue;
          }
          const sum = stock.kernelFunc({ ...args, inputs: part as unknown as KernelArgs['inputs'] } as KernelArgs) as TensorInfo;
          made.push(sum);
          next.push(sum);
        }
        pending = next;
      }
      return stock.kernelFunc({ ...args, inputs: pending as unknown as KernelArgs['inputs'] } as KernelArgs) as TensorInfo;
    } finally {
      for (const t of made) backend.disposeData(t.dataId);
    }
  };
  return { kernelName: tf.AddN, backendName: 'webgpu', kernelFunc: kernelFunc as unknown as KernelFunc, setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc };
}
