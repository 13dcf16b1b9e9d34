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
  // Overrides sit on top of medvae's kernels: take them all off first, so that nothing keeps
  // running on a kernel that is about to go.
  uninstallKernelOverrides(backendName);
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

/**
 * A second layer of medvae kernels (the native ones of `medvae-native`) over whatever is registered,
 * by `backend/kernel` key: the override's config and the config it replaced, which may be medvae's
 * own kernel or a stock one. Kept apart from `replaced` so that taking the layer off restores
 * exactly the kernels that were there before it.
 */
const overrides = new Map<string, { config: KernelConfig; previous: KernelConfig | undefined }>();

/**
 * Registers the override `make(previous)` for `kernelName` on `backendName`, where `previous` is
 * the kernel registered now (the override's fallback). Does nothing when an override is already
 * installed there. Overrides count as medvae's kernels ({@link isMedvaeKernel}), so
 * {@link installMedvaeKernels} leaves them in place. @internal
 */
export function installKernelOverride(backendName: string, kernelName: string, make: KernelMaker): void {
  const key = `${backendName}/${kernelName}`;
  if (overrides.has(key)) return;
  const previous = tf.getKernel(kernelName, backendName) as KernelConfig | undefined;
  const config = make(previous);
  if (previous !== undefined) tf.unregisterKernel(kernelName, backendName);
  medvaeKernelFuncs.add(config.kernelFunc);
  tf.registerKernel(config);
  overrides.set(key, { config, previous });
}

/** Removes every override on `backendName` and registers the kernels they replaced. @internal */
export function uninstallKernelOverrides(backendName: string): void {
  for (const [key, { config, previous }] of [...overrides]) {
    if (config.backendName !== backendName) continue;
    const current = tf.getKernel(config.kernelName, backendName) as KernelConfig | undefined;
    if (current !== undefined && current.kernelFunc === config.kernelFunc) {
      tf.unregisterKernel(config.kernelName, backendName);
      if (previous !== undefined) tf.registerKernel(previous);
    }
    overrides.delete(key);
  }
}

/** Names of the kernels overridden on `backendName` whose override is still registered. @internal */
export function kernelOverrides(backendName: string): string[] {
  return [...overrides.values()]
    .filter(({ config }) => config.backendName === backendName && tf.getKernel(config.kernelName, backendName)?.kernelFunc === config.kernelFunc)
    .map(({ config }) => config.kernelName);
}
