import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWebGpuBackend, flatDispatch, inI32Buffer, type KernelArgs, type WebGpuBackendLike, type WebGpuProgram } from './kernel-utils.js';

/** WGSL names of the coordinates of a rank-1…6 index (the backend's `vec5`/`vec6` use u, v). */
const AXES = ['x', 'y', 'z', 'w', 'u', 'v'];

function coordsType(rank: number): string {
  return rank <= 1 ? 'i32' : rank <= 4 ? `vec${rank}<i32>` : `vec${rank}`;
}

/**
 * Transposes a tensor held in an i32 buffer: an int32 or bool tensor, or a float32 one that
 * tfjs-backend-webgpu cast from int32/bool by sharing the buffer (see {@link bufferDtype}).
 * tfjs-backend-webgpu 4.22's own transpose program passes the raw input element to
 * `setOutputAtIndex`, which takes an f32: for an i32 buffer the WGSL does not compile ("type
 * mismatch … expected 'f32', got 'i32'"), the pipeline is invalid and the output stays
 * uninitialised. This program is the same gather, converting to f32 for a float32 output and
 * copying bit for bit (with the i32 setter) for an int32 or bool one.
 */
function i32TransposeProgram(shape: readonly number[], perm: readonly number[], toFloat: boolean): WebGpuProgram {
  const rank = shape.length;
  const outputShape = perm.map((p) => shape[p]);
  // Input coordinate perm[i] is output coordinate i.
  const inCoords = new Array<string>(rank);
  perm.forEach((p, i) => { inCoords[p] = `coords.${AXES[i]}`; });
  return {
    variableNames: ['A'],
    outputShape,
    shaderKey: `medvae_transpose_i32_${toFloat ? 'f32' : 'i32'}_${perm.join(',')}`,
    ...flatDispatch(outputShape),
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let coords = getCoordsFromIndex(index);
          let value = A[getIndexFromCoords${rank}D(${coordsType(rank)}(${inCoords.join(', ')}), uniforms.aShape)];
          ${toFloat ? 'setOutputAtIndex(index, f32(value));' : 'setOutputAtIndexI32(index, value);'}
        }
      }
    `,
  };
}

/**
 * Transposes `x` by `perm` on the webgpu backend: tensors in i32 buffers by medvae's program,
 * everything else by `stock` (tfjs's kernel). Used by medvae's `Transpose` and by its reductions,
 * which must put the reduced axes last before tfjs's reduce program runs. @internal
 */
export function transposeOnWebGpu(backend: WebGpuBackendLike, x: TensorInfo, perm: readonly number[], stock: KernelFunc): TensorInfo {
  const identity = perm.every((p, i) => p === i);
  if (inI32Buffer(backend, x) && !identity && x.shape.length >= 2 && x.shape.length <= 6 && !backend.shouldExecuteOnCPU([x])) {
    return backend.runWebGPUProgram(i32TransposeProgram(x.shape, perm, x.dtype === 'float32'), [x], x.dtype);
  }
  return stock({ inputs: { x }, attrs: { perm: [...perm] }, backend } as unknown as KernelArgs) as TensorInfo;
}

/** medvae's webgpu `Transpose`: medvae's program for tensors in i32 buffers, tfjs's kernel for the others. @internal */
export function transposeConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { x } = args.inputs as { x: TensorInfo };
    const { perm } = args.attrs as unknown as { perm: number[] };
    return transposeOnWebGpu(asWebGpuBackend(args.backend, tf.Transpose), x, perm, stock.kernelFunc);
  };
  return { kernelName: tf.Transpose, backendName: 'webgpu', kernelFunc: kernelFunc as unknown as KernelFunc, setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc };
}
