// Finds and loads the optional `medvae-native` package (Node only). Not exported from the package.
import { hasNodeFs } from '../../core/runtime.js';
import { NATIVE_FUNCTIONS, type NativeAddon, type NativeModule } from './addon.js';

/** The outcome of loading the addon: the addon and its path, or why it is not available. @internal */
export type NativeLoadResult = { ok: true; addon: NativeAddon; addonPath: string } | { ok: false; reason: string };

/** The npm package that holds the addon. */
export const NATIVE_PACKAGE = 'medvae-native';

/** What to do when the addon cannot be loaded (appended to every reason). */
export const NATIVE_INSTALL_HINT =
  'Install it with: npm install medvae-native (its install script compiles the addon, which needs a C compiler and OpenBLAS; ' +
  'Debian/Ubuntu: apt-get install build-essential libopenblas-dev, then npm rebuild medvae-native).';

/** Imports the package the way optional backends are imported: a variable specifier keeps bundlers away. */
async function importNativePackage(): Promise<NativeModule> {
  const pkg = NATIVE_PACKAGE;
  const mod = (await import(/* @vite-ignore */ pkg)) as { default?: NativeModule } & NativeModule;
  // A CommonJS package imported from ESM arrives as `default`; required from CJS, as itself.
  return mod.default ?? mod;
}

let moduleLoader: () => Promise<NativeModule> = importNativePackage;
let cached: Promise<NativeLoadResult> | undefined;

/**
 * Replaces how the package is obtained (tests simulate a missing or broken build with it); no
 * argument restores the real import. Forgets the cached result either way. @internal
 */
export function setNativeModuleLoader(loader?: () => Promise<NativeModule>): void {
  moduleLoader = loader ?? importNativePackage;
  cached = undefined;
}

function isCodeNotFound(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

async function load(): Promise<NativeLoadResult> {
  if (!hasNodeFs()) return { ok: false, reason: 'native kernels exist only in Node.js (this runtime is not Node).' };
  let mod: NativeModule;
  try {
    mod = await moduleLoader();
  } catch (err) {
    const message = (err as Error)?.message?.split('\n')[0] ?? String(err);
    return {
      ok: false,
      reason: isCodeNotFound(err) && message.includes(NATIVE_PACKAGE) ? `the package ${NATIVE_PACKAGE} is not installed.` : `importing ${NATIVE_PACKAGE} failed: ${message}`,
    };
  }
  if (typeof mod?.loadError === 'string') return { ok: false, reason: `${NATIVE_PACKAGE} ${mod.loadError}` };
  const missing = NATIVE_FUNCTIONS.filter((f) => typeof mod?.[f] !== 'function');
  if (missing.length > 0) {
    return { ok: false, reason: `${NATIVE_PACKAGE} lacks ${missing.join(', ')}: it is not the version this medvae expects (npm install medvae-native@latest).` };
  }
  return { ok: true, addon: mod as NativeAddon, addonPath: mod.addonPath ?? NATIVE_PACKAGE };
}

/** Loads the addon once (later calls share the first result). @internal */
export function loadNativeAddon(): Promise<NativeLoadResult> {
  cached ??= load();
  return cached;
}
