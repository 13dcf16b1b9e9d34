import { BackendError } from '../../core/errors.js';
import { installKernelOverride, kernelOverrides, uninstallKernelOverrides } from '../kernels/registry.js';
import type { NativeAddon } from './addon.js';
import { nativeKernelMakers } from './kernels.js';
import { loadNativeAddon, NATIVE_INSTALL_HINT } from './loader.js';

/**
 * Whether {@link useBackend}('wasm') runs convolutions and matrix products on the optional
 * `medvae-native` addon: `'auto'` when it loads, `true` always (an error when it cannot load),
 * `false` never.
 */
export type NativeKernelsMode = 'auto' | boolean;

/** What {@link nativeKernelsStatus} reports. */
export interface NativeKernelsStatus {
  /** True when native kernels are registered on the wasm backend now. */
  readonly active: boolean;
  /** The tfjs kernels running natively (empty when inactive). */
  readonly kernels: readonly string[];
  /** The loaded addon file, when it loaded. */
  readonly addonPath?: string;
  /** OpenBLAS threads the native kernels use, when the addon loaded. */
  readonly threads?: number;
  /** OpenBLAS's build description and the CPU kernel set it picked, when the addon loaded. */
  readonly openblas?: string;
  /** Why native kernels are not active (not loadable, switched off, not asked for yet). */
  readonly reason?: string;
}

let addon: NativeAddon | undefined;
let addonPath: string | undefined;
let reason: string | undefined = 'useBackend("wasm") has not run yet.';

/** Reads MEDVAE_NATIVE: `0`/`false`/`off` turn `'auto'` off, `1`/`true`/`on` make it required. */
function envMode(): NativeKernelsMode | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = proc?.env?.MEDVAE_NATIVE?.trim().toLowerCase();
  if (v === undefined || v === '' || v === 'auto') return undefined;
  if (v === '0' || v === 'false' || v === 'off') return false;
  if (v === '1' || v === 'true' || v === 'on') return true;
  return undefined;
}

/** Registers the addon's kernels over the wasm kernels registered now (medvae's or stock). @internal */
export function installNativeKernels(native: NativeAddon, path?: string): void {
  addon = native;
  addonPath = path ?? addonPath;
  for (const [name, make] of Object.entries(nativeKernelMakers(native))) installKernelOverride('wasm', name, make);
  reason = undefined;
}

/** Puts the kernels the native ones replaced back (medvae's wasm kernels, stock ones elsewhere). @internal */
export function uninstallNativeKernels(why: string): void {
  uninstallKernelOverrides('wasm');
  reason = why;
}

/**
 * Applies `mode` after the wasm backend is active (called by {@link useBackend}).
 * @throws {@link BackendError} when `mode` is `true` (or MEDVAE_NATIVE=1 with `'auto'`) and the addon cannot load.
 * @internal
 */
export async function configureNativeKernels(mode: NativeKernelsMode = 'auto'): Promise<void> {
  const fromEnv = mode === 'auto' ? envMode() : undefined;
  const effective = fromEnv ?? mode;
  if (effective === false) {
    uninstallNativeKernels(fromEnv === false ? 'switched off by the environment variable MEDVAE_NATIVE=0.' : 'switched off (useBackend option native: false).');
    return;
  }
  const loaded = await loadNativeAddon();
  if (!loaded.ok) {
    uninstallNativeKernels(loaded.reason);
    if (effective === true) {
      throw new BackendError(
        `Native kernels were required (${fromEnv === true ? 'MEDVAE_NATIVE=1' : 'useBackend option native: true'}) but are unavailable: ${loaded.reason} ${NATIVE_INSTALL_HINT} ` +
          "Or pass native: 'auto' to fall back to medvae's pure-wasm kernels.",
      );
    }
    return;
  }
  installNativeKernels(loaded.addon, loaded.addonPath);
}

/**
 * Tells whether the wasm backend's convolutions and matrix products run on the optional
 * `medvae-native` addon (OpenBLAS), which addon file and how many threads, or why not.
 *
 * @example
 * ```ts
 * await useBackend('wasm');
 * console.log(nativeKernelsStatus());
 * // { active: true, kernels: ['Conv2D', …], addonPath: '…/medvae_native.node', threads: 2, openblas: 'OpenBLAS 0.3.21 … (Haswell)' }
 * ```
 */
export function nativeKernelsStatus(): NativeKernelsStatus {
  const kernels = kernelOverrides('wasm');
  const active = kernels.length > 0;
  const info = addon?.info();
  return {
    active,
    kernels,
    ...(addon !== undefined ? { addonPath, threads: info?.threads, openblas: info?.openblasConfig } : {}),
    ...(active ? {} : { reason: reason ?? "medvae's wasm kernels were registered again after the native ones (registerWasmTrainingKernels / unregisterWasmTrainingKernels); call useBackend('wasm') to restore them." }),
  };
}

/**
 * Sets how many threads OpenBLAS uses in the native kernels (process-wide; default: OpenBLAS's
 * own choice, usually the number of cores). One thread compares like with like against the
 * single-threaded wasm kernels; fewer threads also leave cores to other work.
 *
 * @throws {@link BackendError} when the addon is not loaded, or `threads` is not an integer from 1 to 1024.
 */
export function setNativeThreads(threads: number): void {
  if (addon === undefined) {
    throw new BackendError(`setNativeThreads: the medvae-native addon is not loaded (${nativeKernelsStatus().reason ?? 'unknown reason'}). Call await useBackend('wasm') first.`);
  }
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
    throw new BackendError(`setNativeThreads: threads must be an integer from 1 to 1024, got ${threads}.`);
  }
  addon.setNumThreads(threads);
}
