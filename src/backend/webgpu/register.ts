import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { BackendError } from '../../core/errors.js';
import { installMedvaeKernels, uninstallMedvaeKernels, type KernelMaker } from '../kernels/registry.js';
import { addNConfig } from './add-n.js';
import { reductionConfig, WEBGPU_REDUCTIONS } from './reduce.js';
import { transposeConfig } from './transpose.js';

/**
 * The webgpu kernels medvae puts in place of tfjs-backend-webgpu 4.22's, which fail in training:
 * - `Transpose`: tfjs's program does not compile for int32 and bool tensors; medvae's copies them
 *   with an i32 program (other dtypes: tfjs's kernel).
 * - `Sum`, `Prod`, `Mean`, `Min`, `Max`, `Any`, `All`, `ArgMax`, `ArgMin`: over axes that are not
 *   the last ones, tfjs transposes the input with that same program, so an int32 or bool reduction
 *   (the Dice loss sums a one-hot int32 target per class) gave garbage, and NaN losses followed;
 *   medvae's transposes int32/bool inputs itself first.
 * - `AddN`: tfjs binds every input at once and fails beyond the device's storage-buffer limit;
 *   medvae's adds in groups that fit.
 * Every one of them is tfjs's kernel outside the cases it fixes.
 */
export const WEBGPU_TRAINING_KERNELS: readonly string[] = [tf.Transpose, tf.AddN, ...WEBGPU_REDUCTIONS];

function stockOf(name: string, stock: KernelConfig | undefined): KernelConfig {
  if (stock === undefined) throw new BackendError(`medvae's webgpu '${name}' wraps tfjs-backend-webgpu's own kernel, which is not registered. Check that @tensorflow/tfjs-backend-webgpu is installed and imported.`);
  return stock;
}

const MAKERS: Record<string, KernelMaker> = {
  [tf.Transpose]: (stock) => transposeConfig(stockOf(tf.Transpose, stock)),
  [tf.AddN]: (stock) => addNConfig(stockOf(tf.AddN, stock)),
  ...Object.fromEntries(WEBGPU_REDUCTIONS.map((name): [string, KernelMaker] => [name, (stock) => reductionConfig(stockOf(name, stock))])),
};

/** Installs medvae's webgpu kernels ({@link WEBGPU_TRAINING_KERNELS}); calling it again does nothing. */
export function registerWebGpuTrainingKernels(): void {
  installMedvaeKernels('webgpu', MAKERS);
}

/** Puts tfjs-backend-webgpu's own kernels back (for comparisons and tests). */
export function unregisterWebGpuTrainingKernels(): void {
  uninstallMedvaeKernels('webgpu', WEBGPU_TRAINING_KERNELS);
}
