import * as tf from '@tensorflow/tfjs-core';
import './register-gradients.js';
import { BackendError } from '../core/errors.js';
import { registerCpuTrainingKernels } from './cpu/register.js';
import { registerWasmTrainingKernels } from './wasm/register.js';
import { registerWebGpuTrainingKernels } from './webgpu/register.js';
import { configureNativeKernels, type NativeKernelsMode } from './native/native-kernels.js';

/** Backends medvae knows how to load. */
export type BackendName = 'cpu' | 'wasm' | 'tensorflow' | 'tensorflow-gpu' | 'webgpu' | 'webgl';

/** Every {@link BackendName}, in the order medvae documents them. */
export const BACKEND_NAMES: readonly BackendName[] = ['cpu', 'wasm', 'tensorflow', 'tensorflow-gpu', 'webgpu', 'webgl'];

/** Options of {@link useBackend}. */
export interface UseBackendOptions {
  /**
   * Where the wasm backend finds its `.wasm` files (a directory URL ending in `/`, or a map from
   * file name to URL), as tfjs's `setWasmPaths`. Needed in browsers when the files are served from
   * somewhere other than the bundle; not needed in Node.
   */
  wasmPaths?: string | Partial<Record<'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm', string>>;
  /**
   * Whether the wasm backend runs convolutions and matrix products (`Conv2D`, `FusedConv2D`,
   * `Conv2DBackpropInput`, `Conv2DBackpropFilter`, `BatchMatMul`, `_FusedMatMul`) on the optional
   * package `medvae-native`, which calls OpenBLAS directly on the wasm heap (Node only; a U-Net
   * training step runs two to three times as fast). `'auto'` (default): when the addon loads, else
   * medvae's pure-wasm kernels; `true`: required, a {@link BackendError} says why it cannot load;
   * `false`: never (native kernels installed earlier are removed). The environment variable
   * `MEDVAE_NATIVE=0` turns `'auto'` off and `MEDVAE_NATIVE=1` makes it required.
   * {@link nativeKernelsStatus} tells what happened. Ignored by the other backends.
   */
  native?: NativeKernelsMode;
  /**
   * The backend package, already imported by the app, e.g.
   * `useBackend('webgpu', { module: await import('@tensorflow/tfjs-backend-webgpu') })`. Importing
   * the package registers the backend with tfjs; passing it here makes sure a bundler (Vite,
   * esbuild, webpack) sees a literal import and bundles the package, which medvae's own optional
   * import cannot guarantee. The entry points `medvae/backends/webgl` and `medvae/backends/webgpu`
   * do the same with a side-effect import.
   */
  module?: object;
}

/** True when running under Node.js (not a browser or a worker in one). */
export function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

/** The backend {@link useBackend} picks when given no name: `wasm` in Node, `webgl` in browsers. */
export function defaultBackendName(): BackendName {
  return isNode() ? 'wasm' : 'webgl';
}

interface BackendPackage {
  /** npm package that provides the backend. */
  pkg: string;
  /** Name the package registers the backend under in tfjs. */
  tfName: string;
  /** Extra install note shown in errors. */
  note?: string;
}

const PACKAGES: Record<BackendName, BackendPackage> = {
  cpu: { pkg: '@tensorflow/tfjs-backend-cpu', tfName: 'cpu' },
  wasm: { pkg: '@tensorflow/tfjs-backend-wasm', tfName: 'wasm' },
  tensorflow: {
    pkg: '@tensorflow/tfjs-node',
    tfName: 'tensorflow',
    note: 'Its install script downloads libtensorflow, so it needs network access during npm install.',
  },
  'tensorflow-gpu': {
    pkg: '@tensorflow/tfjs-node-gpu',
    tfName: 'tensorflow',
    note: 'It needs an NVIDIA GPU with CUDA 11.2 and cuDNN 8.1, and downloads libtensorflow during npm install.',
  },
  webgpu: { pkg: '@tensorflow/tfjs-backend-webgpu', tfName: 'webgpu', note: 'In Node it also needs the package "webgpu" (Dawn).' },
  webgl: { pkg: '@tensorflow/tfjs-backend-webgl', tfName: 'webgl', note: 'WebGL exists only in browsers.' },
};

/** Hooks run after a backend is active, e.g. to register medvae's own kernels for it. */
const afterActivate = new Map<string, Array<() => void | Promise<void>>>();

/**
 * Registers a function to run every time {@link useBackend} activates the backend `tfName`.
 * medvae uses it to install its training kernels for wasm; it is public so that add-on packages
 * (for example a native kernel provider) can hook in the same way.
 */
export function onBackendActivated(tfName: string, hook: () => void | Promise<void>): void {
  const hooks = afterActivate.get(tfName) ?? [];
  hooks.push(hook);
  afterActivate.set(tfName, hooks);
}

function isModuleNotFound(err: unknown, pkg: string): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  const notFound = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Could not resolve|Failed to (fetch|resolve)/i.test(err.message);
  return notFound && err.message.includes(pkg);
}

async function importBackendPackage(name: BackendName): Promise<void> {
  const { pkg, note } = PACKAGES[name];
  try {
    switch (name) {
      case 'cpu':
        await import('@tensorflow/tfjs-backend-cpu');
        return;
      case 'wasm':
        await import('@tensorflow/tfjs-backend-wasm');
        return;
      case 'tensorflow':
        await import(/* @vite-ignore */ PACKAGES.tensorflow.pkg);
        return;
      case 'tensorflow-gpu':
        await import(/* @vite-ignore */ PACKAGES['tensorflow-gpu'].pkg);
        return;
      case 'webgpu':
        await import(/* @vite-ignore */ PACKAGES.webgpu.pkg);
        return;
      case 'webgl':
        await import(/* @vite-ignore */ PACKAGES.webgl.pkg);
        return;
    }
  } catch (err) {
    if (err instanceof BackendError) throw err;
    if (!isNode() && (name === 'webgl' || name === 'webgpu')) {
      // In a bundled app the optional package is never bundled (the import goes through a
      // variable so that apps without it still build), so say how to make the bundler see it.
      throw new BackendError(
        `Backend '${name}' needs the package ${pkg}, which could not be imported here. Install it (npm install ${pkg}) and, in a bundled app ` +
          `(Vite, esbuild, webpack), add \`import 'medvae/backends/${name}';\` before calling useBackend('${name}'), or pass the module: ` +
          `useBackend('${name}', { module: await import('${pkg}') }).`,
        { cause: err },
      );
    }
    if (isModuleNotFound(err, pkg)) {
      throw new BackendError(
        `Backend '${name}' needs the package ${pkg}, which is not installed. ` +
          `Install it with: npm install ${pkg}${note ? `. ${note}` : ''}`,
        { cause: err },
      );
    }
    throw new BackendError(`Backend '${name}': importing ${pkg} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** In Node, WebGPU comes from the npm package `webgpu` (Dawn), exposed as browsers expose it. */
async function installNodeWebGpu(): Promise<void> {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu) return;
  let dawn: { create: (flags: string[]) => unknown; globals: Record<string, unknown> };
  try {
    const dawnPackage = 'webgpu';
    dawn = (await import(/* @vite-ignore */ dawnPackage)) as typeof dawn;
  } catch (err) {
    throw new BackendError(
      "Backend 'webgpu' in Node needs the package webgpu (Dawn), which is not installed. Install it with: npm install webgpu",
      { cause: err },
    );
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  if (g.navigator) Object.assign(g.navigator, { gpu });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}

/**
 * Loads, initialises and activates a backend, and installs medvae's kernels for it (see
 * {@link registerWasmTrainingKernels} and {@link registerCpuTrainingKernels}).
 *
 * Optional backends (`tensorflow`, `tensorflow-gpu`, `webgpu`, `webgl`) are imported dynamically;
 * when the package is missing the error names it and the command that installs it.
 *
 * @param name - the backend; defaults to {@link defaultBackendName} (`wasm` in Node).
 * @returns the name of the active backend.
 * @throws {@link BackendError} when the package is missing or the backend fails to initialise.
 *
 * @example
 * ```ts
 * await useBackend('wasm');   // fast CPU path, training kernels included
 * await useBackend('cpu');    // pure-JS reference
 * ```
 */
export async function useBackend(name: BackendName = defaultBackendName(), options: UseBackendOptions = {}): Promise<BackendName> {
  if (!(name in PACKAGES)) {
    throw new BackendError(`Unknown backend '${String(name)}'. Choose one of: ${BACKEND_NAMES.join(', ')}.`);
  }
  const { tfName, pkg } = PACKAGES[name];
  // A failed switch must leave the app on the backend it had (tfjs may otherwise fall back to
  // whichever registered backend has the highest priority).
  const previous = activeBackendName();
  try {
    return await activate(name, tfName, pkg, options);
  } catch (err) {
    if (previous !== null && previous !== tfName && tf.findBackendFactory(previous) !== null) {
      try {
        await tf.setBackend(previous);
      } catch {
        // The previous backend worked before; if it cannot come back either, the original error
        // is the one that explains the situation.
      }
    }
    throw err;
  }
}

/** The active backend's name, without making tfjs pick and initialise one when none is active. */
function activeBackendName(): string | null {
  const engine = tf.engine() as unknown as { backendName?: string | null };
  return engine.backendName ?? null;
}

async function activate(name: BackendName, tfName: string, pkg: string, options: UseBackendOptions): Promise<BackendName> {
  if (name === 'webgl' && isNode()) {
    // tfjs-backend-webgl registers itself only where a DOM exists, so importing it in Node does nothing.
    throw new BackendError("Backend 'webgl' exists only in browsers (it draws on a WebGL canvas). In Node use 'wasm', 'tensorflow' or 'webgpu'.");
  }
  if (name === 'webgpu' && isNode()) await installNodeWebGpu();
  if (options.module !== undefined && tf.findBackendFactory(tfName) === null) {
    throw new BackendError(`The module passed to useBackend('${name}') did not register the '${tfName}' backend: pass the ${pkg} module itself (await import('${pkg}')), imported with the same @tensorflow/tfjs-core as medvae.`);
  }
  if (tf.findBackendFactory(tfName) === null) await importBackendPackage(name);
  if (name === 'wasm' && options.wasmPaths !== undefined) {
    const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as { setWasmPaths: (p: UseBackendOptions['wasmPaths']) => void };
    wasm.setWasmPaths(options.wasmPaths);
  }
  if (tf.findBackendFactory(tfName) === null) {
    throw new BackendError(`Importing ${pkg} did not register the '${tfName}' backend; check that it uses the same @tensorflow/tfjs-core as medvae (run npm ls @tensorflow/tfjs-core).`);
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfName);
    await tf.ready();
  } catch (err) {
    throw new BackendError(`Backend '${name}' failed to initialise: ${(err as Error).message}`, { cause: err });
  }
  if (!ok) {
    throw new BackendError(
      `Backend '${name}' failed to initialise (tfjs setBackend returned false). ` +
        (name === 'webgpu' ? 'No WebGPU adapter was found: check the GPU driver (or Mesa lavapipe >= 25 on CPU-only machines).' :
          name === 'webgl' ? 'WebGL is only available in browsers with a GPU context.' : 'See the messages tfjs printed above.'),
    );
  }
  // Stock tfjs-backend-wasm cannot train convolutions (no Conv2DBackpropFilter), gets max-pool
  // gradients wrong and is slow at the other gradient kernels; stock tfjs-backend-cpu is very slow
  // at conv filter gradients. medvae's own kernels fix these.
  // registerWasmTrainingKernels also removes the process handlers that the wasm glue added in Node
  // while the backend started, which would otherwise take over the app's error reporting.
  if (tfName === 'wasm') registerWasmTrainingKernels();
  if (tfName === 'wasm') await configureNativeKernels(options.native ?? 'auto');
  if (tfName === 'cpu') registerCpuTrainingKernels();
  // tfjs-backend-webgpu 4.22 cannot transpose int32/bool tensors (nor reduce them over leading
  // axes) and binds too many buffers in AddN: medvae's webgpu kernels fix both.
  if (tfName === 'webgpu') registerWebGpuTrainingKernels();
  for (const hook of afterActivate.get(tfName) ?? []) await hook();
  return name;
}


/** The name of the active tfjs backend (tfjs's own name, e.g. `tensorflow` for both tfjs-node packages). */
export function currentBackend(): string {
  return tf.getBackend();
}
