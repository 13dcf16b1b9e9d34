import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';

/** Kernel functions that medvae registered, to tell them from stock or third-party ones. */
const medvaeKernelFuncs = new WeakSet<KernelFunc>();
/** What was registered under each `backend/kernel` key before medvae replaced it (undefined: nothing). */
const replaced = new Map<string, KernelConfig | undefined>();

/**
 * True when the kernel registered for `kernelName` on `backendName` is one of medvae's own
 * (see {@link WASM_TRAINING_KERNELS} and {@link CPU_TRAINING_KERNELS}).
 */
export function isMedvaeKernel(kernelName: string, backendName: string): boolean {
  const config = tf.getKernel(kernelName, backendName) as KernelConfig | undefined;
  return config !== undefined && medvaeKernelFuncs.has(config.kernelFunc);
}

/**
 * Builds the config of one medvae kernel from the stock config it replaces (undefined when the
 * backend has none). Carrying the stock `setupFunc`/`disposeFunc` over keeps a replaced kernel's
 * set-up running on backend initialisation, so that uninstalling hands back a working stock kernel.
 * @internal
 */
export type KernelMaker = (stock: KernelConfig | undefined) => KernelConfig;

/**
 * Registers medvae's kernels `makers` on `backendName` in place of what is registered there,
 * remembering the replaced configs. Kernels already medvae's are left alone, so calling it again
 * does nothing. @internal
 */
export function installMedvaeKernels(backendName: string, makers: Readonly<Record<string, KernelMaker>>): void {
  for (const [name, make] of Object.entries(makers)) {
    if (isMedvaeKernel(name, backendName)) continue;
    const stock = tf.getKernel(name, backendName) as KernelConfig | undefined;
    const config = make(stock);
    if (stock !== undefined) tf.unregisterKernel(name, backendName);
    replaced.set(`${backendName}/${name}`, stock);
    medvaeKernelFuncs.add(config.kernelFunc);
    tf.registerKernel(config);
  }
}

/** Puts back what {@link installMedvaeKernels} replaced for `names` on `backendName`. @internal */
export function uninstallMedvaeKernels(backendName: string, names: readonly string[]): void {
  for (const name of names) {
    if (!isMedvaeKernel(name, backendName)) continue;
    tf.unregisterKernel(name, backendName);
    const key = `${backendName}/${name}`;
    const stock = replaced.get(key);
    if (stock !== undefined) tf.registerKernel(stock);
    replaced.delete(key);
  }
}

/** Carries a stock kernel's set-up and tear-down over to its replacement (see {@link KernelMaker}). @internal */
export function withStockSetup(config: KernelConfig, stock: KernelConfig | undefined): KernelConfig {
  return { ...config, setupFunc: stock?.setupFunc, disposeFunc: stock?.disposeFunc };
}
